package ops

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"

	"github.com/nats-io/nats.go/jetstream"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/nhsengland/gp2gp/libs/transfer"
)

// ActiveTransfers counts the transfer sides not yet finished, by side and
// state, across the whole deployment: it watches the transfers bucket
// (every key's latest value, then every change) and keeps one small entry
// per key, so the count is right however many processes changed the
// records, and after a restart. Observe exports it as
// MetricTransfersInFlight. The mireporter runs one.
type ActiveTransfers struct {
	mu     sync.Mutex
	states map[string]sideState // by key
	counts map[sideState]int64
	ready  bool
}

type sideState struct {
	side  transfer.Side
	state transfer.State
}

// NewActiveTransfers returns an empty count; Run fills it.
func NewActiveTransfers() *ActiveTransfers {
	return &ActiveTransfers{states: map[string]sideState{}, counts: map[sideState]int64{}}
}

// Run watches kv (the transfers bucket) until ctx ends, then returns nil.
// It returns an error if the watch cannot start or stops by itself.
func (a *ActiveTransfers) Run(ctx context.Context, kv jetstream.KeyValue) error {
	w, err := kv.WatchAll(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("ops: watch %s: %w", kv.Bucket(), err)
	}
	defer func() { _ = w.Stop() }()
	for {
		select {
		case <-ctx.Done():
			return nil
		case e, ok := <-w.Updates():
			if !ok {
				if ctx.Err() != nil {
					return nil
				}
				return fmt.Errorf("ops: watch of %s stopped", kv.Bucket())
			}
			if e == nil { // every existing key has been seen
				a.mu.Lock()
				a.ready = true
				a.mu.Unlock()
				continue
			}
			a.apply(e.Key(), e.Operation(), e.Value())
		}
	}
}

// apply records the latest value of key.
func (a *ActiveTransfers) apply(key string, op jetstream.KeyValueOp, value []byte) {
	var now sideState
	live := false
	if op == jetstream.KeyValuePut {
		var t struct {
			Side  transfer.Side  `json:"side"`
			State transfer.State `json:"state"`
		}
		if json.Unmarshal(value, &t) == nil && t.Side.Has(t.State) && !t.Side.Terminal(t.State) {
			now, live = sideState{t.Side, t.State}, true
		}
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if was, ok := a.states[key]; ok {
		a.counts[was]--
		delete(a.states, key)
	}
	if live {
		a.states[key] = now
		a.counts[now]++
	}
}

// Count is how many sides of side are in state now (every non-terminal
// state of side when state is "").
func (a *ActiveTransfers) Count(side transfer.Side, state transfer.State) int64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	var n int64
	for k, c := range a.counts {
		if k.side == side && (state == "" || k.state == state) {
			n += c
		}
	}
	return n
}

// Ready reports whether every record that existed when Run started has
// been counted.
func (a *ActiveTransfers) Ready() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.ready
}

// errNotCounted: the gauge is left out until the first full count.
var errNotCounted = errors.New("ops: transfers in flight: still counting the existing transfers")

// Observe registers MetricTransfersInFlight on meter, observing every
// non-terminal state of each side (0 included, so that series do not
// vanish) once the existing records have been counted. Unregister the
// returned registration to stop observing.
func (a *ActiveTransfers) Observe(meter metric.Meter) (metric.Registration, error) {
	if meter == nil {
		return nil, errors.New("ops: ActiveTransfers.Observe: nil meter")
	}
	gauge, err := meter.Int64ObservableGauge(MetricTransfersInFlight, metric.WithUnit("{transfer}"),
		metric.WithDescription("Transfer sides not yet finished, by side and state"))
	if err != nil {
		return nil, fmt.Errorf("ops: create in-flight gauge: %w", err)
	}
	reg, err := meter.RegisterCallback(func(ctx context.Context, o metric.Observer) error {
		a.mu.Lock()
		defer a.mu.Unlock()
		if !a.ready {
			return errNotCounted
		}
		for _, side := range []transfer.Side{transfer.Requesting, transfer.Sending} {
			for _, st := range side.States() {
				if side.Terminal(st) {
					continue
				}
				o.ObserveInt64(gauge, a.counts[sideState{side, st}], metric.WithAttributeSet(attribute.NewSet(
					attribute.String(AttrSide, sideValue(side)), attribute.String(AttrState, string(st)))))
			}
		}
		return nil
	}, gauge)
	if err != nil {
		return nil, fmt.Errorf("ops: register in-flight gauge: %w", err)
	}
	return reg, nil
}
