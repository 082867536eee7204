package mi

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseSpineTimeFastAgreesWithLayouts(t *testing.T) {
	for _, s := range []string{
		"2026-06-01 10:00:00 BST", "2026-06-01 10:00:00.123 BST", "2026-06-01T10:00:00.123456789 bst",
		"2026-06-01 09:00:00 UTC", "2026-06-01 09:00:00.5 GMT", "2026-06-01T09:02:00Z", "2026-06-01T09:02:00.1Z",
		"2024-02-29 23:59:59.999 UTC", "0001-01-01 00:00:00 UTC", "9999-12-31 23:59:59 GMT", "2026-01-01 00:30:00 BST",
		"1969-12-31 23:59:59 UTC", "1600-03-01 00:00:00 UTC",
	} {
		fast, ok := parseSpineTimeFast(s)
		require.True(t, ok, s)
		slow, err := parseSpineTimeLayouts(s)
		require.NoError(t, err, s)
		assert.Equal(t, slow, fast, s)
	}
	for _, s := range []string{
		"2026-02-29 10:00:00 UTC", "2026-13-01 10:00:00 UTC", "2026-06-01 24:00:00 UTC", "2026-06-01 10:60:00 UTC",
		"2026-06-01 10:00:60 UTC", "2026-06-01 10:00:00. UTC", "2026-06-01 10:00:00.1234567890 UTC",
		"2026-06-01 10:00:00Z", "2026-06-01T10:00:00+01:00", "2026-06-01 10:00:00 CET", "2026-06-01 10:00:00",
		"2026-6-01 10:00:00 UTC", "2026-06-01 10:00:00,123 UTC", "+026-06-01 10:00:00 UTC",
	} {
		_, ok := parseSpineTimeFast(s)
		assert.False(t, ok, s)
	}
}

func FuzzParseSpineTimeFast(f *testing.F) {
	f.Add("2026-06-01 10:00:00.123 BST")
	f.Add("2026-06-01T09:02:00Z")
	f.Add("2024-02-29 23:59:59 gmt")
	f.Fuzz(func(t *testing.T, s string) {
		fast, ok := parseSpineTimeFast(s)
		if !ok {
			return
		}
		slow, err := parseSpineTimeLayouts(s)
		require.NoError(t, err, "%q", s)
		require.Equal(t, slow, fast, "%q", s)
	})
}
