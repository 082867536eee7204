package transfer_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"

	"github.com/nhsengland/gp2gp/libs/bus"
	"github.com/nhsengland/gp2gp/libs/natsembed/natstest"
	"github.com/nhsengland/gp2gp/libs/transfer"
	gp2gpv1 "github.com/nhsengland/gp2gp/proto/gp2gp/v1"
)

const conv = "7c5a8f1e-3f0b-4a53-9d0e-5b2c1d4e6f70"

var (
	newPractice = transfer.Practice{ODS: "A12345", ASID: "200000000001"}
	oldPractice = transfer.Practice{ODS: "B86041", ASID: "200000000002"}
)

type fixture struct {
	t     *testing.T
	js    jetstream.JetStream
	store *transfer.Store
	ctx   context.Context
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := bucketOnly(t)
	f.addLifecycle()
	f.store = f.otherStore()
	return f
}

// bucketOnly is a fixture with the transfers bucket but no lifecycle
// stream, where publishing events fails, and no store yet.
func bucketOnly(t *testing.T) *fixture {
	t.Helper()
	srv := natstest.NewServer(t)
	f := &fixture{t: t, js: srv.JetStream(), ctx: natstest.Context(t, 60*time.Second)}
	require.NoError(t, bus.Ensure(f.ctx, f.js, bus.DevProfile, bus.Topology{KeyValues: []bus.KeyValueSpec{bus.TransfersBucket}}))
	return f
}

// addLifecycle creates the lifecycle stream.
func (f *fixture) addLifecycle() {
	f.t.Helper()
	require.NoError(f.t, bus.Ensure(f.ctx, f.js, bus.DevProfile, bus.Topology{Streams: []bus.StreamSpec{streamNamed(bus.StreamLifecycle)}}))
}

func streamNamed(name string) bus.StreamSpec {
	for _, s := range bus.Streams() {
		if s.Name == name {
			return s
		}
	}
	panic("no stream " + name)
}

// events returns the lifecycle events stored so far, in order.
func (f *fixture) events() []*gp2gpv1.TransferEvent {
	f.t.Helper()
	s, err := f.js.Stream(f.ctx, bus.StreamLifecycle)
	require.NoError(f.t, err)
	info, err := s.Info(f.ctx)
	require.NoError(f.t, err)
	var out []*gp2gpv1.TransferEvent
	for seq := info.State.FirstSeq; info.State.Msgs > 0 && seq <= info.State.LastSeq; seq++ {
		raw, err := s.GetMsg(f.ctx, seq)
		require.NoError(f.t, err)
		ev := &gp2gpv1.TransferEvent{}
		require.NoError(f.t, proto.Unmarshal(raw.Data, ev))
		assert.Equal(f.t, bus.LifecycleSubject(sideName(ev.Side), ev.ConversationId), raw.Subject)
		out = append(out, ev)
	}
	return out
}

func sideName(s gp2gpv1.Side) string {
	if s == gp2gpv1.Side_SIDE_SENDING {
		return "sending"
	}
	return "requesting"
}

func (f *fixture) create(side transfer.Side) *transfer.Transfer {
	f.t.Helper()
	tr, err := f.store.Create(f.ctx, transfer.New(side, conv, newPractice))
	require.NoError(f.t, err)
	return tr
}

func TestCreateIsIdempotentAndPublishesTheFirstEvent(t *testing.T) {
	f := newFixture(t)
	created := f.create(transfer.Requesting)
	assert.Equal(t, "7C5A8F1E-3F0B-4A53-9D0E-5B2C1D4E6F70", created.ConversationID, "stored upper-case")
	assert.Equal(t, transfer.Registered, created.State)
	require.Len(t, created.Outbox, 1, "the published event stays in the outbox until the record's next write")

	again, err := f.store.Create(f.ctx, transfer.New(transfer.Requesting, conv, newPractice))
	require.ErrorIs(t, err, transfer.ErrExists)
	assert.Equal(t, created.CreatedAt, again.CreatedAt)

	// The sending side of the same conversation is a separate record.
	f.create(transfer.Sending)

	got, err := f.store.Get(f.ctx, transfer.Requesting, "7c5a8f1e-3f0b-4a53-9d0e-5b2c1d4e6f70")
	require.NoError(t, err)
	assert.Equal(t, created.Revision(), got.Revision(), "publishing the event wrote nothing")

	evs := f.events()
	require.Len(t, evs, 2)
	assert.Equal(t, gp2gpv1.Side_SIDE_REQUESTING, evs[0].Side)
	assert.EqualValues(t, 1, evs[0].Sequence)
	assert.Equal(t, gp2gpv1.TransferState_TRANSFER_STATE_UNSPECIFIED, evs[0].PreviousState)
	assert.Equal(t, gp2gpv1.TransferState_TRANSFER_STATE_REGISTERED, evs[0].State)
	assert.Equal(t, "A12345", evs[0].PracticeOds)
	assert.Equal(t, gp2gpv1.TransferState_TRANSFER_STATE_REQUEST_RECEIVED, evs[1].State)
}

