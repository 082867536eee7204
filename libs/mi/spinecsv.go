package mi

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// Spine CSV column names (§1.1).
const (
	colTime         = "_time"
	colConversation = "conversationID"
	colGUID         = "GUID"
	colInteraction  = "interactionID"
	colSender       = "messageSender"
	colRecipient    = "messageRecipient"
	colMessageRef   = "messageRef"
	colJDIEvent     = "jdiEvent"
	colFromSystem   = "fromSystem"
	colToSystem     = "toSystem"
)

var (
	requiredColumns = []string{colTime, colConversation, colGUID, colInteraction, colSender, colRecipient, colMessageRef, colJDIEvent}
	optionalColumns = []string{colFromSystem, colToSystem}
)

// Zone suffixes accepted on _time: "BST" is UTC+1, "UTC" and "GMT" are UTC+0.
var (
	zoneBST = time.FixedZone("BST", 3600)
	zones   = map[string]*time.Location{"BST": zoneBST, "UTC": time.UTC, "GMT": time.UTC}
)

// Layouts of the date-time part of _time (fractional seconds optional).
var (
	naiveLayouts = []string{"2006-01-02 15:04:05.999999999", "2006-01-02T15:04:05.999999999"}
	zonedLayouts = []string{
		time.RFC3339Nano,
		"2006-01-02 15:04:05.999999999Z07:00",
		"2006-01-02 15:04:05.999999999-0700",
		"2006-01-02T15:04:05.999999999-0700",
	}
)

// ParseSpineTime parses a Spine _time value and returns it in UTC. Accepted:
// "2006-01-02 15:04:05[.fff] ZONE" (or with a "T") where ZONE is BST (+1h),
// UTC or GMT (+0); or a numeric offset ("…Z", "…+01:00", "…+0100"). A value
// without a zone is rejected rather than guessed.
func ParseSpineTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, ' '); i >= 0 {
		if loc, ok := zones[strings.ToUpper(s[i+1:])]; ok {
			for _, l := range naiveLayouts {
				if t, err := time.ParseInLocation(l, strings.TrimSpace(s[:i]), loc); err == nil {
					return t.UTC(), nil
				}
			}
			return time.Time{}, fmt.Errorf("%w: %q", ErrBadTime, s)
		}
	}
	for _, l := range zonedLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("%w: %q (want e.g. \"2006-01-02 15:04:05.000 BST\")", ErrBadTime, s)
}

// ParseErrorCode parses a jdiEvent value: "NONE" or empty is nil, otherwise
// an integer.
func ParseErrorCode(s string) (*int, error) {
	s = strings.TrimSpace(s)
	if s == "" || strings.EqualFold(s, "NONE") {
		return nil, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return nil, fmt.Errorf("%w: %q", ErrBadErrorCode, s)
	}
	return &n, nil
}

// ParseSpineCSV reads the Spine message-log CSV of §1.1. The first row is
// the header; columns are found by name in any order and extra columns are
// ignored. fromSystem and toSystem may be absent (left empty). A messageRef
// of "NotProvided" becomes empty. Malformed input returns a *ParseError
// carrying the line number; no events are returned then.
func ParseSpineCSV(r io.Reader) ([]Event, error) {
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
	for _, c := range optionalColumns {
		if _, ok := idx[c]; !ok {
			idx[c] = -1
		}
	}
	var events []Event
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return events, nil
		}
		if err != nil {
			return nil, csvError(err)
		}
		line, _ := cr.FieldPos(0)
		get := func(c string) string {
			if i := idx[c]; i >= 0 {
				return strings.TrimSpace(rec[i])
			}
			return ""
		}
		ts, err := ParseSpineTime(get(colTime))
		if err != nil {
			return nil, &ParseError{Line: line, Column: colTime, Err: err}
		}
		code, err := ParseErrorCode(get(colJDIEvent))
		if err != nil {
			return nil, &ParseError{Line: line, Column: colJDIEvent, Err: err}
		}
		ref := get(colMessageRef)
		if ref == notProvided {
			ref = ""
		}
		events = append(events, Event{
			ConversationID: get(colConversation),
			MessageID:      get(colGUID),
			Interaction:    get(colInteraction),
			Sender:         get(colSender),
			Recipient:      get(colRecipient),
			MessageRef:     ref,
			ErrorCode:      code,
			Time:           ts,
			FromSystem:     get(colFromSystem),
			ToSystem:       get(colToSystem),
		})
	}
}

// csvError turns an encoding/csv error into a *ParseError with its line.
func csvError(err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return &ParseError{Line: pe.Line, Err: err}
	}
	return &ParseError{Err: err}
}
