package mireport

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"fmt"
	"math"
	"math/bits"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/nhsengland/gp2gp/libs/mi"
)

// importer turns the rows of consecutive day files into classified,
// attributed transfers while holding as little as it can: a
// conversation's rows are kept, compactly, only until every row its
// cutoff can keep has been read (the files of its first day and the
// cutoff days after), then it is classified and only its Transfer stays.
//
// This gives what classifying all the rows at once would (§1.2, §1.6),
// provided each file holds the rows of its own UTC day, as the
// spine-exporter writes them: a row of a conversation already classified
// that its cutoff would have kept (a row filed under a later day) is
// counted in lateRows and otherwise ignored.
//
// Rows are stored per starting day in pointer-free arenas, which are
// recycled from day to day, so that the garbage collector has next to
// nothing to scan and little fresh memory is needed. The goroutine that
// calls addBatch assembles conversations; classifiers on their own
// goroutines classify and attribute the days handed over to them, each
// writing a day's transfers into its region of one slice.
type importer struct {
	cutoff time.Duration
	// window is how many day files the requests are taken from; the
	// files after them (overflow days) only complete conversations.
	window int

	ids     convTable          // every conversation seen, open or classified
	longIDs map[string]convRef // those whose id is too long for a convKey
	days    []*day             // open conversations by the day index they started on
	firsts  [][]int64          // first row time of each conversation, by day, kept after classification
	strs    interner
	// lateRows counts rows left out for being filed after their
	// conversation was classified.
	lateRows int

	jobs    chan dayJob     // to the classifiers
	spare   chan *day       // arenas of classified days, from the classifiers
	results [][]mi.Transfer // by day, each written by one classifier
	workers sync.WaitGroup  // the classifiers
	closed  bool
	// The classifiers write the transfers of a day straight into its
	// region of out, which starts where the previous day's ends if each
	// of that day's conversations were a transfer; finish closes the gaps.
	out      []mi.Transfer
	outStart int   // where the next day's region starts
	regions  []int // where each day's region starts; -1: none
}

// dayJob is a day handed to a classifier, with what it reads of the
// importer's state as of the handover (append-only, so safe to read).
type dayJob struct {
	day    int
	d      *day // nil: no conversation started that day
	firsts []int64
	strs   []string
	out    []mi.Transfer // empty, with room for a transfer per conversation; nil: none
}

// convKey is a conversation id of up to 39 bytes (Spine's are UUIDs, 36),
// length first: a key of the convTable, without pointers, quick to hash
// and compare (as the words of wordsOf).
type convKey [40]byte

// keyOf returns the convKey of id, and false when id is too long for one.
func keyOf(id []byte) (convKey, bool) {
	var k convKey
	if len(id) >= len(k) {
		return k, false
	}
	k[0] = byte(len(id))
	copy(k[1:], id)
	return k, true
}

// convRef locates a conversation: the day index it started on and its
// index among that day's conversations.
type convRef struct{ day, index uint32 }

// day holds the conversations that started on one day until they are
// classified: their rows in arrival order and the text of their ids.
type day struct {
	convs    []convMeta
	rows     []row
	text     []byte
	reqs     []request
	bigCodes map[int]int64 // by row index: codes outside int32, rare
}

type convMeta struct {
	idStart, idEnd uint32 // the conversation id in text
	rows           uint32
}

// row is one Event without its conversation id, in 64 bytes, a cache
// line: a day holds tens of thousands of them for the cutoff's two
// weeks, which its classifier reads in the order of their conversations,
// so one memory access a row. Message id and ref are msgIDs; interaction
// and sender are interned; the recipient and systems, which Classify
// reads of the EHR request only, are the day's reqs[req-1] for such a
// row (req is 0 for the others).
type row struct {
	at                  int64 // Unix ns
	conv                uint32
	code                int32 // the jdiEvent code, or noCode, or bigCode
	interaction, sender uint32
	req                 uint32
	msg, ref            msgID
}

// A msgID is a message id or ref of a row: nothing (all zeros) for none,
// a UUID as appendID encodes it (its first byte lowerID or upperID), or
// for any other id textID and where appendID's encoding of it lies in the
// day's text, as two uint32s.
type msgID [17]byte

// textID marks a msgID whose id is in the day's text.
const textID = upperID + 1

