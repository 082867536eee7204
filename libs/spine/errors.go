package spine

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
)

var (
	// ErrUnknownInteraction: neither the ebXML Action nor the HL7 payload's
	// root element names a GP2GP interaction, so the message cannot be
	// routed to a stage.
	ErrUnknownInteraction = errors.New("spine: not a GP2GP interaction")
	// ErrNoRecipient: the HL7 payload names no usable recipient ASID
	// (communicationFunctionRcv), or it cannot be read at all.
	ErrNoRecipient = errors.New("spine: no recipient ASID")
	// ErrNotServed: the recipient ASID is not one of the practices this
	// deployment serves.
	ErrNotServed = errors.New("spine: ASID not served here")
	// ErrInvalidOutbound: an *Outbound cannot be sent as it is (no message,
	// no recipient, an envelope or payload the wire format refuses).
	ErrInvalidOutbound = errors.New("spine: invalid outbound message")
)

// MaxErrorBody is how much of an MHS adaptor error response MHSError
// keeps.
const MaxErrorBody = 4 << 10

// MHSError is an error response of the MHS adaptor's outbound API.
type MHSError struct {
	// Status is the HTTP status code.
	Status int
	// Body is the start of the response body (at most MaxErrorBody bytes),
	// which says what the adaptor refused.
	Body string
}

// Error reports the status and the body.
func (e *MHSError) Error() string {
	msg := fmt.Sprintf("MHS adaptor answered %d %s", e.Status, http.StatusText(e.Status))
	if b := strings.TrimSpace(e.Body); b != "" {
		msg += ": " + b
	}
	return msg
}

// IsExternalAttachmentsTooLong reports whether err is the MHS adaptor's
// 400 refusing a message because its external_attachments list is "Longer
// than maximum length" (GP2GP-PROTOCOL.md §5.1). The NHS sending adaptor
// answers it with NACK reason 30 (large message general failure); a caller
// can do the same. Whether the adaptor has such a cap depends on its
// version.
func IsExternalAttachmentsTooLong(err error) bool {
	var me *MHSError
	if !errors.As(err, &me) || me.Status != http.StatusBadRequest {
		return false
	}
	body := strings.ToLower(me.Body)
	return strings.Contains(body, "external_attachments") && strings.Contains(body, "longer than maximum length")
}
