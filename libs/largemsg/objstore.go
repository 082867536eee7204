package largemsg

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/nats-io/nats.go/jetstream"
)

// ObjectStore adapts a JetStream object store bucket to Store. Put streams
// the reader into the bucket chunk by chunk and Open streams the object
// back, so no object is ever whole in memory. A Put whose reader fails
// leaves the previous object in place (the bucket discards the partial
// chunks).
func ObjectStore(bucket jetstream.ObjectStore) Store {
	return objectStore{bucket: bucket}
}

type objectStore struct {
	bucket jetstream.ObjectStore
}

func (s objectStore) Put(ctx context.Context, name string, r io.Reader) (int64, error) {
	info, err := s.bucket.Put(ctx, jetstream.ObjectMeta{Name: name}, r)
	if err != nil {
		return 0, fmt.Errorf("largemsg: put %q: %w", name, err)
	}
	return int64(info.Size), nil
}

func (s objectStore) Open(ctx context.Context, name string) (io.ReadCloser, error) {
	obj, err := s.bucket.Get(ctx, name)
	if errors.Is(err, jetstream.ErrObjectNotFound) {
		return nil, fmt.Errorf("largemsg: open %q: %w (%w)", name, ErrNoObject, err)
	}
	if err != nil {
		return nil, fmt.Errorf("largemsg: open %q: %w", name, err)
	}
	return obj, nil
}

func (s objectStore) Delete(ctx context.Context, name string) error {
	err := s.bucket.Delete(ctx, name)
	if err != nil && !errors.Is(err, jetstream.ErrObjectNotFound) {
		return fmt.Errorf("largemsg: delete %q: %w", name, err)
	}
	return nil
}
