package mi

import (
	"bytes"
	"encoding/csv"
	"errors"
	"io"
	"strings"
	"time"
	"unicode/utf8"
)

// SpineReader reads the Spine message-log CSV of §1.1 one row at a time,
// with the rules of ParseSpineCSV, so that a day's log need not be held
// in memory. The CSV grammar is encoding/csv's (RFC 4180, every row as
// wide as the header).
type SpineReader struct {
	sc    *csvScanner
	row   SpineRow
	buf   []byte // Read's copy of a row's fields
	dates spineDateCache
	// column indexes of the required and optional columns; -1 when an
	// optional column is absent
	time, conversation, guid, interaction, sender, recipient, ref, jdi, from, to int
	// spans are where the row's string fields lie in data, if inPlace.
	spans   [8]Span
	inPlace bool
}

// A Span is where a field of a row lies in the data of
// NewSpineReaderBytes: data[Start:End].
type Span struct{ Start, End int }

// SpineRow is one row of a Spine log as ReadRow returns it: the fields of
// an Event, the strings as byte slices into the reader's buffer that the
// next call of ReadRow or Read overwrites. Fields are trimmed of
// surrounding space; a messageRef of "NotProvided" is empty.
type SpineRow struct {
	ConversationID, MessageID, Interaction, Sender, Recipient, MessageRef, FromSystem, ToSystem []byte
	// ErrorCode is the jdiEvent code when HasErrorCode is true.
	ErrorCode    int
	HasErrorCode bool
	Time         time.Time
}

// NewSpineReader reads the header row of r. It returns a *ParseError when
// r is empty, the header is malformed or lacks a required column.
func NewSpineReader(r io.Reader) (*SpineReader, error) {
	return newSpineReader(newCSVScanner(r))
}

// NewSpineReaderBytes is NewSpineReader of a log held in memory, which it
// reads in place: the byte slices of the rows ReadRow returns are slices
// of data (see Offset), except in rows with quoted fields. It may rewrite
// line ends in data ("\r\n" to "\n\n").
func NewSpineReaderBytes(data []byte) (*SpineReader, error) {
	return newSpineReader(newCSVScannerBytes(data))
}

// Continue makes a reader of NewSpineReaderBytes read data next, as if it
// followed the data read so far: more rows of the same log, without a
// header, their line numbers counting on. data must start where a line
// starts, and the data before must have been read to its end (ReadRow
// returned io.EOF); it may be rewritten as NewSpineReaderBytes's is. A
// long log can so be read a part at a time, each part its lines whole.
func (r *SpineReader) Continue(data []byte) {
	if data == nil {
		data = []byte{}
	}
	r.sc.data, r.sc.pos, r.sc.quoteAt, r.sc.crAt = data, 0, -1, -1
}

// Spans returns where the string fields of the row ReadRow last returned
// lie in the data of NewSpineReaderBytes, in the order of SpineRow's
// fields (ConversationID to ToSystem), and false when they do not all lie
// there (a row with quoted fields, or a reader of an io.Reader). The
// spans of empty fields are empty, at any offset. The array is the
// reader's, overwritten by the next call of ReadRow.
func (r *SpineReader) Spans() (*[8]Span, bool) { return &r.spans, r.inPlace }

// Offset returns where field, a byte slice of a row ReadRow returned,
// starts in the data of NewSpineReaderBytes, and false when the field is
// not a slice of it (a row with quoted fields, or a reader of an
// io.Reader). An empty field is found at any offset; it reports 0, true.
func (r *SpineReader) Offset(field []byte) (int, bool) {
	data := r.sc.data
	if data == nil {
		return 0, false
	}
	if len(field) == 0 {
		return 0, true
	}
	off := cap(data) - cap(field)
	if off < 0 || off+len(field) > len(data) || &data[off] != &field[0] {
		return 0, false
	}
	return off, true
}

