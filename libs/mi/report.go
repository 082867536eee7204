package mi

import (
	"bufio"
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"runtime"
	"slices"
	"sync"
	"time"
)

// BuildReport computes the monthly figures of classified, attributed
// transfers (§2):
//   - Transfers is transfers as given (not copied);
//   - National has one NationalMonth per UTC month of DateRequested
//     present, oldest first, counting every transfer, attributed or not;
//   - Practices has one PracticeMetrics per requesting practice ODS code,
//     ordered by ODS code, leaving out transfers whose requesting practice
//     is unknown or belongs to no Sub-ICB location; a practice's name and
//     Sub-ICB location are those of its latest transfer (by DateRequested;
//     on a tie the later in transfers); its Metrics has one PracticeMonth
//     per month with transfers, most recent first;
//   - SICBLs has each Sub-ICB location of those practices, ordered by ODS
//     code, with its practices' ODS codes sorted.
func BuildReport(transfers []Transfer, generatedOn time.Time) Report {
	return buildReport(transfers, generatedOn, len(transfers)/2 >= parallelTally && runtime.GOMAXPROCS(0) > 1)
}

// buildReport is BuildReport, counting in two halves at once if inHalves.
func buildReport(transfers []Transfer, generatedOn time.Time, inHalves bool) Report {
	// A large month is counted in two halves at once, then the halves'
	// counts added.
	var all tally
	if half := len(transfers) / 2; inHalves {
		var second tally
		var wg sync.WaitGroup
		wg.Go(func() { second.count(transfers[half:]) })
		all.count(transfers[:half])
		wg.Wait()
		all.merge(&second)
	} else {
		all.count(transfers)
	}
	national, practices := all.national, all.practices

	r := Report{
		GeneratedOn: generatedOn,
		Transfers:   transfers,
		National:    make([]NationalMonth, 0, len(national)),
		Practices:   make([]PracticeMetrics, 0, len(practices)),
		SICBLs:      []SICBL{},
	}
	for _, m := range slices.SortedFunc(maps.Keys(national), compareMonths) {
		r.National = append(r.National, NationalOf(m, national[m]))
	}
	sicbls := make(map[string]*SICBL)
	for _, ods := range slices.Sorted(maps.Keys(practices)) {
		p := practices[ods]
		latest := p.latest.RequestingPractice
		pm := PracticeMetrics{
			ODSCode: ods, Name: latest.Name, SICBLODSCode: latest.SICBLODSCode, SICBLName: latest.SICBLName,
			Metrics: make([]PracticeMonth, 0, len(p.months)),
		}
		slices.SortFunc(p.months, func(a, b monthCounts) int { return compareMonths(b.month, a.month) })
		for _, mc := range p.months {
			pm.Metrics = append(pm.Metrics, PracticeMonth{
				Year: mc.month.Year, Month: int(mc.month.Month), RequestedTransfers: RequestedTransfersOf(mc.counts),
			})
		}
		r.Practices = append(r.Practices, pm)
		s := sicbls[latest.SICBLODSCode]
		if s == nil {
			s = &SICBL{ODSCode: latest.SICBLODSCode, Name: latest.SICBLName}
			sicbls[latest.SICBLODSCode] = s
		}
		s.Practices = append(s.Practices, ods) // in ODS order already
	}
	for _, code := range slices.Sorted(maps.Keys(sicbls)) {
		r.SICBLs = append(r.SICBLs, *sicbls[code])
	}
	return r
}

// parallelTally is how many transfers each half of a BuildReport counted
// in two halves at once has at least.
const parallelTally = 20_000

// tally is what BuildReport counts of a run of transfers.
type tally struct {
	national  map[Month]Counts
	practices map[string]*practiceCounts // by ODS code
}

