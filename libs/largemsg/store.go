package largemsg

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"sync"
)

// ErrNoObject is wrapped by Store.Open when no object has the name.
var ErrNoObject = errors.New("largemsg: no such object")

// Store is where reassembly keeps bytes: the raw parts as they arrive and
// the finished documents. Objects can be many megabytes, so they travel as
// streams, never as whole byte slices.
//
// Implementations must be safe for concurrent use. Put replaces an object
// whole: a Put that fails (the reader returns an error, the context ends)
// leaves the previous object, if any, in place, and readers never see a
// half-written object. Open fails with an error wrapping ErrNoObject when
// the object does not exist; the caller closes the reader. Delete of an
// object that does not exist succeeds, so that deleting is idempotent.
type Store interface {
	// Put stores everything r yields under name and returns its length.
	Put(ctx context.Context, name string, r io.Reader) (int64, error)
	// Open returns a reader of the object called name.
	Open(ctx context.Context, name string) (io.ReadCloser, error)
	// Delete removes the object called name.
	Delete(ctx context.Context, name string) error
}

// MemStore is a Store in memory, for tests and tools. Unlike a real store
// it holds whole objects in memory.
type MemStore struct {
	mu      sync.Mutex
	objects map[string][]byte
}

// NewMemStore returns an empty MemStore.
func NewMemStore() *MemStore {
	return &MemStore{objects: map[string][]byte{}}
}

// Put reads r to its end and stores what it yields under name.
func (s *MemStore) Put(ctx context.Context, name string, r io.Reader) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	var buf bytes.Buffer
	n, err := buf.ReadFrom(r)
	if err != nil {
		return 0, fmt.Errorf("largemsg: put %q: %w", name, err)
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.objects[name] = buf.Bytes()
	return n, nil
}

// Open returns a reader of the object called name. Objects are never
// modified in place, so the reader is unaffected by a later Put.
func (s *MemStore) Open(ctx context.Context, name string) (io.ReadCloser, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	data, ok := s.objects[name]
	s.mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("largemsg: open %q: %w", name, ErrNoObject)
	}
	return io.NopCloser(bytes.NewReader(data)), nil
}

// Delete removes the object called name, if there is one.
func (s *MemStore) Delete(ctx context.Context, name string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.objects, name)
	return nil
}

// Names lists the names of the stored objects, sorted.
func (s *MemStore) Names() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	names := make([]string, 0, len(s.objects))
	for name := range s.objects {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}
