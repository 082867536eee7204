package ebxml

import (
	"strings"
	"time"
)

// Values GP2GP puts in every ebXML envelope.
const (
	// ServiceGP2GP is the eb:Service of every GP2GP interaction.
	ServiceGP2GP = "urn:nhs:names:services:gp2gp"
	// PartyTypeServiceInstance is the eb:type of GP2GP eb:PartyId values
	// (MHS party keys such as "B86041-822103").
	PartyTypeServiceInstance = "urn:nhs:names:partyType:ocs+serviceInstance"
	// ActorNextMSH is the SOAP:actor of eb:AckRequested for forward-reliable
	// messaging.
	ActorNextMSH = "urn:oasis:names:tc:ebxml-msg:actor:nextMSH"
	// PayloadDescription is the eb:Description written for the HL7 payload
	// reference.
	PayloadDescription = "HL7 payload"
)

// Namespaces of the ebXML envelope. Parsing matches elements by local name
// and ignores these (vendors vary prefixes and the case of the hl7ebxml
// URI); building declares them.
const (
	// NamespaceSOAP is SOAP 1.1's envelope namespace (prefix SOAP).
	NamespaceSOAP = "http://schemas.xmlsoap.org/soap/envelope/"
	// NamespaceEB is ebXML Messaging 2.0's header namespace (prefix eb).
	NamespaceEB = "http://www.oasis-open.org/committees/ebxml-msg/schema/msg-header-2_0.xsd"
	// NamespaceHL7ebXML is HL7's ebXML transport namespace (prefix
	// hl7ebxml), of the Payload marker.
	NamespaceHL7ebXML = "urn:hl7-org:transport/ebxml/DSTUv1.0"
	// NamespaceXLink is XLink's namespace (prefix xlink), of Reference href.
	NamespaceXLink = "http://www.w3.org/1999/xlink"
)

// Envelope is the ebXML SOAP envelope of a GP2GP message: the
// eb:MessageHeader (who, which conversation, which interaction) and the
// eb:Manifest (what travels with it).
//
// ParseEnvelope stores ConversationID, MessageID and RefToMessageID
// upper-case; compare other ids with strings.EqualFold.
type Envelope struct {
	// From is the sender's MHS party.
	From PartyID
	// To is the recipient's MHS party.
	To PartyID
	// CPAID is the collaboration protocol agreement id from SDS.
	CPAID string
	// ConversationID is shared by every message of one transfer.
	ConversationID string
	// Service is the eb:Service; Build writes ServiceGP2GP when empty.
	Service string
	// Action is the interaction id, e.g. RCMR_IN030000UK06: the routing key.
	Action string
	// MessageID is this message's id (GUID).
	MessageID string
	// Timestamp is when the message was sent (UTC; Build writes whole
	// seconds).
	Timestamp time.Time
	// RefToMessageID is absent (empty) on GP2GP business messages.
	RefToMessageID string
	// TimeToLive is optional (zero when absent).
	TimeToLive time.Time
	// DuplicateElimination is set when eb:DuplicateElimination is present.
	DuplicateElimination bool
	// AckRequested is set when eb:AckRequested is present.
	AckRequested bool
	// Manifest lists the references in eb:Manifest, in order.
	Manifest []Reference
}

// PartyID is an eb:PartyId with its eb:type.
type PartyID struct {
	// ID is the party key, e.g. "YGM24-820388".
	ID string
	// Type is the eb:type; Build writes PartyTypeServiceInstance when empty.
	Type string
}

// Reference is one eb:Reference of the manifest: the HL7 payload, an
// inline attachment (cid:) or an external attachment that travels in a
// later message (mid:).
type Reference struct {
	// Href is the xlink:href, "cid:<content id>" or "mid:<message id>".
	Href string
	// ID is the eb:id, by convention "_<documentId>"; often empty.
	ID string
	// Description is the eb:Description text as written (see
	// ParseDescription for its key=value grammar).
	Description string
	// Payload marks the HL7 payload reference (hl7ebxml:Payload present).
	Payload bool
	// SchemaLocation is the eb:Schema eb:location, if any.
	SchemaLocation string
	// SchemaVersion is the eb:Schema eb:version, if any.
	SchemaVersion string
}

// IsCID reports whether the reference names a MIME part of this message.
func (r Reference) IsCID() bool { return hasScheme(r.Href, "cid:") }

// IsMID reports whether the reference names another message (an external
// attachment sent later).
func (r Reference) IsMID() bool { return hasScheme(r.Href, "mid:") }

// Target returns the content id or message id the reference names,
// without its scheme or angle brackets. It returns Href unchanged (trimmed)
// for a reference that is neither cid: nor mid:.
func (r Reference) Target() string {
	h := strings.TrimSpace(r.Href)
	if hasScheme(h, "cid:") || hasScheme(h, "mid:") {
		h = h[len("cid:"):]
	}
	return trimAngles(h)
}

// Metadata parses the reference's Description (see ParseDescription).
func (r Reference) Metadata() Description { return ParseDescription(r.Description) }

func hasScheme(href, scheme string) bool {
	h := strings.TrimSpace(href)
	return len(h) >= len(scheme) && strings.EqualFold(h[:len(scheme)], scheme)
}

// trimAngles strips surrounding space and one pair of angle brackets, as
// in a Content-Id header value.
func trimAngles(s string) string {
	s = strings.TrimSpace(s)
	if len(s) >= 2 && s[0] == '<' && s[len(s)-1] == '>' {
		s = strings.TrimSpace(s[1 : len(s)-1])
	}
	return s
}

// normID normalises a conversation or message id for storage: trimmed and
// upper-case.
func normID(s string) string { return strings.ToUpper(strings.TrimSpace(s)) }

// payloadRef returns the index of the HL7 payload reference: the one
// marked Payload, else the first cid: reference; -1 if none.
func payloadRef(refs []Reference) int {
	for i, r := range refs {
		if r.Payload {
			return i
		}
	}
	for i, r := range refs {
		if r.IsCID() {
			return i
		}
	}
	return -1
}