// count counts transfers.
func (a *tally) count(transfers []Transfer) {
	national := make(map[Month]Counts)
	practices := make(map[string]*practiceCounts)
	// The same by pointer, found quicker and without reading the
	// practice; nil for a practice that is left out.
	byPointer := make(map[*Practice]*practiceCounts)
	var month Month        // of the run of transfers being counted
	var from, to time.Time // the times of month: [from, to)
	var counts Counts      // of that run
	for i := range transfers {
		t := &transfers[i]
		c := countsOf(t)
		// Transfers usually come in month order: the month is computed
		// only when a transfer's time is outside the last one's month.
		if t.DateRequested.Before(from) || !t.DateRequested.Before(to) {
			if m := t.Month(); m != month {
				if counts.Requested > 0 {
					national[month] = national[month].Add(counts)
				}
				month, counts = m, Counts{}
			}
			from = time.Date(month.Year, month.Month, 1, 0, 0, 0, 0, time.UTC)
			to = from.AddDate(0, 1, 0)
		}
		m := month
		counts = counts.Add(c)
		rp := t.RequestingPractice
		if rp == nil {
			continue
		}
		p, seen := byPointer[rp]
		if !seen {
			if rp.ODSCode != "" && rp.SICBLODSCode != "" {
				p = practices[rp.ODSCode]
				if p == nil {
					p = &practiceCounts{latest: t}
					practices[rp.ODSCode] = p
				}
			}
			byPointer[rp] = p
		}
		if p == nil {
			continue
		}
		if !t.DateRequested.Before(p.latest.DateRequested) {
			p.latest = t
		}
		p.add(m, c)
	}
	if counts.Requested > 0 {
		national[month] = national[month].Add(counts)
	}
	a.national, a.practices = national, practices
}

// merge adds to a the counts of b, of the transfers after a's.
func (a *tally) merge(b *tally) {
	for m, c := range b.national {
		a.national[m] = a.national[m].Add(c)
	}
	for ods, q := range b.practices {
		p := a.practices[ods]
		if p == nil {
			a.practices[ods] = q
			continue
		}
		if !q.latest.DateRequested.Before(p.latest.DateRequested) { // a tie goes to b's, the later
			p.latest = q.latest
		}
		for _, mc := range q.months {
			p.add(mc.month, mc.counts)
		}
	}
}

// practiceCounts is what BuildReport gathers of a practice: its latest
// transfer and the counts of each month it has transfers in (few).
type practiceCounts struct {
	latest *Transfer
	months []monthCounts
}

type monthCounts struct {
	month  Month
	counts Counts
}

func (p *practiceCounts) add(m Month, c Counts) {
	for i := range p.months {
		if p.months[i].month == m {
			p.months[i].counts = p.months[i].counts.Add(c)
			return
		}
	}
	p.months = append(p.months, monthCounts{m, c})
}

func compareMonths(a, b Month) int {
	return cmp.Or(cmp.Compare(a.Year, b.Year), cmp.Compare(a.Month, b.Month))
}

// WriteJSON writes r as JSON to w, the same bytes as json.Marshal(r)
// followed by a newline, streaming the transfers rather than building the
// whole document in memory. Large reports are encoded by several
// goroutines, a few thousand transfers at a time, and written in order.
func (r *Report) WriteJSON(w io.Writer) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	head := struct {
		GeneratedOn time.Time `json:"generatedOn"`
	}{r.GeneratedOn}
	b, err := json.Marshal(head)
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	b = append(b[:len(b)-1], `,"transfers":`...)
	if r.Transfers == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		if _, err := bw.Write(b); err != nil {
			return fmt.Errorf("report: %w", err)
		}
		if err := writeTransfersJSON(bw, r.Transfers); err != nil {
			return fmt.Errorf("report: %w", err)
		}
		b = append(b[:0], ']')
	}
	rest, err := json.Marshal(struct {
		National  []NationalMonth   `json:"national"`
		Practices []PracticeMetrics `json:"practices"`
		SICBLs    []SICBL           `json:"sicbls"`
	}{r.National, r.Practices, r.SICBLs})
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	b = append(b, ',')
	b = append(b, rest[1:]...)
	b = append(b, '\n')
	if _, err := bw.Write(b); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	return nil
}

