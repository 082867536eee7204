package mireport

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"sync"

	"github.com/nhsengland/gp2gp/libs/mi"
)

// batch is the rows of one day file, parsed. The file is read whole
// into data and parsed in place: a row's fields are spans of data, or of
// extra for the rare row that needed unquoting.
type batch struct {
	data  []byte
	extra []byte
	rows  []parsedRow
}

// The fields of a parsedRow.
const (
	fConversation = iota
	fMessageID
	fInteraction
	fSender
	fRecipient
	fRef
	fFrom
	fTo
	fieldCount
)

type parsedRow struct {
	at      int64 // Unix ns
	code    int64
	hasCode bool
	copied  bool // the fields are in extra
	spans   [fieldCount]span
}

type span struct{ start, end uint32 }

// field returns field f of row r.
func (b *batch) field(r *parsedRow, f int) []byte {
	sp := r.spans[f]
	if r.copied {
		return b.extra[sp.start:sp.end]
	}
	return b.data[sp.start:sp.end]
}

// maxDayFile bounds a day file, whose offsets are 32-bit.
const maxDayFile = math.MaxUint32 >> 1

// parseDayFile parses the day file at path into b, reusing its memory.
func parseDayFile(ctx context.Context, path string, b *batch) error {
	err := readDayFile(path, b)
	if err == nil {
		err = parseDay(ctx, b)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// readDayFile reads the whole day file into b.data.
func readDayFile(path string, b *batch) error {
	r, closeFile, err := openDayFile(path)
	if err != nil {
		return err
	}
	b.data = b.data[:0]
	for {
		if len(b.data) == cap(b.data) {
			b.data = slices.Grow(b.data, max(cap(b.data), 1<<20))
		}
		n, rerr := r.Read(b.data[len(b.data):cap(b.data)])
		b.data = b.data[:len(b.data)+n]
		if errors.Is(rerr, io.EOF) {
			break
		}
		if rerr != nil {
			err = rerr
			break
		}
		if len(b.data) > maxDayFile {
			err = errors.New("day file too large (over 2 GB)")
			break
		}
	}
	if cerr := closeFile(); err == nil {
		err = cerr
	}
	return err
}

func parseDay(ctx context.Context, b *batch) error {
	b.rows, b.extra = b.rows[:0], b.extra[:0]
	sr, err := mi.NewSpineReaderBytes(b.data)
	if err != nil {
		return err
	}
	for n := 0; ; n++ {
		if n&0xffff == 0xffff {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		row, err := sr.ReadRow()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		pr := parsedRow{at: row.Time.UnixNano(), code: int64(row.ErrorCode), hasCode: row.HasErrorCode}
		fields := [fieldCount][]byte{row.ConversationID, row.MessageID, row.Interaction, row.Sender,
			row.Recipient, row.MessageRef, row.FromSystem, row.ToSystem}
		for i, f := range fields {
			off, ok := sr.Offset(f)
			if !ok {
				pr.copied = true
				break
			}
			pr.spans[i] = span{uint32(off), uint32(off + len(f))}
		}
		if pr.copied { // quoted: keep a copy of the fields
			for i, f := range fields {
				start := len(b.extra)
				b.extra = append(b.extra, f...)
				pr.spans[i] = span{uint32(start), uint32(len(b.extra))}
			}
			if len(b.extra) > maxDayFile {
				return errors.New("day file too large (over 2 GB of quoted fields)")
			}
		}
		b.rows = append(b.rows, pr)
	}
}

// dayFile is one day file to read, by day index.
type dayFile struct {
	day  int
	path string
}

// parsedFile is a parsed day file, or why it could not be parsed.
type parsedFile struct {
	dayFile
	b   *batch
	err error
}

// prefetcher parses day files in order on its own goroutine, one file
// ahead of the consumer, reusing two batches.
type prefetcher struct {
	out    chan parsedFile
	free   chan *batch
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// prefetch starts parsing files; stop must be called.
func prefetch(ctx context.Context, files []dayFile) *prefetcher {
	ctx, cancel := context.WithCancel(ctx)
	p := &prefetcher{out: make(chan parsedFile, 1), free: make(chan *batch, 2), cancel: cancel}
	p.free <- &batch{}
	p.free <- &batch{}
	p.wg.Go(func() {
		defer close(p.out)
		for _, f := range files {
			var b *batch
			select {
			case b = <-p.free:
			case <-ctx.Done():
				return
			}
			err := parseDayFile(ctx, f.path, b)
			select {
			case p.out <- parsedFile{dayFile: f, b: b, err: err}:
			case <-ctx.Done():
				return
			}
			if err != nil {
				return
			}
		}
	})
	return p
}

// next returns the next parsed file; false when there are no more.
func (p *prefetcher) next() (parsedFile, bool) {
	f, ok := <-p.out
	return f, ok
}

// release gives a batch back once its rows have been used.
func (p *prefetcher) release(b *batch) { p.free <- b }

// stop ends the parsing goroutine and waits for it.
func (p *prefetcher) stop() {
	p.cancel()
	p.wg.Wait()
}
