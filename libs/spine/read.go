package spine

import (
	"fmt"
	"mime"

	"github.com/nhsengland/gp2gp/libs/bus"
	"github.com/nhsengland/gp2gp/libs/ebxml"
)

// Read decodes a GP2GP_SPINE_IN message delivered to a consume handler
// back into the wire message: the MHS inbound JSON envelope of its body
// (ebxml.ParseInboundJSON). A body that cannot be read, or one with a
// Content-Type other than application/json, is a bus.Permanent error: it
// will never get better, so the runner dead-letters it. When all that is
// wrong is an attachment whose base64 does not decode (ebxml.ErrBase64),
// the message is returned with that error, so that a stage can still
// answer it; any other error comes without a message.
func Read(msg *bus.Msg) (*ebxml.Message, error) {
	if msg == nil {
		return nil, bus.Permanentf("spine: read: no message")
	}
	if ct := msg.Header.Get(bus.HeaderContentType); ct != "" {
		if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != bus.ContentTypeJSON {
			return nil, bus.Permanentf("spine: read %s: content type %q is not %s", msg.Subject, ct, bus.ContentTypeJSON)
		}
	}
	m, err := ebxml.ParseInboundJSON(msg.Data)
	if err != nil {
		return m, bus.Permanent(fmt.Errorf("spine: read %s: %w", msg.Subject, err))
	}
	return m, nil
}
