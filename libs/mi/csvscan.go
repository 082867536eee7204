package mi

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"io"
)

// csvScanner splits CSV into records the way encoding/csv's Reader does
// with its defaults (comma separator, no comments, strict quotes, every
// record as wide as the first), without allocating per record: a record's
// fields are slices of the reader's buffer, valid until the next call.
// Spine logs rarely quote anything, so a line without a quote is split
// directly; a line with one goes through the full quoted-field grammar,
// which may read further lines.
type csvScanner struct {
	r      *bufio.Reader
	data   []byte // instead of r: all the input, read in place
	pos    int    // in data
	line   int    // lines read so far
	start  int    // line on which the last record started
	width  int    // fields per record, set by the first record
	fields [][]byte
	long   []byte // a line longer than the bufio buffer
	record []byte // unquoted contents of a record with quoted fields
	ends   []int  // field end offsets into record
	// quoteAt and crAt are the offsets in data of the next '"' and '\r'
	// at or after pos, len(data) when there is none; stale when below
	// pos. A line that ends before both is split by nextPlain.
	quoteAt, crAt int
	// bounds are where the fields of the record nextPlain read start in
	// data, and one past the end of the last field: field k is
	// data[bounds[k]:bounds[k+1]-1].
	bounds []int
}

func newCSVScanner(r io.Reader) *csvScanner {
	br, ok := r.(*bufio.Reader)
	if !ok || br.Size() < 64<<10 {
		br = bufio.NewReaderSize(r, 64<<10)
	}
	return &csvScanner{r: br}
}

// newCSVScannerBytes scans data in place: the fields of unquoted records
// are slices of data, whose line ends it may rewrite ("\r\n" to "\n\n").
func newCSVScannerBytes(data []byte) *csvScanner {
	if data == nil {
		data = []byte{}
	}
	return &csvScanner{data: data}
}

// readLine returns the next line with "\r\n" normalised to "\n", as
// encoding/csv reads lines; the last line may lack its "\n".
func (s *csvScanner) readLine() ([]byte, error) {
	var line []byte
	var err error
	if s.data != nil {
		rest := s.data[s.pos:]
		if i := bytes.IndexByte(rest, '\n'); i >= 0 {
			line = rest[:i+1]
		} else {
			line, err = rest, io.EOF
		}
		s.pos += len(line)
	} else {
		line, err = s.readSlice()
	}

	if len(line) > 0 && errors.Is(err, io.EOF) {
		err = nil
		if line[len(line)-1] == '\r' { // encoding/csv drops a \r before EOF
			line = line[:len(line)-1]
		}
	}
	if len(line) == 0 && err != nil {
		return line, err // no line: none counted, so that Continue counts on
	}
	s.line++
	if n := len(line); n >= 2 && line[n-2] == '\r' && line[n-1] == '\n' {
		line[n-2] = '\n'
		line = line[:n-1]
	}
	return line, err
}

// readSlice reads a line from r, however long.
func (s *csvScanner) readSlice() ([]byte, error) {
	line, err := s.r.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		s.long = append(s.long[:0], line...)
		for errors.Is(err, bufio.ErrBufferFull) {
			line, err = s.r.ReadSlice('\n')
			s.long = append(s.long, line...)
		}
		line = s.long
	}
	return line, err
}

func lengthNL(b []byte) int {
	if len(b) > 0 && b[len(b)-1] == '\n' {
		return 1
	}
	return 0
}

// next returns the fields of the next record, io.EOF after the last, or
// a *csv.ParseError (or a read error) for malformed input.
func (s *csvScanner) next() ([][]byte, error) {
	if s.data != nil {
		if bounds, ok := s.nextPlain(); ok {
			fields := s.fields[:0]
			for k := 1; k < len(bounds); k++ {
				fields = append(fields, s.data[bounds[k-1]:bounds[k]-1])
			}
			s.fields = fields
			return s.checkWidth(fields)
		}
	}
	var line []byte
	var err error
	for {
		line, err = s.readLine()
		if err != nil || len(line) != lengthNL(line) {
			break
		}
		// skip empty lines
	}
	if errors.Is(err, io.EOF) {
		return nil, io.EOF
	}
	s.start = s.line
	s.fields = s.fields[:0]
	if bytes.IndexByte(line, '"') < 0 {
		body := line[:len(line)-lengthNL(line)]
		for {
			i := bytes.IndexByte(body, ',')
			if i < 0 {
				s.fields = append(s.fields, body)
				break
			}
			s.fields = append(s.fields, body[:i])
			body = body[i+1:]
		}
	} else if err = s.quoted(line, err); err != nil {
		return nil, err
	}
	if err != nil {
		return nil, err
	}
	return s.checkWidth(s.fields)
}

// checkWidth returns fields, or an error if the record is not as wide as
// the first.
func (s *csvScanner) checkWidth(fields [][]byte) ([][]byte, error) {
	if err := s.checkCount(len(fields)); err != nil {
		return nil, err
	}
	return fields, nil
}

