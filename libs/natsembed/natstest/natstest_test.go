package natstest_test

import (
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"

	"github.com/nhsengland/gp2gp/libs/natsembed/natstest"
)

func TestServerKeepsJetStreamDataAcrossRestart(t *testing.T) {
	srv := natstest.NewServer(t)
	ctx := natstest.Context(t, 10*time.Second)

	js := srv.JetStream()
	_, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "T", Subjects: []string{"t.>"}, Storage: jetstream.FileStorage})
	require.NoError(t, err)
	_, err = js.Publish(ctx, "t.one", []byte("hello"))
	require.NoError(t, err)

	srv.Restart()

	js = srv.JetStream()
	stream, err := js.Stream(ctx, "T")
	require.NoError(t, err)
	msg, err := stream.GetLastMsgForSubject(ctx, "t.one")
	require.NoError(t, err)
	require.Equal(t, "hello", string(msg.Data))
}

func TestServersAreIsolated(t *testing.T) {
	a, b := natstest.NewServer(t), natstest.NewServer(t)
	require.NotEqual(t, a.URL(), b.URL())
	ctx := natstest.Context(t, 10*time.Second)
	_, err := a.JetStream().CreateStream(ctx, jetstream.StreamConfig{Name: "ONLY_A", Subjects: []string{"a"}})
	require.NoError(t, err)
	_, err = b.JetStream().Stream(ctx, "ONLY_A")
	require.ErrorIs(t, err, jetstream.ErrStreamNotFound)
}