// transfersPerChunk is how many transfers one goroutine of
// writeTransfersJSON encodes at a time: a quarter of a megabyte of JSON,
// so that the buffers being written stay in the cache.
const transfersPerChunk = 256

// chunkBytesPerTransfer is the room a buffer of writeTransfersJSON is
// made with per transfer: a transfer's JSON is about 900 bytes, so that
// buffers need not grow (by copying, into fresh memory) as they fill.
const chunkBytesPerTransfer = 1024

// writeTransfersJSON writes the JSON of ts separated by commas.
func writeTransfersJSON(w io.Writer, ts []Transfer) error {
	chunks := (len(ts) + transfersPerChunk - 1) / transfersPerChunk
	workers := min(runtime.GOMAXPROCS(0), 4, chunks)
	if workers <= 1 { // a chunk at a time, in one buffer
		var b []byte
		practices := make(map[*Practice]*practiceFields)
		for c := range chunks {
			part := ts[c*transfersPerChunk : min((c+1)*transfersPerChunk, len(ts))]
			var err error
			if b, err = encodeTransfers(b[:0], part, c*transfersPerChunk, practices); err != nil {
				return err
			}
			if _, err := w.Write(b); err != nil {
				return err
			}
		}
		return nil
	}
	type encoded struct {
		b   []byte
		err error
	}
	type job struct {
		chunk int
		buf   []byte
		out   chan encoded
	}
	// Each chunk is encoded by one of the workers into the channel made
	// for it; order holds the channels in chunk order, at most workers
	// of them at a time. free recycles the buffers (a few more than
	// workers are in use at a time: those of the chunks queued, being
	// encoded, in order and being written). Each worker keeps the JSON
	// of the practices it has met.
	order := make(chan chan encoded, workers)
	jobs := make(chan job, workers)
	free := make(chan []byte, 3*workers+2)
	done := make(chan struct{})
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			practices := make(map[*Practice]*practiceFields)
			for j := range jobs {
				part := ts[j.chunk*transfersPerChunk : min((j.chunk+1)*transfersPerChunk, len(ts))]
				b, err := encodeTransfers(j.buf[:0], part, j.chunk*transfersPerChunk, practices)
				j.out <- encoded{b, err}
			}
		})
	}
	wg.Go(func() {
		defer close(jobs)
		defer close(order)
		for c := range chunks {
			var buf []byte
			select {
			case buf = <-free:
			default: // room for a chunk of transfers of a usual size
				buf = make([]byte, 0, transfersPerChunk*chunkBytesPerTransfer)
			}
			// The job first: the writer waits for each channel it takes
			// from order, so a channel must be in order only once its
			// chunk is sure to be encoded.
			out := make(chan encoded, 1)
			select {
			case jobs <- job{c, buf, out}:
			case <-done:
				return
			}
			select {
			case order <- out:
			case <-done:
				return
			}
		}
	})
	var err error
	for out := range order {
		e := <-out
		if err == nil {
			err = e.err
			if err == nil {
				_, err = w.Write(e.b)
			}
			if err != nil {
				close(done)
			}
		}
		select {
		case free <- e.b:
		default:
		}
	}
	wg.Wait()
	return err
}

// encodeTransfers appends the JSON of ts to b, each preceded by a comma
// but the first of all (index 0), keeping the JSON of their practices in
// practices.
func encodeTransfers(b []byte, ts []Transfer, first int, practices map[*Practice]*practiceFields) ([]byte, error) {
	var err error
	for i := range ts {
		if first+i > 0 {
			b = append(b, ',')
		}
		if b, err = ts[i].appendJSON(b, practices); err != nil {
			return b, err
		}
	}
	return b, nil
}
