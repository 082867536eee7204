package ops_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nhsengland/gp2gp/libs/service/ops"
	"github.com/nhsengland/gp2gp/libs/transfer"
)

// The in-flight count follows the records whoever changes them, starts
// from what is already there, and drops a side that finishes or expires.
func TestActiveTransfersCountsTheBucket(t *testing.T) {
	f := newFixture(t)
	a, b, c := "0A000000-0000-4000-8000-000000000001", "0A000000-0000-4000-8000-000000000002", "0A000000-0000-4000-8000-000000000003"
	f.create(transfer.Requesting, a, newPractice, oldPractice)
	f.step(transfer.Requesting, a, transfer.RequestSent, transfer.Reason{})
	f.create(transfer.Sending, a, oldPractice, newPractice)
	f.create(transfer.Requesting, b, newPractice, oldPractice)
	f.step(transfer.Requesting, b, transfer.Failed, transfer.Reason{Code: "99"})

	active := ops.NewActiveTransfers()
	ctx, cancel := context.WithCancel(f.ctx)
	done := make(chan error, 1)
	go func() { done <- active.Run(ctx, f.kv) }()
	t.Cleanup(func() { cancel(); require.NoError(t, <-done) })
	require.Eventually(t, active.Ready, 5*time.Second, 10*time.Millisecond)

	assert.EqualValues(t, 1, active.Count(transfer.Requesting, transfer.RequestSent))
	assert.EqualValues(t, 1, active.Count(transfer.Requesting, ""), "the failed side is finished")
	assert.EqualValues(t, 1, active.Count(transfer.Sending, transfer.RequestReceived))

	mp := newMeterProvider(t)
	_, err := active.Observe(mp.Meter(ops.ScopeName))
	require.NoError(t, err)
	e := scrape(t, mp)
	assert.Equal(t, "gauge", e.types["gp2gp_transfers_in_flight"])
	assert.Equal(t, 1.0, e.value(t, "gp2gp_transfers_in_flight", map[string]string{"side": "requesting", "state": "REQUEST_SENT"}))
	assert.Equal(t, 0.0, e.value(t, "gp2gp_transfers_in_flight", map[string]string{"side": "requesting", "state": "READY_TO_INTEGRATE"}),
		"every non-terminal state has a series")
	for _, s := range e.samples {
		if s.name == "gp2gp_transfers_in_flight" {
			assert.NotEqual(t, "FAILED", s.labels["state"], "no terminal states")
		}
	}

	// Live changes: a new side, a move, a finish, an expiry.
	f.create(transfer.Requesting, c, newPractice, oldPractice)
	f.step(transfer.Requesting, a, transfer.RequestAcknowledged, transfer.Reason{})
	f.step(transfer.Sending, a, transfer.RecordRequested, transfer.Reason{})
	f.step(transfer.Sending, a, transfer.RequestRejected, transfer.Reason{Code: "10"})
	require.Eventually(t, func() bool {
		return active.Count(transfer.Requesting, transfer.Registered) == 1 &&
			active.Count(transfer.Requesting, transfer.RequestAcknowledged) == 1 &&
			active.Count(transfer.Requesting, transfer.RequestSent) == 0 &&
			active.Count(transfer.Sending, "") == 0
	}, 5*time.Second, 10*time.Millisecond)
	require.NoError(t, f.kv.Delete(f.ctx, "requesting."+c))
	require.Eventually(t, func() bool { return active.Count(transfer.Requesting, transfer.Registered) == 0 }, 5*time.Second, 10*time.Millisecond)
}

func TestActiveTransfersGaugeWaitsForTheFirstCount(t *testing.T) {
	mp := newMeterProvider(t)
	_, err := ops.NewActiveTransfers().Observe(mp.Meter(ops.ScopeName))
	require.NoError(t, err)
	var buf bytes.Buffer
	err = mp.WritePrometheus(context.Background(), &buf)
	require.ErrorIs(t, err, ops.ErrPartialMetrics, "not counted yet: left out, and said so")
	assert.NotContains(t, buf.String(), "gp2gp_transfers_in_flight{")
}