// setID sets m to id, appending it to the day's text if it is not a UUID.
func (d *day) setID(m *msgID, id []byte) {
	switch k, ok := uuidID(id); {
	case ok:
		*m = k
	case len(id) == 0:
		*m = msgID{}
	default:
		start := len(d.text)
		d.text = appendID(d.text, id)
		m[0] = textID
		binary.LittleEndian.PutUint32(m[1:], uint32(start))
		binary.LittleEndian.PutUint32(m[5:], uint32(len(d.text)))
	}
}

// id returns the appendID encoding of m, nil for none.
func (d *day) id(m *msgID) []byte {
	switch m[0] {
	case 0:
		return nil
	case textID:
		return d.text[binary.LittleEndian.Uint32(m[1:]):binary.LittleEndian.Uint32(m[5:])]
	}
	return m[:]
}

// Codes of a row that are not its own: it has none, or one outside int32,
// in its day's bigCodes. Either value as a code goes to bigCodes too.
const (
	noCode  = math.MinInt32
	bigCode = math.MinInt32 + 1
)

// request is what a row of an EHR request has more than other rows:
// its recipient and supplier systems, interned.
type request struct{ recipient, from, to uint32 }

// importerConfig says what an importer imports.
type importerConfig struct {
	start      time.Time // the first day of the window
	window     int       // days of requests
	cutoffDays int
	workers    int               // classifiers
	lookup     mi.PracticeLookup // attributes the transfers
}

// newImporter starts an importer; finish or close must be called to stop
// its goroutines.
func newImporter(cfg importerConfig) *importer {
	workers := max(cfg.workers, 1)
	imp := &importer{
		cutoff:  time.Duration(cfg.cutoffDays) * 24 * time.Hour,
		window:  cfg.window,
		ids:     newConvTable(),
		longIDs: make(map[string]convRef),
		days:    make([]*day, cfg.window),
		firsts:  make([][]int64, cfg.window),
		strs:    newInterner(),
		jobs:    make(chan dayJob, cfg.window),
		spare:   make(chan *day, workers+1),
		results: make([][]mi.Transfer, cfg.window),
		regions: make([]int, cfg.window),
	}
	for range workers {
		cl := &dayClassifier{
			cutoff: imp.cutoff, from: cfg.start, to: cfg.start.AddDate(0, 0, cfg.window),
			classifier: mi.NewClassifier(imp.cutoff), lookup: cfg.lookup,
			longPractices: make(map[string]*mi.Practice), codes: make(map[int64]*int),
			bigCodes: make(map[uint32]int64),
		}
		imp.workers.Go(func() {
			for j := range imp.jobs {
				imp.results[j.day] = cl.classifyDay(j)
				if j.d != nil {
					select {
					case imp.spare <- j.d:
					default:
					}
				}
			}
		})
	}
	return imp
}

// close stops the classifiers, discarding their work, if finish has not.
func (imp *importer) close() {
	if !imp.closed {
		imp.closed = true
		close(imp.jobs)
		imp.workers.Wait()
	}
}

// addBatch adds the rows of a part of the file of day index dayIndex
// (0 = the first day of the window), after startDay.
func (imp *importer) addBatch(dayIndex int, b *batch) {
	overflow := dayIndex >= imp.window
	// The conversations of a group of rows are looked up before the rows
	// are added: the lookups, a cache miss each into a table of tens of
	// megabytes, then overlap rather than wait for one another.
	var found [lookupGroup]lookedUp
	for start := 0; start < len(b.rows); start += lookupGroup {
		group := b.rows[start:min(start+lookupGroup, len(b.rows))]
		for k := range group {
			f := &found[k]
			f.conv, f.convKnown, _, _ = imp.lookup(b.field(&group[k], fConversation))
			f.sender, f.senderKnown = imp.strs.findASID(b.field(&group[k], fSender))
		}
		for k := range group {
			imp.add(b, &group[k], dayIndex, overflow, &found[k])
		}
	}
}

// lookedUp is what addBatch found of a row before adding it: its
// conversation and its interned sender, if known.
type lookedUp struct {
	conv                   convRef
	sender                 uint32
	convKnown, senderKnown bool
}

// lookupGroup is how many rows addBatch looks up at a time.
const lookupGroup = 16

