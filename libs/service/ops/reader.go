package ops

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/nhsengland/gp2gp/libs/transfer"
)

// TransferReader reads transfer records for the ops views.
//
// Get returns one side's record; an error wrapping transfer.ErrNotFound
// when there is none and transfer.ErrInvalid when the conversation id is
// malformed. List returns the records f selects, at most f.Limit of them
// (DefaultLimit when 0), in the order Filter documents; an error wrapping
// ErrInvalidFilter when f is malformed.
type TransferReader interface {
	Get(ctx context.Context, side transfer.Side, conversationID string) (*transfer.Transfer, error)
	List(ctx context.Context, f Filter) (*ListResult, error)
}

// Filter.State values that select more than one state.
const (
	// StateActive selects sides not yet in a terminal state.
	StateActive = "active"
	// StateTerminal selects sides in a terminal state.
	StateTerminal = "terminal"
)

// List bounds.
const (
	DefaultLimit = 100
	MaxLimit     = 10000
)

// Filter selects transfer sides to list. The zero Filter selects every
// side, newest first, up to DefaultLimit.
//
// Results are sorted by when the state last changed: most recent first,
// except with Stuck, where the longest stuck come first. Ties are broken
// by conversation id, then side.
type Filter struct {
	// Side restricts to "requesting" or "sending"; "" is both.
	Side transfer.Side
	// State is a state name (INTEGRATED, REQUEST_SENT, …; any case),
	// StateActive, StateTerminal, or "" for any.
	State string
	// Practice is an ODS code matching either the side's practice or its
	// peer; "" for any.
	Practice string
	// Stuck selects sides not in a terminal state whose state last changed
	// more than Stuck ago; 0 for no such condition.
	Stuck time.Duration
	// Limit bounds the number of results: 0 means DefaultLimit; at most
	// MaxLimit.
	Limit int
}

// Validate reports a malformed filter, wrapping ErrInvalidFilter.
func (f Filter) Validate() error {
	_, err := f.normalized()
	return err
}

func (f Filter) normalized() (Filter, error) {
	f.Practice = strings.ToUpper(strings.TrimSpace(f.Practice))
	f.State = strings.TrimSpace(f.State)
	if f.Side != "" && !f.Side.Valid() {
		return f, fmt.Errorf("%w: side %q: want requesting or sending", ErrInvalidFilter, f.Side)
	}
	switch lower := strings.ToLower(f.State); lower {
	case "", StateActive, StateTerminal:
		f.State = lower
	default:
		f.State = strings.ToUpper(f.State)
		st := transfer.State(f.State)
		if f.Side != "" && !f.Side.Has(st) || f.Side == "" && !transfer.Requesting.Has(st) && !transfer.Sending.Has(st) {
			return f, fmt.Errorf("%w: state %q: want a transfer state, %s or %s", ErrInvalidFilter, f.State, StateActive, StateTerminal)
		}
	}
	if f.Stuck < 0 {
		return f, fmt.Errorf("%w: stuck %s: must not be negative", ErrInvalidFilter, f.Stuck)
	}
	switch {
	case f.Limit < 0 || f.Limit > MaxLimit:
		return f, fmt.Errorf("%w: limit %d: want 1 to %d", ErrInvalidFilter, f.Limit, MaxLimit)
	case f.Limit == 0:
		f.Limit = DefaultLimit
	}
	return f, nil
}

// match reports whether f, normalized, selects t at time now.
func (f Filter) match(t *transfer.Transfer, now time.Time) bool {
	switch f.State {
	case "":
	case StateActive:
		if t.Terminal() {
			return false
		}
	case StateTerminal:
		if !t.Terminal() {
			return false
		}
	default:
		if string(t.State) != f.State {
			return false
		}
	}
	if f.Practice != "" && !strings.EqualFold(t.Practice.ODS, f.Practice) && !strings.EqualFold(t.Peer.ODS, f.Practice) {
		return false
	}
	if f.Stuck > 0 && (t.Terminal() || now.Sub(lastChangeAt(t)) <= f.Stuck) {
		return false
	}
	return true
}

