package spine

import (
	"fmt"
	"strings"

	"github.com/nhsengland/gp2gp/libs/bus"
	"github.com/nhsengland/gp2gp/libs/ebxml"
	"github.com/nhsengland/gp2gp/libs/hl7"
)

// Classify returns the kind of a wire message, which decides the stage it
// goes to:
//
//	RCMR_IN010000UK05            bus.KindEHRRequest (sender)
//	RCMR_IN030000UK06, UK07      bus.KindEHRExtract (receiver)
//	MCCI_IN010000UK13            bus.KindAck (acknowledger)
//	COPC_IN000001UK01 Continue   bus.KindContinue (sender)
//	COPC_IN000001UK01 otherwise  bus.KindCOPC (receiver): attachments,
//	                             fragment indexes, fragments, and COPCs
//	                             too broken to tell (the receiver NACKs them)
//
// The interaction is the envelope's Action, the routing key both NHS
// adaptors dispatch on; an Action written as the service URN
// (urn:nhs:names:services:gp2gp/<id>) or in lower case is accepted. When
// the Action names no GP2GP interaction, the HL7 payload's root element
// decides. A COPC is a Continue when its payload decodes as one
// (hl7.DecodeCOPC). Anything else is ErrUnknownInteraction.
func Classify(msg *ebxml.Message) (bus.SpineKind, error) {
	kind, _, err := classify(msg, nil)
	return kind, err
}

// classify is Classify that also returns the interaction, reusing decoded
// (the hl7.Decode of the payload) when the caller has it.
func classify(msg *ebxml.Message, decoded hl7.Message) (bus.SpineKind, hl7.Interaction, error) {
	if msg == nil {
		return "", "", fmt.Errorf("%w: no message", ErrUnknownInteraction)
	}
	in := actionInteraction(msg.Envelope.Action)
	if in == "" {
		if decoded == nil {
			decoded, _ = hl7.Decode(msg.Payload) // what could be read is enough
		}
		if decoded == nil {
			return "", "", fmt.Errorf("%w: Action %.80q, and the HL7 payload's root element is not one either",
				ErrUnknownInteraction, msg.Envelope.Action)
		}
		in = decoded.Header().Interaction
	}
	switch {
	case in == hl7.EHRRequest:
		return bus.KindEHRRequest, in, nil
	case in.IsExtract():
		return bus.KindEHRExtract, in, nil
	case in == hl7.ApplicationAck:
		return bus.KindAck, in, nil
	case in == hl7.CommonContentCOPC:
		c, ok := decoded.(*hl7.COPC)
		if !ok {
			c, _ = hl7.DecodeCOPC(msg.Payload) // a partly readable COPC keeps its kind
		}
		if c != nil && c.Kind == hl7.KindContinue {
			return bus.KindContinue, in, nil
		}
		return bus.KindCOPC, in, nil
	}
	return "", "", fmt.Errorf("%w: %q", ErrUnknownInteraction, in)
}

// actionInteraction reads an ebXML Action as a GP2GP interaction id,
// bare or as the service URN, in any case; "" when it is not one.
func actionInteraction(action string) hl7.Interaction {
	a := strings.TrimSpace(action)
	if i := strings.LastIndexByte(a, '/'); i >= 0 {
		a = a[i+1:]
	}
	in := hl7.Interaction(strings.ToUpper(a))
	if !in.Known() {
		return ""
	}
	return in
}

// RecipientASID returns the recipient ASID the HL7 payload names
// (communicationFunctionRcv/device/id/@extension), for a received message
// that arrives without one (the MHS adaptor's inbound queue carries none).
// It fails with ErrNoRecipient when the payload cannot be read that far
// or names no usable ASID.
func RecipientASID(msg *ebxml.Message) (string, error) {
	if msg == nil {
		return "", fmt.Errorf("%w: no message", ErrNoRecipient)
	}
	decoded, err := hl7.Decode(msg.Payload)
	return recipientOf(decoded, err)
}

// recipientOf reads the recipient ASID from the result of hl7.Decode.
func recipientOf(decoded hl7.Message, decodeErr error) (string, error) {
	if decoded == nil {
		return "", fmt.Errorf("%w: the HL7 payload cannot be read: %w", ErrNoRecipient, decodeErr)
	}
	asid := decoded.Header().ToASID
	switch {
	case asid == "":
		return "", fmt.Errorf("%w: the HL7 payload has no communicationFunctionRcv device id", ErrNoRecipient)
	case !validASID(asid):
		return "", fmt.Errorf("%w: %.80q in communicationFunctionRcv is not an ASID", ErrNoRecipient, asid)
	}
	return asid, nil
}
