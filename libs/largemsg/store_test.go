package largemsg_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nhsengland/gp2gp/libs/ebxml"
	"github.com/nhsengland/gp2gp/libs/largemsg"
	"github.com/nhsengland/gp2gp/libs/natsembed/natstest"
)

// asmFailingReader yields some bytes, then fails.
type asmFailingReader struct{ sent bool }

func (r *asmFailingReader) Read(p []byte) (int, error) {
	if r.sent {
		return 0, errors.New("disk on fire")
	}
	r.sent = true
	return copy(p, "partial"), nil
}

// asmStoreContract checks what every Store promises.
func asmStoreContract(t *testing.T, ctx context.Context, store largemsg.Store) {
	t.Run("put and open", func(t *testing.T) {
		n, err := store.Put(ctx, "CONV/parts/A", strings.NewReader("hello"))
		require.NoError(t, err)
		assert.Equal(t, int64(5), n)
		assert.Equal(t, []byte("hello"), asmRead(t, store, "CONV/parts/A"))
	})
	t.Run("put replaces", func(t *testing.T) {
		_, err := store.Put(ctx, "CONV/parts/A", strings.NewReader("goodbye"))
		require.NoError(t, err)
		assert.Equal(t, []byte("goodbye"), asmRead(t, store, "CONV/parts/A"))
	})
	t.Run("a failed put keeps the old object", func(t *testing.T) {
		_, err := store.Put(ctx, "CONV/parts/A", &asmFailingReader{})
		require.Error(t, err)
		assert.Equal(t, []byte("goodbye"), asmRead(t, store, "CONV/parts/A"))
	})
	t.Run("empty object", func(t *testing.T) {
		n, err := store.Put(ctx, "CONV/parts/EMPTY", bytes.NewReader(nil))
		require.NoError(t, err)
		assert.Zero(t, n)
		assert.Empty(t, asmRead(t, store, "CONV/parts/EMPTY"))
	})
	t.Run("missing object", func(t *testing.T) {
		_, err := store.Open(ctx, "CONV/parts/NOPE")
		require.ErrorIs(t, err, largemsg.ErrNoObject)
	})
	t.Run("delete is idempotent", func(t *testing.T) {
		require.NoError(t, store.Delete(ctx, "CONV/parts/A"))
		_, err := store.Open(ctx, "CONV/parts/A")
		require.ErrorIs(t, err, largemsg.ErrNoObject)
		require.NoError(t, store.Delete(ctx, "CONV/parts/A"))
		require.NoError(t, store.Delete(ctx, "CONV/parts/NEVER"))
	})
	t.Run("streams a large object", func(t *testing.T) {
		data := asmData(20, 3<<20)
		n, err := store.Put(ctx, "CONV/attachments/BIG", io.MultiReader(bytes.NewReader(data[:1<<20]), bytes.NewReader(data[1<<20:])))
		require.NoError(t, err)
		assert.Equal(t, int64(len(data)), n)
		assert.Equal(t, data, asmRead(t, store, "CONV/attachments/BIG"))
	})
}

func TestMemStore(t *testing.T) {
	store := largemsg.NewMemStore()
	asmStoreContract(t, context.Background(), store)
	assert.Equal(t, []string{"CONV/attachments/BIG", "CONV/parts/EMPTY"}, store.Names())

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := store.Put(ctx, "x", strings.NewReader("x"))
	require.ErrorIs(t, err, context.Canceled)
}

func asmBucket(t *testing.T, ctx context.Context) jetstream.ObjectStore {
	t.Helper()
	js := natstest.NewServer(t).JetStream()
	bucket, err := js.CreateObjectStore(ctx, jetstream.ObjectStoreConfig{Bucket: "largemsg_" + strings.ReplaceAll(t.Name(), "/", "_")})
	require.NoError(t, err)
	return bucket
}

func TestObjectStore(t *testing.T) {
	ctx := natstest.Context(t, 30*time.Second)
	asmStoreContract(t, ctx, largemsg.ObjectStore(asmBucket(t, ctx)))
}

// TestObjectStoreReassembly runs a whole reassembly on JetStream: the
// document is streamed from the part objects into the attachment object.
func TestObjectStoreReassembly(t *testing.T) {
	ctx := natstest.Context(t, 30*time.Second)
	store := largemsg.ObjectStore(asmBucket(t, ctx))
	data := asmData(21, 2<<20)
	chunks := asmChunks(data, 3*(1<<18))
	core := asmCore(t, nil, asmExternal("DOC", asmID(400), ebxml.Description{Filename: "scan.tif", ContentType: "image/tiff", LargeAttachment: true}))
	a := asmExpect(t, core)
	var ext []ebxml.ExternalAttachment
	for i := 1; i < len(chunks); i++ {
		ext = append(ext, asmExternal("", asmID(400+i), asmDesc("Untitled")))
	}
	_, err := a.Receive(ctx, store, asmCOPC(t, asmID(400), []ebxml.Attachment{asmAttachment(asmEMISCID, chunks[0], asmDesc("Untitled"))}, ext...))
	require.NoError(t, err)
	var out largemsg.Outcome
	for i := len(chunks) - 1; i >= 1; i-- {
		out, err = a.Receive(ctx, store, asmCOPC(t, asmID(400+i), []ebxml.Attachment{asmAttachment(asmEMISCID, chunks[i], asmDesc("Untitled"))}))
		require.NoError(t, err)
	}
	require.Len(t, out.Completed, 1)
	assert.Equal(t, asmSum(data), out.Completed[0].SHA256)
	assert.Equal(t, data, asmRead(t, store, out.Completed[0].Object))
	require.NoError(t, out.Cleanup(ctx, store))
	for _, name := range out.Discard {
		_, err := store.Open(ctx, name)
		require.ErrorIs(t, err, largemsg.ErrNoObject)
	}
}
