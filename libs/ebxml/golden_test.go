package ebxml_test

import (
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// golden compares got with testdata/golden/<name>, or rewrites the file
// when the test runs with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(t, os.WriteFile(path, got, 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "golden file missing: run go test -run TestGolden -update")
	assert.Equal(t, string(want), string(got), "output differs from %s (run go test -run TestGolden -update if the change is intended)", path)
}

func TestGolden(t *testing.T) {
	t.Run("envelope.xml", func(t *testing.T) {
		e := testEnvelope()
		out, err := e.Build()
		require.NoError(t, err)
		golden(t, "envelope.xml", out)
	})
	t.Run("message.mime", func(t *testing.T) {
		body, ct, err := testMessage().MarshalMIME()
		require.NoError(t, err)
		golden(t, "message.mime", append([]byte("Content-Type: "+ct+"\r\n\r\n"), body...))
	})
	t.Run("outbound.json", func(t *testing.T) {
		out, err := testMessage().OutboundJSON()
		require.NoError(t, err)
		golden(t, "outbound.json", out)
	})
}
