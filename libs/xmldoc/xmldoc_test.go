package xmldoc_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nhsengland/gp2gp/libs/xmldoc"
)

func TestParseAndNavigate(t *testing.T) {
	doc, err := xmldoc.Parse([]byte(`<?xml version="1.0" encoding="UTF-8"?>
<!-- a comment -->
<hl7:COPC_IN000001UK01 xmlns:hl7="urn:hl7-org:v3" xmlns:gp="urn:nhs:names:services:gp2gp">
  <hl7:id root="ABC"/>
  <hl7:ControlActEvent><hl7:subject><gp:Gp2gpfragment><gp:From> B86041 </gp:From></gp:Gp2gpfragment></hl7:subject></hl7:ControlActEvent>
  <hl7:note><![CDATA[a < b]]></hl7:note>
</hl7:COPC_IN000001UK01>`), xmldoc.Limits{})
	require.NoError(t, err)
	root := doc.Root()
	assert.Equal(t, "COPC_IN000001UK01", root.Tag)
	assert.Equal(t, "ABC", xmldoc.Attr(xmldoc.Child(root, "id"), "root"))
	from := xmldoc.Path(root, "ControlActEvent", "subject", "Gp2gpfragment", "From")
	assert.Equal(t, "B86041", xmldoc.Text(from))
	assert.Equal(t, "/COPC_IN000001UK01/ControlActEvent/subject/Gp2gpfragment/From", xmldoc.Where(from))
	assert.Equal(t, "urn:nhs:names:services:gp2gp", xmldoc.Namespace(from, from.Space))
	assert.Equal(t, "a < b", xmldoc.Text(xmldoc.Child(root, "note")))
	assert.Nil(t, xmldoc.Path(root, "ControlActEvent", "missing", "From"))
	assert.Empty(t, xmldoc.Attr(nil, "root"))
}

func TestParseRefusesHostileInput(t *testing.T) {
	deep := strings.Repeat("<a>", 300) + strings.Repeat("</a>", 300)
	manyAttrs := "<a" + strings.Repeat(" x=\"1\"", 1)
	for i := range 70 {
		manyAttrs += " a" + string(rune('a'+i%26)) + strings.Repeat("z", i) + `="1"`
	}
	manyAttrs += "/>"
	cases := map[string]struct {
		doc  string
		lim  xmldoc.Limits
		want string
	}{
		"billion laughs":      {`<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]><lolz>&lol2;</lolz>`, xmldoc.Limits{}, "DOCTYPE"},
		"external entity":     {`<!DOCTYPE foo [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><foo>&xxe;</foo>`, xmldoc.Limits{}, "DOCTYPE"},
		"undeclared entity":   {`<foo>&xxe;</foo>`, xmldoc.Limits{}, "not well-formed"},
		"deep nesting":        {deep, xmldoc.Limits{}, "nested deeper than 256"},
		"many attributes":     {manyAttrs, xmldoc.Limits{}, "more than 64 attributes"},
		"duplicate attribute": {`<id root="A" root="B"/>`, xmldoc.Limits{}, "repeats attribute root"},
		"multiple roots":      {`<a/><b/>`, xmldoc.Limits{}, "more than one root"},
		"text outside root":   {`<a/>trailing`, xmldoc.Limits{}, "text outside the root"},
		"truncated":           {`<a><b>`, xmldoc.Limits{}, "document ends inside an element"},
		"truncated tag":       {`<a><b`, xmldoc.Limits{}, "not well-formed"},
		"empty":               {``, xmldoc.Limits{}, "no root element"},
		"too large":           {`<a>` + strings.Repeat("x", 100) + `</a>`, xmldoc.Limits{MaxBytes: 50}, "exceeds the 50-byte limit"},
		"other encoding":      {`<?xml version="1.0" encoding="ISO-8859-1"?><a/>`, xmldoc.Limits{}, "ISO-8859-1"},
		"mismatched tags":     {`<a></b>`, xmldoc.Limits{}, "closed by </b>"},
		"mismatched prefix":   {`<x:a xmlns:x="u" xmlns:y="u"></y:a>`, xmldoc.Limits{}, "closed by </y:a>"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := xmldoc.Parse([]byte(tc.doc), tc.lim)
			require.Error(t, err)
			var xe *xmldoc.Error
			require.ErrorAs(t, err, &xe)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestErrorsSayWhere(t *testing.T) {
	_, err := xmldoc.Parse([]byte("<a>\n<b>\n<c x='1' x='2'/></b></a>"), xmldoc.Limits{})
	var xe *xmldoc.Error
	require.ErrorAs(t, err, &xe)
	assert.Equal(t, "/a/b", xe.Path)
	assert.Equal(t, 3, xe.Line)
}
