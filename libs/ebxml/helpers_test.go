package ebxml_test

import (
	"strings"
	"testing"

	"github.com/nhsengland/gp2gp/libs/spectest"
)

// sampleBytes reads a sample; for the .js.txt captures it returns the
// text of their JavaScript template literal.
func sampleBytes(t testing.TB, name string) []byte {
	t.Helper()
	data := spectest.Sample(t, name)
	if strings.HasSuffix(name, ".js.txt") {
		data = spectest.TemplateLiteral(data)
	}
	return data
}

// isEnvelopeSample reports whether a sample file carries an ebXML envelope
// (bare HL7 .xml samples do not).
func isEnvelopeSample(name string) bool {
	return strings.HasSuffix(name, ".mhs.json") || strings.HasSuffix(name, "-mime.txt") ||
		strings.HasSuffix(name, "-http.txt") || strings.HasSuffix(name, "-mime.js.txt")
}