// checkCount returns an error if a record of n fields is not as wide as
// the first.
func (s *csvScanner) checkCount(n int) error {
	switch {
	case s.width == 0:
		s.width = n
	case n != s.width:
		return &csv.ParseError{StartLine: s.start, Line: s.start, Column: 1, Err: csv.ErrFieldCount}
	}
	return nil
}

// nextPlain reads the next line of data, as next would, when it is the
// common kind: not empty, ended by "\n" (or "\r\n"), with no quote and no
// other '\r'. Such a line is one record whose fields are what lies
// between its commas; nextPlain returns their bounds (see s.bounds),
// leaving the width check to its caller. It reports false, having read
// nothing, for any other line, which next then reads the general way.
//
// Finding the next quote and carriage return once for many lines, rather
// than searching each line for them, and noting where fields start rather
// than slicing them (which costs a write barrier each) save a good part
// of the general path's work per line.
func (s *csvScanner) nextPlain() ([]int, bool) {
	rest := s.data[s.pos:]
	nl := bytes.IndexByte(rest, '\n')
	if nl <= 0 {
		return nil, false // no line end (the last line), or an empty line
	}
	if s.quoteAt < s.pos {
		s.quoteAt = s.pos + indexOrLen(rest, '"')
	}
	if s.crAt < s.pos {
		s.crAt = s.pos + indexOrLen(rest, '\r')
	}
	end := s.pos + nl // of the line's contents
	if s.quoteAt < end {
		return nil, false
	}
	if s.crAt < end {
		if s.crAt != end-1 || nl == 1 {
			return nil, false // a '\r' inside the line, or the line is "\r\n"
		}
		s.data[end-1] = '\n' // as readLine normalises "\r\n"
		end--
	}
	from := s.pos
	s.pos += nl + 1
	s.line++
	s.start = s.line
	bounds := append(s.bounds[:0], from)
	line := s.data[from:end]
	for {
		i := bytes.IndexByte(line, ',')
		if i < 0 {
			break
		}
		from += i + 1
		bounds = append(bounds, from)
		line = line[i+1:]
	}
	s.bounds = append(bounds, end+1)
	return s.bounds, true
}

// indexOrLen is the index of the first c in b, or len(b).
func indexOrLen(b []byte, c byte) int {
	if i := bytes.IndexByte(b, c); i >= 0 {
		return i
	}
	return len(b)
}

// quoted parses a record whose first line has a quote, copying field
// contents into s.record; readErr is the error that came with line.
func (s *csvScanner) quoted(line []byte, readErr error) error {
	s.record, s.ends = s.record[:0], s.ends[:0]
	col := 1
	syntax := func(line, col int, err error) error {
		return &csv.ParseError{StartLine: s.start, Line: line, Column: col, Err: err}
	}
fields:
	for {
		if len(line) == 0 || line[0] != '"' {
			i := bytes.IndexByte(line, ',')
			field := line
			if i >= 0 {
				field = field[:i]
			} else {
				field = field[:len(field)-lengthNL(field)]
			}
			if j := bytes.IndexByte(field, '"'); j >= 0 {
				return syntax(s.line, col+j, csv.ErrBareQuote)
			}
			s.record = append(s.record, field...)
			s.ends = append(s.ends, len(s.record))
			if i < 0 {
				break fields
			}
			line = line[i+1:]
			col += i + 1
			continue
		}
		line = line[1:]
		col++
		fieldLine := s.line
		for {
			if i := bytes.IndexByte(line, '"'); i >= 0 {
				s.record = append(s.record, line[:i]...)
				line = line[i+1:]
				col += i + 1
				switch {
				case len(line) > 0 && line[0] == '"':
					s.record = append(s.record, '"')
					line = line[1:]
					col++
				case len(line) > 0 && line[0] == ',':
					line = line[1:]
					col++
					s.ends = append(s.ends, len(s.record))
					continue fields
				case lengthNL(line) == len(line):
					s.ends = append(s.ends, len(s.record))
					break fields
				default:
					return syntax(s.line, col-1, csv.ErrQuote)
				}
			} else if len(line) > 0 {
				s.record = append(s.record, line...)
				if readErr != nil {
					return readErr
				}
				col += len(line)
				line, readErr = s.readLine()
				if len(line) > 0 {
					fieldLine++
					col = 1
				}
				if errors.Is(readErr, io.EOF) {
					readErr = nil
				}
			} else {
				if readErr == nil {
					return syntax(fieldLine, col, csv.ErrQuote)
				}
				return readErr
			}
		}
	}
	if readErr != nil && !errors.Is(readErr, io.EOF) {
		return readErr
	}
	prev := 0
	for _, end := range s.ends {
		s.fields = append(s.fields, s.record[prev:end])
		prev = end
	}
	return nil
}
