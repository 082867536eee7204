package practicesim

import (
	"bytes"
	"compress/flate"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"hash"
	"io"
	"runtime"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nhsengland/gp2gp/libs/bus"
	"github.com/nhsengland/gp2gp/libs/natsembed/natstest"
)

// hashingStore is an object store that keeps nothing: Put reads the
// content in chunks, as the JetStream client does, and remembers only its
// size and digest.
type hashingStore struct {
	infos map[string]*jetstream.ObjectInfo
	puts  int
}

func newHashingStore() *hashingStore {
	return &hashingStore{infos: map[string]*jetstream.ObjectInfo{}}
}

func (s *hashingStore) GetInfo(_ context.Context, name string, _ ...jetstream.GetObjectInfoOpt) (*jetstream.ObjectInfo, error) {
	info, ok := s.infos[name]
	if !ok {
		return nil, jetstream.ErrObjectNotFound
	}
	return info, nil
}

func (s *hashingStore) Put(_ context.Context, meta jetstream.ObjectMeta, r io.Reader) (*jetstream.ObjectInfo, error) {
	s.puts++
	h := sha256.New()
	n, err := readChunks(r, h)
	if err != nil {
		return nil, err
	}
	info := &jetstream.ObjectInfo{ObjectMeta: meta, Size: uint64(n), Digest: jetstream.GetObjectDigestValue(h)}
	s.infos[meta.Name] = info
	return info, nil
}

// readChunks reads r to the end in 128 KiB chunks into h.
func readChunks(r io.Reader, h hash.Hash) (int64, error) {
	chunk := make([]byte, objectChunk)
	var n int64
	for {
		k, err := r.Read(chunk)
		h.Write(chunk[:k])
		n += int64(k)
		if errors.Is(err, io.EOF) {
			return n, nil
		}
		if err != nil {
			return n, err
		}
	}
}

// bare is a practice with only what storing needs.
func bare() *Practice {
	return &Practice{cfg: Config{ODS: "B86041"}, putting: map[string]chan struct{}{}, digests: map[string][sha256.Size]byte{}}
}

func TestStoringLargeContentDoesNotHoldIt(t *testing.T) {
	const size = 100 << 20
	const bound = 16 << 20
	p, store := bare(), newHashingStore()
	c := newLargeContent("B86041", "9991043713", 0, size)
	ctx := context.Background()

	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	ref, err := p.storeLarge(ctx, store, "doc", c)
	runtime.ReadMemStats(&after)
	require.NoError(t, err)
	allocated := after.TotalAlloc - before.TotalAlloc
	t.Logf("storing %d MiB allocated %d KiB in %d objects", size>>20, allocated>>10, after.Mallocs-before.Mallocs)
	assert.Less(t, allocated, uint64(bound), "generating and storing allocates a bounded amount, not the document")

	assert.EqualValues(t, size, ref.GetSize())
	digest, err := jetstream.DecodeObjectDigest(store.infos["doc"].Digest)
	require.NoError(t, err)
	assert.Equal(t, hex.EncodeToString(digest), ref.GetSha256(), "the SHA-256 computed on the way is the stored bytes'")
	assert.Equal(t, c.key(), store.infos["doc"].Metadata[contentKeyMetadata])

	// Stored again: the object is reused, nothing is generated.
	again, err := p.storeLarge(ctx, store, "doc", c)
	require.NoError(t, err)
	assert.Equal(t, 1, store.puts)
	assert.Equal(t, ref.GetSha256(), again.GetSha256())
}

func TestStoredLargeContentIsReusedOnlyWhenItMatches(t *testing.T) {
	const size = 200 << 10
	c := newLargeContent("B86041", "9991043713", 0, size)
	tests := []struct {
		name   string
		alter  func(info *jetstream.ObjectInfo)
		reused bool
	}{
		{name: "as stored", alter: func(*jetstream.ObjectInfo) {}, reused: true},
		{name: "other size", alter: func(i *jetstream.ObjectInfo) { i.Size-- }},
		{name: "other content key", alter: func(i *jetstream.ObjectInfo) { i.Metadata = map[string]string{contentKeyMetadata: "older generator"} }},
		{name: "no content key", alter: func(i *jetstream.ObjectInfo) { i.Metadata = nil }},
		{name: "other digest", alter: func(i *jetstream.ObjectInfo) {
			i.Digest = jetstream.GetObjectDigestValue(sha256.New())
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, store := bare(), newHashingStore()
			ref, err := p.storeLarge(context.Background(), store, "doc", c)
			require.NoError(t, err)
			altered := *store.infos["doc"]
			tt.alter(&altered)
			store.infos["doc"] = &altered

			again, err := p.storeLarge(context.Background(), store, "doc", c)
			require.NoError(t, err)
			assert.Equal(t, ref.GetSha256(), again.GetSha256())
			if tt.reused {
				assert.Equal(t, 1, store.puts)
			} else {
				assert.Equal(t, 2, store.puts, "written again")
			}
		})
	}
}

