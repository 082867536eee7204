package mireporter

import (
	"cmp"
	"context"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/nhsengland/gp2gp/libs/mi"
)

// model is the mireporter's in-memory view of the MI bucket: the message
// events of every open conversation, the classification of every
// conversation and the monthly counts they sum to. It is fed only by the
// bucket's watcher, so a restart rebuilds exactly what was there, and two
// deliveries of one message event are one key, counted once.
type model struct {
	mu     sync.Mutex
	cutoff time.Duration
	now    func() time.Time
	lookup mi.PracticeLookup // ODS metadata; nil when none is configured

	// open conversations: message id → event.
	open map[string]map[string]heldEvent
	// classified is the current classification of every conversation
	// that starts with an EHR request.
	classified map[string]entry
	// counts sums the contributions by month and requesting practice.
	counts map[mi.Month]map[practiceKey]mi.Counts
	// asidODS learns practices' ODS codes from message and lifecycle
	// events, for ASIDs the metadata does not know.
	asidODS map[string]string
	// dirty conversations need classifying again.
	dirty map[string]bool
	// changed months have figures not yet written to the bucket.
	changed map[mi.Month]bool
	// ready is set, and readyCh closed, once the watcher has replayed the
	// bucket.
	ready   bool
	readyCh chan struct{}
}

// heldEvent is a message event and its position in the messages stream,
// which orders events of the same time as they happened.
type heldEvent struct {
	mi.Event
	seq uint64
}

// entry is one conversation's classification and its contribution.
type entry struct {
	transfer mi.Transfer
	final    bool
	// counted is false for a closed conversation that is not a transfer
	// (its first message was not an EHR request): remembered as closed,
	// counted nowhere.
	counted bool
	key     practiceKey
}

// practiceKey is the requesting practice a transfer is counted under; the
// zero key is "not attributed" (counted nationally only).
type practiceKey struct {
	ODS, Name, SICBLODS, SICBLName string
}

func newModel(cutoff time.Duration, now func() time.Time, lookup mi.PracticeLookup) *model {
	return &model{
		cutoff: cutoff, now: now, lookup: lookup,
		open:       make(map[string]map[string]heldEvent),
		classified: make(map[string]entry),
		counts:     make(map[mi.Month]map[practiceKey]mi.Counts),
		asidODS:    make(map[string]string),
		dirty:      make(map[string]bool),
		changed:    make(map[mi.Month]bool),
		readyCh:    make(chan struct{}),
	}
}

// addEvent records a message event of an open conversation. It reports
// false for an event of a closed conversation, which is not counted.
func (m *model) addEvent(e mi.Event, seq uint64) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if en, ok := m.classified[e.ConversationID]; ok && en.final {
		return false // beyond the cutoff: the classification is closed
	}
	evs := m.open[e.ConversationID]
	if evs == nil {
		evs = make(map[string]heldEvent)
		m.open[e.ConversationID] = evs
	}
	evs[e.MessageID] = heldEvent{Event: e, seq: seq}
	m.dirty[e.ConversationID] = true
	return true
}

// learn records that asid is practice ods.
func (m *model) learn(asid, ods string) {
	asid, ods = strings.TrimSpace(asid), strings.ToUpper(strings.TrimSpace(ods))
	if asid == "" || ods == "" {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.asidODS[asid] == ods {
		return
	}
	m.asidODS[asid] = ods
	// Classifications that could not attribute this ASID are redone.
	for conv, en := range m.classified {
		if !en.final && (en.transfer.RequestingPracticeASID == asid || en.transfer.SendingPracticeASID == asid) {
			m.dirty[conv] = true
		}
	}
}

// knows reports whether asid's ODS code has been learnt.
func (m *model) knows(asid, ods string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.asidODS[asid] == strings.ToUpper(strings.TrimSpace(ods))
}

// setFinal records the closed classification of conv; t is nil when conv
// is not a transfer.
// It returns the ids of the conversation's message events it held.
func (m *model) setFinal(conv string, t *mi.Transfer) []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	ids := make([]string, 0, len(m.open[conv]))
	for id := range m.open[conv] {
		ids = append(ids, id)
	}
	delete(m.open, conv)
	delete(m.dirty, conv)
	m.setLocked(conv, t, true)
	return ids
}

// openIDs lists the ids of conv's message events.
func (m *model) openIDs(conv string) []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	ids := make([]string, 0, len(m.open[conv]))
	for id := range m.open[conv] {
		ids = append(ids, id)
	}
	return ids
}

// isFinal reports whether conv's classification is closed.
func (m *model) isFinal(conv string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.classified[conv].final
}

// setLocked replaces conv's classification and moves its contribution.
// t nil means the conversation is not a transfer (no EHR request first).
func (m *model) setLocked(conv string, t *mi.Transfer, final bool) {
	if old, ok := m.classified[conv]; ok {
		if old.counted {
			m.addCounts(old.transfer.Month(), old.key, mi.CountsOf(old.transfer), -1)
		}
		delete(m.classified, conv)
	}
	if t == nil {
		if final {
			m.classified[conv] = entry{final: true}
		}
		return
	}
	key := practiceKey{}
	if p := t.RequestingPractice; p != nil {
		key = practiceKey{ODS: p.ODSCode, Name: p.Name, SICBLODS: p.SICBLODSCode, SICBLName: p.SICBLName}
	}
	m.classified[conv] = entry{transfer: *t, final: final, counted: true, key: key}
	m.addCounts(t.Month(), key, mi.CountsOf(*t), 1)
}

