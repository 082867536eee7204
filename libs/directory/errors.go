package directory

import (
	"errors"
	"fmt"
	"net/http"
)

var (
	// ErrPatientNotFound: PDS has no patient with the NHS number asked for.
	ErrPatientNotFound = errors.New("directory: patient not found")
	// ErrNotFound: SDS has no result for the query (no such practice, no
	// GP2GP device for the interaction, or no endpoint for the device).
	// For Practice it means GP2GP is not enabled as far as SDS knows.
	ErrNotFound = errors.New("directory: not found in SDS")
	// ErrAmbiguous: SDS gave more than one result where one was needed,
	// the situation GP2GP reason code 24 describes.
	ErrAmbiguous = errors.New("directory: more than one SDS result")
	// ErrUnavailable: the service could not be asked (connection refused,
	// timed out, HTTP 5xx, 429 or 408), after the client's retries. The
	// cause is wrapped. Callers retry later and, in the end, give up with
	// reason code 20.
	ErrUnavailable = errors.New("directory: service unavailable")
	// ErrBadResponse: the service answered, but with something this package
	// cannot use: an unexpected HTTP status (see *StatusError), malformed
	// or oversized JSON, a resource of the wrong type, a required value
	// missing or malformed. Retrying the same question will not help.
	ErrBadResponse = errors.New("directory: unusable response")
	// ErrInvalidArgument: the NHS number, ODS code or interaction id asked
	// about is malformed; no lookup was made.
	ErrInvalidArgument = errors.New("directory: invalid argument")
	// ErrInvalidDuration: a string is not an ISO 8601 duration of the
	// supported form (see ParseISODuration).
	ErrInvalidDuration = errors.New("directory: invalid ISO 8601 duration")
	// ErrInvalidFile: a directory file cannot be used (bad JSON or an
	// entry that fails validation, see *ValidationError).
	ErrInvalidFile = errors.New("directory: invalid directory file")
	// ErrOption: a ClientOption was given an unusable value, or a client
	// constructor an unusable base URL.
	ErrOption = errors.New("directory: invalid client option")
)

// StatusError is an HTTP answer from PDS or SDS that is neither success
// nor a recognised "not found". It is wrapped by ErrUnavailable (5xx, 429,
// 408) or matches ErrBadResponse (any other status).
type StatusError struct {
	// Service is "pds" or "sds".
	Service string
	// StatusCode is the HTTP status code.
	StatusCode int
	// Diagnostics is the text of the OperationOutcome in the body, if any
	// (issue diagnostics, else the details' display or code).
	Diagnostics string
}

// Error reports the status and the diagnostics; the errors wrapping it
// name the service and the request.
func (e *StatusError) Error() string {
	msg := fmt.Sprintf("HTTP %d %s", e.StatusCode, http.StatusText(e.StatusCode))
	if e.Diagnostics != "" {
		msg += ": " + e.Diagnostics
	}
	return msg
}

// Is makes a *StatusError for a status that retrying will not fix match
// ErrBadResponse.
func (e *StatusError) Is(target error) bool {
	return target == ErrBadResponse && !retryableStatus(e.StatusCode)
}

// ValidationError is one problem with one entry of a directory file. A
// file with several problems gives all of them, joined (errors.As finds
// the first); each matches ErrInvalidFile.
type ValidationError struct {
	// Entry locates the entry, like "practices[1]" or "patients[0]".
	Entry string
	// Key identifies the entry by its ODS code or NHS number, if it has one.
	Key string
	// Field is the JSON field at fault, like "asid"; empty if the problem
	// is with the entry as a whole.
	Field string
	// Reason says what is wrong.
	Reason string
}

// Error reads like `practices[1] (A12345) asid: duplicate ASID, also practices[0]`.
func (e *ValidationError) Error() string {
	msg := e.Entry
	if e.Key != "" {
		msg += " (" + e.Key + ")"
	}
	if e.Field != "" {
		msg += " " + e.Field
	}
	return msg + ": " + e.Reason
}

// Is makes every *ValidationError match ErrInvalidFile.
func (e *ValidationError) Is(target error) bool { return target == ErrInvalidFile }
