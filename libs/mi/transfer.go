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

// Transfer is the per-transfer output record (§1.7). Pointer fields are null
// in JSON where the spec allows null.
type Transfer struct {
	ConversationID string        `json:"conversationId"`
	Status         Status        `json:"status"`
	FailureReason  FailureReason `json:"failureReason"`
	// SLADuration is seconds from the effective core extract to the effective
	// final ack, rounded half to even and clamped at 0; nil with no effective ack.
	SLADuration *uint64 `json:"slaDuration"`
	// DateRequested is the time of the EHR request message.
	DateRequested time.Time `json:"dateRequested"`
	// DateCompleted is the time of the effective final ack, if any.
	DateCompleted *time.Time `json:"dateCompleted"`
	// SenderErrorCodes are the codes on acks of the EHR request (nil = ack without code).
	SenderErrorCodes []*int `json:"senderErrorCodes"`
	// FinalErrorCodes are the codes on acks of core extracts (nil = ack without code).
	FinalErrorCodes []*int `json:"finalErrorCodes"`
	// IntermediateErrorCodes are the non-null codes on acks of COPC fragments.
	IntermediateErrorCodes []int `json:"intermediateErrorCodes"`

	RequestingPracticeASID string `json:"requestingPracticeAsid"`
	SendingPracticeASID    string `json:"sendingPracticeAsid"`
	// RequestingPractice and SendingPractice are filled by Attribute; nil
	// when not attributed or when the ASID is unknown.
	RequestingPractice *Practice `json:"requestingPractice"`
	SendingPractice    *Practice `json:"sendingPractice"`

	RequestingSupplier string `json:"requestingSupplier"`
	SendingSupplier    string `json:"sendingSupplier"`
	// LastSenderMessageTimestamp is the latest message from the sending ASID;
	// for an integrated transfer only messages up to the final ack count.
	LastSenderMessageTimestamp *time.Time `json:"lastSenderMessageTimestamp"`
	// InProgress is gp2gp's extension for a transfer classified live before
	// its cutoff: no effective final ack yet and the cutoff not passed.
	// Status and FailureReason are then Process failure / Transferred, not
	// integrated, the NHS-comparable mapping (§1.5). Always false for
	// imported logs, which are classified after the cutoff.
	InProgress bool `json:"inProgress"`
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
