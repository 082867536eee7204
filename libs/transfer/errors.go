package transfer

import "errors"

var (
	// ErrNotFound: no record for that side and conversation id.
	ErrNotFound = errors.New("transfer: not found")
	// ErrExists: Create found a record already there. It is returned with
	// the existing record, so creating is idempotent for the caller that
	// checks for it.
	ErrExists = errors.New("transfer: already exists")
	// ErrIllegalTransition: the state machine does not allow the move. The
	// concrete error is a *TransitionError.
	ErrIllegalTransition = errors.New("transfer: illegal state transition")
	// ErrInvalid: the record or its key is malformed.
	ErrInvalid = errors.New("transfer: invalid")
	// ErrContended: an update kept losing compare-and-set races. Retry it.
	ErrContended = errors.New("transfer: too many concurrent updates")
	// ErrEventsPending: the update is stored but its lifecycle events could
	// not be published yet. They stay in the record's outbox and are
	// published by the next update of the record or by Store.Flush; a
	// handler should return the error so that its message is retried.
	ErrEventsPending = errors.New("transfer: lifecycle events not yet published")
)
