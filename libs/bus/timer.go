package bus

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
)

// Timer is a durable timeout: scheduled once, delivered to its owner when
// due, surviving restarts of every process. A timer cannot be cancelled;
// its handler checks whether it still matters (the transfer may have moved
// on) and ignores it otherwise.
type Timer struct {
	// Owner is the service deployment that handles it (TimerOwner).
	Owner string
	// Kind says what the timeout is, e.g. "extract".
	Kind string
	// Key says what it is about, usually a conversation id.
	Key string
	// Due is when it fires.
	Due time.Time
	// ConversationID, if set, travels as the message's conversation id.
	ConversationID string
	// Data is an optional payload.
	Data []byte
}

// Timer headers.
const (
	HeaderTimerDue  = "Gp2gp-Timer-Due"
	HeaderTimerKind = "Gp2gp-Timer-Kind"
	HeaderTimerKey  = "Gp2gp-Timer-Key"
)

// Schedule stores t. Scheduling the same timer (owner, kind, key and due
// time) twice stores it once; a different due time is a second timer.
func (b *Bus) Schedule(ctx context.Context, t Timer) error {
	if t.Due.IsZero() {
		return fmt.Errorf("bus: schedule %s/%s/%s: no due time", t.Owner, t.Kind, t.Key)
	}
	due := t.Due.UTC().Format(time.RFC3339Nano)
	_, err := b.Publish(ctx, Outgoing{
		Subject:  TimerSubject(t.Owner, t.Kind, t.Key),
		DedupeID: "timer." + t.Owner + "." + t.Kind + "." + t.Key + "." + strconv.FormatInt(t.Due.UnixNano(), 10),
		Data:     t.Data,
		Headers:  Headers{ConversationID: t.ConversationID},
		Header:   nats.Header{HeaderTimerDue: {due}, HeaderTimerKind: {t.Kind}, HeaderTimerKey: {t.Key}},
	})
	return err
}

// Timer consumers look at timerConcurrency timers at once, from batches
// of timerPrefetch.
const (
	timerConcurrency = 4
	timerPrefetch    = 64
)

// TimerHandler handles a due timer. Returning an error retries it with
// backoff; a Permanent error dead-letters it.
type TimerHandler func(ctx context.Context, t Timer) error

type timerOptions struct {
	now     func() time.Time
	maxWait time.Duration
}

// TimerOption configures RunTimers.
type TimerOption func(*timerOptions) error

// WithTimerClock sets the clock deciding whether a timer is due (tests
// inject one to fire timers without waiting).
func WithTimerClock(now func() time.Time) TimerOption {
	return func(o *timerOptions) error {
		if now == nil {
			return fmt.Errorf("bus: WithTimerClock: nil clock")
		}
		o.now = now
		return nil
	}
}

// WithTimerPoll bounds how long a timer that is not yet due waits before
// its due time is looked at again (default 10 minutes). Shorter means more
// redeliveries; it also bounds how late a timer fires after its clock
// jumps.
func WithTimerPoll(d time.Duration) TimerOption {
	return func(o *timerOptions) error {
		if d <= 0 {
			return fmt.Errorf("bus: WithTimerPoll(%s): must be positive", d)
		}
		o.maxWait = d
		return nil
	}
}

// RunTimers consumes the timers of spec (TimerConsumer) until ctx ends,
// calling h for each once it is due. Most deliveries only put a waiting
// timer back, so it fetches timers in batches and looks at a few at once
// (consume options given override that).
func (b *Bus) RunTimers(ctx context.Context, spec ConsumerSpec, h TimerHandler, opts []TimerOption, consume ...ConsumeOption) error {
	consume = append([]ConsumeOption{WithConcurrency(timerConcurrency), WithPrefetch(timerPrefetch)}, consume...)
	o := timerOptions{now: time.Now, maxWait: 10 * time.Minute}
	for _, opt := range opts {
		if err := opt(&o); err != nil {
			return err
		}
	}
	return b.Consume(ctx, spec, func(ctx context.Context, msg *Msg) error {
		due, err := time.Parse(time.RFC3339Nano, headerValue(msg.Header, HeaderTimerDue))
		if err != nil {
			return Permanentf("bus: timer %s without a due time: %v", msg.Subject, err)
		}
		if wait := due.Sub(o.now()); wait > 0 {
			return Defer(min(wait, o.maxWait))
		}
		return h(ctx, Timer{
			Kind: headerValue(msg.Header, HeaderTimerKind), Key: headerValue(msg.Header, HeaderTimerKey),
			Due: due, ConversationID: msg.Headers().ConversationID, Data: msg.Data,
		})
	}, consume...)
}
