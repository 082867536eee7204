package ebxml_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// specEnv names the directory holding GP2GP-PROTOCOL.md and samples/.
const specEnv = "GP2GP_SPEC_DIR"

// specDir returns $GP2GP_SPEC_DIR, or skips the test when it is unset.
func specDir(t testing.TB) string {
	t.Helper()
	dir := os.Getenv(specEnv)
	if dir == "" {
		t.Skipf("%s is not set: set it to the spec directory (e.g. /work/shared/spec) to run the sample conformance tests", specEnv)
	}
	return dir
}

// sampleBytes reads a sample from the spec directory's samples/. For the
// .js.txt captures it returns the text between the first and last
// backtick.
func sampleBytes(t testing.TB, dir, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, "samples", name))
	require.NoError(t, err)
	if strings.HasSuffix(name, ".js.txt") {
		first, last := bytes.IndexByte(data, '`'), bytes.LastIndexByte(data, '`')
		require.True(t, first >= 0 && last > first, "no template literal in %s", name)
		data = data[first+1 : last]
	}
	return data
}

// isEnvelopeSample reports whether a sample file carries an ebXML envelope
// (bare HL7 .xml samples do not).
func isEnvelopeSample(name string) bool {
	return strings.HasSuffix(name, ".mhs.json") || strings.HasSuffix(name, "-mime.txt") ||
		strings.HasSuffix(name, "-http.txt") || strings.HasSuffix(name, "-mime.js.txt")
}
