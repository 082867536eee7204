package bus

import (
	"errors"
	"fmt"
	"time"
)

var (
	// ErrNoDedupeID is returned by Publish when a message has no dedupe id.
	// Every gp2gp message must be publishable twice without being stored
	// twice, so the id is required.
	ErrNoDedupeID = errors.New("bus: message has no dedupe id")
	// ErrInvalidSubject is returned for a subject with an empty token or a
	// wildcard where a literal subject is required.
	ErrInvalidSubject = errors.New("bus: invalid subject")
	// ErrPanic marks an error recovered from a panicking handler.
	ErrPanic = errors.New("bus: handler panicked")
)

// PermanentError marks a failure that retrying cannot fix: the message is
// undecodable, invalid, or refers to something that can never exist. The
// runner dead-letters such a message at once instead of redelivering it.
type PermanentError struct {
	Err error
}

func (e *PermanentError) Error() string { return e.Err.Error() }
func (e *PermanentError) Unwrap() error { return e.Err }

// Permanent wraps err so that the runner dead-letters the message instead
// of retrying it. Permanent(nil) is nil.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &PermanentError{Err: err}
}

// Permanentf is Permanent(fmt.Errorf(format, args...)).
func Permanentf(format string, args ...any) error {
	return Permanent(fmt.Errorf(format, args...))
}

// IsPermanent reports whether err, or any error it wraps, is permanent.
func IsPermanent(err error) bool {
	var p *PermanentError
	return errors.As(err, &p)
}

// RetryError asks for redelivery after a specific delay instead of the
// runner's exponential backoff, for example while waiting for a message
// that must be processed first.
type RetryError struct {
	Delay time.Duration
	Err   error
}

func (e *RetryError) Error() string {
	return fmt.Sprintf("%v (retry after %s)", e.Err, e.Delay)
}
func (e *RetryError) Unwrap() error { return e.Err }

// RetryAfter wraps err so the message is redelivered after delay. The
// delivery still counts towards the consumer's maximum deliveries.
func RetryAfter(delay time.Duration, err error) error {
	if err == nil {
		return nil
	}
	return &RetryError{Delay: delay, Err: err}
}

// DeferError asks for a message to be delivered again after Delay without
// counting as a failure: the message is not due yet (a timer), not wrong.
// The delivery still counts in the server's delivery count, so consumers
// that defer need a large MaxDeliveries.
type DeferError struct {
	Delay time.Duration
}

func (e *DeferError) Error() string { return fmt.Sprintf("deferred for %s", e.Delay) }

// Defer returns an error asking for redelivery after d, not a failure.
func Defer(d time.Duration) error { return &DeferError{Delay: d} }
