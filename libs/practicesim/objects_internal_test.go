package practicesim

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

// A record's object whose lookup gets no answer fails after the lookup's
// bound, to be retried, instead of holding the integration for the whole
// read's half hour.
func TestGetObjectWhoseLookupGetsNoAnswerFails(t *testing.T) {
	ctx, cancelTest := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancelTest()
	start := time.Now()
	_, cancel, err := getObject(ctx, lostReplyStore{}, "conv/attachments/1", 50*time.Millisecond)
	cancel()
	require.ErrorIs(t, err, errLookupStalled)
	require.Less(t, time.Since(start), 5*time.Second)
	require.NoError(t, ctx.Err())
}
