package mireport

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
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
	// rowBytes is the bytes per row of the last file parsed, 0 before
	// the first.
	rowBytes int
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

// readDayFile reads the whole day file into b.data. A plain file's
// buffer is sized from its length up front: growing it by doubling would
// copy it several times and touch half as much memory again, and fresh
// memory is costly (each page is faulted in by the kernel).
func readDayFile(path string, b *batch) error {
	r, closeFile, err := openDayFile(path)
	if err != nil {
		return err
	}
	b.data = b.data[:0]
	if f, ok := r.(sizer); ok {
		if info, err := f.Stat(); err == nil && info.Size() < maxDayFile {
			// One byte more than the file, so that the read that fills
			// it is followed by one that reports io.EOF, and room for
			// a somewhat larger file to come: the buffer is reused.
			if size := int(info.Size()) + 1; size > cap(b.data) {
				b.data = slices.Grow(b.data, size+size/8)
			}
		}
	}
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

// sizer is a day file that knows its size: a plain file.
type sizer interface {
	Stat() (os.FileInfo, error)
}

func parseDay(ctx context.Context, b *batch) error {
	b.rows, b.extra = b.rows[:0], b.extra[:0]
	// Make room for the rows up front, rather than growing the slice by
	// copying: as many as the file's lines (counted in the first file,
	// estimated from its bytes per row after), with an eighth more for
	// the files to come, which reuse the slice.
	rows := 0
	if b.rowBytes > 0 {
		rows = len(b.data) / b.rowBytes
	} else {
		rows = bytes.Count(b.data, []byte{'\n'}) + 1
	}
	if rows > cap(b.rows) {
		b.rows = make([]parsedRow, 0, rows+rows/8)
	}
	defer func() { b.rowBytes = len(b.data) / max(len(b.rows), 1) }()
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
		if spans, inPlace := sr.Spans(); inPlace {
			for i, sp := range spans {
				pr.spans[i] = span{uint32(sp.Start), uint32(sp.End)}
			}
		} else { // quoted: keep a copy of the fields
			pr.copied = true
			for i, f := range [fieldCount][]byte{row.ConversationID, row.MessageID, row.Interaction, row.Sender,
				row.Recipient, row.MessageRef, row.FromSystem, row.ToSystem} {
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
