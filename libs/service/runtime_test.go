package service_test

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nhsengland/gp2gp/libs/bus"
	"github.com/nhsengland/gp2gp/libs/natsembed/natstest"
	"github.com/nhsengland/gp2gp/libs/service"
)

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestRunEnsuresRunsWorkersAndDrains(t *testing.T) {
	srv := natstest.NewServer(t)
	cfg := service.Defaults()
	cfg.NATS.URL = srv.URL()
	cfg.Practices = []bus.Practice{{ODS: "A12345", ASID: "200000000101"}}
	ctx, cancel := context.WithCancel(natstest.Context(t, 30*time.Second))
	var logs lockedBuffer
	var rt *service.Runtime
	ran := make(chan struct{})
	startupDone := make(chan struct{})
	served := make(chan error, 1)
	go func() {
		served <- service.Run(ctx, "requester", cfg, bus.RequesterTopology("", cfg.Practices),
			func(ctx context.Context, r *service.Runtime) ([]service.Worker, error) {
				rt = r
				_, err := r.JS.Consumer(ctx, bus.StreamRegistrations, "requester-registrations")
				require.NoError(t, err, "the topology is ensured before workers are built")
				return []service.Worker{
					func(ctx context.Context) error { close(startupDone); return nil }, // a startup task
					func(ctx context.Context) error { close(ran); <-ctx.Done(); return nil },
				}, nil
			}, service.WithLogOutput(&logs))
	}()
	<-ran
	<-startupDone
	select {
	case err := <-served:
		t.Fatalf("Run returned early: %v", err)
	default:
	}
	cancel()
	require.NoError(t, <-served)
	assert.True(t, rt.Conn.IsClosed(), "the connection is drained and closed")
	assert.Contains(t, logs.String(), `"service":"requester"`)
	assert.Contains(t, logs.String(), "connected to NATS")
	assert.Contains(t, logs.String(), `"msg":"stopped"`)
}

func TestRunRefusesATopologyItCannotEnsure(t *testing.T) {
	srv := natstest.NewServer(t)
	cfg := service.Defaults()
	cfg.NATS.URL = srv.URL()
	err := service.Run(natstest.Context(t, 30*time.Second), "requester", cfg, bus.RequesterTopology("", nil),
		func(context.Context, *service.Runtime) ([]service.Worker, error) {
			t.Fatal("workers built despite a bad topology")
			return nil, nil
		}, service.WithLogOutput(&lockedBuffer{}))
	require.ErrorContains(t, err, "no filter subjects")
}

func TestRunRefusesStreamsTheProfileDoesNotAllow(t *testing.T) {
	srv := natstest.NewServer(t)
	ps := []bus.Practice{{ODS: "A12345", ASID: "200000000101"}}
	ctx := natstest.Context(t, 30*time.Second)
	require.NoError(t, bus.Ensure(ctx, srv.JetStream(), bus.DevProfile, bus.RequesterTopology("", ps)))
	cfg := service.Defaults()
	cfg.NATS.URL, cfg.Practices, cfg.Profile = srv.URL(), ps, bus.ProdProfile
	err := service.Run(ctx, "requester", cfg, bus.RequesterTopology("", ps),
		func(context.Context, *service.Runtime) ([]service.Worker, error) {
			t.Fatal("workers built on misconfigured streams")
			return nil, nil
		}, service.WithLogOutput(&lockedBuffer{}))
	require.ErrorIs(t, err, bus.ErrMisconfigured)
	require.ErrorContains(t, err, "has 1 replicas, profile prod requires 3")
}

func TestServeStopsEveryWorkerWhenOneFails(t *testing.T) {
	boom := errors.New("consumer deleted")
	stopped := make(chan struct{})
	err := service.RunAll(context.Background(),
		func(ctx context.Context) error { <-ctx.Done(); close(stopped); return nil },
		func(ctx context.Context) error { return boom },
	)
	require.ErrorIs(t, err, boom)
	select {
	case <-stopped:
	default:
		t.Fatal("the healthy worker was not stopped")
	}
}

func TestRunAllKeepsRunningAfterStartupTasksFinish(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	finished := make(chan struct{})
	returned := make(chan error, 1)
	go func() {
		returned <- service.RunAll(ctx, func(context.Context) error { close(finished); return nil })
	}()
	<-finished
	select {
	case err := <-returned:
		t.Fatalf("RunAll returned (%v) before its context ended", err)
	case <-time.After(100 * time.Millisecond):
	}
	cancel()
	require.NoError(t, <-returned)
}

func TestStartWaitsForNATSUntilTheContextEnds(t *testing.T) {
	cfg := service.Defaults()
	cfg.NATS.URL = "nats://127.0.0.1:1" // nothing listens there
	ctx, cancel := context.WithTimeout(context.Background(), 700*time.Millisecond)
	defer cancel()
	var logs lockedBuffer
	_, err := service.Start(ctx, "sender", cfg, service.WithLogOutput(&logs))
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Contains(t, logs.String(), "NATS not reachable yet; retrying")
}
