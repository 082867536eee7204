package transfer

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"google.golang.org/protobuf/proto"

	"github.com/nhsengland/gp2gp/libs/bus"
	gp2gpv1 "github.com/nhsengland/gp2gp/proto/gp2gp/v1"
)

// Store reads and writes transfer records. It is safe for concurrent use,
// and any number of stores, in any number of processes, may share a
// bucket.
type Store struct {
	kv          jetstream.KeyValue
	bus         *bus.Bus
	now         func() time.Time
	maxAttempts int
	logger      *slog.Logger
	observe     func(ctx context.Context, t *Transfer, c Change)
	// recoverGrace: see WithRecoverGrace.
	recoverGrace time.Duration
	// recent remembers the lifecycle events this store published lately,
	// which settle then need not check.
	recent *idSet

	mu        sync.Mutex
	lifecycle jetstream.Stream // looked up when first needed
}

// Option configures a Store.
type Option func(*Store) error

// WithClock sets the time source for change and record timestamps.
func WithClock(now func() time.Time) Option {
	return func(s *Store) error {
		if now == nil {
			return errors.New("transfer: WithClock: nil clock")
		}
		s.now = now
		return nil
	}
}

// WithMaxAttempts bounds the compare-and-set retries of one update
// (default 50).
func WithMaxAttempts(n int) Option {
	return func(s *Store) error {
		if n < 1 {
			return fmt.Errorf("transfer: WithMaxAttempts(%d): must be at least 1", n)
		}
		s.maxAttempts = n
		return nil
	}
}

// WithLogger sets the logger for flush problems.
func WithLogger(l *slog.Logger) Option {
	return func(s *Store) error {
		if l == nil {
			return errors.New("transfer: WithLogger: nil logger")
		}
		s.logger = l
		return nil
	}
}

// WithObserver has fn called once for every state change this store
// writes (a record's first state included), after the write, with the
// record as written. Metrics use it; fn must be quick and must not fail.
func WithObserver(fn func(ctx context.Context, t *Transfer, c Change)) Option {
	return func(s *Store) error {
		if fn == nil {
			return errors.New("transfer: WithObserver: nil function")
		}
		s.observe = fn
		return nil
	}
}

// NewStore opens the transfers bucket, which must exist (bus.Ensure
// creates it), and publishes lifecycle events through b.
func NewStore(ctx context.Context, b *bus.Bus, opts ...Option) (*Store, error) {
	if b == nil {
		return nil, errors.New("transfer: nil bus")
	}
	s := &Store{bus: b, now: time.Now, maxAttempts: 50, logger: slog.New(slog.DiscardHandler), recoverGrace: DefaultRecoverGrace, recent: newIDSet(recentEvents)}
	for _, o := range opts {
		if err := o(s); err != nil {
			return nil, err
		}
	}
	kv, err := b.JetStream().KeyValue(ctx, bus.BucketTransfers)
	if err != nil {
		return nil, fmt.Errorf("transfer: open bucket %s: %w", bus.BucketTransfers, err)
	}
	s.kv = kv
	return s, nil
}

// Create stores t, which must be in its side's initial state (see New),
// and publishes its first lifecycle event. If a record already exists for
// the side and conversation, Create returns that record and ErrExists.
func (s *Store) Create(ctx context.Context, t *Transfer) (*Transfer, error) {
	k, err := key(t.Side, t.ConversationID)
	if err != nil {
		return nil, err
	}
	if t.State != t.Side.InitialState() || len(t.History) != 1 {
		return nil, fmt.Errorf("%w: a new %s transfer starts %s with one change", ErrInvalid, t.Side, t.Side.InitialState())
	}
	rec := *t
	rec.ConversationID = NormalizeID(t.ConversationID)
	now := s.now().UTC()
	rec.CreatedAt, rec.UpdatedAt = now, now
	rec.History = []Change{t.History[0]}
	rec.History[0].At = now
	rec.Outbox = []Change{rec.History[0]}
	data, err := json.Marshal(&rec)
	if err != nil {
		return nil, fmt.Errorf("transfer: encode %s: %w", k, err)
	}
	rev, err := s.kv.Create(ctx, k, data)
	if errors.Is(err, jetstream.ErrKeyExists) {
		existing, gerr := s.Get(ctx, t.Side, t.ConversationID)
		if gerr != nil {
			return nil, gerr
		}
		return existing, ErrExists
	}
	if err != nil {
		return nil, fmt.Errorf("transfer: create %s: %w", k, err)
	}
	rec.revision, rec.raw = rev, data
	s.observed(ctx, &rec, rec.History)
	return s.publishOutbox(ctx, k, &rec)
}

// Get returns the record for side and conversation id.
func (s *Store) Get(ctx context.Context, side Side, conversationID string) (*Transfer, error) {
	k, err := key(side, conversationID)
	if err != nil {
		return nil, err
	}
	t, _, err := s.read(ctx, k)
	return t, err
}