// lookup finds a conversation by id; remember, given what lookup
// returned, records it.
func (imp *importer) lookup(id []byte) (ref convRef, known bool, w keyWords, short bool) {
	if w, short = wordsOf(id); short {
		ref, known = imp.ids.get(&w)
	} else {
		ref, known = imp.longIDs[string(id)]
	}
	return ref, known, w, short
}

func (imp *importer) remember(id []byte, w *keyWords, short bool, ref convRef) {
	if short {
		imp.ids.put(w, ref)
	} else {
		imp.longIDs[string(id)] = ref
	}
}

// add adds a row, given what was found of it when its group was looked
// up.
func (imp *importer) add(b *batch, e *parsedRow, dayIndex int, overflow bool, found *lookedUp) {
	at := e.at
	convID := b.field(e, fConversation)
	ref, known := found.conv, found.convKnown
	var key keyWords
	var short bool
	if !known { // unless a row before it in its group started it
		ref, known, key, short = imp.lookup(convID)
	}
	var d *day
	switch {
	case !known && overflow:
		return // started after the window: no transfer of the window
	case !known:
		d = imp.days[dayIndex]
		ref = convRef{day: uint32(dayIndex), index: uint32(len(d.convs))}
		imp.remember(convID, &key, short, ref)
		start := len(d.text)
		d.text = append(d.text, convID...)
		d.convs = append(d.convs, convMeta{idStart: uint32(start), idEnd: uint32(len(d.text))})
		imp.firsts[dayIndex] = append(imp.firsts[dayIndex], at)
	default:
		d = imp.days[ref.day]
		if d == nil { // classified already
			if at-imp.firsts[ref.day][ref.index] <= int64(imp.cutoff) {
				imp.lateRows++
			}
			return
		}
	}
	first := &imp.firsts[ref.day][ref.index]
	*first = min(*first, at)
	d.convs[ref.index].rows++
	sender := found.sender
	if !found.senderKnown {
		sender = imp.strs.asid(b.field(e, fSender))
	}
	d.rows = append(d.rows, row{}) // filled in place
	r := &d.rows[len(d.rows)-1]
	*r = row{
		at:          at,
		conv:        ref.index,
		interaction: imp.strs.few(&imp.strs.interactions, b.field(e, fInteraction)),
		sender:      sender,
		code:        noCode,
	}
	if e.hasCode {
		if e.code > bigCode && e.code <= math.MaxInt32 {
			r.code = int32(e.code)
		} else {
			r.code = bigCode
			if d.bigCodes == nil {
				d.bigCodes = make(map[int]int64)
			}
			d.bigCodes[len(d.rows)-1] = e.code
		}
	}
	// Classify reads the recipient and the systems of the EHR request only
	// (the sending practice, the suppliers): the other rows go without.
	if imp.strs.isRequest(r.interaction) {
		d.reqs = append(d.reqs, request{
			recipient: imp.strs.asid(b.field(e, fRecipient)),
			from:      imp.strs.few(&imp.strs.systems, b.field(e, fFrom)),
			to:        imp.strs.few(&imp.strs.systems, b.field(e, fTo)),
		})
		r.req = uint32(len(d.reqs))
	}
	d.setID(&r.msg, b.field(e, fMessageID))
	d.setID(&r.ref, b.field(e, fRef))
}

// appendID appends a message id or ref to text, encoded so that two ids
// are equal exactly when their encodings are, which is all Classify asks
// of them: a UUID in its canonical form (8-4-4-4-12 hex digits, letters
// of one case) as a byte telling the case and its 16 bytes, anything else
// as rawID and its bytes, the empty id as nothing. UUIDs, as Spine's ids
// are, so take 17 bytes rather than 36.
func appendID(text, id []byte) []byte {
	if len(id) == 0 {
		return text
	}
	if k, ok := uuidID(id); ok {
		return append(text, k[:]...)
	}
	text = append(text, rawID)
	return append(text, id...)
}

