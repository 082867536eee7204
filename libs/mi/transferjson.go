package mi

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"
)

// MarshalJSON writes the flat §1.7 record described on Transfer.
func (t Transfer) MarshalJSON() ([]byte, error) {
	return t.appendJSON(make([]byte, 0, 1024), nil)
}

// appendJSON appends the JSON of t to b. practices, if not nil, keeps the
// JSON of the practices' ODS fields (see practiceFields), encoded once.
func (t *Transfer) appendJSON(b []byte, practices map[*Practice]*practiceFields) ([]byte, error) {
	var err error
	b = append(b, `{"conversationId":`...)
	b = appendJSONString(b, t.ConversationID)
	b = append(b, `,"status":`...)
	b = appendJSONLabel(b, string(t.Status))
	b = append(b, `,"failureReason":`...)
	if t.FailureReason == ReasonNone {
		b = append(b, "null"...)
	} else {
		b = appendJSONLabel(b, string(t.FailureReason))
	}
	b = append(b, `,"slaDuration":`...)
	if t.SLADuration == nil {
		b = append(b, "null"...)
	} else {
		b = strconv.AppendUint(b, *t.SLADuration, 10)
	}
	b = append(b, `,"dateRequested":`...)
	if b, err = appendJSONTime(b, t.DateRequested); err != nil {
		return nil, fmt.Errorf("transfer %s: dateRequested: %w", t.ConversationID, err)
	}
	b = append(b, `,"dateCompleted":`...)
	if b, err = appendJSONTimePtr(b, t.DateCompleted); err != nil {
		return nil, fmt.Errorf("transfer %s: dateCompleted: %w", t.ConversationID, err)
	}
	b = append(b, `,"senderErrorCodes":`...)
	b = appendJSONCodes(b, t.SenderErrorCodes)
	b = append(b, `,"finalErrorCodes":`...)
	b = appendJSONCodes(b, t.FinalErrorCodes)
	b = append(b, `,"intermediateErrorCodes":`...)
	b = appendJSONInts(b, t.IntermediateErrorCodes)
	if f := cachedPractice(practices, t.RequestingPractice); f != nil {
		b = appendJSONASID(b, requestingPrefix, t.RequestingPracticeASID)
		b = append(b, f.requesting...)
	} else {
		b = appendJSONPractice(b, requestingPrefix, t.RequestingPracticeASID, t.RequestingPractice)
	}
	if f := cachedPractice(practices, t.SendingPractice); f != nil {
		b = appendJSONASID(b, sendingPrefix, t.SendingPracticeASID)
		b = append(b, f.sending...)
	} else {
		b = appendJSONPractice(b, sendingPrefix, t.SendingPracticeASID, t.SendingPractice)
	}
	b = append(b, `,"requestingSupplier":`...)
	b = appendJSONString(b, t.RequestingSupplier)
	b = append(b, `,"sendingSupplier":`...)
	b = appendJSONString(b, t.SendingSupplier)
	b = append(b, `,"lastSenderMessageTimestamp":`...)
	if b, err = appendJSONTimePtr(b, t.LastSenderMessageTimestamp); err != nil {
		return nil, fmt.Errorf("transfer %s: lastSenderMessageTimestamp: %w", t.ConversationID, err)
	}
	b = append(b, `,"inProgress":`...)
	b = strconv.AppendBool(b, t.InProgress)
	return append(b, '}'), nil
}

