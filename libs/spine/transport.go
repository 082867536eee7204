package spine

import (
	"context"
	"fmt"

	"github.com/nhsengland/gp2gp/libs/bus"
	"github.com/nhsengland/gp2gp/libs/ebxml"
	"github.com/nhsengland/gp2gp/libs/hl7"
)

// Transport sends GP2GP wire messages to other practices.
//
// Send either delivers out (returns nil) or returns an error. A
// bus.Permanent error (bus.IsPermanent) means that sending the same message
// again cannot succeed: it is malformed, addressed to a practice that
// cannot be reached, or the MHS adaptor refused it (400). Any other error
// is retryable: the caller (normally a consume handler returning it to the
// runner) sends the same message again later.
//
// Send is idempotent for a message id: sending the same message again,
// after a failure, a timeout or a success, delivers it at most once more
// to the recipient's bus (the loopback's dedupe id, the MHS adaptor's and
// Spine's duplicate elimination on the ebXML MessageId). Build a resent
// message with the same ids (HL7 id = ebXML MessageId), never new ones.
//
// Implementations are safe for concurrent use.
type Transport interface {
	Send(ctx context.Context, out *Outbound) error
}

// Outbound is a message to send and where it goes.
type Outbound struct {
	// Message carries the ebXML envelope (conversation id, message id,
	// Action = interaction id, party ids, CPA id), the HL7 payload, the
	// inline attachments and the external (mid:) references. Its
	// MessageId must equal the HL7 message id.
	Message *ebxml.Message
	// FromASID is the sending practice's ASID (communicationFunctionSnd).
	FromASID string
	// ToASID is the receiving practice's ASID (communicationFunctionRcv):
	// the loopback routes on it.
	ToASID string
	// ToODS is the receiving practice's ODS code: the MHS adaptor's
	// ods-code header, from which it looks up the route in SDS.
	ToODS string
}

// maxASID bounds an ASID; real ones are 12 digits.
const maxASID = 64

// validASID reports whether asid can be a subject token and a dedupe id
// part: 1 to 64 ASCII letters, digits, '-' or '_'. Spine ASIDs are
// digits.
func validASID(asid string) bool {
	if asid == "" || len(asid) > maxASID {
		return false
	}
	for i := 0; i < len(asid); i++ {
		c := asid[i]
		if !('0' <= c && c <= '9' || 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// maxID bounds a conversation or message id carried in a header.
const maxID = 256

// checkHeaderValue refuses an id that cannot travel in a NATS header:
// empty, too long, or holding control characters.
func checkHeaderValue(name, v string) error {
	if v == "" {
		return fmt.Errorf("no %s", name)
	}
	if len(v) > maxID {
		return fmt.Errorf("%s of %d bytes is longer than %d", name, len(v), maxID)
	}
	for _, r := range v {
		if r < 0x20 || r == 0x7f {
			return fmt.Errorf("%s %q holds a control character", name, v)
		}
	}
	return nil
}

// DedupeID is the Nats-Msg-Id of a received message: spine.<message
// id>.<recipient ASID>, with the message id upper-case.
func DedupeID(messageID, toASID string) string {
	return "spine." + hl7.NormalizeID(messageID) + "." + toASID
}

// received is what the bus message of a received wire message is made of.
type received struct {
	body           []byte
	toASID         string
	kind           bus.SpineKind
	interaction    string
	conversationID string
	messageID      string
}

// outgoing checks r and turns it into the bus message.
func (r received) outgoing() (bus.Outgoing, error) {
	if !validASID(r.toASID) {
		return bus.Outgoing{}, fmt.Errorf("%w: %q cannot be a subject token", ErrNoRecipient, r.toASID)
	}
	if err := checkHeaderValue("conversation id", r.conversationID); err != nil {
		return bus.Outgoing{}, fmt.Errorf("%w: %s", ErrInvalidOutbound, err)
	}
	if err := checkHeaderValue("message id", r.messageID); err != nil {
		return bus.Outgoing{}, fmt.Errorf("%w: %s", ErrInvalidOutbound, err)
	}
	return bus.Outgoing{
		Subject:  bus.SpineInSubject(r.toASID, r.kind),
		DedupeID: DedupeID(r.messageID, r.toASID),
		Data:     r.body,
		Headers: bus.Headers{
			ConversationID: hl7.NormalizeID(r.conversationID),
			InteractionID:  r.interaction,
			MessageID:      hl7.NormalizeID(r.messageID),
		},
		ContentType: bus.ContentTypeJSON,
	}, nil
}
