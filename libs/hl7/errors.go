package hl7

import (
	"errors"
	"fmt"
)

// ErrInvalidMessage is wrapped by Encode errors: the value is missing
// something the schema requires, so no message is written.
var ErrInvalidMessage = errors.New("hl7: invalid message")

// ValidationError reports a message that cannot be read, or lacks
// something required to process it. Decoders return it with the part of
// the message they could read, so that a negative acknowledgement can
// still be addressed.
type ValidationError struct {
	// Interaction being read ("" when not even the root was recognised).
	Interaction Interaction
	// Path of the offending element, e.g.
	// /RCMR_IN010000UK05/ControlActEvent/subject/EhrRequest/recordTarget.
	Path string
	// Reason in words.
	Reason string
	// Code is the GP2GP reason code the negative acknowledgement should
	// carry (see Interaction.NackCode); "" when none applies.
	Code ReasonCode
	// Err is the underlying error, if any (an *xmldoc.Error for input that
	// is not well-formed or exceeds a limit).
	Err error
}

func (e *ValidationError) Error() string {
	msg := "hl7: "
	if e.Interaction != "" {
		msg += string(e.Interaction) + ": "
	}
	msg += e.Reason
	if e.Path != "" {
		msg += " at " + e.Path
	}
	if e.Code != "" {
		msg += fmt.Sprintf(" (reason %s)", e.Code)
	}
	return msg
}

func (e *ValidationError) Unwrap() error { return e.Err }

func invalidf(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalidMessage}, args...)...)
}
