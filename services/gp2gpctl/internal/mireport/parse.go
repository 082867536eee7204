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

// batch is the rows of a part of a day file, parsed. The part, whole
// lines of the file, is read into data and parsed in place: a row's
// fields are spans of data, or of extra for the rare row that needed
// unquoting.
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

// maxPart bounds a part of a day file, whose offsets are 32-bit.
const maxPart = math.MaxUint32 >> 1

// partSize is how much of a day file is read and parsed at a time. Day
// files are tens of megabytes; a few parts of a megabyte in flight keep
// the memory of reading small (it is fresh memory, costly to fault in)
// and what the parser wrote still in the cache when the rows are added.
// Tests make it small.
var partSize = 1 << 20

// fileReader reads a day file a part at a time, each part whole lines.
type fileReader struct {
	path  string
	size  int64 // of a plain file; 0 if not known
	r     io.Reader
	close func() error
	sr    *mi.SpineReader // nil before the first part
	carry []byte          // the start of a line read past the last part
	eof   bool
	// whole is set once a part held a quote: a quoted field may hold
	// line ends, so the part's end may not be a line's, and the rest of
	// the file is read as one part.
	whole bool
}

func openFileReader(path string) (*fileReader, error) {
	r, closeFile, err := openDayFile(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	f := &fileReader{path: path, r: r, close: closeFile}
	if st, ok := r.(interface{ Stat() (os.FileInfo, error) }); ok {
		if info, err := st.Stat(); err == nil {
			f.size = info.Size()
		}
	}
	return f, nil
}

// next reads and parses the next part of the file into b, reporting
// whether it was the last. It reads at least partSize bytes (the whole
// rest once a quote is seen), then cuts the part after its last line end
// and keeps the rest for the next part.
func (f *fileReader) next(ctx context.Context, b *batch) (last bool, err error) {
	b.data = append(b.data[:0], f.carry...)
	for !f.eof {
		if len(b.data) >= partSize && !f.whole {
			if bytes.IndexByte(b.data, '"') >= 0 {
				f.whole = true
			} else if bytes.LastIndexByte(b.data, '\n') >= 0 {
				break
			} // else a line longer than a part: read on
		}
		if len(b.data) == cap(b.data) {
			b.data = slices.Grow(b.data, max(partSize, cap(b.data)))
		}
		n, rerr := f.r.Read(b.data[len(b.data):cap(b.data)])
		b.data = b.data[:len(b.data)+n]
		switch {
		case errors.Is(rerr, io.EOF):
			f.eof = true
		case rerr != nil:
			return true, f.fail(rerr)
		case len(b.data) > maxPart:
			return true, f.fail(errors.New("day file too large (over 2 GB in a part)"))
		}
	}
	cut := len(b.data)
	if !f.eof {
		cut = bytes.LastIndexByte(b.data, '\n') + 1
	}
	f.carry = append(f.carry[:0], b.data[cut:]...)
	b.data = b.data[:cut]
	if err := f.parse(ctx, b); err != nil {
		return true, f.fail(err)
	}
	if f.eof {
		return true, f.fail(nil)
	}
	return false, nil
}

// fail closes the file and returns err, naming the file, or the error of
// closing it.
func (f *fileReader) fail(err error) error {
	if cerr := f.close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("%s: %w", f.path, err)
	}
	return nil
}

// parse parses the rows of the part in b.data into b.rows.
func (f *fileReader) parse(ctx context.Context, b *batch) error {
	b.rows, b.extra = b.rows[:0], b.extra[:0]
	if f.sr == nil {
		sr, err := mi.NewSpineReaderBytes(b.data)
		if err != nil {
			return err
		}
		f.sr = sr
	} else {
		f.sr.Continue(b.data)
	}
	sr := f.sr
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
			if len(b.extra) > maxPart {
				return errors.New("day file too large (over 2 GB of quoted fields in a part)")
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

// parsedPart is a parsed part of a day file, or why it could not be
// read or parsed.
type parsedPart struct {
	dayFile
	b    *batch
	last bool  // the file's last part
	size int64 // of the file, if known, else 0
	err  error
}

// prefetcher parses the parts of day files in order on its own
// goroutine, a few parts ahead of the consumer, reusing their batches.
type prefetcher struct {
	out    chan parsedPart
	free   chan *batch
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// partsAhead is how many parts the prefetcher may have parsed and not
// yet had back.
const partsAhead = 4

// prefetch starts parsing files; stop must be called.
func prefetch(ctx context.Context, files []dayFile) *prefetcher {
	ctx, cancel := context.WithCancel(ctx)
	p := &prefetcher{out: make(chan parsedPart, partsAhead), free: make(chan *batch, partsAhead), cancel: cancel}
	for range partsAhead {
		p.free <- &batch{}
	}
	p.wg.Go(func() {
		defer close(p.out)
		for _, df := range files {
			f, err := openFileReader(df.path)
			for last := err != nil; ; {
				var b *batch
				select {
				case b = <-p.free:
				case <-ctx.Done():
					if f != nil && !last {
						_ = f.close()
					}
					return
				}
				if err == nil {
					last, err = f.next(ctx, b)
				}
				part := parsedPart{dayFile: df, b: b, last: last || err != nil, err: err}
				if f != nil {
					part.size = f.size
				}
				select {
				case p.out <- part:
				case <-ctx.Done():
					if !last {
						_ = f.close()
					}
					return
				}
				if err != nil {
					return
				}
				if last {
					break
				}
			}
		}
	})
	return p
}

// next returns the next parsed part; false when there are no more.
func (p *prefetcher) next() (parsedPart, bool) {
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
