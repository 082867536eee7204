package mi

import (
	"encoding/csv"
	"errors"
	"io"
	"strings"
)

// SpineReader reads the Spine message-log CSV of §1.1 one event at a time,
// with the rules of ParseSpineCSV, so that a day's log need not be held in
// memory as Events.
//
// The strings of an Event it returns share one allocation per row (the
// row's text): keeping any of them keeps the row. Clone what you keep of
// many rows.
type SpineReader struct {
	cr *csv.Reader
	// column indexes of the required and optional columns; -1 when an
	// optional column is absent
	time, conversation, guid, interaction, sender, recipient, ref, jdi, from, to int
}

// NewSpineReader reads the header row of r. It returns a *ParseError when
// r is empty, the header is malformed or lacks a required column.
func NewSpineReader(r io.Reader) (*SpineReader, error) {
	cr := csv.NewReader(r)
	cr.ReuseRecord = true
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, &ParseError{Line: 1, Err: ErrEmptyInput}
	}
	if err != nil {
		return nil, csvError(err)
	}
	idx := make(map[string]int, len(header))
	for i, h := range header {
		h = strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))
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
		cr:   cr,
		time: col(colTime), conversation: col(colConversation), guid: col(colGUID),
		interaction: col(colInteraction), sender: col(colSender), recipient: col(colRecipient),
		ref: col(colMessageRef), jdi: col(colJDIEvent), from: col(colFromSystem), to: col(colToSystem),
	}, nil
}

// Read returns the next event, io.EOF after the last, or a *ParseError for
// a malformed row (reading may not go on after one).
func (r *SpineReader) Read() (Event, error) {
	rec, err := r.cr.Read()
	if errors.Is(err, io.EOF) {
		return Event{}, io.EOF
	}
	if err != nil {
		return Event{}, csvError(err)
	}
	get := func(i int) string {
		if i < 0 {
			return ""
		}
		return strings.TrimSpace(rec[i])
	}
	ts, err := ParseSpineTime(get(r.time))
	if err != nil {
		line, _ := r.cr.FieldPos(0)
		return Event{}, &ParseError{Line: line, Column: colTime, Err: err}
	}
	code, err := ParseErrorCode(get(r.jdi))
	if err != nil {
		line, _ := r.cr.FieldPos(0)
		return Event{}, &ParseError{Line: line, Column: colJDIEvent, Err: err}
	}
	ref := get(r.ref)
	if ref == notProvided {
		ref = ""
	}
	return Event{
		ConversationID: get(r.conversation),
		MessageID:      get(r.guid),
		Interaction:    get(r.interaction),
		Sender:         get(r.sender),
		Recipient:      get(r.recipient),
		MessageRef:     ref,
		ErrorCode:      code,
		Time:           ts,
		FromSystem:     get(r.from),
		ToSystem:       get(r.to),
	}, nil
}