// uuidID returns appendID's encoding of id if it is a UUID in its
// canonical form, and false if it is not.
func uuidID(id []byte) (k msgID, ok bool) {
	if len(id) != 36 || id[8] != '-' || id[13] != '-' || id[18] != '-' || id[23] != '-' {
		return k, false
	}
	u := (*[36]byte)(id)
	var flags byte
	// The hex pairs at constant offsets of an array: no bounds checks.
	pair := func(i int) byte {
		hi, lo := hexDigit[u[i]], hexDigit[u[i+1]]
		flags |= hi | lo
		return hi<<4 | lo&0x0f
	}
	k = msgID{0, pair(0), pair(2), pair(4), pair(6), pair(9), pair(11), pair(14), pair(16),
		pair(19), pair(21), pair(24), pair(26), pair(28), pair(30), pair(32), pair(34)}
	switch flags & (hexBad | hexUpper | hexLower) {
	case 0, hexLower:
		k[0] = lowerID
		return k, true
	case hexUpper:
		k[0] = upperID
		return k, true
	}
	return k, false
}

// The first byte of an id as appendID encodes it.
const (
	rawID   = iota // the id's bytes follow
	lowerID        // a UUID without upper-case letters: its 16 bytes follow
	upperID        // a UUID with upper-case letters only
)

// hexDigit maps a byte to its value as a hex digit in the low four bits,
// with flags above: a letter's case, or not a hex digit at all.
var hexDigit = func() (t [256]byte) {
	for c := range t {
		switch {
		case '0' <= c && c <= '9':
			t[c] = byte(c - '0')
		case 'a' <= c && c <= 'f':
			t[c] = byte(c-'a'+10) | hexLower
		case 'A' <= c && c <= 'F':
			t[c] = byte(c-'A'+10) | hexUpper
		default:
			t[c] = hexBad
		}
	}
	return t
}()

// Flags of hexDigit.
const (
	hexUpper = 1 << 4
	hexLower = 1 << 5
	hexBad   = 1 << 6
)

// startDay makes the arenas of a window day before its file is read, b
// being its first part and size its size (0 if not known): those of a
// classified day if one is spare, else a quarter larger than the
// previous day's, or for the first day than what the file would put in
// them if all its rows started conversations, reckoned from b. This
// saves growing them by copying, which would touch fresh memory twice
// over.
func (imp *importer) startDay(dayIndex int, b *batch, size int64) {
	if dayIndex >= imp.window || imp.days[dayIndex] != nil {
		return
	}
	var d *day
	select {
	case d = <-imp.spare:
		d.convs, d.rows, d.text, d.reqs, d.bigCodes = d.convs[:0], d.rows[:0], d.text[:0], d.reqs[:0], nil
	default:
		d = &day{}
		convs, rows, text := 0, len(b.rows), 0
		if prev := imp.days[max(dayIndex-1, 0)]; prev != nil {
			convs, rows, text = len(prev.convs), len(prev.rows), len(prev.text)
		} else {
			for i := range b.rows {
				r := &b.rows[i]
				text += int(r.spans[fConversation].end - r.spans[fConversation].start) // UUID message ids are in the rows
			}
			if len(b.data) > 0 && size > int64(len(b.data)) {
				scale := float64(size) / float64(len(b.data))
				rows, text = int(float64(rows)*scale), int(float64(text)*scale)
			}
		}
		d.convs = make([]convMeta, 0, convs+convs/4)
		d.rows = make([]row, 0, rows+rows/4)
		d.text = make([]byte, 0, text+text/4)
		d.reqs = make([]request, 0, convs+convs/4)
	}
	imp.firsts[dayIndex] = make([]int64, 0, cap(d.convs))
	imp.days[dayIndex] = d
}

// endOfDay hands the classifiers the conversations that the day file of
// index dayIndex has completed: those started cutoff days before it.
// With no cutoff nothing is complete before the last file.
func (imp *importer) endOfDay(dayIndex int) {
	if dayIndex == 0 && imp.window > 0 && imp.firsts[0] != nil {
		// Size the table of conversations for the window at once, from
		// its first day, an eighth more: growing it by doubling would
		// rehash every key and leave twice its memory behind.
		imp.ids.reserve(len(imp.firsts[0]) * imp.window * 9 / 8)
	}
	if imp.cutoff <= 0 {
		return
	}
	if started := dayIndex - int(imp.cutoff/(24*time.Hour)); started >= 0 && started < len(imp.days) {
		imp.handOver(started)
	}
}