func newSpineReader(sc *csvScanner) (*SpineReader, error) {
	header, err := sc.next()
	if errors.Is(err, io.EOF) {
		return nil, &ParseError{Line: 1, Err: ErrEmptyInput}
	}
	if err != nil {
		return nil, csvError(err)
	}
	idx := make(map[string]int, len(header))
	for i, h := range header {
		h := strings.TrimSpace(strings.TrimPrefix(string(h), "\ufeff"))
		if _, dup := idx[h]; !dup {
			idx[h] = i
		}
	}
	for _, c := range requiredColumns {
		if _, ok := idx[c]; !ok {
			return nil, &ParseError{Line: 1, Column: c, Err: ErrMissingColumn}
		}
	}
	col := func(c string) int {
		if i, ok := idx[c]; ok {
			return i
		}
		return -1
	}
	return &SpineReader{
		sc:   sc,
		time: col(colTime), conversation: col(colConversation), guid: col(colGUID),
		interaction: col(colInteraction), sender: col(colSender), recipient: col(colRecipient),
		ref: col(colMessageRef), jdi: col(colJDIEvent), from: col(colFromSystem), to: col(colToSystem),
	}, nil
}

// ReadRow returns the next row, io.EOF after the last, or a *ParseError
// for a malformed row (reading may not go on after one). The row and its
// byte slices are valid until the next call; it does not allocate for a
// well-formed row whose _time and jdiEvent have their common shapes.
func (r *SpineReader) ReadRow() (*SpineRow, error) {
	if r.sc.data != nil {
		if bounds, ok := r.sc.nextPlain(); ok {
			return r.plainRow(bounds)
		}
	}
	rec, err := r.sc.next()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, io.EOF
		}
		return nil, csvError(err)
	}
	get := func(i int) []byte {
		if i < 0 {
			return nil
		}
		return trimSpace(rec[i])
	}
	row := &r.row
	row.Time, err = r.parseTime(get(r.time))
	if err != nil {
		return nil, &ParseError{Line: r.sc.start, Column: colTime, Err: err}
	}
	row.ErrorCode, row.HasErrorCode, err = parseErrorCodeBytes(get(r.jdi))
	if err != nil {
		return nil, &ParseError{Line: r.sc.start, Column: colJDIEvent, Err: err}
	}
	row.ConversationID = get(r.conversation)
	row.MessageID = get(r.guid)
	row.Interaction = get(r.interaction)
	row.Sender = get(r.sender)
	row.Recipient = get(r.recipient)
	row.MessageRef = get(r.ref)
	if string(row.MessageRef) == notProvided {
		row.MessageRef = nil
	}
	row.FromSystem = get(r.from)
	row.ToSystem = get(r.to)
	r.inPlace = true
	for i, f := range [...][]byte{row.ConversationID, row.MessageID, row.Interaction, row.Sender,
		row.Recipient, row.MessageRef, row.FromSystem, row.ToSystem} {
		off, ok := r.Offset(f)
		r.spans[i] = Span{off, off + len(f)}
		r.inPlace = r.inPlace && ok
	}
	return row, nil
}

// plainRow is ReadRow of a record that nextPlain read, whose fields are
// data[bounds[k]:bounds[k+1]-1]: the same row, found with less ado (the
// spans first, trimmed in place, then the fields sliced from them).
func (r *SpineReader) plainRow(bounds []int) (*SpineRow, error) {
	if err := r.sc.checkCount(len(bounds) - 1); err != nil {
		return nil, csvError(err)
	}
	data := r.sc.data
	// blank has bit i set for a field i that is absent or all space, which
	// ReadRow's general path gives as nil (bytes.TrimSpace does).
	blank := 0
	span := func(i, bit int) Span {
		if i < 0 {
			blank |= bit
			return Span{}
		}
		start, end := bounds[i], bounds[i+1]-1
		if start < end && (data[start]-'!' >= utf8.RuneSelf-'!' || data[end-1]-'!' >= utf8.RuneSelf-'!') {
			sp := trimSpan(data, start, end)
			if sp.Start == sp.End {
				blank |= bit
			}
			return sp
		}
		return Span{start, end}
	}
	row := &r.row
	var err error
	at := span(r.time, 0)
	if row.Time, err = r.parseTime(data[at.Start:at.End]); err != nil {
		return nil, &ParseError{Line: r.sc.start, Column: colTime, Err: err}
	}
	jdi := span(r.jdi, 0)
	if row.ErrorCode, row.HasErrorCode, err = parseErrorCodeBytes(data[jdi.Start:jdi.End]); err != nil {
		return nil, &ParseError{Line: r.sc.start, Column: colJDIEvent, Err: err}
	}
	sp := &r.spans
	sp[0], sp[1], sp[2], sp[3] = span(r.conversation, 1<<0), span(r.guid, 1<<1), span(r.interaction, 1<<2), span(r.sender, 1<<3)
	sp[4], sp[5], sp[6], sp[7] = span(r.recipient, 1<<4), span(r.ref, 1<<5), span(r.from, 1<<6), span(r.to, 1<<7)
	if string(data[sp[5].Start:sp[5].End]) == notProvided {
		sp[5].End = sp[5].Start
		blank |= 1 << 5
	}
	r.inPlace = true
	fields := [...]*[]byte{&row.ConversationID, &row.MessageID, &row.Interaction, &row.Sender, &row.Recipient,
		&row.MessageRef, &row.FromSystem, &row.ToSystem}
	for i, f := range fields {
		if blank&(1<<i) != 0 {
			*f = nil
		} else {
			*f = data[sp[i].Start:sp[i].End]
		}
	}
	return row, nil
}

