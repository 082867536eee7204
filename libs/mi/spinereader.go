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
	sc  *csvScanner
	row SpineRow
	buf []byte // Read's copy of a row's fields
	// column indexes of the required and optional columns; -1 when an
	// optional column is absent
	time, conversation, guid, interaction, sender, recipient, ref, jdi, from, to int
}

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
	rec, err := r.sc.next()
	if errors.Is(err, io.EOF) {
		return nil, io.EOF
	}
	if err != nil {
		return nil, csvError(err)
	}
	get := func(i int) []byte {
		if i < 0 {
			return nil
		}
		return trimSpace(rec[i])
	}
	row := &r.row
	row.Time, err = parseSpineTimeBytes(get(r.time))
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
	return row, nil
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

// parseSpineTimeBytes is ParseSpineTime of a byte slice, without
// allocating for the common shapes.
func parseSpineTimeBytes(b []byte) (time.Time, error) {
	if t, ok := parseSpineTimeFast(b); ok {
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
