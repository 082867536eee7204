package chaos

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/nhsengland/gp2gp/libs/transfer"
)

// monitor follows the transfers in the transfer records until each has
// both sides in a terminal state. It reads at most pollBudget records per
// poll, round robin over the unfinished transfers, so a backlog does not
// turn it into load on the broker; latencies come from the records'
// histories, not from when the monitor noticed.
type monitor struct {
	store *transfer.Store
	w     *workload

	mu       sync.Mutex
	finished map[string]bool
	// sideDone marks the sides seen terminal, by side and conversation.
	sideDone map[transfer.Side]map[string]bool
	next     int
}

func newMonitor(store *transfer.Store, w *workload) *monitor {
	return &monitor{store: store, w: w, finished: map[string]bool{},
		sideDone: map[transfer.Side]map[string]bool{transfer.Requesting: {}, transfer.Sending: {}}}
}

// pollEvery is how often unfinished transfers are looked at, pollBudget
// how many records one look reads at most, and progressEvery how often
// progress is printed.
const (
	pollEvery     = 500 * time.Millisecond
	pollBudget    = 100
	progressEvery = 15 * time.Second
)

// watch returns true once the load is done and every transfer has
// finished, false when ctx ends first.
func (m *monitor) watch(ctx context.Context, loadDone <-chan struct{}, progress func(done, total int)) bool {
	lastProgress := time.Now()
	total := len(m.w.transfers)
	for {
		m.poll(ctx)
		done := m.count()
		select {
		case <-loadDone:
			if done == total {
				progress(done, total)
				return true
			}
		default:
		}
		if time.Since(lastProgress) >= progressEvery {
			progress(done, total)
			lastProgress = time.Now()
		}
		select {
		case <-ctx.Done():
			progress(m.count(), total)
			return false
		case <-time.After(pollEvery):
		}
	}
}

// poll reads up to pollBudget records of unfinished transfers, carrying
// on from where the last poll stopped. The sending side is read first: it
// usually finishes last (COMPLETED once the final ack is in).
func (m *monitor) poll(ctx context.Context) {
	n := len(m.w.transfers)
	budget := pollBudget
	for i := 0; i < n && budget > 0 && ctx.Err() == nil; i++ {
		t := m.w.transfers[(m.next+i)%n]
		if _, ok := t.registered(); !ok || m.isFinished(t.ConversationID) {
			continue
		}
		all := true
		for _, side := range []transfer.Side{transfer.Sending, transfer.Requesting} {
			if m.isSideDone(side, t.ConversationID) {
				continue
			}
			budget--
			if !m.terminal(ctx, side, t.ConversationID) {
				all = false
				break
			}
			m.mu.Lock()
			m.sideDone[side][t.ConversationID] = true
			m.mu.Unlock()
		}
		if all {
			m.mu.Lock()
			m.finished[t.ConversationID] = true
			m.mu.Unlock()
		}
		if budget == 0 {
			m.next = (m.next + i + 1) % n
			return
		}
	}
}

func (m *monitor) isFinished(conv string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.finished[conv]
}

func (m *monitor) isSideDone(side transfer.Side, conv string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.sideDone[side][conv]
}

func (m *monitor) count() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.finished)
}

// terminal reports whether the side of conv exists and is terminal. A
// read that fails (the broker is down) counts as not yet.
func (m *monitor) terminal(ctx context.Context, side transfer.Side, conv string) bool {
	gctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	t, err := m.store.Get(gctx, side, conv)
	return err == nil && t.Terminal()
}

// sides reads both sides of conv, retrying while the broker does not
// answer; a side that does not exist is nil.
func sides(ctx context.Context, store *transfer.Store, conv string) (req, send *transfer.Transfer, err error) {
	read := func(side transfer.Side) (*transfer.Transfer, error) {
		for {
			gctx, cancel := context.WithTimeout(ctx, 2*time.Second)
			t, err := store.Get(gctx, side, conv)
			cancel()
			switch {
			case err == nil:
				return t, nil
			case errors.Is(err, transfer.ErrNotFound):
				return nil, nil
			case ctx.Err() != nil:
				return nil, err
			}
			sleep(ctx, 250*time.Millisecond)
		}
	}
	if req, err = read(transfer.Requesting); err != nil {
		return nil, nil, err
	}
	send, err = read(transfer.Sending)
	return req, send, err
}
