package xmldoc_test

import (
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
