package practicesim

import (
	"fmt"
	"time"

	gp2gpv1 "github.com/nhsengland/gp2gp/proto/gp2gp/v1"
)

// RecordBehaviour is how the practice answers one record request. The zero
// value sends the patient's record at once, in one response.
type RecordBehaviour struct {
	// Failure, when set, answers with a RecordFailure of this reason
	// instead of the record.
	Failure gp2gpv1.RecordFailureReason
	// Detail is the failure's free text; a default names the reason.
	Detail string
	// NoAnswer leaves the request unanswered, so the sender's record
	// request times out. It excludes every other field.
	NoAnswer bool
	// Delay holds the answer back until this long after the request was
	// stored in its stream. The wait is on the wall clock and survives a
	// restart: the request is redelivered when due, no goroutine sleeps.
	Delay time.Duration
	// Duplicate publishes the answer twice, as two distinct messages, so
	// the sender sees a duplicate response.
	Duplicate bool
}

// SendRecord answers with the patient's record (the default).
func SendRecord() RecordBehaviour { return RecordBehaviour{} }

// FailRecord answers with a failure of reason, for example
// RECORD_FAILURE_REASON_PATIENT_NOT_AT_PRACTICE.
func FailRecord(reason gp2gpv1.RecordFailureReason) RecordBehaviour {
	return RecordBehaviour{Failure: reason}
}

// NeverAnswer leaves the request unanswered.
func NeverAnswer() RecordBehaviour { return RecordBehaviour{NoAnswer: true} }

// After returns b answering d after the request instead of at once.
func (b RecordBehaviour) After(d time.Duration) RecordBehaviour {
	b.Delay = d
	return b
}

// Twice returns b publishing its answer twice.
func (b RecordBehaviour) Twice() RecordBehaviour {
	b.Duplicate = true
	return b
}

// Validate reports a behaviour that contradicts itself or names an unknown
// failure reason. The error wraps ErrInvalidBehaviour.
func (b RecordBehaviour) Validate() error {
	switch {
	case b.Delay < 0:
		return fmt.Errorf("%w: negative delay %s", ErrInvalidBehaviour, b.Delay)
	case b.NoAnswer && (b.Failure != 0 || b.Delay != 0 || b.Duplicate || b.Detail != ""):
		return fmt.Errorf("%w: NoAnswer with an answer's failure, detail, delay or duplicate", ErrInvalidBehaviour)
	case b.Detail != "" && b.Failure == 0:
		return fmt.Errorf("%w: a detail without a failure reason", ErrInvalidBehaviour)
	}
	if _, ok := gp2gpv1.RecordFailureReason_name[int32(b.Failure)]; !ok {
		return fmt.Errorf("%w: unknown failure reason %d", ErrInvalidBehaviour, b.Failure)
	}
	return nil
}

// IntegrationBehaviour is what the practice reports having done with one
// record. The zero value reports INTEGRATED at once.
//
// A record that fails the practice's own checks is reported as
// FAILED_TO_INTEGRATE (unreadable or incomplete) or as WRONG_PATIENT /
// ABA_WRONG_PATIENT (another patient's record) whatever Result says; Delay
// and NoReport still apply. A record the receiver auto-integrated is never
// reported on, and the policy is not asked.
type IntegrationBehaviour struct {
	// Result to report; unset means INTEGRATED.
	Result gp2gpv1.IntegrationResult
	// Detail is the outcome's free text; a default names the result.
	Detail string
	// NoReport never reports an outcome, so the receiver's wait for one
	// runs out. It excludes every other field.
	NoReport bool
	// Delay holds the report back until this long after the record was
	// stored in its stream, on the wall clock, surviving restarts.
	Delay time.Duration
}

// Integrate reports result, for example
// INTEGRATION_RESULT_FAILED_TO_INTEGRATE.
func Integrate(result gp2gpv1.IntegrationResult) IntegrationBehaviour {
	return IntegrationBehaviour{Result: result}
}

// NeverReport reports no outcome.
func NeverReport() IntegrationBehaviour { return IntegrationBehaviour{NoReport: true} }

// After returns b reporting d after the record arrived instead of at once.
func (b IntegrationBehaviour) After(d time.Duration) IntegrationBehaviour {
	b.Delay = d
	return b
}

// Validate reports a behaviour that contradicts itself or names an unknown
// result. The error wraps ErrInvalidBehaviour.
func (b IntegrationBehaviour) Validate() error {
	switch {
	case b.Delay < 0:
		return fmt.Errorf("%w: negative delay %s", ErrInvalidBehaviour, b.Delay)
	case b.NoReport && (b.Result != 0 || b.Delay != 0 || b.Detail != ""):
		return fmt.Errorf("%w: NoReport with a report's result, detail or delay", ErrInvalidBehaviour)
	}
	if _, ok := gp2gpv1.IntegrationResult_name[int32(b.Result)]; !ok {
		return fmt.Errorf("%w: unknown integration result %d", ErrInvalidBehaviour, b.Result)
	}
	return nil
}

// result is the result to report, the default applied.
func (b IntegrationBehaviour) result() gp2gpv1.IntegrationResult {
	if b.Result == gp2gpv1.IntegrationResult_INTEGRATION_RESULT_UNSPECIFIED {
		return gp2gpv1.IntegrationResult_INTEGRATION_RESULT_INTEGRATED
	}
	return b.Result
}
