package mi

import (
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

// requiredColumns must be in the header; fromSystem and toSystem may not be.
var requiredColumns = []string{colTime, colConversation, colGUID, colInteraction, colSender, colRecipient, colMessageRef, colJDIEvent}

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
	if t, ok := parseSpineTimeFast(s); ok {
		return t, nil
	}
	return parseSpineTimeLayouts(s)
}

// parseSpineTimeLayouts is ParseSpineTime with the time package's layouts.
func parseSpineTimeLayouts(s string) (time.Time, error) {
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
// carrying the line number; no events are returned then. SpineReader reads
// the same input one event at a time.
func ParseSpineCSV(r io.Reader) ([]Event, error) {
	sr, err := NewSpineReader(r)
	if err != nil {
		return nil, err
	}
	var events []Event
	for {
		e, err := sr.Read()
		if errors.Is(err, io.EOF) {
			return events, nil
		}
		if err != nil {
			return nil, err
		}
		events = append(events, e)
	}
}
