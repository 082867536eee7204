package largemsg

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/nhsengland/gp2gp/libs/bus"
)

// ObjectStore adapts a JetStream object store bucket to Store. Put streams
// the reader into the bucket chunk by chunk and Open streams the object
// back, so no object is ever whole in memory. A Put whose reader fails
// leaves the previous object in place (the bucket discards the partial
// chunks).
func ObjectStore(bucket jetstream.ObjectStore) Store {
	return objectStore{bucket: bucket, openTimeout: openTimeout}
}

type objectStore struct {
	bucket      jetstream.ObjectStore
	openTimeout time.Duration
}

func (s objectStore) Put(ctx context.Context, name string, r io.Reader) (int64, error) {
	info, err := s.bucket.Put(ctx, jetstream.ObjectMeta{Name: name}, r)
	if err != nil {
		return 0, fmt.Errorf("largemsg: put %q: %w", name, err)
	}
	return int64(info.Size), nil
}

// readTimeout bounds reading one object. Without a deadline of its own the
// client gives the whole read its default API timeout (5 s), too little for
// a large document read while its fragments are being sent.
const readTimeout = 30 * time.Minute

// openTimeout bounds the lookup of the object's metadata that starts a
// read (bus.OpenObject): a lost reply would otherwise hang a handler for
// readTimeout, kept alive all that time, its transfer stuck.
const openTimeout = 30 * time.Second

func (s objectStore) Open(ctx context.Context, name string) (io.ReadCloser, error) {
	obj, err := bus.OpenObject(ctx, s.bucket, name, readTimeout, s.openTimeout)
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