func (s *Store) read(ctx context.Context, k string) (*Transfer, []byte, error) {
	entry, err := s.kv.Get(ctx, k)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil, nil, fmt.Errorf("%w: %s", ErrNotFound, k)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("transfer: read %s: %w", k, err)
	}
	var t Transfer
	if err := json.Unmarshal(entry.Value(), &t); err != nil {
		return nil, nil, fmt.Errorf("%w: decode %s: %v", ErrInvalid, k, err)
	}
	t.revision, t.raw = entry.Revision(), entry.Value()
	return &t, entry.Value(), nil
}

// Update applies fn to the current record and stores the result with a
// compare-and-set. If another writer got there first, fn runs again on the
// fresh record, so fn must only derive the change from the record it is
// given. An error from fn aborts the update and is returned as is. State
// changes made by fn (Transition) are published as lifecycle events.
func (s *Store) Update(ctx context.Context, side Side, conversationID string, fn func(*Transfer) error) (*Transfer, error) {
	k, err := key(side, conversationID)
	if err != nil {
		return nil, err
	}
	return s.update(ctx, k, nil, fn)
}

// UpdateFrom is Update starting from t, a record as Get, Create or Update
// returned it and not changed since: when nobody else has written the
// record in between, it saves reading it again. t is what fn changes on
// the first attempt.
func (s *Store) UpdateFrom(ctx context.Context, t *Transfer, fn func(*Transfer) error) (*Transfer, error) {
	k, err := key(t.Side, t.ConversationID)
	if err != nil {
		return nil, err
	}
	if t.revision == 0 || t.raw == nil {
		t = nil
	}
	return s.update(ctx, k, t, fn)
}

func (s *Store) update(ctx context.Context, k string, first *Transfer, fn func(*Transfer) error) (*Transfer, error) {
	for range s.maxAttempts {
		t, before := first, []byte(nil)
		if t != nil {
			before, first = t.raw, nil
		} else {
			var err error
			if t, before, err = s.read(ctx, k); err != nil {
				return nil, err
			}
		}
		pending := t.Outbox
		seen := len(t.History)
		if err := fn(t); err != nil {
			return nil, err
		}
		if err := t.validate(k); err != nil {
			return nil, err
		}
		if len(t.History) == seen {
			// No state change: is anything else different?
			data, err := json.Marshal(t)
			if err != nil {
				return nil, fmt.Errorf("transfer: encode %s: %w", k, err)
			}
			if bytes.Equal(data, before) {
				// Nothing changed; still make sure what an earlier,
				// perhaps interrupted, update left behind is published.
				if left, _ := s.settle(ctx, k, t, pending); len(left) > 0 {
					return t, fmt.Errorf("%w: %s: %d change(s)", ErrEventsPending, k, len(left))
				}
				return t, nil
			}
		}
		// The earlier write's events leave the outbox with this write, so
		// they must be published first; any that cannot be stay.
		now := s.now().UTC()
		t.Outbox, _ = s.settle(ctx, k, t, pending)
		fresh := t.History[seen:]
		for i := range fresh {
			fresh[i].At = now
		}
		t.Outbox = append(t.Outbox, fresh...)
		t.UpdatedAt = now
		data, err := json.Marshal(t)
		if err != nil {
			return nil, fmt.Errorf("transfer: encode %s: %w", k, err)
		}
		rev, err := s.kv.Update(ctx, k, data, t.revision)
		if isConflict(err) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("transfer: write %s: %w", k, err)
		}
		t.revision, t.raw = rev, data
		s.observed(ctx, t, fresh)
		return s.publishOutbox(ctx, k, t)
	}
	return nil, fmt.Errorf("%w: %s after %d attempts", ErrContended, k, s.maxAttempts)
}

func (s *Store) observed(ctx context.Context, t *Transfer, changes []Change) {
	if s.observe == nil {
		return
	}
	for _, c := range changes {
		s.observe(ctx, t, c)
	}
}

// publishOutbox publishes the lifecycle events in t's outbox, just
// written. They stay in the stored outbox, to leave with the record's next
// write (which settles them first: see settle), except when t is terminal:
// then no next write is due, and they are cleared at once, so that Flush
// has nothing to check for a finished transfer.
func (s *Store) publishOutbox(ctx context.Context, k string, t *Transfer) (*Transfer, error) {
	if len(t.Outbox) == 0 {
		return t, nil
	}
	for _, c := range t.Outbox {
		if s.recent.has(eventID(k, c.Seq)) {
			continue
		}
		if _, err := s.publish(ctx, k, t, c); err != nil {
			return t, fmt.Errorf("%w: %s change %d: %w", ErrEventsPending, k, c.Seq, err)
		}
	}
	if !t.Terminal() {
		return t, nil
	}
	return s.clearOutbox(ctx, k, t, t.Outbox)
}

