package miapi

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

var (
	// ErrInvalidEvent: an event fails Validate (see *ValidationError) or
	// cannot be marshalled. Sending it would be refused, so it is
	// permanent.
	ErrInvalidEvent = errors.New("miapi: invalid event")
	// ErrInvalidBody: Unmarshal cannot read a body as the given type.
	ErrInvalidBody = errors.New("miapi: invalid event body")
	// ErrOption: a ClientOption was given an unusable value, or NewClient
	// an unusable base URL.
	ErrOption = errors.New("miapi: invalid client option")
	// ErrUnexpectedResponse: the API accepted an event (2xx) without the
	// {"eventId": …} answer. Not permanent: re-sending is harmless, since
	// the event keeps its id.
	ErrUnexpectedResponse = errors.New("miapi: unexpected response")
)

// FieldError is one problem Validate found: Field is the JSON path in the
// request body ("payload.error.errorCode", "payload.degrades[0].type") or
// "key" for Event.Key.
type FieldError struct {
	Field  string
	Reason string
}

// String reads like the API's own messages: "field: must not be empty".
func (f FieldError) String() string { return f.Field + ": " + f.Reason }

// ValidationError lists every problem of an invalid event. It matches
// ErrInvalidEvent with errors.Is.
type ValidationError struct {
	Type     EventType
	Problems []FieldError
}

// Error names the type and every problem.
func (e *ValidationError) Error() string {
	msgs := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		msgs[i] = p.String()
	}
	return fmt.Sprintf("miapi: invalid %s event: %s", e.Type, strings.Join(msgs, "; "))
}

// Is makes a *ValidationError match ErrInvalidEvent.
func (e *ValidationError) Is(target error) bool { return target == ErrInvalidEvent }

// MaxErrorBody is how much of an error response a *StatusError keeps.
const MaxErrorBody = 4 << 10

// StatusError is an answer of the API other than success.
type StatusError struct {
	// Path is the endpoint posted to ("/errors").
	Path string
	// StatusCode is the HTTP status code.
	StatusCode int
	// Message and Errors are from the API's error body
	// ({"status":"BAD_REQUEST","message":"Failed to validate fields",
	// "errors":["field: must not be empty"]}), when it has that form.
	Message string
	Errors  []string
	// Body is the start of the response body (at most MaxErrorBody bytes).
	Body []byte
	// RetryAfter is the server's Retry-After (seconds or an HTTP date,
	// capped at a day), or 0 when it sent none or an unreadable one. It is
	// read from any error answer, though the API is expected to send it
	// with 429 and 503.
	RetryAfter time.Duration
}

// Error reports the endpoint, the status and what the API said.
func (e *StatusError) Error() string {
	msg := fmt.Sprintf("miapi: POST %s: HTTP %d %s", e.Path, e.StatusCode, http.StatusText(e.StatusCode))
	switch {
	case e.Message != "" || len(e.Errors) > 0:
		if e.Message != "" {
			msg += ": " + e.Message
		}
		if len(e.Errors) > 0 {
			msg += ": " + strings.Join(e.Errors, "; ")
		}
	case len(strings.TrimSpace(string(e.Body))) > 0:
		msg += ": " + strings.TrimSpace(string(e.Body))
	}
	if e.RetryAfter > 0 {
		msg += fmt.Sprintf(" (retry after %s)", e.RetryAfter)
	}
	return msg
}

// Permanent reports whether sending the same event again cannot succeed:
// any 3xx or 4xx status except 408 Request Timeout, 425 Too Early and 429
// Too Many Requests. 5xx (and the rest) are worth retrying.
func (e *StatusError) Permanent() bool {
	switch e.StatusCode {
	case http.StatusRequestTimeout, http.StatusTooEarly, http.StatusTooManyRequests:
		return false
	}
	return e.StatusCode >= 300 && e.StatusCode < 500
}

// IsPermanent reports whether err, returned by Client.Post, means the
// event can never be accepted as it is: it is invalid (ErrInvalidEvent),
// or the API answered a permanent status (see StatusError.Permanent).
// Network failures, timeouts, cancellation, 408, 429 and 5xx are not
// permanent.
func IsPermanent(err error) bool {
	if errors.Is(err, ErrInvalidEvent) {
		return true
	}
	var se *StatusError
	return errors.As(err, &se) && se.Permanent()
}
