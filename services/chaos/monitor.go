package chaos

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/nhsengland/gp2gp/libs/transfer"
)

// monitor follows the transfers in the transfer records until each has
// both sides in a terminal state.
type monitor struct {
	store *transfer.Store
	w     *workload

	mu       sync.Mutex
	finished map[string]bool
}

func newMonitor(store *transfer.Store, w *workload) *monitor {
	return &monitor{store: store, w: w, finished: map[string]bool{}}
}

// pollEvery is how often unfinished transfers are looked at;
// progressEvery how often progress is printed.
const (
	pollEvery     = 500 * time.Millisecond
	progressEvery = 15 * time.Second
)

// watch returns true once the load is done and every transfer has
// finished, false when ctx ends first.
func (m *monitor) watch(ctx context.Context, loadDone <-chan struct{}, progress func(done, total int)) bool {
	lastProgress := time.Now()
	total := len(m.w.transfers)
	for {
		for _, t := range m.w.transfers {
			if _, ok := t.registered(); !ok || m.isFinished(t.ConversationID) {
				continue
			}
			if m.terminal(ctx, t.ConversationID) {
				m.mu.Lock()
				m.finished[t.ConversationID] = true
				m.mu.Unlock()
			}
		}
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

func (m *monitor) isFinished(conv string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.finished[conv]
}

func (m *monitor) count() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.finished)
}

// terminal reports whether both sides of conv exist and are terminal. A
// read that fails (the broker is down) counts as not yet.
func (m *monitor) terminal(ctx context.Context, conv string) bool {
	for _, side := range []transfer.Side{transfer.Requesting, transfer.Sending} {
		gctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		t, err := m.store.Get(gctx, side, conv)
		cancel()
		if err != nil || !t.Terminal() {
			return false
		}
	}
	return true
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