// handOver hands a day to the classifiers. Days are handed over in order.
func (imp *importer) handOver(dayIndex int) {
	d := imp.days[dayIndex]
	imp.days[dayIndex] = nil
	j := dayJob{day: dayIndex, d: d, firsts: imp.firsts[dayIndex], strs: imp.strs.strs}
	if d != nil {
		n := len(d.convs)
		if imp.out == nil {
			imp.out = make([]mi.Transfer, imp.estimate())
			// Touch every page of the slice now, with stores that need no
			// write barrier. Allocating tens of megabytes starts a
			// collection, which scans the slice: it would read each page
			// in (the kernel mapping its zero page) and the classifiers'
			// writes would then fault each one in again. (clear would
			// not do: while the collector marks, it reads before it
			// writes.)
			for i := range imp.out {
				imp.out[i].InProgress = false
			}
		}
		imp.regions[dayIndex] = -1
		if imp.outStart+n <= len(imp.out) {
			j.out = imp.out[imp.outStart : imp.outStart : imp.outStart+n]
			imp.regions[dayIndex] = imp.outStart
		}
		imp.outStart += n
	}
	imp.jobs <- j
}

// estimate is how many transfers there may be: the conversations of the
// window days started so far, and as many again a day as on average for
// the days to come, plus an eighth. A day that finds no room left keeps
// its transfers apart, and finish then copies them all into one slice.
func (imp *importer) estimate() int {
	known, days := 0, 0
	for i, f := range imp.firsts {
		if f != nil {
			known += len(f)
			days = i + 1
		}
	}
	if days == 0 {
		return 0
	}
	return (known + known/days*(imp.window-days)) * 9 / 8
}

// finish classifies every conversation still open and returns the
// transfers requested in the window, attributed, ordered as mi.Classify
// orders them.
func (imp *importer) finish() []mi.Transfer {
	for i := range imp.days {
		if imp.days[i] != nil || imp.firsts[i] == nil { // not handed over yet
			imp.handOver(i)
		}
	}
	imp.close()
	transfers := imp.gather()
	byRequest := func(a, b mi.Transfer) int {
		return cmp.Or(a.DateRequested.Compare(b.DateRequested), cmp.Compare(a.ConversationID, b.ConversationID))
	}
	if !slices.IsSortedFunc(transfers, byRequest) { // only when a file holds other days' rows
		slices.SortStableFunc(transfers, byRequest)
	}
	if transfers == nil {
		return []mi.Transfer{}
	}
	return transfers
}

// gather returns the transfers of every day, in day order, in one slice:
// out, its gaps closed, unless a day found no room in it.
func (imp *importer) gather() []mi.Transfer {
	n := 0
	inPlace := true
	for day, r := range imp.results {
		n += len(r)
		inPlace = inPlace && (len(r) == 0 || imp.regions[day] >= 0)
	}
	if !inPlace {
		all := make([]mi.Transfer, 0, n)
		for day, r := range imp.results {
			all = append(all, r...)
			imp.results[day] = nil
		}
		return all
	}
	w := 0
	for day, r := range imp.results {
		w += copy(imp.out[w:], r) // down, or in place: w <= imp.regions[day]
		imp.results[day] = nil
	}
	return imp.out[:w:w]
}

// dayClassifier classifies the conversations of the days handed to it.
// It runs on its own goroutine and owns its fields.
type dayClassifier struct {
	cutoff     time.Duration
	classifier *mi.Classifier
	// from and to bound the request times kept: [from, to).
	from, to time.Time
	lookup   mi.PracticeLookup
	// The practices of ASIDs in month: found[i] for the ASID whose
	// shortKey practices maps to i, or in longPractices; nil for an
	// unknown ASID.
	practices     shortTable
	found         []*mi.Practice
	longPractices map[string]*mi.Practice
	byIndex       []cachedPractice // the same by interned ASID, for practiceAt
	// lastMonth is the month of the last transfer, [monthStart,
	// monthEnd) its times.
	lastMonth            mi.Month
	monthStart, monthEnd time.Time
	month                mi.Month
	idBuf                []byte     // reused: the conversation ids of one day
	events               []mi.Event // reused for one conversation
	// Reused for one day: its rows by conversation (the codes outside
	// int32 by their index there), and its conversations by first row.
	rows         []row
	bigCodes     map[uint32]int64
	starts, next []uint32
	convs        []byFirst
	ids          [][]byte // reused: the distinct message ids of one conversation
	idHashes     []uint64 // reused: idHash of each of ids
	tokens       []string // "#0", "#1", …: stand-ins for message ids
	codes        map[int64]*int
}

