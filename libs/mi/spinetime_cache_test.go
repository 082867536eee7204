package mi

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// checkDateCache parses each of times in turn through one
// spineDateCache and requires what parseSpineTimeFast gives.
func checkDateCache(t *testing.T, times ...string) {
	t.Helper()
	var c spineDateCache
	for _, s := range times {
		want, wok := parseSpineTimeFast(s)
		got, gok := c.parse([]byte(s))
		require.Equal(t, wok, gok, "%q after %q", s, times)
		require.Equal(t, want, got, "%q after %q", s, times)
	}
}

func TestSpineDateCache(t *testing.T) {
	checkDateCache(t, "2026-06-01 10:00:00 BST", "2026-06-01 23:59:59.5 UTC", "2026-06-01 24:00:00 UTC",
		"2026-06-01", "2026-06-01 10:00:00", "2026-06-02T00:00:00Z", "2026-06-01 10:00:00 BST",
		"2026-02-29 10:00:00 UTC", "2026-02-29 10:00:00 UTC", "2024-02-29 10:00:00 UTC", "2024-02-29 10:00:00 utc")
}

func FuzzSpineDateCache(f *testing.F) {
	f.Add("2026-06-01 10:00:00.123 BST", "2026-06-01T09:02:00Z")
	f.Add("2026-06-01 10:00:00 UTC", "2026-06-01 10:00")
	f.Fuzz(func(t *testing.T, a, b string) {
		checkDateCache(t, a, b, a)
	})
}