// appendJSONLabel is appendJSONString of a status or failure reason: the
// labels need no escaping, so they are copied between quotes without
// looking at each byte; other strings are escaped as usual.
func appendJSONLabel(b []byte, s string) []byte {
	switch Status(s) {
	case StatusIntegratedOnTime, StatusTechnicalFailure, StatusProcessFailure, StatusUnclassifiedFailure:
	default:
		switch FailureReason(s) {
		case ReasonIntegratedLate, ReasonFinalError, ReasonAmbiguousCOPCs, ReasonTransferredNotIntegratedWithError,
			ReasonCOPCNotSent, ReasonCOPCNotAcknowledged, ReasonTransferredNotIntegrated, ReasonFatalSenderError,
			ReasonRequestNotAcknowledged, ReasonCoreExtractNotSent:
		default:
			return appendJSONString(b, s)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// The prefixes of the fields of the two sides of a transfer.
const (
	requestingPrefix = `,"requestingPractice`
	sendingPrefix    = `,"sendingPractice`
)

// practiceFields is the JSON of the four ODS fields of a practice, as
// appendJSONPractice writes them, for either side: thousands of
// transfers share a practice, so encoding them once saves much of the
// work of encoding transfers.
type practiceFields struct{ requesting, sending []byte }

// cachedPractice returns the practiceFields of p, from practices or added
// to it; nil when p or practices is.
func cachedPractice(practices map[*Practice]*practiceFields, p *Practice) *practiceFields {
	if p == nil || practices == nil {
		return nil
	}
	f := practices[p]
	if f == nil {
		f = &practiceFields{
			requesting: appendJSONPracticeFields(nil, requestingPrefix, p),
			sending:    appendJSONPracticeFields(nil, sendingPrefix, p),
		}
		practices[p] = f
	}
	return f
}

// appendJSONASID appends the ASID field of one side; prefix is
// requestingPrefix or sendingPrefix.
func appendJSONASID(b []byte, prefix, asid string) []byte {
	b = append(b, prefix...)
	b = append(b, `Asid":`...)
	return appendJSONString(b, asid)
}

// appendJSONPractice appends the five fields of one side; prefix is
// requestingPrefix or sendingPrefix.
func appendJSONPractice(b []byte, prefix, asid string, p *Practice) []byte {
	return appendJSONPracticeFields(appendJSONASID(b, prefix, asid), prefix, p)
}

// appendJSONPracticeFields appends the four ODS fields of one side.
func appendJSONPracticeFields(b []byte, prefix string, p *Practice) []byte {
	var ods, name, sicblODS, sicblName string
	if p != nil {
		ods, name, sicblODS, sicblName = p.ODSCode, p.Name, p.SICBLODSCode, p.SICBLName
	}
	b = append(b, prefix...)
	b = append(b, `OdsCode":`...)
	b = appendJSONNullString(b, ods, p == nil)
	b = append(b, prefix...)
	b = append(b, `Name":`...)
	b = appendJSONNullString(b, name, p == nil)
	b = append(b, prefix...)
	b = append(b, `SicblOdsCode":`...)
	b = appendJSONNullString(b, sicblODS, sicblODS == "")
	b = append(b, prefix...)
	b = append(b, `SicblName":`...)
	return appendJSONNullString(b, sicblName, sicblName == "")
}

// transferJSON is the decoding shape of a Transfer's JSON.
type transferJSON struct {
	ConversationID         string     `json:"conversationId"`
	Status                 Status     `json:"status"`
	FailureReason          *string    `json:"failureReason"`
	SLADuration            *uint64    `json:"slaDuration"`
	DateRequested          time.Time  `json:"dateRequested"`
	DateCompleted          *time.Time `json:"dateCompleted"`
	SenderErrorCodes       []*int     `json:"senderErrorCodes"`
	FinalErrorCodes        []*int     `json:"finalErrorCodes"`
	IntermediateErrorCodes []int      `json:"intermediateErrorCodes"`

	RequestingPracticeASID         string  `json:"requestingPracticeAsid"`
	RequestingPracticeODSCode      *string `json:"requestingPracticeOdsCode"`
	RequestingPracticeName         *string `json:"requestingPracticeName"`
	RequestingPracticeSICBLODSCode *string `json:"requestingPracticeSicblOdsCode"`
	RequestingPracticeSICBLName    *string `json:"requestingPracticeSicblName"`
	SendingPracticeASID            string  `json:"sendingPracticeAsid"`
	SendingPracticeODSCode         *string `json:"sendingPracticeOdsCode"`
	SendingPracticeName            *string `json:"sendingPracticeName"`
	SendingPracticeSICBLODSCode    *string `json:"sendingPracticeSicblOdsCode"`
	SendingPracticeSICBLName       *string `json:"sendingPracticeSicblName"`

	RequestingSupplier         string     `json:"requestingSupplier"`
	SendingSupplier            string     `json:"sendingSupplier"`
	LastSenderMessageTimestamp *time.Time `json:"lastSenderMessageTimestamp"`
	InProgress                 bool       `json:"inProgress"`
}

// UnmarshalJSON reads the flat §1.7 record described on Transfer. A side
// whose ODS code is null (or absent) is not attributed.
func (t *Transfer) UnmarshalJSON(data []byte) error {
	var j transferJSON
	if err := json.Unmarshal(data, &j); err != nil {
		return fmt.Errorf("transfer: %w", err)
	}
	*t = Transfer{
		ConversationID:             j.ConversationID,
		Status:                     j.Status,
		FailureReason:              FailureReason(deref(j.FailureReason)),
		SLADuration:                j.SLADuration,
		DateRequested:              j.DateRequested,
		DateCompleted:              j.DateCompleted,
		SenderErrorCodes:           j.SenderErrorCodes,
		FinalErrorCodes:            j.FinalErrorCodes,
		IntermediateErrorCodes:     j.IntermediateErrorCodes,
		RequestingPracticeASID:     j.RequestingPracticeASID,
		SendingPracticeASID:        j.SendingPracticeASID,
		RequestingPractice:         practiceOf(j.RequestingPracticeODSCode, j.RequestingPracticeName, j.RequestingPracticeSICBLODSCode, j.RequestingPracticeSICBLName),
		SendingPractice:            practiceOf(j.SendingPracticeODSCode, j.SendingPracticeName, j.SendingPracticeSICBLODSCode, j.SendingPracticeSICBLName),
		RequestingSupplier:         j.RequestingSupplier,
		SendingSupplier:            j.SendingSupplier,
		LastSenderMessageTimestamp: j.LastSenderMessageTimestamp,
		InProgress:                 j.InProgress,
	}
	return nil
}

// practiceOf is the practice of one side, nil when its ODS code is null.
func practiceOf(ods, name, sicblODS, sicblName *string) *Practice {
	if ods == nil {
		return nil
	}
	return &Practice{ODSCode: *ods, Name: deref(name), SICBLODSCode: deref(sicblODS), SICBLName: deref(sicblName)}
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
