package mi

import (
	"encoding/json"
	"fmt"
	"time"
)

// Status is one of the four exact NHS status labels (§1.5).
type Status string

// The status labels. The NHS metrics step rejects any other string.
const (
	StatusIntegratedOnTime    Status = "Integrated on time"
	StatusTechnicalFailure    Status = "Technical failure"
	StatusProcessFailure      Status = "Process failure"
	StatusUnclassifiedFailure Status = "Unclassified failure"
)

// FailureReason is one of the exact NHS failure-reason labels (§1.5). The
// empty reason (integrated on time) marshals to JSON null.
type FailureReason string

// The failure reasons.
const (
	ReasonNone                              FailureReason = ""
	ReasonIntegratedLate                    FailureReason = "Integrated late"
	ReasonFinalError                        FailureReason = "Final error"
	ReasonAmbiguousCOPCs                    FailureReason = "Ambiguous COPC messages"
	ReasonTransferredNotIntegratedWithError FailureReason = "Transferred, not integrated, with error"
	ReasonCOPCNotSent                       FailureReason = "COPC(s) not sent"
	ReasonCOPCNotAcknowledged               FailureReason = "COPC(s) not acknowledged"
	ReasonTransferredNotIntegrated          FailureReason = "Transferred, not integrated"
	ReasonFatalSenderError                  FailureReason = "Contains fatal sender error"
	ReasonRequestNotAcknowledged            FailureReason = "Request not acknowledged"
	ReasonCoreExtractNotSent                FailureReason = "Core extract not sent"
)

// MarshalJSON writes the label, or null for ReasonNone.
func (r FailureReason) MarshalJSON() ([]byte, error) {
	if r == ReasonNone {
		return []byte("null"), nil
	}
	return json.Marshal(string(r))
}

// Transfer is the per-transfer output record (§1.7).
//
// Its JSON (MarshalJSON, UnmarshalJSON) is the §1.7 record in camelCase,
// flat, in this order: conversationId, status, failureReason (null when
// integrated on time), slaDuration (seconds or null), dateRequested,
// dateCompleted (or null), senderErrorCodes, finalErrorCodes (lists in
// which an ack without a code is null), intermediateErrorCodes,
// requestingPracticeAsid, requestingPracticeOdsCode,
// requestingPracticeName, requestingPracticeSicblOdsCode,
// requestingPracticeSicblName, the same five for sendingPractice…,
// requestingSupplier, sendingSupplier, lastSenderMessageTimestamp (or
// null) and inProgress. The four ODS fields of a side are null when its
// ASID was not attributed (RequestingPractice or SendingPractice nil); the
// two SICBL fields are null when the practice belongs to no Sub-ICB
// location. Times are written in UTC with as many fractional digits as
// needed. Decoding what was encoded gives back the same Transfer, exactly
// so when its times are UTC without a monotonic reading (as Classify
// returns them for events from ParseSpineCSV); otherwise the same instants.
type Transfer struct {
	ConversationID string
	Status         Status
	FailureReason  FailureReason
	// SLADuration is seconds from the effective core extract to the effective
	// final ack, rounded half to even and clamped at 0; nil with no effective ack.
	SLADuration *uint64
	// DateRequested is the time of the EHR request message.
	DateRequested time.Time
	// DateCompleted is the time of the effective final ack, if any.
	DateCompleted *time.Time
	// SenderErrorCodes are the codes on acks of the EHR request (nil = ack without code).
	SenderErrorCodes []*int
	// FinalErrorCodes are the codes on acks of core extracts (nil = ack without code).
	FinalErrorCodes []*int
	// IntermediateErrorCodes are the non-null codes on acks of COPC fragments.
	IntermediateErrorCodes []int

	RequestingPracticeASID string
	SendingPracticeASID    string
	// RequestingPractice and SendingPractice are filled by Attribute; nil
	// when not attributed or when the ASID is unknown.
	RequestingPractice *Practice
	SendingPractice    *Practice

	RequestingSupplier string
	SendingSupplier    string
	// LastSenderMessageTimestamp is the latest message from the sending ASID;
	// for an integrated transfer only messages up to the final ack count.
	LastSenderMessageTimestamp *time.Time
	// InProgress is gp2gp's extension for a transfer classified live before
	// its cutoff: no effective final ack yet and the cutoff not passed.
	// Status and FailureReason are then Process failure / Transferred, not
	// integrated, the NHS-comparable mapping (§1.5). Always false for
	// imported logs, which are classified after the cutoff.
	InProgress bool
}

// Month returns the UTC calendar month of DateRequested (§2.1).
func (t Transfer) Month() Month { return MonthOf(t.DateRequested) }

// Month is a UTC calendar month.
type Month struct {
	Year  int
	Month time.Month
}

// MonthOf returns the UTC calendar month containing t.
func MonthOf(t time.Time) Month {
	u := t.UTC()
	return Month{Year: u.Year(), Month: u.Month()}
}

// Previous returns the month before m.
func (m Month) Previous() Month {
	if m.Month == time.January {
		return Month{Year: m.Year - 1, Month: time.December}
	}
	return Month{Year: m.Year, Month: m.Month - 1}
}

// String formats m as "YYYY-MM".
func (m Month) String() string { return fmt.Sprintf("%04d-%02d", m.Year, int(m.Month)) }