// publish publishes the lifecycle event of change c of t and remembers it
// as published. It reports whether the stream stored it (false: a
// duplicate of one published before, within the stream's dedupe window).
func (s *Store) publish(ctx context.Context, k string, t *Transfer, c Change) (stored bool, err error) {
	id := eventID(k, c.Seq)
	ack, err := s.bus.PublishProto(ctx, bus.Outgoing{
		Subject:  bus.LifecycleSubject(string(t.Side), t.ConversationID),
		DedupeID: id,
		Headers:  bus.Headers{ConversationID: t.ConversationID},
	}, Event(t, c))
	if err != nil {
		return false, err
	}
	s.recent.add(id)
	return !ack.Duplicate, nil
}

// eventID is the dedupe id of the lifecycle event of change seq of the
// record keyed k.
func eventID(k string, seq uint64) string {
	return "lifecycle." + k + "." + strconv.FormatUint(seq, 10)
}

// settle makes sure the events of pending, changes of t found in its
// stored outbox, are published, and returns those it could not publish.
// They were most likely published by the writer that stored them:
//
//   - if this store published one, nothing is done;
//   - a recent one (younger than half the stream's dedupe window) is
//     published again under its dedupe id, which the stream drops if it
//     has it;
//   - an older one, which the stream would no longer recognise, is looked
//     up: the stream's last event for the transfer's side, if at least as
//     late, means it was published (events of a record are published in
//     order, bar racing writers, which are long gone by then).
//
// stored counts the events the stream stored now, having lacked them.
func (s *Store) settle(ctx context.Context, k string, t *Transfer, pending []Change) (left []Change, stored int) {
	for _, c := range pending {
		if s.recent.has(eventID(k, c.Seq)) {
			continue
		}
		if s.now().Sub(c.At) >= bus.DedupeWindow/2 {
			found, err := s.inStream(ctx, t, c)
			if err != nil {
				s.logger.WarnContext(ctx, "cannot look up a lifecycle event", "key", k, "change", c.Seq, "error", err)
				left = append(left, c)
				continue
			}
			if found {
				s.recent.add(eventID(k, c.Seq))
				continue
			}
		}
		ok, err := s.publish(ctx, k, t, c)
		if err != nil {
			left = append(left, c)
			continue
		}
		if ok {
			stored++
		}
	}
	return left, stored
}

// inStream reports whether the lifecycle stream holds the event of change
// c of t, or a later one of the same side of the transfer.
func (s *Store) inStream(ctx context.Context, t *Transfer, c Change) (bool, error) {
	st, err := s.lifecycleStream(ctx)
	if err != nil {
		return false, err
	}
	msg, err := st.GetLastMsgForSubject(ctx, bus.LifecycleSubject(string(t.Side), t.ConversationID))
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	var ev gp2gpv1.TransferEvent
	if err := proto.Unmarshal(msg.Data, &ev); err != nil {
		return false, fmt.Errorf("decode lifecycle event %d: %w", msg.Sequence, err)
	}
	return ev.GetSequence() >= c.Seq, nil
}

// lifecycleStream returns the lifecycle stream, looked up once.
func (s *Store) lifecycleStream(ctx context.Context) (jetstream.Stream, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.lifecycle == nil {
		st, err := s.bus.JetStream().Stream(ctx, bus.StreamLifecycle)
		if err != nil {
			return nil, err
		}
		s.lifecycle = st
	}
	return s.lifecycle, nil
}

// clearOutbox removes the changes done from t's stored outbox, retrying
// on the fresh record if another writer moved it on (its own events are
// its writer's to publish).
func (s *Store) clearOutbox(ctx context.Context, k string, t *Transfer, done []Change) (*Transfer, error) {
	cleared := make(map[uint64]bool, len(done))
	for _, c := range done {
		cleared[c.Seq] = true
	}
	for range s.maxAttempts {
		kept := t.Outbox[:0:0]
		for _, c := range t.Outbox {
			if !cleared[c.Seq] {
				kept = append(kept, c)
			}
		}
		if len(kept) == len(t.Outbox) {
			return t, nil // someone else already cleared them
		}
		t.Outbox = kept
		data, err := json.Marshal(t)
		if err != nil {
			return t, fmt.Errorf("transfer: encode %s: %w", k, err)
		}
		rev, err := s.kv.Update(ctx, k, data, t.revision)
		if err == nil {
			t.revision, t.raw = rev, data
			return t, nil
		}
		if !isConflict(err) {
			return t, fmt.Errorf("%w: clear outbox of %s: %w", ErrEventsPending, k, err)
		}
		fresh, _, rerr := s.read(ctx, k)
		if rerr != nil {
			return t, fmt.Errorf("%w: clear outbox of %s: %w", ErrEventsPending, k, rerr)
		}
		t = fresh
	}
	return t, fmt.Errorf("%w: clear outbox of %s: %w", ErrEventsPending, k, ErrContended)
}

