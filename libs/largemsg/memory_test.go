package largemsg_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"io"
	"math/rand/v2"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nhsengland/gp2gp/libs/ebxml"
	"github.com/nhsengland/gp2gp/libs/largemsg"
)

// memDoc is a document of fragments×fragmentBytes bytes generated on the
// fly: fragment i is ChaCha8 output seeded by i.
const (
	memFragments     = 16
	memFragmentBytes = 3_000_000 // a multiple of 3: each fragment's base64 stands alone
)

func memFragment(i int) io.Reader {
	r := rand.New(rand.NewChaCha8([32]byte{byte(i), 0x5a}))
	return io.LimitReader(readerOf(func(p []byte) (int, error) {
		for j := range p {
			p[j] = byte(r.Uint32())
		}
		return len(p), nil
	}), memFragmentBytes)
}

type readerOf func([]byte) (int, error)

func (f readerOf) Read(p []byte) (int, error) { return f(p) }

// regenStore keeps nothing: a stored part is remembered by name and
// regenerated (its base64 text) when opened; a finished document is
// hashed and dropped. Only the code under test can hold bytes.
type regenStore struct {
	mu      sync.Mutex
	parts   map[string]int // part name → fragment
	next    int            // fragment the next part Put holds
	docSize int64
	docSum  string
}

func (s *regenStore) Put(_ context.Context, name string, r io.Reader) (int64, error) {
	if strings.Contains(name, "/attachments/") {
		h := sha256.New()
		n, err := io.Copy(h, r) // reads the parts: no lock held
		s.mu.Lock()
		s.docSize, s.docSum = n, hex.EncodeToString(h.Sum(nil))
		s.mu.Unlock()
		return n, err
	}
	n, err := io.Copy(io.Discard, r)
	s.mu.Lock()
	s.parts[name] = s.next
	s.mu.Unlock()
	return n, err
}

func (s *regenStore) Open(_ context.Context, name string) (io.ReadCloser, error) {
	s.mu.Lock()
	i, ok := s.parts[name]
	s.mu.Unlock()
	if !ok {
		return nil, largemsg.ErrNoObject
	}
	pr, pw := io.Pipe()
	go func() {
		enc := base64.NewEncoder(base64.StdEncoding, pw)
		_, err := io.Copy(enc, memFragment(i))
		if err == nil {
			err = enc.Close()
		}
		pw.CloseWithError(err)
	}()
	return pr, nil
}

func (s *regenStore) Delete(context.Context, string) error { return nil }

// Finishing a 48 MB document streams its fragments through base64 into
// the store: the COPC that completes it allocates a small fraction of the
// document, not a copy of it.
func TestReassemblyStreams(t *testing.T) {
	core := asmCore(t, nil, asmExternal("DOC-BIG", asmID(100),
		ebxml.Description{Filename: "big.bin", ContentType: "application/octet-stream", LargeAttachment: true}))
	a := asmExpect(t, core)
	store := &regenStore{parts: map[string]int{}}

	var ext []ebxml.ExternalAttachment
	for i := range memFragments {
		ext = append(ext, asmExternal("", asmID(101+i), asmDesc(asmID(100)+"_"+string(rune('a'+i))+".messageattachment")))
	}
	// Fragments 1.. first (each message holds one fragment, as a COPC does).
	want := sha256.New()
	for i := range memFragments {
		data, err := io.ReadAll(memFragment(i))
		require.NoError(t, err)
		want.Write(data)
		if i == 0 {
			continue
		}
		store.next = i
		asmReceive(t, a, store, asmRawCOPC(t, asmID(101+i), []ebxml.Attachment{asmEncoded(base64.StdEncoding.EncodeToString(data))}))
	}
	index := asmRawCOPC(t, asmID(100), nil, ext...)
	asmReceive(t, a, store, index)
	first, err := io.ReadAll(memFragment(0))
	require.NoError(t, err)
	last := asmRawCOPC(t, asmID(101), []ebxml.Attachment{asmEncoded(base64.StdEncoding.EncodeToString(first))})
	store.next = 0
	first = nil

	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	out, err := a.Receive(context.Background(), store, last)
	runtime.ReadMemStats(&after)
	require.NoError(t, err)
	require.Len(t, out.Completed, 1)

	size := int64(memFragments * memFragmentBytes)
	assert.Equal(t, size, store.docSize)
	assert.Equal(t, hex.EncodeToString(want.Sum(nil)), store.docSum, "the document is whole")
	allocated := after.TotalAlloc - before.TotalAlloc
	t.Logf("finishing a %d-byte document allocated %d bytes", size, allocated)
	assert.Less(t, allocated, uint64(size/8), "streamed, not held")
}
