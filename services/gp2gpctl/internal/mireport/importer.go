package mireport

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/nhsengland/gp2gp/libs/mi"
)

// importer turns the rows of consecutive day files into classified
// transfers while holding as little as it can: a conversation's rows are
// kept, compactly, only until every row its cutoff can keep has been read
// (the files of its first day and the cutoff days after), then it is
// classified and only its Transfer stays.
//
// This gives what classifying all the rows at once would (§1.2, §1.6),
// provided each file holds the rows of its own UTC day, as the
// spine-exporter writes them: a row of a conversation already classified
// that its cutoff would have kept (a row filed under a later day) is
// counted in lateRows and otherwise ignored.
type importer struct {
	cutoff time.Duration
	// from and to bound the request times kept: [from, to).
	from, to time.Time
	// window is how many day files the requests are taken from; the
	// files after them (overflow days) only complete conversations.
	window int

	convs   map[string]*conversation
	buckets [][]*conversation // by the day index the conversation started on
	done    map[string]int64  // classified conversations → first row time
	strs    interner
	codes   map[int]*int
	events  []mi.Event // reused for classifying one conversation

	transfers []mi.Transfer
	rows      int
	lateRows  int
}

// conversation is the rows of one conversation read so far.
type conversation struct {
	id    string
	first int64 // earliest row time, Unix ns
	rows  []row
}

// row is one Event without what the conversation holds, its repeated
// strings (interaction, ASIDs, systems) interned as indexes.
type row struct {
	at                                       int64 // Unix ns
	id, ref                                  string
	code                                     int32
	hasCode                                  bool
	interaction, sender, recipient, from, to uint32
}

func newImporter(start time.Time, window, cutoffDays int) *importer {
	return &importer{
		cutoff:  time.Duration(cutoffDays) * 24 * time.Hour,
		from:    start,
		to:      start.AddDate(0, 0, window),
		window:  window,
		convs:   make(map[string]*conversation),
		buckets: make([][]*conversation, window),
		done:    make(map[string]int64),
		strs:    newInterner(),
		codes:   make(map[int]*int),
	}
}

// readDay reads the rows of day index day (0 = the first day of the
// window) from r.
func (imp *importer) readDay(day int, r io.Reader, cancelled func() error) error {
	sr, err := mi.NewSpineReader(r)
	if err != nil {
		return err
	}
	overflow := day >= imp.window
	for n := 0; ; n++ {
		if n&0xffff == 0xffff {
			if err := cancelled(); err != nil {
				return err
			}
		}
		e, err := sr.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		imp.rows++
		imp.add(&e, day, overflow)
	}
}

func (imp *importer) add(e *mi.Event, day int, overflow bool) {
	at := e.Time.UnixNano()
	c := imp.convs[e.ConversationID]
	if c == nil {
		if first, ok := imp.done[e.ConversationID]; ok {
			if at-first <= int64(imp.cutoff) {
				imp.lateRows++
			}
			return
		}
		if overflow {
			return // started after the window: no transfer of the window
		}
		c = &conversation{id: strings.Clone(e.ConversationID), first: at, rows: make([]row, 0, 8)}
		imp.convs[c.id] = c
		imp.buckets[day] = append(imp.buckets[day], c)
	}
	c.first = min(c.first, at)
	r := row{
		at:          at,
		id:          strings.Clone(e.MessageID),
		interaction: imp.strs.intern(e.Interaction),
		sender:      imp.strs.intern(e.Sender),
		recipient:   imp.strs.intern(e.Recipient),
		from:        imp.strs.intern(e.FromSystem),
		to:          imp.strs.intern(e.ToSystem),
	}
	if e.MessageRef != "" {
		r.ref = strings.Clone(e.MessageRef)
	}
	if e.ErrorCode != nil {
		r.code, r.hasCode = int32(*e.ErrorCode), true
	}
	c.rows = append(c.rows, r)
}

// endOfDay classifies the conversations that the day file of index day
// has completed: those started cutoff days before it. With no cutoff
// nothing is complete before the last file.
func (imp *importer) endOfDay(day int) {
	if imp.cutoff <= 0 {
		return
	}
	if started := day - int(imp.cutoff/(24*time.Hour)); started >= 0 && started < len(imp.buckets) {
		imp.classifyBucket(started)
	}
}

// finish classifies every conversation still open and returns the
// transfers requested in the window, ordered as mi.Classify orders them.
func (imp *importer) finish() []mi.Transfer {
	for day := range imp.buckets {
		imp.classifyBucket(day)
	}
	byRequest := func(a, b mi.Transfer) int {
		return cmp.Or(a.DateRequested.Compare(b.DateRequested), cmp.Compare(a.ConversationID, b.ConversationID))
	}
	if !slices.IsSortedFunc(imp.transfers, byRequest) {
		slices.SortStableFunc(imp.transfers, byRequest)
	}
	if imp.transfers == nil {
		return []mi.Transfer{}
	}
	return imp.transfers
}

func (imp *importer) classifyBucket(day int) {
	for _, c := range imp.buckets[day] {
		imp.classify(c)
	}
	imp.buckets[day] = nil
}

func (imp *importer) classify(c *conversation) {
	evs := imp.events[:0]
	for i := range c.rows {
		r := &c.rows[i]
		e := mi.Event{
			ConversationID: c.id,
			MessageID:      r.id,
			Interaction:    imp.strs.at(r.interaction),
			Sender:         imp.strs.at(r.sender),
			Recipient:      imp.strs.at(r.recipient),
			MessageRef:     r.ref,
			Time:           time.Unix(0, r.at).UTC(),
			FromSystem:     imp.strs.at(r.from),
			ToSystem:       imp.strs.at(r.to),
		}
		if r.hasCode {
			e.ErrorCode = imp.code(int(r.code))
		}
		evs = append(evs, e)
	}
	for _, t := range mi.Classify(evs, imp.cutoff) {
		if !t.DateRequested.Before(imp.from) && t.DateRequested.Before(imp.to) {
			imp.transfers = append(imp.transfers, t)
		}
	}
	clear(evs)
	imp.events = evs[:0]
	delete(imp.convs, c.id)
	imp.done[c.id] = c.first
	c.rows = nil
}

// code returns a shared pointer to n: Classify copies codes, never keeps
// or changes the pointers of its input.
func (imp *importer) code(n int) *int {
	p, ok := imp.codes[n]
	if !ok {
		p = &n
		imp.codes[n] = p
	}
	return p
}

// interner stores each distinct string once and names it by index.
type interner struct {
	index map[string]uint32
	strs  []string
}

func newInterner() interner {
	return interner{index: map[string]uint32{"": 0}, strs: []string{""}}
}

func (in *interner) intern(s string) uint32 {
	if i, ok := in.index[s]; ok {
		return i
	}
	s = strings.Clone(s)
	i := uint32(len(in.strs))
	in.index[s] = i
	in.strs = append(in.strs, s)
	return i
}

func (in *interner) at(i uint32) string { return in.strs[i] }

// summary describes what was read, for a warning.
func (imp *importer) lateRowsWarning() string {
	if imp.lateRows == 0 {
		return ""
	}
	return fmt.Sprintf("%d rows were filed under a later day than their conversation's cutoff allows for "+
		"and were left out; the files may not hold one UTC day each", imp.lateRows)
}
