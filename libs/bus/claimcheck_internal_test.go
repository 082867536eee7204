package bus

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"
)

// lostReplyStore is an object store whose Get never hears back, as when
// the server restarted after taking the request: it waits for its context.
type lostReplyStore struct {
	jetstream.ObjectStore
}

func (lostReplyStore) Get(ctx context.Context, _ string, _ ...jetstream.GetObjectOpt) (jetstream.ObjectResult, error) {
	<-ctx.Done()
	return nil, ctx.Err()
}

// A body whose lookup gets no answer fails after the lookup's bound, and
// its message is retried, instead of waiting out the whole read's.
func TestReadObjectWhoseLookupGetsNoAnswerFails(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	start := time.Now()
	_, err := readObject(ctx, lostReplyStore{}, "spine.X.1", 50*time.Millisecond)
	require.ErrorIs(t, err, errLookupStalled)
	require.Less(t, time.Since(start), 5*time.Second)
	require.NoError(t, ctx.Err())
}
