// Package xmldoc parses untrusted XML into an etree document under hard
// limits, and navigates it by local name.
//
// GP2GP messages arrive from other organisations' systems and must be read
// without risk: Parse refuses input over a size limit before reading it,
// refuses any DOCTYPE or other directive (so no entity expansion, no
// external entities), bounds element depth and attributes per element, and
// rejects duplicate attributes, multiple root elements and text outside the
// root. It builds the tree in the same single pass that enforces the limits.
//
// Vendors write the same HL7 elements with different prefixes (TPP writes
// hl7:, others a default namespace), so the navigation helpers match
// elements and attributes by local name, never by prefix.
package xmldoc

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/beevik/etree"
)

// Limits bound what Parse accepts.
type Limits struct {
	// MaxBytes is the largest input accepted, checked before parsing.
	MaxBytes int
	// MaxDepth is the deepest element nesting accepted.
	MaxDepth int
	// MaxAttrs is the most attributes (namespace declarations included)
	// one element may carry.
	MaxAttrs int
}

// DefaultLimits suit GP2GP: the largest real EHR extracts are tens of
// megabytes once decompressed; HL7 nests a few dozen levels deep; no HL7
// element carries more than a handful of attributes.
var DefaultLimits = Limits{MaxBytes: 128 << 20, MaxDepth: 256, MaxAttrs: 64}

// Error is a reason Parse refused its input.
type Error struct {
	// Line of the input where the problem was found (1-based; 0 when the
	// input was refused before reading).
	Line int
	// Path of the element being read, e.g. /RCMR_IN030000UK06/ControlActEvent.
	Path string
	// Reason in words.
	Reason string
	// Err is the underlying error, if any (for example an *xml.SyntaxError).
	Err error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("xml: ")
	b.WriteString(e.Reason)
	if e.Path != "" {
		b.WriteString(" at ")
		b.WriteString(e.Path)
	}
	if e.Line > 0 {
		fmt.Fprintf(&b, " (line %d)", e.Line)
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// Parse parses data under lim (zero fields take DefaultLimits' values).
//
// It reads UTF-8 (or ASCII) XML 1.0 without a document type declaration:
// elements, attributes, character data, CDATA sections, character
// references and the five predefined entities, comments and processing
// instructions (which are dropped, as is white space between elements).
// The tree's names, attribute values and text are substrings of one copy
// of the input, so a parsed document costs little more than the input
// itself.
func Parse(data []byte, lim Limits) (*etree.Document, error) {
	lim = lim.withDefaults()
	if len(data) > lim.MaxBytes {
		return nil, &Error{Reason: fmt.Sprintf("document of %d bytes exceeds the %d-byte limit", len(data), lim.MaxBytes)}
	}
	if off, reason := checkChars(data); reason != "" {
		return nil, &Error{Line: 1 + bytes.Count(data[:off], []byte{'\n'}), Reason: reason}
	}
	s := &scanner{src: string(data), lim: lim, doc: etree.NewDocument()}
	if err := s.run(); err != nil {
		return nil, err
	}
	return s.doc, nil
}

func (l Limits) withDefaults() Limits {
	if l.MaxBytes <= 0 {
		l.MaxBytes = DefaultLimits.MaxBytes
	}
	if l.MaxDepth <= 0 {
		l.MaxDepth = DefaultLimits.MaxDepth
	}
	if l.MaxAttrs <= 0 {
		l.MaxAttrs = DefaultLimits.MaxAttrs
	}
	return l
}
