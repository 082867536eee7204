package bus

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Claim-check headers: a message whose body is in the object store carries
// the object's name and size instead of the body.
const (
	HeaderBodyObject = "Gp2gp-Body-Object"
	HeaderBodySize   = "Gp2gp-Body-Size"
)

// bodyStore opens the bodies object store, once it exists.
func (b *Bus) bodyStore(ctx context.Context) (jetstream.ObjectStore, error) {
	b.bodiesMu.Lock()
	defer b.bodiesMu.Unlock()
	if b.bodies != nil {
		return b.bodies, nil
	}
	os, err := b.js.ObjectStore(ctx, BucketBodies)
	if err != nil {
		return nil, fmt.Errorf("bus: open object store %s (is it in the service's topology?): %w", BucketBodies, err)
	}
	b.bodies = os
	return os, nil
}

// checkIn stores a large body and returns the headers that replace it.
// The object is named after the message's dedupe id, so publishing twice
// stores it once.
func (b *Bus) checkIn(ctx context.Context, dedupeID string, data []byte) (name string, err error) {
	store, err := b.bodyStore(ctx)
	if err != nil {
		return "", err
	}
	if _, err := store.Put(ctx, jetstream.ObjectMeta{Name: dedupeID}, bytes.NewReader(data)); err != nil {
		return "", fmt.Errorf("bus: store large body %s (%d bytes): %w", dedupeID, len(data), err)
	}
	return dedupeID, nil
}

// Body puts back the body of a message read from a stream directly (not
// through Consume, which does it before the handler runs) when it
// travelled as a claim check; it does nothing to any other message.
func (b *Bus) Body(ctx context.Context, msg *Msg) error { return b.checkOut(ctx, msg) }

// checkOut replaces a claim check with the body it names. A missing object
// cannot come back: that is permanent.
func (b *Bus) checkOut(ctx context.Context, msg *Msg) error {
	name := headerValue(msg.Header, HeaderBodyObject)
	if name == "" {
		return nil
	}
	store, err := b.bodyStore(ctx)
	if err != nil {
		return err
	}
	data, err := readObject(ctx, store, name, bodyLookupTimeout)
	if errors.Is(err, jetstream.ErrObjectNotFound) {
		return Permanentf("bus: body %s of %s is no longer in the object store", name, msg.Subject)
	}
	if err != nil {
		return fmt.Errorf("bus: fetch body %s: %w", name, err)
	}
	if want := headerValue(msg.Header, HeaderBodySize); want != "" && want != strconv.Itoa(len(data)) {
		return Permanentf("bus: body %s of %s has %d bytes, the message says %s", name, msg.Subject, len(data), want)
	}
	msg.Data = data
	return nil
}

// bodyReadTimeout bounds reading a claim-checked body: a deadline of its
// own, as the client otherwise gives the whole read its default API
// timeout (5 s), short for a few megabytes on a busy broker.
const bodyReadTimeout = 2 * time.Minute

// bodyLookupTimeout bounds the metadata lookup that starts the read (see
// OpenObject).
const bodyLookupTimeout = 30 * time.Second

// ErrLookupStalled ends an object's metadata lookup that took longer than
// its bound (OpenObject).
var ErrLookupStalled = errors.New("no answer from the object store")

// OpenObject opens object name of store for reading: the whole read is
// bounded by read, the metadata lookup that starts it by lookup. The
// client gives that lookup the read's deadline, and a request whose reply
// is lost (the server restarted in between) waits for it: without a bound
// of its own a handler would hang for the whole read, its message kept
// alive and its transfer stuck (found by make chaos). A lookup past its
// bound fails with ErrLookupStalled; a missing object with
// jetstream.ErrObjectNotFound. Closing the result ends the read's context.
func OpenObject(ctx context.Context, store jetstream.ObjectStore, name string, read, lookup time.Duration) (jetstream.ObjectResult, error) {
	rctx, cancelRead := context.WithTimeout(ctx, read)
	sctx, stall := context.WithCancelCause(rctx)
	cancel := func() {
		stall(nil)
		cancelRead()
	}
	timer := time.AfterFunc(lookup, func() { stall(ErrLookupStalled) })
	obj, err := store.Get(sctx, name)
	timer.Stop()
	if err != nil {
		cause := context.Cause(sctx)
		cancel()
		if errors.Is(cause, ErrLookupStalled) {
			return nil, fmt.Errorf("%w in %s: %w", ErrLookupStalled, lookup, err)
		}
		return nil, err
	}
	return &objectReader{ObjectResult: obj, cancel: cancel}, nil
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

// readObject reads object name of store whole under bodyReadTimeout, its
// lookup bounded by lookup.
func readObject(ctx context.Context, store jetstream.ObjectStore, name string, lookup time.Duration) ([]byte, error) {
	obj, err := OpenObject(ctx, store, name, bodyReadTimeout, lookup)
	if err != nil {
		return nil, err
	}
	defer obj.Close()
	return io.ReadAll(obj)
}

// defaultChunk is the object store's usual chunk size.
const defaultChunk = 128 << 10

// PutObject stores data under name in store, in chunks no larger than the
// data (the client otherwise allocates a whole 128 KiB chunk for a small
// object).
func PutObject(ctx context.Context, store jetstream.ObjectStore, name string, data []byte) (*jetstream.ObjectInfo, error) {
	chunk := uint32(min(max(len(data), 1), defaultChunk))
	return store.Put(ctx, jetstream.ObjectMeta{Name: name, Opts: &jetstream.ObjectMetaOptions{ChunkSize: chunk}}, bytes.NewReader(data))
}
