package xmldoc

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/beevik/etree"
)

// scanner reads a document and builds its etree in one pass. Names,
// attribute values and text are substrings of src unless they needed
// decoding (references, line ends), so most of the tree allocates nothing
// beyond its elements.
type scanner struct {
	src string
	pos int
	lim Limits
	doc *etree.Document

	// open holds the elements being read, outermost first.
	open []openElement
	// kids holds the children of every open element, in order; an open
	// element's children start at its firstKid. They are attached when the
	// element closes, so each Child slice is allocated once at its size.
	kids []etree.Token
	// attrs is scratch space for the tag being read.
	attrs []etree.Attr
	// slab hands out elements in blocks: one allocation per block.
	slab []etree.Element
	root bool
}

type openElement struct {
	el       *etree.Element
	qname    string // as written, for matching the end tag
	firstKid int
}

const slabSize = 128

func (s *scanner) newElement(space, tag string) *etree.Element {
	if len(s.slab) == 0 {
		s.slab = make([]etree.Element, slabSize)
	}
	el := &s.slab[0]
	s.slab = s.slab[1:]
	el.Space, el.Tag = space, tag
	return el
}

// fail reports a problem at the current position.
func (s *scanner) fail(format string, args ...any) error {
	return s.failAt(s.pos, format, args...)
}

func (s *scanner) failAt(pos int, format string, args ...any) error {
	if pos > len(s.src) {
		pos = len(s.src)
	}
	var path strings.Builder
	for _, o := range s.open {
		path.WriteByte('/')
		path.WriteString(o.el.Tag)
	}
	return &Error{Line: 1 + strings.Count(s.src[:pos], "\n"), Path: path.String(), Reason: fmt.Sprintf(format, args...)}
}

func (s *scanner) run() error {
	start := 0
	if strings.HasPrefix(s.src, "\ufeff") {
		start = len("\ufeff")
	}
	s.pos = start
	for s.pos < len(s.src) {
		if s.src[s.pos] != '<' {
			if err := s.text(); err != nil {
				return err
			}
			continue
		}
		if s.pos+1 >= len(s.src) {
			return s.fail("not well-formed: unexpected end of input after <")
		}
		var err error
		switch s.src[s.pos+1] {
		case '?':
			err = s.procInst(start)
		case '!':
			err = s.bang()
		case '/':
			err = s.endTag()
		default:
			err = s.startTag()
		}
		if err != nil {
			return err
		}
	}
	if len(s.open) > 0 {
		return s.fail("document ends inside an element")
	}
	if !s.root {
		return &Error{Reason: "no root element"}
	}
	return nil
}

// text reads character data up to the next '<'.
func (s *scanner) text() error {
	start := s.pos
	end := strings.IndexByte(s.src[s.pos:], '<')
	if end < 0 {
		end = len(s.src)
	} else {
		end += s.pos
	}
	s.pos = end
	raw := s.src[start:end]
	if len(s.open) == 0 {
		if !isSpace(raw) {
			return s.failAt(start, "text outside the root element")
		}
		return nil
	}
	if isSpace(raw) {
		return nil // formatting between elements
	}
	if i := strings.Index(raw, "]]>"); i >= 0 {
		return s.failAt(start+i, "not well-formed: ]]> outside a CDATA section")
	}
	value, err := s.decode(raw, start)
	if err != nil {
		return err
	}
	s.kids = append(s.kids, etree.NewText(value))
	return nil
}

// bang reads what starts "<!": a comment or a CDATA section. Anything
// else, a DOCTYPE above all, is refused.
func (s *scanner) bang() error {
	rest := s.src[s.pos:]
	switch {
	case strings.HasPrefix(rest, "<!--"):
		body := s.pos + 4
		end := strings.Index(s.src[body:], "--")
		if end < 0 {
			return s.fail("not well-formed: unterminated comment")
		}
		end += body
		if end+2 >= len(s.src) || s.src[end+2] != '>' {
			return s.failAt(end, `not well-formed: "--" inside a comment`)
		}
		s.pos = end + 3
		return nil
	case strings.HasPrefix(rest, "<![CDATA["):
		body := s.pos + 9
		end := strings.Index(s.src[body:], "]]>")
		if end < 0 {
			return s.fail("not well-formed: unterminated CDATA section")
		}
		end += body
		s.pos = end + 3
		data := s.src[body:end]
		if len(s.open) == 0 {
			if !isSpace(data) {
				return s.failAt(body, "text outside the root element")
			}
			return nil
		}
		if isSpace(data) {
			return nil
		}
		s.kids = append(s.kids, etree.NewText(normalizeNewlines(data)))
		return nil
	}
	return s.fail("DOCTYPE and other directives are not accepted")
}