// compare orders two records as f's results are sorted.
func (f Filter) compare(a, b *transfer.Transfer) int {
	c := lastChangeAt(b).Compare(lastChangeAt(a)) // most recent first
	if f.Stuck > 0 {
		c = -c // longest stuck first
	}
	return cmp.Or(c, cmp.Compare(a.ConversationID, b.ConversationID), cmp.Compare(a.Side, b.Side))
}

// ListResult is what List found.
type ListResult struct {
	// Transfers are the selected sides, sorted, at most the filter's limit.
	Transfers []*transfer.Transfer
	// Matched is how many sides matched, before the limit.
	Matched int
	// Unreadable lists keys whose records could not be decoded; they are
	// left out of Transfers.
	Unreadable []string
}

// KVTransferReader is the TransferReader over the transfers key-value
// bucket (bus.BucketTransfers). List reads every key of the bucket (or of
// one side) with one request each, so it costs as much as there are
// transfers kept (84 days' worth): it is an operator's tool, not for a hot
// path. It keeps only the results within the limit in memory.
type KVTransferReader struct {
	kv    jetstream.KeyValue
	store *transfer.Store
	now   func() time.Time
}

// ReaderOption configures a KVTransferReader.
type ReaderOption func(*KVTransferReader) error

// WithClock sets the time Filter.Stuck is measured from (default
// time.Now).
func WithClock(now func() time.Time) ReaderOption {
	return func(r *KVTransferReader) error {
		if now == nil {
			return errors.New("ops: WithClock: nil clock")
		}
		r.now = now
		return nil
	}
}

// NewKVTransferReader reads records through store and lists the keys of
// kv, which must be the bucket store uses.
func NewKVTransferReader(kv jetstream.KeyValue, store *transfer.Store, opts ...ReaderOption) (*KVTransferReader, error) {
	if kv == nil || store == nil {
		return nil, errors.New("ops: NewKVTransferReader: nil bucket or store")
	}
	r := &KVTransferReader{kv: kv, store: store, now: time.Now}
	for _, o := range opts {
		if err := o(r); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// Get returns one side's record.
func (r *KVTransferReader) Get(ctx context.Context, side transfer.Side, conversationID string) (*transfer.Transfer, error) {
	return r.store.Get(ctx, side, conversationID)
}

// List returns the records f selects. See KVTransferReader for its cost.
func (r *KVTransferReader) List(ctx context.Context, f Filter) (*ListResult, error) {
	f, err := f.normalized()
	if err != nil {
		return nil, err
	}
	now := r.now()
	listCtx, cancel := context.WithCancel(ctx)
	var lister jetstream.KeyLister
	if f.Side != "" {
		lister, err = r.kv.ListKeysFiltered(listCtx, string(f.Side)+".*")
	} else {
		lister, err = r.kv.ListKeys(listCtx)
	}
	if err != nil {
		cancel()
		return nil, fmt.Errorf("ops: list transfer keys: %w", err)
	}
	keys := lister.Keys()
	defer func() {
		// Stop the lister and let its goroutine finish.
		cancel()
		_ = lister.Stop()
		for range keys {
		}
	}()
	res := &ListResult{}
	seen := map[string]bool{} // the lister may repeat a key updated meanwhile
	for k := range keys {
		if seen[k] {
			continue
		}
		seen[k] = true
		side, id, ok := strings.Cut(k, ".")
		if !ok || !transfer.Side(side).Valid() {
			res.Unreadable = append(res.Unreadable, k)
			continue
		}
		t, err := r.store.Get(ctx, transfer.Side(side), id)
		switch {
		case errors.Is(err, transfer.ErrNotFound):
			continue // removed since listed
		case errors.Is(err, transfer.ErrInvalid):
			res.Unreadable = append(res.Unreadable, k)
			continue
		case err != nil:
			return nil, fmt.Errorf("ops: list transfers: %w", err)
		}
		if !f.match(t, now) {
			continue
		}
		res.Matched++
		i, _ := slices.BinarySearchFunc(res.Transfers, t, f.compare)
		if i >= f.Limit {
			continue
		}
		res.Transfers = slices.Insert(res.Transfers, i, t)
		if len(res.Transfers) > f.Limit {
			res.Transfers = res.Transfers[:f.Limit]
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("ops: list transfers: %w", err)
	}
	return res, nil
}
