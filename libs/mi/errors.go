package mi

import (
	"errors"
	"fmt"
)

// Sentinel errors returned (wrapped in a *ParseError) by ParseSpineCSV.
var (
	// ErrMissingColumn means the header row lacks a required column.
	ErrMissingColumn = errors.New("missing column")
	// ErrBadTime means a _time value is not in an accepted format.
	ErrBadTime = errors.New("bad time")
	// ErrBadErrorCode means a jdiEvent value is neither NONE, empty nor an integer.
	ErrBadErrorCode = errors.New("bad error code")
	// ErrEmptyInput means the input has no header row.
	ErrEmptyInput = errors.New("empty input")
)

// ParseError reports a malformed Spine CSV row. Line is 1-based and counts
// the header as line 1; Column is the CSV column name when known.
type ParseError struct {
	Line   int
	Column string
	Err    error
}

// Error implements error.
func (e *ParseError) Error() string {
	if e.Column != "" {
		return fmt.Sprintf("spine csv line %d column %s: %v", e.Line, e.Column, e.Err)
	}
	return fmt.Sprintf("spine csv line %d: %v", e.Line, e.Err)
}

// Unwrap returns the underlying error so errors.Is matches the sentinels.
func (e *ParseError) Unwrap() error { return e.Err }
