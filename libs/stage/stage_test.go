package stage_test

import (
	"bytes"
	"context"
	"io"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nhsengland/gp2gp/libs/bus"
	"github.com/nhsengland/gp2gp/libs/natsembed/natstest"
	"github.com/nhsengland/gp2gp/libs/service"
	"github.com/nhsengland/gp2gp/libs/stage"
	"github.com/nhsengland/gp2gp/libs/stage/stagetest"
)

// runStage starts a stage serving stagetest.Practices with topo and
// returns it once it is built; it stops when the test ends.
func runStage(t *testing.T, topo bus.Topology) (*stage.Stage, *natstest.Server) {
	t.Helper()
	srv := natstest.NewServer(t)
	ctx, cancel := context.WithCancel(natstest.Context(t, 60*time.Second))
	built := make(chan *stage.Stage, 1)
	release := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- stage.Run(ctx, "receiver", stagetest.Config(t, srv.URL()), topo, func(_ context.Context, s *stage.Stage) ([]service.Worker, error) {
			built <- s
			<-release
			return nil, nil
		}, stage.WithStartOptions(service.WithLogOutput(io.Discard)))
	}()
	t.Cleanup(func() {
		close(release)
		cancel()
		require.NoError(t, <-done)
	})
	select {
	case s := <-built:
		return s, srv
	case err := <-done:
		t.Fatalf("the stage stopped before it was built: %v", err)
	}
	return nil, nil
}

// Each served practice's records are in its own object store, opened at
// startup; a practice not served is named in the error.
func TestRecordsForEachServedPractice(t *testing.T) {
	s, srv := runStage(t, bus.ReceiverTopology("", stagetest.Practices))
	ctx := natstest.Context(t, 10*time.Second)
	for _, p := range stagetest.Practices {
		store, err := s.RecordsFor(p.ODS)
		require.NoError(t, err, p.ODS)
		_, err = store.PutBytes(ctx, "whose", []byte(p.ODS))
		require.NoError(t, err)
	}
	lower, err := s.RecordsFor("a12345")
	require.NoError(t, err, "ODS codes match whatever their case")
	got, err := lower.GetBytes(ctx, "whose")
	require.NoError(t, err)
	assert.Equal(t, "A12345", string(got))

	_, err = s.RecordsFor("C81007")
	require.ErrorIs(t, err, stage.ErrNotServed)
	assert.ErrorContains(t, err, "C81007")

	// What each practice's store holds is in its bucket, and only there.
	js := srv.JetStream()
	for _, p := range stagetest.Practices {
		store, err := js.ObjectStore(ctx, bus.RecordsBucket(p.ODS))
		require.NoError(t, err)
		got, err := store.GetBytes(ctx, "whose")
		require.NoError(t, err)
		assert.True(t, bytes.Equal([]byte(p.ODS), got), "%s's bucket holds %q", p.ODS, got)
	}
	_, err = js.ObjectStore(ctx, "gp2gp_records")
	require.ErrorIs(t, err, jetstream.ErrBucketNotFound)
}

// A stage whose topology keeps no records says so, naming the practice.
func TestRecordsForAStageKeepingNoRecords(t *testing.T) {
	s, _ := runStage(t, bus.RequesterTopology("", stagetest.Practices))
	_, err := s.RecordsFor("A12345")
	require.ErrorContains(t, err, "A12345")
	assert.ErrorContains(t, err, "keeps no records")
	assert.NotErrorIs(t, err, stage.ErrNotServed)
}
