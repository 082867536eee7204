package xmldoc_test

import (
	"strings"
	"testing"

	"github.com/nhsengland/gp2gp/libs/xmldoc"
)

// FuzzParse: any input either parses or is refused with an *xmldoc.Error;
// nothing panics, and what parses can be written out and parsed again.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		`<a/>`, `<a x="1"><b>t</b><![CDATA[c]]></a>`, `<!DOCTYPE a><a/>`, `<a><a><a></a></a></a>`,
		`<hl7:a xmlns:hl7="urn:hl7-org:v3"><hl7:b root="x"/></hl7:a>`, `<a/><b/>`, `<?xml version="1.0"?><a>&amp;&lt;</a>`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		doc, err := xmldoc.Parse(data, xmldoc.Limits{MaxBytes: 1 << 16, MaxDepth: 32, MaxAttrs: 8})
		if err != nil {
			if _, ok := err.(*xmldoc.Error); !ok {
				t.Fatalf("error of type %T: %v", err, err)
			}
			return
		}
		out, err := doc.WriteToBytes()
		if err != nil {
			t.Fatalf("write parsed document: %v", err)
		}
		if _, err := xmldoc.Parse(out, xmldoc.Limits{MaxBytes: 1 << 20, MaxDepth: 32, MaxAttrs: 8}); err != nil {
			t.Fatalf("re-parse of written document failed: %v\ninput: %q\nwritten: %q", err, data, out)
		}
	})
}

// FuzzParseMatchesReference compares Parse with the same checks built on
// encoding/xml's tokenizer: where both accept a document they must build
// the same tree, and Parse must not accept what encoding/xml refuses. Parse
// may be stricter only in the ways stricterByDesign lists (and, beyond
// ASCII, in following the current XML edition's name characters).
func FuzzParseMatchesReference(f *testing.F) {
	for _, s := range []string{
		`<a/>`, `<a x="1" y='2'><b>t&amp;&#65;&#x42;</b><![CDATA[c<]]></a>`, "<a>\r\n x\r</a>",
		`<hl7:a xmlns:hl7="urn:hl7-org:v3"><hl7:b root="x"/></hl7:a>`, `<a><!-- c --><?pi x?></a>`, `<a:b:c/>`, `<:a/>`, `<a:/>`, `<a b:c:d="1"/>`,
		`<?xml version="1.0" encoding="UTF-8"?><a/>`, `<a b="&lt;&gt;&quot;&apos;"/>`, `<a>]]></a>`, `<a><b></a></b>`,
	} {
		f.Add([]byte(s))
	}
	lim := xmldoc.Limits{MaxBytes: 1 << 16, MaxDepth: 32, MaxAttrs: 8}
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := xmldoc.Parse(data, lim)
		want, refErr := referenceParse(data, lim)
		switch {
		case err == nil && refErr == nil:
			g, _ := got.WriteToString()
			w, _ := want.WriteToString()
			if g != w {
				t.Fatalf("trees differ for %q:\nParse:     %s\nreference: %s", data, g, w)
			}
		case err == nil && refErr != nil:
			if isASCII(data) {
				t.Fatalf("Parse accepts what encoding/xml refuses (%v): %q", refErr, data)
			}
		case err != nil:
			xe, ok := err.(*xmldoc.Error)
			if !ok {
				t.Fatalf("error of type %T: %v", err, err)
			}
			if refErr == nil && isASCII(data) && !stricterByDesign(xe.Reason) {
				t.Fatalf("Parse refuses (%v) what encoding/xml accepts: %q", err, data)
			}
		}
	})
}

// stricterByDesign lists where Parse refuses what encoding/xml lets
// through: an XML declaration that is not first, names that are not valid
// qualified names under Namespaces in XML (":a", "a:", "a:b:c"), and a
// processing instruction whose target runs into its data ("<?a!?>"), and
// characters XML forbids anywhere (encoding/xml lets them pass inside
// comments and processing instructions).
func stricterByDesign(reason string) bool {
	return strings.Contains(reason, "XML declaration must come first") ||
		strings.Contains(reason, "is not a valid qualified name") ||
		strings.Contains(reason, "not well-formed: processing instruction <?") || // no space after the target
		strings.Contains(reason, "not well-formed: control character") // anywhere, comments and PIs too
}

func isASCII(b []byte) bool {
	for _, c := range b {
		if c >= 0x80 {
			return false
		}
	}
	return true
}