// procInst reads a processing instruction. Only the XML declaration means
// anything: it must come first and may only declare UTF-8 (or ASCII).
func (s *scanner) procInst(docStart int) error {
	at := s.pos
	s.pos += 2
	target, err := s.name()
	if err != nil {
		return err
	}
	end := strings.Index(s.src[s.pos:], "?>")
	if end < 0 {
		return s.fail("not well-formed: unterminated processing instruction")
	}
	body := s.src[s.pos : s.pos+end]
	s.pos += end + 2
	if body != "" && !isSpaceByte(body[0]) {
		return s.failAt(at, "not well-formed: processing instruction <?%s%s?>", target, body)
	}
	if !strings.EqualFold(target, "xml") {
		return nil
	}
	if at != docStart || target != "xml" {
		return s.failAt(at, "not well-formed: the XML declaration must come first")
	}
	if enc, ok := pseudoAttr(body, "encoding"); ok {
		switch strings.ToLower(enc) {
		case "utf-8", "utf8", "us-ascii", "ascii":
		default:
			return s.failAt(at, "unsupported encoding %q (only UTF-8 is accepted)", enc)
		}
	}
	return nil
}

// pseudoAttr finds name="value" (or 'value') in an XML declaration.
func pseudoAttr(body, name string) (string, bool) {
	i := strings.Index(body, name)
	if i < 0 {
		return "", false
	}
	rest := strings.TrimLeft(body[i+len(name):], " \t\r\n")
	if !strings.HasPrefix(rest, "=") {
		return "", false
	}
	rest = strings.TrimLeft(rest[1:], " \t\r\n")
	if rest == "" || (rest[0] != '"' && rest[0] != '\'') {
		return "", false
	}
	end := strings.IndexByte(rest[1:], rest[0])
	if end < 0 {
		return "", false
	}
	return rest[1 : end+1], true
}

func (s *scanner) startTag() error {
	tagStart := s.pos
	s.pos++
	qname, err := s.name()
	if err != nil {
		return err
	}
	if len(s.open) == 0 {
		if s.root {
			return s.failAt(tagStart, "more than one root element (second is <%s>)", qname)
		}
		s.root = true
	}
	if len(s.open) >= s.lim.MaxDepth {
		return s.failAt(tagStart, "elements nested deeper than %d", s.lim.MaxDepth)
	}
	s.attrs = s.attrs[:0]
	selfClosing := false
	for {
		spaced := s.skipSpace()
		if s.pos >= len(s.src) {
			return s.fail("not well-formed: unexpected end of input in <%s>", qname)
		}
		c := s.src[s.pos]
		if c == '>' {
			s.pos++
			break
		}
		if c == '/' {
			if s.pos+1 >= len(s.src) || s.src[s.pos+1] != '>' {
				return s.fail("not well-formed: expected /> in <%s>", qname)
			}
			s.pos += 2
			selfClosing = true
			break
		}
		if !spaced {
			return s.fail("not well-formed: expected white space before an attribute of <%s>", qname)
		}
		if err := s.attr(qname); err != nil {
			return err
		}
	}

	space, local := splitName(qname)
	el := s.newElement(space, local)
	if n := len(s.attrs); n > 0 {
		el.Attr = make([]etree.Attr, n)
		copy(el.Attr, s.attrs)
	}
	if selfClosing {
		s.addKid(el)
		return nil
	}
	s.open = append(s.open, openElement{el: el, qname: qname, firstKid: len(s.kids)})
	return nil
}

