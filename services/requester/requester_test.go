package requester_test

import (
	"context"
	"io"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nhsengland/gp2gp/libs/bus"
	"github.com/nhsengland/gp2gp/libs/natsembed/natstest"
	"github.com/nhsengland/gp2gp/libs/service"
	"github.com/nhsengland/gp2gp/services/requester"
)

func TestRunEnsuresItsConsumerAndStopsCleanly(t *testing.T) {
	srv := natstest.NewServer(t)
	cfg := requester.Config{Config: service.Defaults()}
	cfg.NATS.URL = srv.URL()
	cfg.Practices = []bus.Practice{{ODS: "A12345", ASID: "200000000101"}}
	ctx, cancel := context.WithCancel(natstest.Context(t, 30*time.Second))
	done := make(chan error, 1)
	go func() { done <- requester.Run(ctx, cfg, service.WithLogOutput(io.Discard)) }()

	js := srv.JetStream()
	require.Eventually(t, func() bool {
		_, err := js.Consumer(ctx, bus.StreamRegistrations, "requester-registrations")
		return err == nil
	}, 10*time.Second, 20*time.Millisecond)
	select {
	case err := <-done:
		t.Fatalf("Run stopped on its own: %v", err)
	case <-time.After(200 * time.Millisecond): // still running after its startup tasks
	}
	cancel()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(15 * time.Second):
		t.Fatal("Run did not return after its context ended")
	}
}

func TestRunRefusesAnInvalidConfiguration(t *testing.T) {
	cfg := requester.Config{Config: service.Defaults()}
	cfg.Practices = nil
	err := requester.Run(context.Background(), cfg)
	require.ErrorContains(t, err, "invalid configuration")
	require.ErrorContains(t, err, "GP2GP_PRACTICES is required")
}