func TestEveryStateChangeIsPublishedInOrder(t *testing.T) {
	f := newFixture(t)
	f.create(transfer.Requesting)
	steps := []struct {
		to     transfer.State
		reason transfer.Reason
	}{
		{transfer.RequestSent, transfer.Reason{}},
		{transfer.ExtractReceived, transfer.Reason{}},
		{transfer.ReadyToIntegrate, transfer.Reason{}},
		{transfer.Rejected, transfer.Reason{Code: "11", Detail: "practice could not file the record"}},
	}
	for _, s := range steps {
		_, err := f.store.Update(f.ctx, transfer.Requesting, conv, func(tr *transfer.Transfer) error {
			tr.Peer = oldPractice
			return tr.Transition(s.to, s.reason)
		})
		require.NoError(t, err)
	}
	evs := f.events()
	require.Len(t, evs, 5)
	for i, ev := range evs {
		assert.EqualValues(t, i+1, ev.Sequence)
		if i > 0 {
			assert.Equal(t, evs[i-1].State, ev.PreviousState)
		}
	}
	last := evs[4]
	assert.Equal(t, gp2gpv1.TransferState_TRANSFER_STATE_REJECTED, last.State)
	assert.Equal(t, "11", last.ReasonCode)
	assert.Equal(t, "practice could not file the record", last.Detail)
	assert.Equal(t, "B86041", last.PeerOds)
	assert.True(t, last.Terminal)
	assert.False(t, evs[3].Terminal)

	tr, err := f.store.Get(f.ctx, transfer.Requesting, conv)
	require.NoError(t, err)
	assert.Len(t, tr.History, 5)
	assert.Equal(t, transfer.Reason{Code: "11", Detail: "practice could not file the record"}, tr.LastChange().Reason)
	assert.Empty(t, tr.Outbox, "a terminal record's outbox is emptied once its events are published")
}

func TestIllegalTransitionIsRejectedAndChangesNothing(t *testing.T) {
	f := newFixture(t)
	before := f.create(transfer.Sending)
	_, err := f.store.Update(f.ctx, transfer.Sending, conv, func(tr *transfer.Transfer) error {
		tr.NHSNumber = "9434765919" // would be lost with the failed transition
		return tr.Transition(transfer.Completed, transfer.Reason{})
	})
	require.ErrorIs(t, err, transfer.ErrIllegalTransition)
	require.ErrorContains(t, err, "cannot move from REQUEST_RECEIVED to COMPLETED")

	after, err := f.store.Get(f.ctx, transfer.Sending, conv)
	require.NoError(t, err)
	assert.Equal(t, before.Revision(), after.Revision())
	assert.Empty(t, after.NHSNumber)
	assert.Len(t, f.events(), 1)

	_, err = f.store.Update(f.ctx, transfer.Sending, conv, func(tr *transfer.Transfer) error {
		tr.State = "INTEGRATED" // not a sending state, however it got there
		return nil
	})
	require.ErrorIs(t, err, transfer.ErrInvalid)
	_, err = f.store.Update(f.ctx, transfer.Sending, conv, func(tr *transfer.Transfer) error {
		tr.Side = transfer.Requesting
		return nil
	})
	require.ErrorIs(t, err, transfer.ErrInvalid)
}

func TestRepeatedTransitionPublishesNothingNew(t *testing.T) {
	f := newFixture(t)
	f.create(transfer.Requesting)
	for range 3 {
		_, err := f.store.Update(f.ctx, transfer.Requesting, conv, func(tr *transfer.Transfer) error {
			return tr.Transition(transfer.RequestSent, transfer.Reason{})
		})
		require.NoError(t, err)
	}
	assert.Len(t, f.events(), 2)
}

