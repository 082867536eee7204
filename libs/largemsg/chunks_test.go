package largemsg_test

import (
	"bytes"
	"encoding/base64"
	"errors"
	"io"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nhsengland/gp2gp/libs/largemsg"
)

// pattern is a reader of n deterministic bytes that never holds them.
func pattern(n int64) io.Reader {
	return io.LimitReader(readerFunc(func(p []byte) (int, error) {
		for i := range p {
			p[i] = byte(i*7 + 3)
		}
		return len(p), nil
	}), n)
}

type readerFunc func([]byte) (int, error)

func (f readerFunc) Read(p []byte) (int, error) { return f(p) }

// The fragments' base64 texts, concatenated, are the document's base64
// text: each fragment is a whole number of base64 quanta.
func TestChunksConcatenateToTheDocument(t *testing.T) {
	l := largemsg.Limits{SplitThreshold: 4096, MessageBudget: 4096 + 16<<10, MaxInline: 98}
	doc := make([]byte, 10_001)
	for i := range doc {
		doc[i] = byte(i * 31)
	}
	var text bytes.Buffer
	var sizes []int
	err := largemsg.Chunks(bytes.NewReader(doc), int64(len(doc)), l.ChunkBytes(), func(n int, chunk []byte) error {
		assert.Equal(t, len(sizes)+1, n)
		sizes = append(sizes, len(chunk))
		text.WriteString(base64.StdEncoding.EncodeToString(chunk))
		return nil
	})
	require.NoError(t, err)
	assert.Equal(t, []int{3072, 3072, 3072, 785}, sizes)
	assert.Equal(t, base64.StdEncoding.EncodeToString(doc), text.String())
	assert.LessOrEqual(t, base64.StdEncoding.EncodedLen(3072), l.SplitThreshold)
}

func TestChunksRefuseADocumentOfAnotherSize(t *testing.T) {
	nop := func(int, []byte) error { return nil }
	err := largemsg.Chunks(pattern(100), 101, 64, nop)
	assert.ErrorIs(t, err, largemsg.ErrSizeMismatch)
	err = largemsg.Chunks(pattern(102), 101, 64, nop)
	assert.ErrorIs(t, err, largemsg.ErrSizeMismatch)
	require.NoError(t, largemsg.Chunks(pattern(0), 0, 64, nop))

	boom := errors.New("boom")
	err = largemsg.Chunks(pattern(200), 200, 64, func(n int, _ []byte) error {
		if n == 2 {
			return boom
		}
		return nil
	})
	assert.ErrorIs(t, err, boom)
	assert.Error(t, largemsg.Chunks(pattern(1), 1, 0, nop))
}

// A 100 MB document is read through one fragment-sized buffer.
func TestChunksHoldOneFragment(t *testing.T) {
	const size = 100 << 20
	chunk := largemsg.DefaultLimits().ChunkBytes()
	allocs := testing.AllocsPerRun(1, func() {
		var total int64
		require.NoError(t, largemsg.Chunks(pattern(size), size, chunk, func(_ int, c []byte) error {
			total += int64(len(c))
			return nil
		}))
		require.EqualValues(t, size, total)
	})
	assert.LessOrEqual(t, allocs, 64.0, "a few buffers, not one per fragment or per megabyte")
}
