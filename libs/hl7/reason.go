package hl7

import "sort"

// ReasonCode is a GP2GP response code (code system
// 2.16.840.1.113883.2.1.3.2.4.17.101), as two digits: "06" … "99". The
// Continue's detail code "0" is not a reason code.
type ReasonCode string

// The GP2GP reason codes.
const (
	ReasonPatientNotAtSurgery     ReasonCode = "06"
	ReasonGP2GPDisabled           ReasonCode = "07"
	ReasonUnexpectedExtract       ReasonCode = "09"
	ReasonExtractGenerationFailed ReasonCode = "10"
	ReasonIntegrationFailed       ReasonCode = "11"
	ReasonDuplicateExtract        ReasonCode = "12"
	ReasonConfigurationIssue      ReasonCode = "13"
	ReasonRequesterNotLMCompliant ReasonCode = "14"
	ReasonABASuppressed           ReasonCode = "15"
	ReasonABAWrongPatient         ReasonCode = "17"
	ReasonRequestMalformed        ReasonCode = "18"
	ReasonNotCurrentProvider      ReasonCode = "19"
	ReasonSpineError              ReasonCode = "20"
	ReasonExtractMalformed        ReasonCode = "21"
	ReasonSenderNotLMCompliant    ReasonCode = "23"
	ReasonSDSLookup               ReasonCode = "24"
	ReasonLargeMessageTimeout     ReasonCode = "25"
	ReasonABAFiledAsAttachment    ReasonCode = "26"
	ReasonWrongPatient            ReasonCode = "28"
	ReasonReassemblyFailure       ReasonCode = "29"
	ReasonLargeMessageFailure     ReasonCode = "30"
	ReasonAttachmentsNotReceived  ReasonCode = "31"
	ReasonUnexpectedCondition     ReasonCode = "99"
)

// Side says which practice sends a reason code.
type Side string

const (
	SideSender    Side = "sender"
	SideRequester Side = "requester"
	SideEither    Side = "either"
)

// Reason describes a reason code.
type Reason struct {
	Code ReasonCode
	// Display is the specification's wording, written as displayName.
	Display string
	// Label is the short label NHS dashboards use.
	Label string
	// Side is who sends it.
	Side Side
	// Meaning says when it is used.
	Meaning string
}

var reasons = map[ReasonCode]Reason{
	"06": {"06", "Patient not at surgery.", "Not at surgery", SideSender, "the NHS number is not registered at the sending practice"},
	"07": {"07", "GP2GP Messaging is not enabled on this system.", "GP2GP disabled", SideSender, "the sending practice has GP2GP switched off"},
	"09": {"09", "EHR Extract received without corresponding request.", "Unexpected EHR", SideRequester, "an extract arrived for a conversation that was never requested"},
	"10": {"10", "Failed to successfully generate EHR Extract.", "Failed to generate", SideSender, "the extract could not be built"},
	"11": {"11", "Failed to successfully integrate EHR Extract.", "Failed to integrate", SideRequester, "the record was received but could not be filed; paper transfer follows"},
	"12": {"12", "Duplicate EHR Extract received.", "Duplicate EHR", SideRequester, "a second extract for the same request"},
	"13": {"13", "The system's configuration prevents it from processing this message.", "Config issue", SideEither, "configuration prevents processing"},
	"14": {"14", "Message not sent because requesting practice is not Large Message compliant", "Req not LM compliant", SideSender, "the record needs large messaging the requester cannot do"},
	"15": {"15", "A-B-A EHR Extract Received and Stored As Suppressed Record", "ABA suppressed", SideRequester, "returning patient: extract stored but suppressed"},
	"17": {"17", "A-B-A EHR Extract Received and rejected due to wrong record or wrong patient", "ABA wrong patient", SideRequester, "returning patient: wrong record or patient"},
	"18": {"18", "Request message not well-formed or not able to be processed", "Req malformed", SideSender, "the EHR Request is malformed or cannot be processed"},
	"19": {"19", "Sender check indicates that Requester is not the patient's current healthcare provider", "Unauthorised req", SideSender, "PDS says the requester is not the registered practice"},
	"20": {"20", "Spine system responded with an error", "Spine error", SideEither, "a Spine or national service failed"},
	"21": {"21", "EHR Extract message not well-formed or not able to be processed", "Extract malformed", SideRequester, "the extract cannot be parsed or mapped"},
	"23": {"23", "Message not sent because sending practice is not Large Message compliant", "Sender not LM compliant", SideSender, "the sender cannot do large messaging"},
	"24": {"24", "SDS lookup provided zero or more than one result to the query for each interaction.", "SDS lookup", SideEither, "the routing lookup was empty or ambiguous"},
	"25": {"25", "Large messages rejected due to timeout duration reached of overall transfer", "Timeout", SideRequester, "the overall large-message timer expired"},
	"26": {"26", "Returning Patient EHR Extract Received and filed as an attachment", "Filed as attachment", SideRequester, "returning patient: extract kept only as an attachment"},
	"28": {"28", "Non A-B-A EHR Extract Received and rejected due to wrong record or wrong patient", "Wrong patient", SideRequester, "not a returning patient: wrong record or patient"},
	"29": {"29", "Large Message Re-assembly failure", "LM reassembly", SideRequester, "fragments cannot be put back together"},
	"30": {"30", "Large Message general failure", "LM general failure", SideEither, "any other large-message failure"},
	"31": {"31", "The overall EHR Extract has been rejected because one or more attachments via Large Messages were not received.", "Missing LM", SideRequester, "attachments missing at timeout"},
	"99": {"99", "Unexpected condition.", "Unexpected", SideEither, "catch-all"},
}

// Info describes c; ok is false for a code GP2GP does not use.
func (c ReasonCode) Info() (r Reason, ok bool) {
	r, ok = reasons[c]
	return r, ok
}

// Display is c's specification wording, or "" for an unknown code.
func (c ReasonCode) Display() string { return reasons[c].Display }

// Known reports whether c is a GP2GP reason code.
func (c ReasonCode) Known() bool {
	_, ok := reasons[c]
	return ok
}

// Reasons lists every reason code in order.
func Reasons() []Reason {
	out := make([]Reason, 0, len(reasons))
	for _, r := range reasons {
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Code < out[j].Code })
	return out
}

// NormalizeReason turns what vendors write ("6", "06", " 18 ") into a
// two-digit code. Anything that is not one or two digits is returned as
// written, trimmed.
func NormalizeReason(s string) ReasonCode {
	b := []byte(s)
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	if len(b) == 1 && b[0] >= '0' && b[0] <= '9' && b[0] != '0' {
		return ReasonCode("0" + string(b))
	}
	return ReasonCode(b)
}
