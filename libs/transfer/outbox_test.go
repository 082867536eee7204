package transfer_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nhsengland/gp2gp/libs/bus"
	"github.com/nhsengland/gp2gp/libs/transfer"
	gp2gpv1 "github.com/nhsengland/gp2gp/proto/gp2gp/v1"
)

// otherStore is a second store on f's bucket, as another process would
// have: it has published nothing itself.
func (f *fixture) otherStore(opts ...transfer.Option) *transfer.Store {
	f.t.Helper()
	b, err := bus.New(f.js)
	require.NoError(f.t, err)
	s, err := transfer.NewStore(f.ctx, b, opts...)
	require.NoError(f.t, err)
	return s
}

func states(evs []*gp2gpv1.TransferEvent) []gp2gpv1.TransferState {
	out := make([]gp2gpv1.TransferState, len(evs))
	for i, ev := range evs {
		out[i] = ev.State
	}
	return out
}

// A write by another process takes the earlier write's event out of the
// outbox, publishing it again first under its dedupe id: the stream keeps
// one copy.
func TestAnotherWriterSettlesTheOutboxWithoutDuplicates(t *testing.T) {
	f := newFixture(t)
	f.create(transfer.Requesting)
	other := f.otherStore()
	tr, err := other.Update(f.ctx, transfer.Requesting, conv, func(tr *transfer.Transfer) error {
		return tr.Transition(transfer.RequestSent, transfer.Reason{})
	})
	require.NoError(t, err)
	require.Len(t, tr.Outbox, 1)
	assert.Equal(t, transfer.RequestSent, tr.Outbox[0].To, "REGISTERED left the outbox with this write")
	assert.Equal(t, []gp2gpv1.TransferState{gp2gpv1.TransferState_TRANSFER_STATE_REGISTERED, gp2gpv1.TransferState_TRANSFER_STATE_REQUEST_SENT}, states(f.events()))
}

// An outbox event older than half the dedupe window is looked up in the
// stream rather than published again, since the stream may have forgotten
// its dedupe id: here the stream's window is a second, and has passed.
func TestAnOldOutboxEventIsLookedUpNotRepublished(t *testing.T) {
	f := shortDedupe(t)
	ctx := f.ctx
	f.create(transfer.Requesting)
	f.create(transfer.Sending)
	time.Sleep(1200 * time.Millisecond) // the dedupe ids are forgotten

	later := f.otherStore(transfer.WithClock(func() time.Time { return time.Now().Add(bus.DedupeWindow) }))
	_, err := later.Update(ctx, transfer.Requesting, conv, func(tr *transfer.Transfer) error {
		return tr.Transition(transfer.RequestSent, transfer.Reason{})
	})
	require.NoError(t, err)
	assert.Len(t, f.events(), 3, "REGISTERED was found in the stream, not published again")

	// The same write from a store that takes the event for a recent one
	// publishes it again, and the stream, past its window, stores a
	// duplicate: what the lookup avoids.
	now := f.otherStore()
	_, err = now.Update(ctx, transfer.Sending, conv, func(tr *transfer.Transfer) error {
		return tr.Transition(transfer.RecordRequested, transfer.Reason{})
	})
	require.NoError(t, err)
	assert.Len(t, f.events(), 5, "REQUEST_RECEIVED stored twice")
}

// An old outbox event the stream lacks is published by the next write.
func TestAnOldUnpublishedEventIsPublishedByTheNextWrite(t *testing.T) {
	// No lifecycle stream yet: the event cannot be published.
	f := bucketOnly(t)
	ctx := f.ctx
	f.store = f.otherStore()
	_, err := f.store.Create(ctx, transfer.New(transfer.Requesting, conv, newPractice))
	require.ErrorIs(t, err, transfer.ErrEventsPending)
	f.addLifecycle()

	later := f.otherStore(transfer.WithClock(func() time.Time { return time.Now().Add(2 * bus.DedupeWindow) }))
	tr, err := later.Update(ctx, transfer.Requesting, conv, func(tr *transfer.Transfer) error {
		return tr.Transition(transfer.RequestSent, transfer.Reason{})
	})
	require.NoError(t, err)
	assert.Len(t, tr.Outbox, 1)
	assert.Equal(t, []gp2gpv1.TransferState{gp2gpv1.TransferState_TRANSFER_STATE_REGISTERED, gp2gpv1.TransferState_TRANSFER_STATE_REQUEST_SENT}, states(f.events()))
}

// Flush at startup empties the outboxes of transfers in flight, whose
// events are all published, publishing nothing again.
func TestFlushEmptiesPublishedOutboxes(t *testing.T) {
	f := newFixture(t)
	f.create(transfer.Requesting)
	_, err := f.store.Update(f.ctx, transfer.Requesting, conv, func(tr *transfer.Transfer) error {
		return tr.Transition(transfer.RequestSent, transfer.Reason{})
	})
	require.NoError(t, err)
	f.create(transfer.Sending)

	n, err := f.otherStore().Flush(f.ctx)
	require.NoError(t, err)
	assert.Zero(t, n, "the stream had every event")
	assert.Len(t, f.events(), 3)
	for _, side := range []transfer.Side{transfer.Requesting, transfer.Sending} {
		tr, err := f.store.Get(f.ctx, side, conv)
		require.NoError(t, err)
		assert.Empty(t, tr.Outbox, side)
	}
}

// A store does not look up or republish the events it published itself:
// here the stream has forgotten the first event's dedupe id, so publishing
// it again would store it twice.
func TestOwnEventsAreNotRepublished(t *testing.T) {
	f := shortDedupe(t)
	f.create(transfer.Sending)
	time.Sleep(1200 * time.Millisecond) // the dedupe id is forgotten
	_, err := f.store.Update(f.ctx, transfer.Sending, conv, func(tr *transfer.Transfer) error {
		return tr.Transition(transfer.RecordRequested, transfer.Reason{})
	})
	require.NoError(t, err)
	assert.Equal(t, []gp2gpv1.TransferState{gp2gpv1.TransferState_TRANSFER_STATE_REQUEST_RECEIVED, gp2gpv1.TransferState_TRANSFER_STATE_RECORD_REQUESTED}, states(f.events()))
}

// shortDedupe is a fixture whose lifecycle stream remembers dedupe ids for
// a second only, with a store.
func shortDedupe(t *testing.T) *fixture {
	t.Helper()
	f := bucketOnly(t)
	cfg := streamNamed(bus.StreamLifecycle).Config(bus.DevProfile)
	cfg.Duplicates = time.Second
	_, err := f.js.CreateStream(f.ctx, cfg)
	require.NoError(t, err)
	f.store = f.otherStore()
	return f
}