func TestConcurrentUpdatesAllApply(t *testing.T) {
	f := newFixture(t)
	f.create(transfer.Requesting)

	const writers = 16
	var attempts atomic.Int32
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			_, err := f.store.Update(f.ctx, transfer.Requesting, conv, func(tr *transfer.Transfer) error {
				attempts.Add(1)
				tr.RecordMessage(transfer.Message{ID: fmt.Sprintf("MSG-%02d", i), Interaction: "COPC_IN000001UK01", Direction: transfer.Inbound})
				if i == 0 {
					return tr.Transition(transfer.RequestSent, transfer.Reason{})
				}
				return nil
			})
			assert.NoError(t, err)
		}()
	}
	close(start)
	wg.Wait()

	tr, err := f.store.Get(f.ctx, transfer.Requesting, conv)
	require.NoError(t, err)
	assert.Len(t, tr.Messages, writers, "no update was lost")
	assert.Equal(t, transfer.RequestSent, tr.State)
	assert.Greater(t, int(attempts.Load()), writers, "writers raced, so some compare-and-sets failed and were retried")
	assert.Len(t, f.events(), 2)
	for _, c := range tr.Outbox {
		assert.Equal(t, transfer.RequestSent, c.To, "only the last state change can be left in the outbox")
	}
}

func TestTwoConcurrentUpdatesBothApply(t *testing.T) {
	f := newFixture(t)
	f.create(transfer.Sending)
	// Force the race: both writers read the same revision before either
	// writes.
	var read sync.WaitGroup
	read.Add(2)
	var wg sync.WaitGroup
	var calls atomic.Int32
	update := func(fn func(*transfer.Transfer) error) {
		defer wg.Done()
		first := true
		_, err := f.store.Update(f.ctx, transfer.Sending, conv, func(tr *transfer.Transfer) error {
			calls.Add(1)
			if first {
				first = false
				read.Done()
				read.Wait()
			}
			return fn(tr)
		})
		assert.NoError(t, err)
	}
	wg.Add(2)
	go update(func(tr *transfer.Transfer) error {
		tr.Peer = oldPractice
		return tr.Transition(transfer.RecordRequested, transfer.Reason{})
	})
	go update(func(tr *transfer.Transfer) error { tr.NHSNumber = "9434765919"; return nil })
	wg.Wait()

	tr, err := f.store.Get(f.ctx, transfer.Sending, conv)
	require.NoError(t, err)
	assert.Equal(t, transfer.RecordRequested, tr.State)
	assert.Equal(t, oldPractice, tr.Peer)
	assert.Equal(t, "9434765919", tr.NHSNumber)
	// The loser ran again on the fresh record (possibly more than once: the
	// winner's outbox clearing is a write too).
	assert.GreaterOrEqual(t, calls.Load(), int32(3))
}

func TestEventsLeftInTheOutboxArePublishedLater(t *testing.T) {
	// No lifecycle stream yet: publishing events fails.
	f := bucketOnly(t)
	ctx, store := f.ctx, f.otherStore()

	_, err := store.Create(ctx, transfer.New(transfer.Requesting, conv, newPractice))
	require.ErrorIs(t, err, transfer.ErrEventsPending)
	_, err = store.Update(ctx, transfer.Requesting, conv, func(tr *transfer.Transfer) error {
		return tr.Transition(transfer.RequestSent, transfer.Reason{})
	})
	require.ErrorIs(t, err, transfer.ErrEventsPending)

	tr, err := store.Get(ctx, transfer.Requesting, conv)
	require.NoError(t, err)
	assert.Equal(t, transfer.RequestSent, tr.State, "the state change itself is stored")
	require.Len(t, tr.Outbox, 2)

	// The stream comes back; a restarted service flushes at startup.
	f.addLifecycle()
	n, err := store.Flush(ctx)
	require.NoError(t, err)
	assert.Equal(t, 2, n)
	n, err = store.Flush(ctx)
	require.NoError(t, err)
	assert.Zero(t, n, "flushing twice publishes nothing new")

	evs := f.events()
	require.Len(t, evs, 2)
	assert.Equal(t, gp2gpv1.TransferState_TRANSFER_STATE_REGISTERED, evs[0].State)
	assert.Equal(t, gp2gpv1.TransferState_TRANSFER_STATE_REQUEST_SENT, evs[1].State)
	tr, err = store.Get(ctx, transfer.Requesting, conv)
	require.NoError(t, err)
	assert.Empty(t, tr.Outbox)
}

