// Package servicetest checks a service's lifecycle against an embedded
// JetStream: it starts, ensures its consumers, keeps running after its
// startup tasks, and stops cleanly when its context ends.
package servicetest

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nhsengland/gp2gp/libs/bus"
	"github.com/nhsengland/gp2gp/libs/natsembed/natstest"
	"github.com/nhsengland/gp2gp/libs/service"
)

// Practices are two practices for service tests.
var Practices = []bus.Practice{{ODS: "A12345", ASID: "200000000101"}, {ODS: "B86041", ASID: "200000000102"}}

// Config is the shared configuration pointed at natsURL, serving
// Practices.
func Config(natsURL string) service.Config {
	c := service.Defaults()
	c.NATS.URL = natsURL
	c.Practices = Practices
	return c
}

// CheckRun runs run against a new embedded JetStream and checks that it
// ensures every consumer in consumers, is still running afterwards, and
// returns nil promptly once its context ends.
func CheckRun(t *testing.T, run func(ctx context.Context, natsURL string) error, consumers ...bus.ConsumerSpec) {
	t.Helper()
	srv := natstest.NewServer(t)
	ctx, cancel := context.WithCancel(natstest.Context(t, 60*time.Second))
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- run(ctx, srv.URL()) }()

	js := srv.JetStream()
	for _, c := range consumers {
		require.Eventually(t, func() bool {
			_, err := js.Consumer(ctx, c.Stream, c.Durable)
			return err == nil
		}, 15*time.Second, 20*time.Millisecond, "consumer %s on %s", c.Durable, c.Stream)
	}
	select {
	case err := <-done:
		t.Fatalf("stopped on its own: %v", err)
	case <-time.After(200 * time.Millisecond): // still running after its startup tasks
	}
	cancel()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(30 * time.Second):
		t.Fatal("did not stop after its context ended")
	}
}