// Flush publishes every lifecycle event left unpublished in an outbox by
// a process that stopped between storing a change and publishing it, and
// empties the outboxes it settled. Run it at startup; it reads every
// record, so it costs one read per transfer, and a check (see settle) and
// a write per transfer in flight. It returns how many events the stream
// lacked and now holds.
func (s *Store) Flush(ctx context.Context) (published int, err error) {
	published, _, err = s.flush(ctx, time.Time{})
	return published, err
}

// flush is Flush for the outboxes whose oldest event happened before
// cutoff (zero: all); it also counts the outboxes it left.
func (s *Store) flush(ctx context.Context, cutoff time.Time) (published, skipped int, err error) {
	lister, err := s.kv.ListKeys(ctx)
	if err != nil {
		return 0, 0, fmt.Errorf("transfer: list keys: %w", err)
	}
	defer func() { _ = lister.Stop() }()
	var errs []error
	for k := range lister.Keys() {
		t, _, err := s.read(ctx, k)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if len(t.Outbox) == 0 {
			continue
		}
		if !cutoff.IsZero() && !t.Outbox[0].At.Before(cutoff) {
			skipped++
			continue
		}
		left, stored := s.settle(ctx, k, t, t.Outbox)
		published += stored
		if stored > 0 {
			s.logger.InfoContext(bus.WithConversationID(ctx, t.ConversationID), "published lifecycle events left in outbox", "key", k, "events", stored)
		}
		done := make([]Change, 0, len(t.Outbox))
		for _, c := range t.Outbox {
			if !slices.ContainsFunc(left, func(l Change) bool { return l.Seq == c.Seq }) {
				done = append(done, c)
			}
		}
		if _, err := s.clearOutbox(ctx, k, t, done); err != nil {
			errs = append(errs, err)
		}
		if len(left) > 0 {
			errs = append(errs, fmt.Errorf("%w: %s: %d change(s)", ErrEventsPending, k, len(left)))
		}
	}
	return published, skipped, errors.Join(errs...)
}

// DefaultRecoverGrace is how old an outbox's first event must be for
// Recover's first pass to publish it. A younger one is most likely being
// published right now by the process that stored it; Recover publishes
// what is left of those after waiting this long.
const DefaultRecoverGrace = 10 * time.Second

// WithRecoverGrace sets Recover's grace (default DefaultRecoverGrace).
func WithRecoverGrace(d time.Duration) Option {
	return func(s *Store) error {
		if d < 0 {
			return fmt.Errorf("transfer: WithRecoverGrace(%s): negative", d)
		}
		s.recoverGrace = d
		return nil
	}
}

// Recover runs Flush and logs what it did. It is meant to run once when a
// service starts, as one of its workers; it never fails the service, since
// events it cannot publish stay in their outboxes for the next try.
//
// It publishes at once what was left more than the grace
// (WithRecoverGrace) ago, then, after the grace, whatever younger is
// still left: a service starting beside running ones does not race them
// for the events they are publishing (which would be harmless, being
// deduplicated, but would show their events in another trace).
func (s *Store) Recover(ctx context.Context) error {
	n, skipped, err := s.flush(ctx, s.now().Add(-s.recoverGrace))
	if err == nil && skipped > 0 {
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(s.recoverGrace):
		}
		var m int
		m, err = s.Flush(ctx)
		n += m
	}
	if err != nil && ctx.Err() != nil {
		return nil
	}
	if err != nil {
		s.logger.WarnContext(ctx, "some lifecycle events are still unpublished", "published", n, "error", err)
	} else if n > 0 {
		s.logger.InfoContext(ctx, "published lifecycle events left by an earlier run", "published", n)
	}
	return nil
}

// isConflict reports a lost compare-and-set: the record changed since it
// was read.
func isConflict(err error) bool { return errors.Is(err, jetstream.ErrKeyRevisionMismatch) }

// recentEvents is how many published events a store remembers: well over
// the changes in flight in one process.
const recentEvents = 1 << 14

// idSet is a bounded set of strings: it keeps at least the last n added,
// in two generations of up to n each, the older dropped when the newer
// fills.
type idSet struct {
	mu       sync.Mutex
	n        int
	cur, old map[string]struct{}
}

func newIDSet(n int) *idSet {
	return &idSet{n: n, cur: make(map[string]struct{}, n)}
}

func (s *idSet) add(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.cur) >= s.n {
		s.old, s.cur = s.cur, make(map[string]struct{}, s.n)
	}
	s.cur[id] = struct{}{}
}

func (s *idSet) has(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.cur[id]; ok {
		return true
	}
	_, ok := s.old[id]
	return ok
}
