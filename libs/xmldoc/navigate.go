package xmldoc

import (
	"strings"

	"github.com/beevik/etree"
)

// Child returns el's first child element with local name local, or nil.
// A nil el gives nil, so lookups chain without checks.
func Child(el *etree.Element, local string) *etree.Element {
	if el == nil {
		return nil
	}
	for _, t := range el.Child {
		if c, ok := t.(*etree.Element); ok && c.Tag == local {
			return c
		}
	}
	return nil
}

// Path follows local names from el: Path(e, "a", "b") is e's first <a>'s
// first <b>. It returns nil as soon as a step is missing.
func Path(el *etree.Element, locals ...string) *etree.Element {
	for _, l := range locals {
		el = Child(el, l)
		if el == nil {
			return nil
		}
	}
	return el
}

// Children returns el's child elements with local name local.
func Children(el *etree.Element, local string) []*etree.Element {
	if el == nil {
		return nil
	}
	var out []*etree.Element
	for _, t := range el.Child {
		if c, ok := t.(*etree.Element); ok && c.Tag == local {
			out = append(out, c)
		}
	}
	return out
}

// Attr returns the value of el's attribute with local name key (any
// prefix), or "". Namespace declarations are not attributes here.
func Attr(el *etree.Element, key string) string {
	if el == nil {
		return ""
	}
	for _, a := range el.Attr {
		if a.Key == key && a.Space != "xmlns" {
			return a.Value
		}
	}
	return ""
}

// Text returns the text directly inside el (CDATA included), trimmed.
func Text(el *etree.Element) string {
	if el == nil {
		return ""
	}
	var b strings.Builder
	for _, t := range el.Child {
		if cd, ok := t.(*etree.CharData); ok {
			b.WriteString(cd.Data)
		}
	}
	return strings.TrimSpace(b.String())
}

// Descendants calls fn for every element below el, depth first, in
// document order; fn returns false to skip an element's children.
func Descendants(el *etree.Element, fn func(*etree.Element) bool) {
	if el == nil {
		return
	}
	for _, t := range el.Child {
		if c, ok := t.(*etree.Element); ok {
			if fn(c) {
				Descendants(c, fn)
			}
		}
	}
}

// Where names el by its local names from the root, for error messages:
// /RCMR_IN030000UK06/ControlActEvent/subject.
func Where(el *etree.Element) string {
	var parts []string
	for e := el; e != nil; e = e.Parent() {
		if e.Tag != "" {
			parts = append(parts, e.Tag)
		}
	}
	var b strings.Builder
	for i := len(parts) - 1; i >= 0; i-- {
		b.WriteByte('/')
		b.WriteString(parts[i])
	}
	return b.String()
}

// Namespace returns the namespace URI in scope for prefix at el ("" for
// the default namespace), or "" if none is declared.
func Namespace(el *etree.Element, prefix string) string {
	for e := el; e != nil; e = e.Parent() {
		for _, a := range e.Attr {
			if (prefix == "" && a.Space == "" && a.Key == "xmlns") || (a.Space == "xmlns" && a.Key == prefix) {
				return a.Value
			}
		}
	}
	return ""
}
