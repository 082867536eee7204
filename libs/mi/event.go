package mi

import (
	"strings"
	"time"
)

// Interaction is a bare GP2GP HL7 interaction id such as "RCMR_IN010000UK05".
type Interaction string

// The interactions the classifier gives a role to (§1.1).
const (
	// InteractionEHRRequest is the requester's EHR request; it must start a conversation.
	InteractionEHRRequest Interaction = "RCMR_IN010000UK05"
	// InteractionEHRExtract is the core EHR extract.
	InteractionEHRExtract Interaction = "RCMR_IN030000UK06"
	// InteractionEHRExtractRedacted is the core EHR extract with redactions; it
	// counts as a core extract too.
	InteractionEHRExtractRedacted Interaction = "RCMR_IN030000UK07"
	// InteractionAck is the application acknowledgement.
	InteractionAck Interaction = "MCCI_IN010000UK13"
	// InteractionCOPC is the common point-to-point message: a "continue" when
	// the requester sends it, a large-message fragment when the sender does.
	InteractionCOPC Interaction = "COPC_IN000001UK01"
)

// ParseInteraction turns either a full URN
// ("urn:nhs:names:services:gp2gp/RCMR_IN010000UK05") or a bare id into the
// bare id. Surrounding space is trimmed and letters are upper-cased.
func ParseInteraction(s string) Interaction {
	// The common, canonical spelling, a full URN: the last digit of the
	// five interactions differs, so one comparison tells (and no more
	// than comparing pointers when s is the string URN returns, as an
	// importer may pass).
	if len(s) == len(urnPrefix)+len(InteractionAck) {
		var i Interaction
		switch s[len(s)-1] {
		case '5':
			i = InteractionEHRRequest
		case '6':
			i = InteractionEHRExtract
		case '7':
			i = InteractionEHRExtractRedacted
		case '3':
			i = InteractionAck
		case '1':
			i = InteractionCOPC
		}
		if i != "" && s == i.URN() {
			return i
		}
	}
	s = strings.TrimSpace(s)
	if i := strings.LastIndexAny(s, "/:"); i >= 0 {
		s = s[i+1:]
	}
	return Interaction(strings.ToUpper(s))
}

// urnPrefix is the prefix of the GP2GP interaction URNs.
const urnPrefix = "urn:nhs:names:services:gp2gp/"

// URN returns the full URN of interaction i, as Spine logs spell it:
// "urn:nhs:names:services:gp2gp/" and i. For the interactions given a
// role it is always the same string (no allocation, and ParseInteraction
// compares it with its own by pointer).
func (i Interaction) URN() string {
	switch i {
	case InteractionEHRRequest:
		return urnPrefix + string(InteractionEHRRequest)
	case InteractionEHRExtract:
		return urnPrefix + string(InteractionEHRExtract)
	case InteractionEHRExtractRedacted:
		return urnPrefix + string(InteractionEHRExtractRedacted)
	case InteractionAck:
		return urnPrefix + string(InteractionAck)
	case InteractionCOPC:
		return urnPrefix + string(InteractionCOPC)
	}
	return urnPrefix + string(i)
}

// notProvided is the Spine literal for "no messageRef".
const notProvided = "NotProvided"

// Event is one GP2GP message seen on Spine (one row of the Spine log).
type Event struct {
	// ConversationID groups the messages of one transfer.
	ConversationID string
	// MessageID is this message's GUID.
	MessageID string
	// Interaction is the interaction id, as a full URN or bare id.
	Interaction string
	// Sender and Recipient are ASIDs (not ODS codes).
	Sender    string
	Recipient string
	// MessageRef is, for an ack, the GUID of the acknowledged message.
	// Empty or "NotProvided" means none.
	MessageRef string
	// ErrorCode is the error/response code carried by an ack; nil means none.
	ErrorCode *int
	// Time is when Spine saw the message.
	Time time.Time
	// FromSystem and ToSystem are the supplier system names.
	FromSystem string
	ToSystem   string
}

// Kind returns the bare interaction id of the event.
func (e Event) Kind() Interaction { return ParseInteraction(e.Interaction) }

// Ref returns the acknowledged message id, and false when there is none.
func (e Event) Ref() (string, bool) {
	ref := strings.TrimSpace(e.MessageRef)
	if ref == "" || ref == notProvided {
		return "", false
	}
	return ref, true
}

// Code returns a pointer to c, for building Events in code.
func Code(c int) *int { return &c }