func (m *model) addCounts(month mi.Month, key practiceKey, c mi.Counts, sign int) {
	m.changed[month] = true
	byPractice := m.counts[month]
	if byPractice == nil {
		byPractice = make(map[practiceKey]mi.Counts)
		m.counts[month] = byPractice
	}
	if sign < 0 {
		c = byPractice[key].Sub(c)
	} else {
		c = byPractice[key].Add(c)
	}
	if c == (mi.Counts{}) {
		delete(byPractice, key)
		if len(byPractice) == 0 {
			delete(m.counts, month)
		}
		return
	}
	byPractice[key] = c
}

// reclassify classifies every dirty conversation again, and returns the
// conversations whose cutoff has passed (to be closed).
func (m *model) reclassify() (due []closing) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	for conv := range m.dirty {
		delete(m.dirty, conv)
		t, _ := m.classifyLocked(conv, now)
		m.setLocked(conv, t, false)
	}
	for conv := range m.open {
		if t, closed := m.classifyLocked(conv, now); closed {
			due = append(due, closing{conv: conv, transfer: t})
		}
	}
	return due
}

// closing is a conversation whose cutoff has passed, with its final
// classification (nil when it is not a transfer).
type closing struct {
	conv     string
	transfer *mi.Transfer
}

// classifyLocked classifies conv's events as of now; closed reports that
// the cutoff has passed.
func (m *model) classifyLocked(conv string, now time.Time) (t *mi.Transfer, closed bool) {
	held := make([]heldEvent, 0, len(m.open[conv]))
	for _, e := range m.open[conv] {
		held = append(held, e)
	}
	if len(held) == 0 {
		return nil, false
	}
	// Events of the same time (clocks are coarse) keep the order they were
	// published in, which follows the protocol: a request before its ack.
	slices.SortFunc(held, func(a, b heldEvent) int {
		return cmp.Or(a.Time.Compare(b.Time), cmp.Compare(a.seq, b.seq), cmp.Compare(a.MessageID, b.MessageID))
	})
	evs := make([]mi.Event, len(held))
	for i, e := range held {
		evs[i] = e.Event
	}
	closed = m.cutoff > 0 && now.Sub(evs[0].Time) > m.cutoff
	ts := mi.Classify(evs, m.cutoff)
	if len(ts) == 0 {
		return nil, closed
	}
	mi.Attribute(ts[:1], m.practiceLocked)
	out := ts[0]
	if !closed && inProgress(out) {
		out.InProgress = true
		out.Status, out.FailureReason = mi.StatusProcessFailure, mi.ReasonTransferredNotIntegrated
	}
	return &out, closed
}

// inProgress reports whether a classification made before the cutoff can
// still change with the protocol's normal progress: no effective final
// acknowledgement yet, and no fatal refusal of the request.
func inProgress(t mi.Transfer) bool {
	return t.DateCompleted == nil && t.FailureReason != mi.ReasonFatalSenderError
}

// practiceLocked attributes asid: from the ODS metadata, else by the ODS
// code learnt from events (no name, no Sub-ICB location).
func (m *model) practiceLocked(asid string, month mi.Month) (mi.Practice, bool) {
	if m.lookup != nil {
		if p, ok := m.lookup(asid, month); ok {
			return p, true
		}
	}
	if ods, ok := m.asidODS[asid]; ok {
		return mi.Practice{ODSCode: ods}, true
	}
	return mi.Practice{}, false
}

// transfer returns conv's classification.
func (m *model) transfer(conv string) (mi.Transfer, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	en := m.classified[conv]
	return en.transfer, en.counted
}

// months lists the months with transfers, most recent first.
func (m *model) months() []mi.Month {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]mi.Month, 0, len(m.counts))
	for month := range m.counts {
		out = append(out, month)
	}
	slices.SortFunc(out, func(a, b mi.Month) int { return cmp.Compare(b.String(), a.String()) })
	return out
}

// national sums month's counts.
func (m *model) national(month mi.Month) mi.Counts {
	m.mu.Lock()
	defer m.mu.Unlock()
	var total mi.Counts
	for _, c := range m.counts[month] {
		total = total.Add(c)
	}
	return total
}

// practiceCounts is one practice's counts for one month.
type practiceCounts struct {
	key    practiceKey
	month  mi.Month
	counts mi.Counts
}

// practices lists the counts of practices with a Sub-ICB location (those
// the practice figures include, §2.3), for month, or for every month when
// month is the zero Month; ods restricts it to one practice.
func (m *model) practices(month mi.Month, ods string) []practiceCounts {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []practiceCounts
	for mo, byPractice := range m.counts {
		if month != (mi.Month{}) && mo != month {
			continue
		}
		for key, c := range byPractice {
			if key.ODS == "" || key.SICBLODS == "" || (ods != "" && !strings.EqualFold(key.ODS, ods)) {
				continue
			}
			out = append(out, practiceCounts{key: key, month: mo, counts: c})
		}
	}
	return out
}

// takeChanged returns the months whose figures changed since the last
// call, and forgets them.
func (m *model) takeChanged() []mi.Month {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]mi.Month, 0, len(m.changed))
	for month := range m.changed {
		out = append(out, month)
	}
	clear(m.changed)
	return out
}

// markChanged has months written again (after a failed write).
func (m *model) markChanged(months []mi.Month) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, month := range months {
		m.changed[month] = true
	}
}

// setReady marks the bucket replayed.
func (m *model) setReady() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.ready {
		m.ready = true
		close(m.readyCh)
	}
}

// waitReady waits until the bucket has been replayed or ctx ends.
func (m *model) waitReady(ctx context.Context) error {
	select {
	case <-m.readyCh:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// isReady reports whether the bucket has been replayed.
func (m *model) isReady() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.ready
}
