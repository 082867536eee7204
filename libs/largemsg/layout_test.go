package largemsg_test

import (
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nhsengland/gp2gp/libs/largemsg"
)

func ids(purpose string) string { return "ID:" + purpose }

func docs(sizes ...int64) []largemsg.Document {
	out := make([]largemsg.Document, len(sizes))
	for i, s := range sizes {
		out[i] = largemsg.Document{ID: "DOC" + strconv.Itoa(i+1), Size: s}
	}
	return out
}

func TestLayout(t *testing.T) {
	l := largemsg.DefaultLimits()
	chunk := l.ChunkBytes()
	require.EqualValues(t, 3_375_000, chunk, "4,500,000 base64 characters")
	threshold := int64(l.SplitThreshold) / 4 * 3 // bytes whose base64 is exactly the threshold

	t.Run("small documents travel inline", func(t *testing.T) {
		plan, err := largemsg.Layout(30_000, docs(1000, 2000, 3000), l, ids)
		require.NoError(t, err)
		assert.False(t, plan.Large())
		assert.Zero(t, plan.Messages())
		for _, d := range plan.Documents {
			assert.True(t, d.Inline)
			assert.Empty(t, d.MessageID)
		}
	})
	t.Run("at most 98 inline", func(t *testing.T) {
		sizes := make([]int64, 150)
		for i := range sizes {
			sizes[i] = 1000
		}
		plan, err := largemsg.Layout(30_000, docs(sizes...), l, ids)
		require.NoError(t, err)
		ext := plan.External()
		require.Len(t, ext, 52)
		assert.Equal(t, "DOC99", ext[0].ID, "the first 98 in order are inline")
		assert.Equal(t, "ID:copc/DOC99", ext[0].MessageID)
		assert.False(t, ext[0].Fragmented())
		assert.Equal(t, 52, plan.Messages())
	})
	t.Run("a document at the threshold travels whole, one byte more is fragmented", func(t *testing.T) {
		plan, err := largemsg.Layout(30_000, docs(threshold), l, ids)
		require.NoError(t, err)
		assert.True(t, plan.Documents[0].Inline)

		plan, err = largemsg.Layout(30_000, docs(threshold+1), l, ids)
		require.NoError(t, err)
		d := plan.Documents[0]
		assert.False(t, d.Inline)
		assert.Equal(t, []string{"ID:copc/DOC1/1", "ID:copc/DOC1/2"}, d.Fragments)
		assert.Equal(t, 3, plan.Messages(), "the index and two fragments")
	})
	t.Run("a 100 MB document", func(t *testing.T) {
		plan, err := largemsg.Layout(30_000, docs(100<<20), l, ids)
		require.NoError(t, err)
		n := (int64(100<<20) + chunk - 1) / chunk
		assert.Len(t, plan.Documents[0].Fragments, int(n))
		assert.EqualValues(t, 32, n)
	})
	t.Run("documents that fit alone but not together", func(t *testing.T) {
		plan, err := largemsg.Layout(1_000_000, docs(2_000_000, 2_000_000, 10), l, ids)
		require.NoError(t, err)
		assert.True(t, plan.Documents[0].Inline)
		assert.False(t, plan.Documents[1].Inline, "would take the message past the budget")
		assert.False(t, plan.Documents[1].Fragmented())
		assert.True(t, plan.Documents[2].Inline, "a later small one still fits")
	})
	t.Run("refusals", func(t *testing.T) {
		_, err := largemsg.Layout(0, []largemsg.Document{{ID: "A"}, {ID: "A"}}, l, ids)
		assert.ErrorContains(t, err, "repeated")
		_, err = largemsg.Layout(0, []largemsg.Document{{ID: "A", Size: -1}}, l, ids)
		assert.ErrorContains(t, err, "negative")
		_, err = largemsg.Layout(0, nil, largemsg.Limits{SplitThreshold: 100}, ids)
		assert.ErrorContains(t, err, "split threshold")
		_, err = largemsg.Layout(0, nil, largemsg.Limits{SplitThreshold: 4096, MessageBudget: 6_000_000}, ids)
		assert.ErrorContains(t, err, "over Spine's")
		_, err = largemsg.Layout(0, nil, largemsg.Limits{SplitThreshold: 4096, MessageBudget: 5000}, ids)
		assert.ErrorContains(t, err, "message budget")
		_, err = largemsg.Layout(0, make([]largemsg.Document, 10_001), l, ids)
		assert.ErrorIs(t, err, largemsg.ErrTooManyDocuments)
	})
}

func TestLayoutWithSmallLimits(t *testing.T) {
	l := largemsg.Limits{SplitThreshold: 4096, MessageBudget: 4096 + 16<<10, MaxInline: 2}
	plan, err := largemsg.Layout(1000, docs(100, 100, 100, 10_000), l, ids)
	require.NoError(t, err)
	assert.True(t, plan.Documents[0].Inline)
	assert.True(t, plan.Documents[1].Inline)
	assert.False(t, plan.Documents[2].Inline, "MaxInline reached")
	assert.Len(t, plan.Documents[3].Fragments, 4, "10,000 bytes in 3,072-byte fragments")
	assert.EqualValues(t, 3072, plan.ChunkBytes)
}