// trimSpan is the span of data[start:end] trimmed as trimSpace trims.
func trimSpan(data []byte, start, end int) Span {
	f := data[start:end]
	t := bytes.TrimSpace(f)
	if len(t) == 0 {
		return Span{start, start}
	}
	start += cap(f) - cap(t)
	return Span{start, start + len(t)}
}

// Read returns the next row as an Event, io.EOF after the last, or a
// *ParseError for a malformed row (reading may not go on after one). The
// strings of one Event share one allocation.
func (r *SpineReader) Read() (Event, error) {
	row, err := r.ReadRow()
	if err != nil {
		return Event{}, err
	}
	fields := [...][]byte{row.ConversationID, row.MessageID, row.Interaction, row.Sender, row.Recipient,
		row.MessageRef, row.FromSystem, row.ToSystem}
	r.buf = r.buf[:0]
	for _, f := range fields {
		r.buf = append(r.buf, f...)
	}
	all := string(r.buf)
	var strs [len(fields)]string
	at := 0
	for i, f := range fields {
		strs[i] = all[at : at+len(f)]
		at += len(f)
	}
	e := Event{
		ConversationID: strs[0], MessageID: strs[1], Interaction: strs[2], Sender: strs[3], Recipient: strs[4],
		MessageRef: strs[5], FromSystem: strs[6], ToSystem: strs[7], Time: row.Time,
	}
	if row.HasErrorCode {
		e.ErrorCode = Code(row.ErrorCode)
	}
	return e, nil
}

// trimSpace is bytes.TrimSpace, quicker for a field that starts and ends
// with printable ASCII, as nearly all do.
func trimSpace(b []byte) []byte {
	if len(b) == 0 || (b[0] > ' ' && b[0] < utf8.RuneSelf && b[len(b)-1] > ' ' && b[len(b)-1] < utf8.RuneSelf) {
		return b
	}
	return bytes.TrimSpace(b)
}

// parseTime is ParseSpineTime of a byte slice, without allocating for
// the common shapes.
func (r *SpineReader) parseTime(b []byte) (time.Time, error) {
	if t, ok := r.dates.parse(b); ok {
		return t, nil
	}
	return ParseSpineTime(string(b))
}

// parseErrorCodeBytes is ParseErrorCode of a byte slice, without
// allocating for NONE, empty and plain numbers.
func parseErrorCodeBytes(b []byte) (int, bool, error) {
	if len(b) == 0 || (len(b) == 4 && equalFold3(b, "NON") && (b[3] == 'E' || b[3] == 'e')) {
		return 0, false, nil
	}
	if len(b) <= 9 {
		if n, ok := digits(b); ok {
			return n, true, nil
		}
	}
	c, err := ParseErrorCode(string(b))
	if err != nil || c == nil {
		return 0, false, err
	}
	return *c, true, nil
}

// csvError turns an encoding/csv error into a *ParseError with its line.
func csvError(err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return &ParseError{Line: pe.Line, Err: err}
	}
	return &ParseError{Err: err}
}
