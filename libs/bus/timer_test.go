package bus_test

import (
	"context"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nhsengland/gp2gp/libs/bus"
	"github.com/nhsengland/gp2gp/libs/natsembed/natstest"
)

// fakeClock is a clock tests move by hand.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func timersFixture(t *testing.T) (*natstest.Server, *bus.Bus, context.Context) {
	srv := natstest.NewServer(t)
	js := srv.JetStream()
	ctx := natstest.Context(t, 60*time.Second)
	ps := []bus.Practice{{ODS: "A12345", ASID: "200000000001"}}
	require.NoError(t, bus.Ensure(ctx, js, bus.DevProfile, bus.RequesterTopology("", ps)))
	b, err := bus.New(js)
	require.NoError(t, err)
	return srv, b, ctx
}

func TestTimerFiresWhenDueAndSurvivesARestart(t *testing.T) {
	srv, b, ctx := timersFixture(t)
	clock := &fakeClock{now: time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)}
	timer := bus.Timer{Owner: bus.TimerOwner("", "requester"), Kind: "extract", Key: "CONV-1", ConversationID: "CONV-1",
		Due: clock.Now().Add(8 * 24 * time.Hour), Data: []byte("payload")}
	require.NoError(t, b.Schedule(ctx, timer))
	require.NoError(t, b.Schedule(ctx, timer), "scheduling twice stores one timer")

	// The broker restarts before the timer is due.
	srv.Restart()
	js := srv.JetStream()
	b, err := bus.New(js)
	require.NoError(t, err)

	var fired atomic.Int32
	var got bus.Timer
	var mu sync.Mutex
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- b.RunTimers(runCtx, bus.TimerConsumer("", "requester"), func(ctx context.Context, tm bus.Timer) error {
			mu.Lock()
			got = tm
			mu.Unlock()
			fired.Add(1)
			return nil
		}, []bus.TimerOption{bus.WithTimerClock(clock.Now), bus.WithTimerPoll(20 * time.Millisecond)})
	}()
	t.Cleanup(func() { cancel(); <-done })

	// Not due: it keeps waiting.
	time.Sleep(200 * time.Millisecond)
	assert.Zero(t, fired.Load())

	clock.Add(8*24*time.Hour + time.Second)
	require.Eventually(t, func() bool { return fired.Load() == 1 }, 10*time.Second, 10*time.Millisecond)
	mu.Lock()
	assert.Equal(t, "extract", got.Kind)
	assert.Equal(t, "CONV-1", got.Key)
	assert.Equal(t, "CONV-1", got.ConversationID)
	assert.Equal(t, []byte("payload"), got.Data)
	assert.True(t, got.Due.Equal(timer.Due))
	mu.Unlock()

	// A fired timer is gone from the work queue.
	require.Eventually(t, func() bool {
		s, err := js.Stream(ctx, bus.StreamTimers)
		require.NoError(t, err)
		info, err := s.Info(ctx)
		require.NoError(t, err)
		return info.State.Msgs == 0
	}, 5*time.Second, 10*time.Millisecond)
	assert.EqualValues(t, 1, fired.Load(), "fires once")
}

func TestLargeBodiesTravelThroughTheObjectStore(t *testing.T) {
	_, b, ctx := timersFixture(t)
	js := b.JetStream()
	big := make([]byte, 3<<20)
	for i := range big {
		big[i] = byte(i % 251)
	}
	ack, err := b.Publish(ctx, bus.Outgoing{Subject: bus.RegistrationSubject("A12345"), DedupeID: "big-1", Data: big})
	require.NoError(t, err)

	s, err := js.Stream(ctx, bus.StreamRegistrations)
	require.NoError(t, err)
	raw, err := s.GetMsg(ctx, ack.Sequence)
	require.NoError(t, err)
	assert.Empty(t, raw.Data, "the stream holds a claim check, not the body")
	assert.Equal(t, "big-1", raw.Header.Get(bus.HeaderBodyObject))

	got := make(chan []byte, 1)
	cctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- b.Consume(cctx, bus.RequesterRegistrations("", []bus.Practice{{ODS: "A12345", ASID: "200000000001"}}),
			func(ctx context.Context, msg *bus.Msg) error { got <- msg.Data; return nil })
	}()
	data := <-got
	cancel()
	require.NoError(t, <-done)
	assert.Equal(t, big, data, "the handler sees the whole body")
}

// Timers waiting for days are pending deliveries of the timer consumer; a
// timer that is due must still fire however many of them there are (a
// consumer's usual limit of 1000 pending would starve it).
func TestDueTimerFiresBehindThousandsOfWaitingOnes(t *testing.T) {
	_, b, ctx := timersFixture(t)
	now := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	owner := bus.TimerOwner("", "requester")
	const waiting = 1500
	for i := range waiting {
		require.NoError(t, b.Schedule(ctx, bus.Timer{Owner: owner, Kind: "final-ack", Key: "WAIT-" + strconv.Itoa(i),
			Due: now.Add(8 * 24 * time.Hour)}))
	}
	fired := make(chan string, 1)
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- b.RunTimers(runCtx, bus.TimerConsumer("", "requester"), func(ctx context.Context, tm bus.Timer) error {
			fired <- tm.Key
			return nil
		}, []bus.TimerOption{bus.WithTimerClock(func() time.Time { return now }), bus.WithTimerPoll(time.Hour)})
	}()
	t.Cleanup(func() { cancel(); <-done })
	require.Eventually(t, func() bool {
		info, err := b.JetStream().Consumer(ctx, bus.StreamTimers, owner+"-timers")
		if err != nil {
			return false
		}
		ci, err := info.Info(ctx)
		return err == nil && ci.NumPending == 0
	}, 90*time.Second, 50*time.Millisecond, "every waiting timer delivered once")

	require.NoError(t, b.Schedule(ctx, bus.Timer{Owner: owner, Kind: "record", Key: "DUE-NOW", Due: now}))
	select {
	case key := <-fired:
		assert.Equal(t, "DUE-NOW", key)
	case <-time.After(15 * time.Second):
		t.Fatal("a due timer did not fire behind the waiting ones")
	}
}