// cachedPractice is a practice of practiceAt's cache.
type cachedPractice struct {
	p   *mi.Practice
	set bool
}

// byFirst is a conversation of a day by its first row's time.
type byFirst struct {
	first int64
	conv  uint32
}

// resize returns *s with length n, growing it if need be, with room for
// a quarter more (the days to come may be larger: growing it again would
// take fresh memory); its elements are for the caller to set.
func resize[T any](s *[]T, n int) []T {
	if n > cap(*s) {
		*s = make([]T, n, n+n/4)
	}
	*s = (*s)[:n]
	return *s
}

// classifyDay classifies the conversations that started on a day, in the
// order of their first rows (the order of their transfers), and returns
// the transfers requested in the window, attributed.
func (cl *dayClassifier) classifyDay(j dayJob) []mi.Transfer {
	d, firsts := j.d, j.firsts
	if d == nil {
		return nil
	}

	// Rows by conversation, keeping arrival order: a counting sort, the
	// rows copied in their new order. Reading the day's rows in order and
	// writing each where it goes is much quicker than reading them in
	// conversation order where they lie: the rows of a conversation are
	// spread over the day's arena, and reading one a cache miss.
	starts := resize(&cl.starts, len(d.convs)+1)
	starts[0] = 0
	for i, c := range d.convs {
		starts[i+1] = starts[i] + c.rows
	}
	next := resize(&cl.next, len(d.convs))
	copy(next, starts)
	rows := resize(&cl.rows, len(d.rows))
	clear(cl.bigCodes)
	for i := range d.rows {
		r := &d.rows[i]
		at := next[r.conv]
		rows[at] = *r
		next[r.conv]++
		if r.code == bigCode {
			cl.bigCodes[at] = d.bigCodes[i]
		}
	}

	convs := resize(&cl.convs, len(d.convs))
	for i := range convs {
		convs[i] = byFirst{firsts[i], uint32(i)}
	}
	slices.SortFunc(convs, func(a, b byFirst) int {
		if a.first != b.first {
			return cmp.Compare(a.first, b.first)
		}
		ma, mb := d.convs[a.conv], d.convs[b.conv]
		return bytes.Compare(d.text[ma.idStart:ma.idEnd], d.text[mb.idStart:mb.idEnd])
	})
	// The conversation ids, as one string: a quarter of a million small
	// strings cost more to allocate than to copy.
	n := 0
	for _, c := range d.convs {
		n += int(c.idEnd - c.idStart)
	}
	idBuf := resize(&cl.idBuf, n)[:0]
	for _, cf := range convs {
		meta := d.convs[cf.conv]
		idBuf = append(idBuf, d.text[meta.idStart:meta.idEnd]...)
	}
	cl.idBuf = idBuf
	ids := string(idBuf)

	transfers := j.out
	if transfers == nil {
		transfers = make([]mi.Transfer, 0, len(convs))
	}
	for _, cf := range convs {
		c := cf.conv
		meta := d.convs[c]
		id := ids[:meta.idEnd-meta.idStart]
		ids = ids[len(id):]
		cl.ids, cl.idHashes = cl.ids[:0], cl.idHashes[:0]
		evs := cl.events[:0]
		// The row of the earliest event (the first of those at the same
		// time): the EHR request, if the conversation is a transfer.
		first, firstAt := uint32(0), int64(math.MaxInt64)
		for i := starts[c]; i < starts[c+1]; i++ {
			r := &rows[i]
			if r.at < firstAt {
				first, firstAt = i, r.at
			}
			e := mi.Event{
				ConversationID: id,
				MessageID:      cl.token(d.id(&r.msg)),
				Interaction:    j.strs[r.interaction],
				Sender:         j.strs[r.sender],
				MessageRef:     cl.token(d.id(&r.ref)),
				Time:           time.Unix(0, r.at).UTC(),
			}
			if r.req > 0 {
				req := d.reqs[r.req-1]
				e.Recipient, e.FromSystem, e.ToSystem = j.strs[req.recipient], j.strs[req.from], j.strs[req.to]
			}
			switch r.code {
			case noCode:
			case bigCode:
				e.ErrorCode = cl.code(cl.bigCodes[i])
			default:
				e.ErrorCode = cl.code(int64(r.code))
			}
			evs = append(evs, e)
		}
		if t, ok := cl.classifier.Conversation(evs); ok && !t.DateRequested.Before(cl.from) && t.DateRequested.Before(cl.to) {
			m := cl.monthOf(t.DateRequested)
			req := &rows[first]
			recipient := uint32(0)
			if req.req > 0 {
				recipient = d.reqs[req.req-1].recipient
			}
			t.RequestingPractice = cl.practiceAt(j.strs, req.sender, t.RequestingPracticeASID, m)
			t.SendingPractice = cl.practiceAt(j.strs, recipient, t.SendingPracticeASID, m)
			transfers = append(transfers, t)
		}
		cl.events = evs[:0] // what the events point to outlives them anyway
	}
	return transfers
}

