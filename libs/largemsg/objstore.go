package largemsg

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/nats-io/nats.go/jetstream"
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
// read. The client gives that request the read's deadline, and a request
// whose reply is lost (the server restarted in between) waits for it:
// without a bound of its own a handler would hang for readTimeout, kept
// alive all that time, its transfer stuck (found by make chaos).
const openTimeout = 30 * time.Second

// errOpenStalled ends a lookup that took longer than openTimeout.
var errOpenStalled = errors.New("no answer from the object store")

func (s objectStore) Open(ctx context.Context, name string) (io.ReadCloser, error) {
	rctx, cancel := context.WithTimeout(ctx, readTimeout)
	sctx, stall := context.WithCancelCause(rctx)
	timer := time.AfterFunc(s.openTimeout, func() { stall(errOpenStalled) })
	obj, err := s.bucket.Get(sctx, name)
	timer.Stop()
	if err != nil {
		cause := context.Cause(sctx)
		stall(nil)
		cancel()
		switch {
		case errors.Is(err, jetstream.ErrObjectNotFound):
			return nil, fmt.Errorf("largemsg: open %q: %w (%w)", name, ErrNoObject, err)
		case errors.Is(cause, errOpenStalled):
			return nil, fmt.Errorf("largemsg: open %q: %w in %s: %w", name, errOpenStalled, s.openTimeout, err)
		}
		return nil, fmt.Errorf("largemsg: open %q: %w", name, err)
	}
	return &objectReader{ObjectResult: obj, cancel: func() {
		stall(nil)
		cancel()
	}}, nil
}

// objectReader ends the read's context when it is closed.
type objectReader struct {
	jetstream.ObjectResult
	cancel context.CancelFunc
}

func (r *objectReader) Close() error {
	defer r.cancel()
	return r.ObjectResult.Close()
}

func (s objectStore) Delete(ctx context.Context, name string) error {
	err := s.bucket.Delete(ctx, name)
	if err != nil && !errors.Is(err, jetstream.ErrObjectNotFound) {
		return fmt.Errorf("largemsg: delete %q: %w", name, err)
	}
	return nil
}
