package largemsg

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/nhsengland/gp2gp/libs/bus"
	"github.com/stretchr/testify/require"
)

// lostReplyBucket is an object store whose Get never hears back, as when
// the server restarted after taking the request: it waits for its context.
type lostReplyBucket struct {
	jetstream.ObjectStore
}

func (lostReplyBucket) Get(ctx context.Context, _ string, _ ...jetstream.GetObjectOpt) (jetstream.ObjectResult, error) {
	<-ctx.Done()
	return nil, ctx.Err()
}

// Opening an object whose lookup gets no answer fails after openTimeout,
// not after the whole read's readTimeout: the handler fails and its
// message is retried instead of hanging, kept alive, for half an hour.
func TestOpenWhoseLookupGetsNoAnswerFails(t *testing.T) {
	s := objectStore{bucket: lostReplyBucket{}, openTimeout: 50 * time.Millisecond}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	start := time.Now()
	_, err := s.Open(ctx, "conv/parts/1")
	require.ErrorIs(t, err, bus.ErrLookupStalled)
	require.ErrorContains(t, err, `open "conv/parts/1"`)
	require.Less(t, time.Since(start), 5*time.Second)
	require.NoError(t, ctx.Err(), "the caller's context is untouched")
}
