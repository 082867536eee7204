package mireport

import (
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// checkIDs requires appendID to encode a and b alike exactly when they
// are equal.
func checkIDs(t *testing.T, a, b string) {
	t.Helper()
	ea, eb := appendID(nil, []byte(a)), appendID(nil, []byte(b))
	require.Equal(t, a == b, bytes.Equal(ea, eb), "%q (%x) and %q (%x)", a, ea, b, eb)
}

func TestAppendID(t *testing.T) {
	uuid := "0a1b2c3d-4e5f-6789-abcd-ef0123456789"
	ids := []string{
		"", "x", uuid, strings.ToUpper(uuid), "0A1b2c3d-4e5f-6789-abcd-ef0123456789", // mixed case: raw
		"01234567-8901-2345-6789-012345678901", // digits only
		"0a1b2c3d-4e5f-6789-abcd-ef012345678g", "0a1b2c3d+4e5f-6789-abcd-ef0123456789",
		string(appendID(nil, []byte(uuid))), string(appendID(nil, []byte(uuid))[1:]), "\x00x",
	}
	for _, a := range ids {
		for _, b := range ids {
			checkIDs(t, a, b)
		}
	}
	assert.Len(t, appendID(nil, []byte(uuid)), 17)
	assert.Empty(t, appendID(nil, nil))
}

// TestUUIDID checks the decoding of UUIDs against encoding/hex, and that
// any byte that is not a hex digit, in any place, makes an id raw.
func TestUUIDID(t *testing.T) {
	for _, id := range []string{"0a1b2c3d-4e5f-6789-abcd-ef0123456789", "FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF",
		"00000000-0000-0000-0000-000000000000", "9a8b7c6d-5e4f-3a2b-1c0d-e9f8a7b6c5d4"} {
		k, ok := uuidID([]byte(id))
		require.True(t, ok, id)
		want, err := hex.DecodeString(strings.ReplaceAll(id, "-", ""))
		require.NoError(t, err)
		assert.Equal(t, want, k[1:], id)
	}
	base := []byte("0a1b2c3d-4e5f-6789-abcd-ef0123456789")
	for i := range base {
		if base[i] == '-' {
			continue
		}
		for _, c := range []byte{'/', ':', '@', 'G', '`', 'g', 0x80 | '1', ' ', 0} {
			id := bytes.Clone(base)
			id[i] = c
			_, ok := uuidID(id)
			assert.False(t, ok, "%q", id)
		}
	}
}

func FuzzAppendID(f *testing.F) {
	f.Add("0a1b2c3d-4e5f-6789-abcd-ef0123456789", "0A1B2C3D-4E5F-6789-ABCD-EF0123456789")
	f.Add("01234567-8901-2345-6789-012345678901", "\x0101234567-8901-2345-6789-0123456789")
	f.Fuzz(checkIDs)
}

// TestCodesOutsideInt32: a row keeps a code that int32 cannot hold.
func TestCodesOutsideInt32(t *testing.T) {
	l := newLogs(t)
	for i, code := range []string{"4294967307", "-2147483648", "-2147483647", "2147483647"} {
		c := fmt.Sprintf("c%d", i)
		l.row("2026-03-30", "2026-03-30 10:00:00 UTC", c, c+"-r", "RCMR_IN010000UK05", reqASID, sndASID, "", "")
		l.row("2026-03-30", "2026-03-30 10:01:00 UTC", c, c+"-ra", "MCCI_IN010000UK13", sndASID, reqASID, c+"-r", code)
	}
	l.write(t)
	day := time.Date(2026, 3, 30, 0, 0, 0, 0, time.UTC)
	r, err := Build(context.Background(), Config{SpineDir: l.dir, MetadataFile: writeMetadata(t, metadata), Start: day, End: day},
		day, func(string) {})
	require.NoError(t, err)
	require.Len(t, r.Transfers, 4)
	for i, want := range []int{4294967307, -2147483648, -2147483647, 2147483647} {
		require.Len(t, r.Transfers[i].SenderErrorCodes, 1)
		assert.Equal(t, want, *r.Transfers[i].SenderErrorCodes[0])
	}
}

func BenchmarkAppendID(b *testing.B) {
	ids := [][]byte{[]byte("0a1b2c3d-4e5f-6789-abcd-ef0123456789"), []byte("0A1B2C3D-4E5F-6789-ABCD-EF0123456789")}
	var text []byte
	for b.Loop() {
		text = appendID(appendID(text[:0], ids[0]), ids[1])
	}
}