// token stands in for a message id or ref of the conversation being
// classified: the same token for the same bytes, "" for none. Classify
// only compares ids, and a transfer keeps none of them, so the strings
// need not be the ids themselves; they cost no allocation.
//
// The ids seen are searched by a hash of each first, as comparing ids
// byte by byte, a dozen times per row, cost more than all else here.
func (cl *dayClassifier) token(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	h := idHash(b)
	i := 0
	for ; i < len(cl.idHashes); i++ {
		if cl.idHashes[i] == h && bytes.Equal(cl.ids[i], b) {
			break
		}
	}
	if i == len(cl.ids) {
		cl.ids = append(cl.ids, b)
		cl.idHashes = append(cl.idHashes, h)
	}
	for len(cl.tokens) <= i {
		cl.tokens = append(cl.tokens, "#"+strconv.Itoa(len(cl.tokens)))
	}
	return cl.tokens[i]
}

// idHash is a quick hash of a message id for token: its length and its
// first and last eight bytes (fewer if it is shorter), which for UUIDs
// are random digits. Equal ids have equal hashes.
func idHash(b []byte) uint64 {
	if len(b) < 8 {
		var w [8]byte
		copy(w[:], b)
		return binary.LittleEndian.Uint64(w[:]) ^ uint64(len(b))<<59
	}
	return binary.LittleEndian.Uint64(b) ^ bits.RotateLeft64(binary.LittleEndian.Uint64(b[len(b)-8:]), 29) ^ uint64(len(b))
}

// monthOf is mi.MonthOf(t), quicker for a t in the month of the last
// t: a day's transfers are of one month.
func (cl *dayClassifier) monthOf(t time.Time) mi.Month {
	if !t.Before(cl.monthStart) && t.Before(cl.monthEnd) {
		return cl.lastMonth
	}
	m := mi.MonthOf(t)
	cl.lastMonth = m
	cl.monthStart = time.Date(m.Year, m.Month, 1, 0, 0, 0, 0, time.UTC)
	cl.monthEnd = cl.monthStart.AddDate(0, 1, 0)
	return m
}

// practiceAt is practice of asid, which is likely strs[i], the ASID of
// the request row: the transfer's practices are its sender and
// recipient. When it is, the practice is cached by i, without hashing
// the ASID at all.
func (cl *dayClassifier) practiceAt(strs []string, i uint32, asid string, m mi.Month) *mi.Practice {
	if m != cl.month || strs[i] != asid { // the string compared is nearly always the same
		return cl.practice(asid, m)
	}
	if int(i) >= len(cl.byIndex) { // strs has grown: so does the cache, its new slots unset
		n := max(int(i)+1, len(strs))
		cl.byIndex = slices.Grow(cl.byIndex, n-len(cl.byIndex))[:n]
	}
	at := &cl.byIndex[i]
	if !at.set {
		at.p, at.set = cl.practice(asid, m), true
	}
	return at.p
}

// practice attributes an ASID as mi.Attribute does (§1.6), the transfers
// of a practice in a month sharing one *mi.Practice.
//
// The cache is found by the ASID's bytes packed into a shortKey, as the
// interner finds ASIDs (hashing the string for a map took longer than
// the rest of attributing), or through a map for longer ASIDs.
func (cl *dayClassifier) practice(asid string, m mi.Month) *mi.Practice {
	if m != cl.month { // the cache is of one month: nearly always the day's
		cl.practices = shortTable{}
		cl.found = cl.found[:0]
		clear(cl.longPractices)
		clear(cl.byIndex)
		cl.month = m
	}
	key, short := packShort(asid)
	if short {
		if i, ok := cl.practices.get(key); ok {
			return cl.found[i]
		}
	} else if p, ok := cl.longPractices[asid]; ok {
		return p
	}
	var p *mi.Practice
	if found, known := cl.lookup(asid, m); known {
		p = &found
	}
	if short {
		cl.practices.put(key, uint32(len(cl.found)))
		cl.found = append(cl.found, p)
	} else {
		cl.longPractices[asid] = p
	}
	return p
}