// attr reads one name="value" pair into s.attrs.
func (s *scanner) attr(elem string) error {
	qname, err := s.name()
	if err != nil {
		return err
	}
	s.skipSpace()
	if s.pos >= len(s.src) || s.src[s.pos] != '=' {
		return s.fail("not well-formed: attribute %s of <%s> has no value", qname, elem)
	}
	s.pos++
	s.skipSpace()
	if s.pos >= len(s.src) || (s.src[s.pos] != '"' && s.src[s.pos] != '\'') {
		return s.fail("not well-formed: unquoted value of attribute %s of <%s>", qname, elem)
	}
	quote := s.src[s.pos]
	s.pos++
	start := s.pos
	end := strings.IndexByte(s.src[start:], quote)
	if end < 0 {
		return s.fail("not well-formed: unterminated value of attribute %s of <%s>", qname, elem)
	}
	end += start
	raw := s.src[start:end]
	if i := strings.IndexByte(raw, '<'); i >= 0 {
		return s.failAt(start+i, "not well-formed: < in the value of attribute %s of <%s>", qname, elem)
	}
	s.pos = end + 1
	value, err := s.decode(raw, start)
	if err != nil {
		return err
	}
	space, key := splitName(qname)
	for _, a := range s.attrs {
		if a.Space == space && a.Key == key {
			return s.failAt(start, "<%s> repeats attribute %s", elem, qname)
		}
	}
	if len(s.attrs) >= s.lim.MaxAttrs {
		return s.failAt(start, "<%s> has more than %d attributes", elem, s.lim.MaxAttrs)
	}
	s.attrs = append(s.attrs, etree.Attr{Space: space, Key: key, Value: value})
	return nil
}

func (s *scanner) endTag() error {
	at := s.pos
	s.pos += 2
	qname, err := s.name()
	if err != nil {
		return err
	}
	s.skipSpace()
	if s.pos >= len(s.src) || s.src[s.pos] != '>' {
		return s.fail("not well-formed: expected > after </%s", qname)
	}
	s.pos++
	n := len(s.open)
	if n == 0 {
		return s.failAt(at, "unexpected end element </%s>", qname)
	}
	top := s.open[n-1]
	if top.qname != qname {
		return s.failAt(at, "not well-formed: element <%s> closed by </%s>", top.qname, qname)
	}
	kids := s.kids[top.firstKid:]
	if len(kids) > 0 {
		top.el.Child = make([]etree.Token, 0, len(kids))
		for _, k := range kids {
			top.el.AddChild(k)
		}
		clear(kids)
		s.kids = s.kids[:top.firstKid]
	}
	s.open = s.open[:n-1]
	s.addKid(top.el)
	return nil
}

// addKid adds a finished element to its parent's pending children, or
// makes it the document's root.
func (s *scanner) addKid(el *etree.Element) {
	if len(s.open) == 0 {
		s.doc.AddChild(el)
		return
	}
	s.kids = append(s.kids, el)
}

// name reads an XML name at the current position.
func (s *scanner) name() (string, error) {
	start := s.pos
	for s.pos < len(s.src) {
		c := s.src[s.pos]
		if c < utf8.RuneSelf {
			if isASCIINameByte(c, s.pos == start) {
				s.pos++
				continue
			}
			break
		}
		r, size := utf8.DecodeRuneInString(s.src[s.pos:])
		if !isNameRune(r, s.pos == start) {
			break
		}
		s.pos += size
	}
	if s.pos == start {
		if s.pos >= len(s.src) {
			return "", s.fail("not well-formed: unexpected end of input, expected a name")
		}
		return "", s.fail("not well-formed: expected a name, found %q", s.src[s.pos:s.pos+1])
	}
	name := s.src[start:s.pos]
	// Namespaces in XML: at most one colon, between a prefix and a local
	// name.
	if i := strings.IndexByte(name, ':'); i >= 0 && (i == 0 || i == len(name)-1 || strings.IndexByte(name[i+1:], ':') >= 0) {
		return "", s.failAt(start, "not well-formed: %q is not a valid qualified name", name)
	}
	return name, nil
}

func (s *scanner) skipSpace() bool {
	start := s.pos
	for s.pos < len(s.src) && isSpaceByte(s.src[s.pos]) {
		s.pos++
	}
	return s.pos > start
}

// splitName splits prefix:local (name has checked the form).
func splitName(qname string) (space, local string) {
	if i := strings.IndexByte(qname, ':'); i > 0 {
		return qname[:i], qname[i+1:]
	}
	return "", qname
}

