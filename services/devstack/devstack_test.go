package devstack_test

import (
	"context"
	"io"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nhsengland/gp2gp/libs/bus"
	"github.com/nhsengland/gp2gp/libs/service"
	"github.com/nhsengland/gp2gp/services/devstack"
)

func TestDevStackRunsEveryServiceAndKeepsItsData(t *testing.T) {
	sc := service.Defaults()
	sc.Practices, _ = service.ParsePractices(devstack.DefaultPractices)
	cfg := devstack.Config{Service: sc, DataDir: t.TempDir(), NATSPort: -1}

	run := func(check func(js jetstream.JetStream)) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		urls := make(chan string, 1)
		done := make(chan error, 1)
		go func() {
			done <- devstack.Run(ctx, cfg, func(url string) { urls <- url }, service.WithLogOutput(io.Discard))
		}()
		var url string
		select {
		case url = <-urls:
		case err := <-done:
			t.Fatalf("dev stack stopped: %v", err)
		}
		nc, err := nats.Connect(url)
		require.NoError(t, err)
		defer nc.Close()
		js, err := jetstream.New(nc)
		require.NoError(t, err)
		// Every service is up once its durable consumer exists.
		for stream, durable := range map[string]string{
			bus.StreamRegistrations:   "requester-registrations",
			bus.StreamRecordResponses: "sender-record-responses",
			bus.StreamIntegrations:    "receiver-integrations",
			bus.StreamSpineIn:         "acknowledger-acks",
			bus.StreamLifecycle:       "mireporter-lifecycle",
		} {
			require.Eventually(t, func() bool {
				_, err := js.Consumer(ctx, stream, durable)
				return err == nil
			}, 15*time.Second, 20*time.Millisecond, "%s on %s", durable, stream)
		}
		check(js)
		select {
		case err := <-done:
			t.Fatalf("dev stack stopped on its own: %v", err)
		default:
		}
		nc.Close()
		cancel()
		select {
		case err := <-done:
			require.NoError(t, err)
		case <-time.After(30 * time.Second):
			t.Fatal("dev stack did not stop")
		}
	}

	run(func(js jetstream.JetStream) {
		_, err := js.Publish(context.Background(), bus.RegistrationSubject("A12345"), []byte("kept"),
			jetstream.WithMsgID("devstack-test"))
		require.NoError(t, err)
	})
	// Restarted on the same data directory, the stream still holds it.
	run(func(js jetstream.JetStream) {
		s, err := js.Stream(context.Background(), bus.StreamRegistrations)
		require.NoError(t, err)
		msg, err := s.GetLastMsgForSubject(context.Background(), bus.RegistrationSubject("A12345"))
		require.NoError(t, err)
		assert.Equal(t, "kept", string(msg.Data))
	})
}

func TestDevStackRefusesBadConfiguration(t *testing.T) {
	cfg := devstack.Config{Service: service.Defaults(), DataDir: t.TempDir(), NATSPort: 4222}
	err := devstack.Run(context.Background(), cfg, nil)
	require.ErrorContains(t, err, "GP2GP_PRACTICES is required")
}