// code returns a shared pointer to n: Classify copies codes, never keeps
// or changes the pointers of its input.
func (cl *dayClassifier) code(n int64) *int {
	p, ok := cl.codes[n]
	if !ok {
		v := int(n)
		p = &v
		cl.codes[n] = p
	}
	return p
}

// lateRowsWarning describes the rows left out as filed too late, if any.
func (imp *importer) lateRowsWarning() string {
	if imp.lateRows == 0 {
		return ""
	}
	return fmt.Sprintf("%d rows were filed under a later day than their conversation's cutoff allows for "+
		"and were left out; the files may not hold one UTC day each", imp.lateRows)
}

// interner stores each distinct string of the repetitive columns once and
// names it by index. Columns with few values (interactions, systems) are
// searched linearly; ASIDs, which are numbers, through a map of numbers.
type interner struct {
	strs         []string
	index        map[string]uint32
	asids        shortTable
	interactions []fewValue
	systems      []fewValue
}

// fewValues is how many values a column searched linearly may have
// before the rest go through the map.
const fewValues = 16

func newInterner() interner {
	return interner{strs: []string{""}, index: map[string]uint32{"": 0}}
}

func (in *interner) at(i uint32) string { return in.strs[i] }

// any interns b through the map.
func (in *interner) any(b []byte) uint32 {
	if i, ok := in.index[string(b)]; ok {
		return i
	}
	s := string(b)
	// An interaction's canonical URN is kept as the string URN returns,
	// which ParseInteraction then recognises by its pointer alone.
	if k := mi.ParseInteraction(s); k.URN() == s {
		s = k.URN()
	}
	i := uint32(len(in.strs))
	in.index[s] = i
	in.strs = append(in.strs, s)
	return i
}

// few interns a value of a column with few distinct values, list being
// the column's values seen so far.
func (in *interner) few(list *[]fewValue, b []byte) uint32 {
	// Interaction URNs share a long prefix: compare the last byte first.
	var last byte
	if len(b) > 0 {
		last = b[len(b)-1]
	}
	for _, v := range *list {
		if v.last == last && string(b) == in.strs[v.index] {
			return v.index
		}
	}
	i := in.any(b)
	if len(*list) < fewValues {
		*list = append(*list, fewValue{index: i, last: last,
			request: mi.ParseInteraction(in.strs[i]) == mi.InteractionEHRRequest})
	}
	return i
}

// isRequest reports whether the interned interaction i is the EHR
// request.
func (in *interner) isRequest(i uint32) bool {
	for _, v := range in.interactions {
		if v.index == i {
			return v.request
		}
	}
	return mi.ParseInteraction(in.strs[i]) == mi.InteractionEHRRequest
}

// fewValue is an interned value of a column with few values.
type fewValue struct {
	index   uint32
	last    byte // of the value, if any
	request bool // the value is the EHR request interaction
}

// asid interns an ASID, or any value of up to 15 bytes, through a table
// keyed by its bytes packed into two words (the length in the last byte),
// several times quicker than a map for the one or two lookups per row;
// longer values go through the map.
// findASID returns the index of an ASID interned already, and false if
// it is not.
func (in *interner) findASID(b []byte) (uint32, bool) {
	if len(b) == 0 {
		return 0, true // ""
	}
	if key, short := packShort(b); short {
		return in.asids.get(key)
	}
	i, ok := in.index[string(b)]
	return i, ok
}

func (in *interner) asid(b []byte) uint32 {
	if len(b) == 0 {
		return 0 // ""
	}
	key, short := packShort(b)
	if !short {
		return in.any(b)
	}
	if i, ok := in.asids.get(key); ok {
		return i
	}
	i := in.any(b)
	in.asids.put(key, i)
	return i
}