// decode resolves references and normalises line ends in raw text or an
// attribute value found at offset start.
func (s *scanner) decode(raw string, start int) (string, error) {
	if strings.IndexByte(raw, '&') < 0 && strings.IndexByte(raw, '\r') < 0 {
		return raw, nil
	}
	var b strings.Builder
	b.Grow(len(raw))
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		switch c {
		case '\r':
			b.WriteByte('\n')
			if i+1 < len(raw) && raw[i+1] == '\n' {
				i++
			}
		case '&':
			end := strings.IndexByte(raw[i:], ';')
			if end < 0 {
				return "", s.failAt(start+i, "not well-formed: & without ;")
			}
			ref := raw[i+1 : i+end]
			r, ok := reference(ref)
			if !ok {
				return "", s.failAt(start+i, "not well-formed: invalid character entity &%s;", ref)
			}
			b.WriteRune(r)
			i += end
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), nil
}

// reference resolves the predefined entities and character references.
func reference(ref string) (rune, bool) {
	switch ref {
	case "lt":
		return '<', true
	case "gt":
		return '>', true
	case "amp":
		return '&', true
	case "apos":
		return '\'', true
	case "quot":
		return '"', true
	}
	if len(ref) < 2 || ref[0] != '#' {
		return 0, false
	}
	var n uint64
	var err error
	if ref[1] == 'x' {
		if len(ref) < 3 {
			return 0, false
		}
		n, err = strconv.ParseUint(ref[2:], 16, 32)
	} else {
		n, err = strconv.ParseUint(ref[1:], 10, 32)
	}
	if err != nil || !isXMLChar(rune(n)) {
		return 0, false
	}
	return rune(n), true
}

func normalizeNewlines(s string) string {
	if strings.IndexByte(s, '\r') < 0 {
		return s
	}
	return strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\r", "\n")
}

func isSpace(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isSpaceByte(s[i]) {
			return false
		}
	}
	return true
}

func isSpaceByte(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// checkChars reports the first byte that is not a UTF-8 encoded XML
// character.
func checkChars(data []byte) (offset int, reason string) {
	for i := 0; i < len(data); {
		c := data[i]
		if c < utf8.RuneSelf {
			if c < 0x20 && c != '\t' && c != '\n' && c != '\r' {
				return i, fmt.Sprintf("not well-formed: control character %#02x", c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRune(data[i:])
		if r == utf8.RuneError && size == 1 {
			return i, "not well-formed: invalid UTF-8 (only UTF-8 is accepted)"
		}
		if !isXMLChar(r) {
			return i, fmt.Sprintf("not well-formed: character %U is not allowed in XML", r)
		}
		i += size
	}
	return 0, ""
}

// isXMLChar is the XML 1.0 Char production.
func isXMLChar(r rune) bool {
	return r == 0x09 || r == 0x0A || r == 0x0D ||
		r >= 0x20 && r <= 0xD7FF ||
		r >= 0xE000 && r <= 0xFFFD ||
		r >= 0x10000 && r <= 0x10FFFF
}

func isASCIINameByte(c byte, first bool) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c == '_', c == ':':
		return true
	case c >= '0' && c <= '9', c == '-', c == '.':
		return !first
	}
	return false
}

// isNameRune is the XML 1.0 (fifth edition) NameStartChar and NameChar
// productions for characters beyond ASCII.
func isNameRune(r rune, first bool) bool {
	switch {
	case r >= 0xC0 && r <= 0xD6, r >= 0xD8 && r <= 0xF6, r >= 0xF8 && r <= 0x2FF,
		r >= 0x370 && r <= 0x37D, r >= 0x37F && r <= 0x1FFF, r >= 0x200C && r <= 0x200D,
		r >= 0x2070 && r <= 0x218F, r >= 0x2C00 && r <= 0x2FEF, r >= 0x3001 && r <= 0xD7FF,
		r >= 0xF900 && r <= 0xFDCF, r >= 0xFDF0 && r <= 0xFFFD, r >= 0x10000 && r <= 0xEFFFF:
		return true
	case r == 0xB7, r >= 0x300 && r <= 0x36F, r >= 0x203F && r <= 0x2040:
		return !first
	}
	return false
}