func TestUpdateOfAnUnknownTransfer(t *testing.T) {
	f := newFixture(t)
	_, err := f.store.Update(f.ctx, transfer.Requesting, conv, func(*transfer.Transfer) error { return nil })
	require.ErrorIs(t, err, transfer.ErrNotFound)
	_, err = f.store.Get(f.ctx, transfer.Requesting, "not a valid id")
	require.ErrorIs(t, err, transfer.ErrInvalid)
	_, err = f.store.Get(f.ctx, "middle", conv)
	require.ErrorIs(t, err, transfer.ErrInvalid)
}

// UpdateFrom starts from the record the caller holds; when someone else
// wrote it since, the change is made again on the fresh record, and
// nothing is lost.
func TestUpdateFromAStaleRecordAppliesOnTheFreshOne(t *testing.T) {
	f := newFixture(t)
	held := f.create(transfer.Sending)

	fresh, err := f.store.UpdateFrom(f.ctx, held, func(tr *transfer.Transfer) error {
		return tr.Transition(transfer.RecordRequested, transfer.Reason{})
	})
	require.NoError(t, err)
	assert.Equal(t, transfer.RecordRequested, fresh.State)

	stale, err := f.store.Get(f.ctx, transfer.Sending, conv)
	require.NoError(t, err)
	_, err = f.store.Update(f.ctx, transfer.Sending, conv, func(tr *transfer.Transfer) error { tr.NHSNumber = "9434765919"; return nil })
	require.NoError(t, err)

	var calls int
	got, err := f.store.UpdateFrom(f.ctx, stale, func(tr *transfer.Transfer) error {
		calls++
		tr.Peer = oldPractice
		return tr.Transition(transfer.ExtractSent, transfer.Reason{})
	})
	require.NoError(t, err)
	assert.Equal(t, 2, calls, "the stale copy lost the compare-and-set; the fresh one won")
	assert.Equal(t, "9434765919", got.NHSNumber, "the other writer's change is kept")
	assert.Equal(t, oldPractice, got.Peer)

	stored, err := f.store.Get(f.ctx, transfer.Sending, conv)
	require.NoError(t, err)
	assert.Equal(t, transfer.ExtractSent, stored.State)
	assert.Equal(t, "9434765919", stored.NHSNumber)
	require.Len(t, f.events(), 3, "REQUEST_RECEIVED, RECORD_REQUESTED, EXTRACT_SENT: once each")
}

// Recover publishes at once what a process left long ago, and what was
// left just now only after the grace, in case its writer is still
// publishing it.
func TestRecoverWaitsForYoungOutboxes(t *testing.T) {
	f := bucketOnly(t)
	ctx := f.ctx
	now := time.Now()
	clock := func() time.Time { return now }
	store := f.otherStore(transfer.WithClock(func() time.Time { return clock() }), transfer.WithRecoverGrace(time.Second))

	// No lifecycle stream: both creations leave their event in the outbox,
	// one an hour ago, one now.
	clock = func() time.Time { return now.Add(-time.Hour) }
	_, err := store.Create(ctx, transfer.New(transfer.Requesting, conv, newPractice))
	require.ErrorIs(t, err, transfer.ErrEventsPending)
	clock = func() time.Time { return now }
	_, err = store.Create(ctx, transfer.New(transfer.Sending, conv, oldPractice))
	require.ErrorIs(t, err, transfer.ErrEventsPending)
	f.addLifecycle()

	done := make(chan error, 1)
	start := time.Now()
	go func() { done <- store.Recover(ctx) }()
	require.Eventually(t, func() bool {
		tr, err := store.Get(ctx, transfer.Requesting, conv)
		return err == nil && len(tr.Outbox) == 0
	}, 5*time.Second, 10*time.Millisecond, "the old outbox is published at once")
	tr, err := store.Get(ctx, transfer.Sending, conv)
	require.NoError(t, err)
	if time.Since(start) < 900*time.Millisecond {
		assert.Len(t, tr.Outbox, 1, "the young outbox waits for the grace")
	}
	require.NoError(t, <-done)
	assert.GreaterOrEqual(t, time.Since(start), time.Second)
	tr, err = store.Get(ctx, transfer.Sending, conv)
	require.NoError(t, err)
	assert.Empty(t, tr.Outbox, "published after the grace")
}
