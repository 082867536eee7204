package xmldoc_test

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/beevik/etree"

	"github.com/nhsengland/gp2gp/libs/xmldoc"
)

// referenceParse is the oracle for differential fuzzing: the same document
// model and checks built on encoding/xml's tokenizer.
func referenceParse(data []byte, lim xmldoc.Limits) (*etree.Document, error) {
	if len(data) > lim.MaxBytes {
		return nil, &xmldoc.Error{Reason: "too large"}
	}
	p := refParser{dec: xml.NewDecoder(bytes.NewReader(data)), lim: lim, doc: etree.NewDocument()}
	p.dec.Strict = true
	p.dec.CharsetReader = charsetReader
	if err := p.run(); err != nil {
		return nil, err
	}
	return p.doc, nil
}

type refParser struct {
	dec   *xml.Decoder
	lim   xmldoc.Limits
	doc   *etree.Document
	stack []*etree.Element
	root  bool
}

func (p *refParser) fail(reason string, err error) error {
	path := ""
	if n := len(p.stack); n > 0 {
		path = xmldoc.Where(p.stack[n-1])
	}
	line, _ := p.dec.InputPos()
	return &xmldoc.Error{Line: line, Path: path, Reason: reason, Err: err}
}

func (p *refParser) run() error {
	for {
		tok, err := p.dec.RawToken()
		if err == io.EOF {
			break
		}
		if err != nil {
			var se *xml.SyntaxError
			if errors.As(err, &se) {
				return p.fail("not well-formed: "+se.Msg, err)
			}
			return p.fail("unreadable: "+err.Error(), err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if err := p.start(t); err != nil {
				return err
			}
		case xml.EndElement:
			n := len(p.stack)
			if n == 0 {
				return p.fail("unexpected end element </"+qname(t.Name)+">", nil)
			}
			// RawToken does not pair start and end tags; do it here.
			if top := p.stack[n-1]; top.Tag != t.Name.Local || top.Space != t.Name.Space {
				return p.fail("not well-formed: element <"+top.FullTag()+"> closed by </"+qname(t.Name)+">", nil)
			}
			p.stack = p.stack[:n-1]
		case xml.CharData:
			if len(p.stack) == 0 {
				if len(bytes.TrimSpace(t)) > 0 {
					return p.fail("text outside the root element", nil)
				}
				continue
			}
			if isSpace(t) {
				continue // formatting between elements
			}
			p.stack[len(p.stack)-1].AddChild(etree.NewText(string(t)))
		case xml.Directive:
			return p.fail("DOCTYPE and other directives are not accepted", nil)
		case xml.ProcInst:
			if p.root || len(p.stack) > 0 {
				continue // a processing instruction inside the document: ignore
			}
		case xml.Comment:
		}
	}
	if len(p.stack) > 0 {
		return p.fail("document ends inside an element", nil)
	}
	if !p.root {
		return &xmldoc.Error{Reason: "no root element"}
	}
	return nil
}

func (p *refParser) start(t xml.StartElement) error {
	if len(p.stack) == 0 {
		if p.root {
			return p.fail("more than one root element (second is <"+t.Name.Local+">)", nil)
		}
		p.root = true
	}
	if len(p.stack) >= p.lim.MaxDepth {
		return p.fail(fmt.Sprintf("elements nested deeper than %d", p.lim.MaxDepth), nil)
	}
	if len(t.Attr) > p.lim.MaxAttrs {
		return p.fail(fmt.Sprintf("<%s> has %d attributes, more than %d", t.Name.Local, len(t.Attr), p.lim.MaxAttrs), nil)
	}
	for i := range t.Attr {
		for j := range i {
			if t.Attr[i].Name == t.Attr[j].Name {
				return p.fail(fmt.Sprintf("<%s> repeats attribute %s", t.Name.Local, qname(t.Attr[i].Name)), nil)
			}
		}
	}
	el := &etree.Element{Space: t.Name.Space, Tag: t.Name.Local}
	if len(t.Attr) > 0 {
		el.Attr = make([]etree.Attr, len(t.Attr))
		for i, a := range t.Attr {
			el.Attr[i] = etree.Attr{Space: a.Name.Space, Key: a.Name.Local, Value: a.Value}
		}
	}
	if n := len(p.stack); n > 0 {
		p.stack[n-1].AddChild(el)
	} else {
		p.doc.AddChild(el)
	}
	p.stack = append(p.stack, el)
	return nil
}

func qname(n xml.Name) string {
	if n.Space == "" {
		return n.Local
	}
	return n.Space + ":" + n.Local
}

func isSpace(b []byte) bool {
	for _, c := range b {
		if c != ' ' && c != '\t' && c != '\n' && c != '\r' {
			return false
		}
	}
	return true
}

// charsetReader accepts the encodings GP2GP peers declare. Only UTF-8 and
// its ASCII subset are read; anything else is refused rather than guessed.
func charsetReader(charset string, input io.Reader) (io.Reader, error) {
	switch strings.ToLower(charset) {
	case "utf-8", "utf8", "us-ascii", "ascii":
		return input, nil
	}
	return nil, fmt.Errorf("unsupported encoding %q (only UTF-8 is accepted)", charset)
}
