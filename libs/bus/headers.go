package bus

import (
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Header names written and read by the bus. NATS headers are case
// sensitive; these exact spellings are the contract.
const (
	// HeaderConversationID carries the GP2GP conversation id (upper-case
	// GUID) of the transfer a message belongs to.
	HeaderConversationID = "Gp2gp-Conversation-Id"
	// HeaderInteractionID carries the HL7 interaction id, for example
	// RCMR_IN030000UK06, for messages that carry or concern a wire message.
	HeaderInteractionID = "Gp2gp-Interaction-Id"
	// HeaderMessageID carries the HL7/ebXML message id of the wire message
	// concerned.
	HeaderMessageID = "Gp2gp-Message-Id"
	// HeaderContentType says how the body is encoded; see ContentType*.
	HeaderContentType = "Content-Type"
	// HeaderMsgID is JetStream's deduplication header.
	HeaderMsgID = jetstream.MsgIDHeader
)

// Body encodings for HeaderContentType.
const (
	// ContentTypeProtobuf is the binary protobuf encoding of a gp2gp.v1
	// contract. It is the default when no content type is given.
	ContentTypeProtobuf = "application/protobuf"
	// ContentTypeJSON is the canonical protobuf JSON mapping of a gp2gp.v1
	// contract, for vendors who prefer JSON.
	ContentTypeJSON = "application/json"
	// ContentTypeXML is an HL7 V3 XML document.
	ContentTypeXML = "application/xml"
)

// Headers are the typed gp2gp headers of a message. Empty fields are not
// written.
type Headers struct {
	ConversationID string
	InteractionID  string
	MessageID      string
}

// HeadersOf reads the typed headers from h.
func HeadersOf(h nats.Header) Headers {
	return Headers{
		ConversationID: headerValue(h, HeaderConversationID),
		InteractionID:  headerValue(h, HeaderInteractionID),
		MessageID:      headerValue(h, HeaderMessageID),
	}
}

func (hs Headers) writeTo(h nats.Header) {
	set := func(k, v string) {
		if v != "" {
			h[k] = []string{v}
		}
	}
	set(HeaderConversationID, hs.ConversationID)
	set(HeaderInteractionID, hs.InteractionID)
	set(HeaderMessageID, hs.MessageID)
}

// headerValue returns the first value of key, matching the exact spelling
// first and falling back to a case-insensitive match, since bridges and
// other clients do not all preserve case.
func headerValue(h nats.Header, key string) string {
	if v := h[key]; len(v) > 0 {
		return v[0]
	}
	for k, v := range h {
		if len(v) > 0 && equalFold(k, key) {
			return v[0]
		}
	}
	return ""
}

func equalFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		ca, cb := a[i], b[i]
		if 'A' <= ca && ca <= 'Z' {
			ca += 'a' - 'A'
		}
		if 'A' <= cb && cb <= 'Z' {
			cb += 'a' - 'A'
		}
		if ca != cb {
			return false
		}
	}
	return true
}
