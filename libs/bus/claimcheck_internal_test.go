package bus

import (
	"context"
	"io"
	"strings"
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
	require.ErrorIs(t, err, ErrLookupStalled)
	require.Less(t, time.Since(start), 5*time.Second)
	require.NoError(t, ctx.Err())
}

// answeringStore answers Get at once with an object that remembers the
// context it was opened under.
type answeringStore struct {
	jetstream.ObjectStore
	opened *context.Context
}

type ctxObject struct {
	jetstream.ObjectResult
	io.Reader
}

func (ctxObject) Close() error { return nil }

func (o ctxObject) Read(p []byte) (int, error) { return o.Reader.Read(p) }

func (s answeringStore) Get(ctx context.Context, _ string, _ ...jetstream.GetObjectOpt) (jetstream.ObjectResult, error) {
	*s.opened = ctx
	return ctxObject{Reader: strings.NewReader("body")}, nil
}

// Once the lookup answered, its bound no longer applies: the read goes on
// under the read's bound until the object is closed, which ends it.
func TestOpenObjectBoundsOnlyTheLookupAndCloseEndsTheRead(t *testing.T) {
	var opened context.Context
	obj, err := OpenObject(context.Background(), answeringStore{opened: &opened}, "x", time.Minute, 20*time.Millisecond)
	require.NoError(t, err)
	time.Sleep(100 * time.Millisecond)
	require.NoError(t, opened.Err(), "the lookup's bound has passed, the read goes on")
	deadline, ok := opened.Deadline()
	require.True(t, ok)
	require.Greater(t, time.Until(deadline), 30*time.Second, "the read's own bound")
	data, err := io.ReadAll(obj)
	require.NoError(t, err)
	require.Equal(t, "body", string(data))
	require.NoError(t, obj.Close())
	require.Error(t, opened.Err(), "closing ends the read's context")
}
