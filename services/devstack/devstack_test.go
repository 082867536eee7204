package devstack_test

import (
	"bytes"
	"context"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nhsengland/gp2gp/libs/bus"
	"github.com/nhsengland/gp2gp/libs/service"
	"github.com/nhsengland/gp2gp/libs/stage"
	"github.com/nhsengland/gp2gp/libs/transfer"
	"github.com/nhsengland/gp2gp/services/devstack"
)

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

func devConfig(t *testing.T) devstack.Config {
	sc, err := stage.Load(func(k string) (string, bool) {
		if k == service.EnvPractices {
			return devstack.DefaultPractices, true
		}
		return "", false
	})
	require.NoError(t, err)
	sc.TimerPoll = time.Second
	return devstack.Config{Stage: sc, DataDir: t.TempDir(), NATSPort: -1, Demo: true}
}

// The dev stack performs its demo transfer from registration to the final
// acknowledgement, prints the timeline, and keeps its data across restarts.
func TestDevStackDemoTransferCompletes(t *testing.T) {
	cfg := devConfig(t)
	var out syncBuffer
	run := func(check func(js jetstream.JetStream, conv string)) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		urls := make(chan string, 1)
		demo := make(chan string, 1)
		done := make(chan error, 1)
		go func() {
			done <- devstack.Run(ctx, cfg, devstack.WithReady(func(url string) { urls <- url }),
				devstack.WithOutput(&out), devstack.WithDemoDone(func(c string) { demo <- c }),
				devstack.WithStartOptions(service.WithLogOutput(io.Discard)))
		}()
		var url, conv string
		select {
		case url = <-urls:
		case err := <-done:
			t.Fatalf("dev stack stopped: %v", err)
		}
		select {
		case conv = <-demo:
		case err := <-done:
			t.Fatalf("dev stack stopped: %v", err)
		case <-time.After(60 * time.Second):
			t.Fatalf("demo transfer did not finish:\n%s", out.String())
		}
		nc, err := nats.Connect(url)
		require.NoError(t, err)
		defer nc.Close()
		js, err := jetstream.New(nc)
		require.NoError(t, err)
		check(js, conv)
		cancel()
		select {
		case err := <-done:
			require.NoError(t, err)
		case <-time.After(30 * time.Second):
			t.Fatal("dev stack did not stop")
		}
	}

	var first string
	run(func(js jetstream.JetStream, conv string) {
		first = conv
		b, err := bus.New(js)
		require.NoError(t, err)
		store, err := transfer.NewStore(context.Background(), b)
		require.NoError(t, err)
		req, err := store.Get(context.Background(), transfer.Requesting, conv)
		require.NoError(t, err)
		assert.Equal(t, transfer.Integrated, req.State)
		snd, err := store.Get(context.Background(), transfer.Sending, conv)
		require.NoError(t, err)
		assert.Equal(t, transfer.Completed, snd.State)
		assert.Contains(t, out.String(), "requesting side INTEGRATED, sending side COMPLETED")
		assert.Contains(t, out.String(), "final acknowledgement AA")
	})
	// Restarted on the same data, the first transfer is still there.
	run(func(js jetstream.JetStream, conv string) {
		assert.NotEqual(t, first, conv, "each start runs a new demo transfer")
		kv, err := js.KeyValue(context.Background(), bus.BucketTransfers)
		require.NoError(t, err)
		_, err = kv.Get(context.Background(), "sending."+first)
		require.NoError(t, err)
	})
}

func TestDevStackRefusesBadConfiguration(t *testing.T) {
	cfg := devConfig(t)
	cfg.Stage.Service.Practices = nil
	err := devstack.Run(context.Background(), cfg)
	require.ErrorContains(t, err, "GP2GP_PRACTICES is required")
}