func TestLargeContent(t *testing.T) {
	read := func(c *largeContent) []byte {
		data, err := io.ReadAll(c.open())
		require.NoError(t, err)
		return data
	}
	t.Run("exact size, every size", func(t *testing.T) {
		for _, i := range []int{0, 1} {
			for _, size := range []int64{1, 7, 8, 9, 60, 100, 120, 4096, 100_003} {
				assert.Len(t, read(newLargeContent("B86041", "9991043713", i, size)), int(size), "kind %d, %d bytes", i, size)
			}
		}
	})
	t.Run("shaped like its kind", func(t *testing.T) {
		pdf := read(newLargeContent("B86041", "9991043713", 0, 64<<10))
		assert.True(t, bytes.HasPrefix(pdf, []byte("%PDF-1.7\n")))
		assert.True(t, bytes.HasSuffix(pdf, []byte("%%EOF\n")))
		assert.Contains(t, string(pdf[:200]), "/Length 65")
		tiff := read(newLargeContent("B86041", "9991043713", 1, 64<<10))
		assert.True(t, bytes.HasPrefix(tiff, []byte("II*\x00")))
	})
	t.Run("deterministic", func(t *testing.T) {
		a := read(newLargeContent("B86041", "9991043713", 0, 1<<20))
		assert.Equal(t, a, read(newLargeContent("B86041", "9991043713", 0, 1<<20)))
		assert.NotEqual(t, a, read(newLargeContent("B86041", "9992738251", 0, 1<<20)), "another patient")
		assert.NotEqual(t, a, read(newLargeContent("B86041", "9991043713", 2, 1<<20)), "another position")
		assert.NotEqual(t, a, read(newLargeContent("A12345", "9991043713", 0, 1<<20)), "another practice")
	})
	t.Run("incompressible", func(t *testing.T) {
		data := read(newLargeContent("B86041", "9991043713", 0, 1<<20))
		var out bytes.Buffer
		w, err := flate.NewWriter(&out, flate.BestCompression)
		require.NoError(t, err)
		_, err = w.Write(data)
		require.NoError(t, err)
		require.NoError(t, w.Close())
		assert.Greater(t, out.Len(), len(data)*99/100)
	})
}

// BenchmarkStoreLargeDocument stores a 100 MiB document: into a store
// that keeps nothing (generation, hashing and the practice's plumbing
// only), and into an embedded JetStream object store (whose server, in
// the same process, allocates too).
func BenchmarkStoreLargeDocument(b *testing.B) {
	const size = 100 << 20
	c := newLargeContent("B86041", "9991043713", 0, size)
	b.Run("hashing store", func(b *testing.B) {
		b.SetBytes(size)
		b.ReportAllocs()
		for b.Loop() {
			if _, err := bare().storeLarge(context.Background(), newHashingStore(), "doc", c); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("JetStream", func(b *testing.B) {
		srv := natstest.NewServer(b)
		js := srv.JetStream()
		ctx := natstest.Context(b, 10*time.Minute)
		require.NoError(b, bus.Ensure(ctx, js, bus.DevProfile, bus.Topology{ObjectStores: []bus.ObjectStoreSpec{bus.RecordsStore("A12345")}}))
		store, err := js.ObjectStore(ctx, bus.RecordsBucket("A12345"))
		require.NoError(b, err)
		b.SetBytes(size)
		b.ReportAllocs()
		for b.Loop() {
			if err := store.Delete(ctx, "doc"); err != nil && !errors.Is(err, jetstream.ErrObjectNotFound) {
				b.Fatal(err)
			}
			if _, err := bare().storeLarge(ctx, store, "doc", c); err != nil {
				b.Fatal(err)
			}
		}
	})
}
