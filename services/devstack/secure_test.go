package devstack_test

import (
	"context"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nhsengland/gp2gp/libs/practicesim"
	"github.com/nhsengland/gp2gp/libs/service"
	"github.com/nhsengland/gp2gp/services/devstack"
)

// With security on, the dev stack runs every service and practice as its
// own NATS user under the deployed permission set, over TLS with client
// certificates: transfers both ways, of records with a document large
// enough to travel as COPC fragments through the practices' records
// buckets, complete, and the server reports no permissions violation.
func TestSecureDevStackTransfersWithinThePermissions(t *testing.T) {
	cfg := devConfig(t)
	cfg.Security = true
	var (
		out        syncBuffer
		mu         sync.Mutex
		violations []string
	)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	urls := make(chan string, 1)
	demo := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- devstack.Run(ctx, cfg, devstack.WithReady(func(url string) { urls <- url }),
			devstack.WithOutput(&out), devstack.WithDemoDone(func(c string) { demo <- c }),
			devstack.WithViolations(func(line string) { mu.Lock(); violations = append(violations, line); mu.Unlock() }),
			devstack.WithStartOptions(service.WithLogOutput(io.Discard)),
			devstack.WithPracticeOptions(practicesim.WithAttachments(2), practicesim.WithLargeAttachments(7_000_000)))
	}()
	var url string
	select {
	case url = <-urls:
	case err := <-done:
		t.Fatalf("dev stack stopped: %v", err)
	}
	select {
	case <-demo:
	case err := <-done:
		t.Fatalf("dev stack stopped: %v\n%s", err, out.String())
	case <-time.After(90 * time.Second):
		t.Fatalf("demo transfer did not finish:\n%s", out.String())
	}
	assert.Contains(t, out.String(), "requesting side INTEGRATED, sending side COMPLETED")
	assert.Contains(t, out.String(), "fragment", "the large document travelled in fragments")

	// A transfer the other way, registered by the other practice's vendor
	// and watched by the operator, as `make transfer` does.
	var reg syncBuffer
	conv, err := devstack.Register(ctx, url, devstack.TLSDir(cfg.DataDir), "9990001065", 60*time.Second, &reg)
	require.NoError(t, err, reg.String())
	assert.NotEmpty(t, conv)
	assert.Contains(t, reg.String(), "requesting side INTEGRATED, sending side COMPLETED")

	// Without a certificate, or without TLS, nobody gets in.
	_, err = nats.Connect(url, nats.Timeout(2*time.Second))
	require.Error(t, err)

	cancel()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(30 * time.Second):
		t.Fatal("dev stack did not stop")
	}
	mu.Lock()
	defer mu.Unlock()
	assert.Empty(t, violations, "permissions violations")
}
