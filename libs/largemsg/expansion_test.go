package largemsg_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nhsengland/gp2gp/libs/ebxml"
	"github.com/nhsengland/gp2gp/libs/hl7"
	"github.com/nhsengland/gp2gp/libs/largemsg"
)

// asmBomb is a gzip stream of mib MiB of zeros: one member of 1 MiB,
// repeated (a multistream gzip file, which gunzip reads whole), about a
// kilobyte per MiB.
func asmBomb(t testing.TB, mib int) []byte {
	t.Helper()
	var member bytes.Buffer
	zw, err := gzip.NewWriterLevel(&member, gzip.BestCompression)
	require.NoError(t, err)
	_, err = zw.Write(make([]byte, 1<<20))
	require.NoError(t, err)
	require.NoError(t, zw.Close())
	return bytes.Repeat(member.Bytes(), mib)
}

// A document marked Compressed=Yes that gunzips to far more than it
// carries is refused with 29 once it passes ExpansionFloor, however it
// travels: inline in the extract (the skeleton too), whole in a COPC, or
// in fragments. Nothing is left in the store.
func TestDecompressionBombs(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	bomb := asmBomb(t, 1<<10) // 1 GiB from about a megabyte
	require.Less(t, len(bomb), 2<<20)
	compressed := ebxml.Description{Filename: "bomb.txt", ContentType: "text/plain", Compressed: true}
	skeleton := compressed
	skeleton.DomainData = ebxml.SkeletonDomainData

	requireBomb := func(t *testing.T, err error, store *largemsg.MemStore) {
		t.Helper()
		ae := asmRequireCode(t, err, hl7.ReasonReassemblyFailure)
		require.ErrorIs(t, err, largemsg.ErrExpansion)
		assert.Contains(t, ae.Error(), "decompression bomb")
		assert.NotContains(t, store.Names(), asmConv+"/attachments/DOC", "no attachment is left behind")
	}
	for _, tc := range []struct {
		name string
		desc ebxml.Description
	}{{"inline document", compressed}, {"inline skeleton", skeleton}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			core := asmCore(t, []ebxml.Attachment{{ContentID: "a1@x", ContentType: "text/plain", Base64: true, DocumentID: "_DOC", Description: tc.desc, Data: bomb}})
			a := asmExpect(t, core)
			store := largemsg.NewMemStore()
			requireBomb(t, a.StoreInline(ctx, store, core), store)
		})
	}
	t.Run("whole in a COPC", func(t *testing.T) {
		t.Parallel()
		a := asmExpect(t, asmCore(t, nil, asmExternal("DOC", asmID(90), compressed)))
		store := largemsg.NewMemStore()
		_, err := a.Receive(ctx, store, asmCOPC(t, asmID(90), []ebxml.Attachment{asmAttachment(asmEMISCID, bomb, compressed)}))
		requireBomb(t, err, store)
	})
	t.Run("in fragments", func(t *testing.T) {
		t.Parallel()
		large := compressed
		large.LargeAttachment = true
		a := asmExpect(t, asmCore(t, nil, asmExternal("DOC", asmID(90), large)))
		store := largemsg.NewMemStore()
		half := len(bomb) / 2 / 3 * 3
		asmReceive(t, a, store, asmCOPC(t, asmID(90), []ebxml.Attachment{asmAttachment(asmEMISCID, bomb[:half], asmDesc("1"))}, asmExternal("", asmID(91), asmDesc("2"))))
		_, err := a.Receive(ctx, store, asmCOPC(t, asmID(91), []ebxml.Attachment{asmAttachment(asmEMISCID, bomb[half:], asmDesc("2"))}))
		requireBomb(t, err, store)
	})
}
