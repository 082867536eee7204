package bus

import (
	"fmt"
	"mime"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

// Decode reads msg's body into m according to its Content-Type: binary
// protobuf (the default when absent) or the protobuf JSON mapping. Unknown
// JSON fields are rejected so a vendor's typo is reported, not ignored. A
// body that cannot be decoded is a Permanent error: redelivering it cannot
// help.
func Decode(msg *Msg, m proto.Message) error {
	ct := headerValue(msg.Header, HeaderContentType)
	if ct != "" {
		if mt, _, err := mime.ParseMediaType(ct); err == nil {
			ct = mt
		}
	}
	var err error
	switch ct {
	case "", ContentTypeProtobuf, "application/x-protobuf":
		err = proto.Unmarshal(msg.Data, m)
	case ContentTypeJSON:
		err = protojson.Unmarshal(msg.Data, m)
	default:
		return Permanentf("bus: decode %s: unsupported content type %q", msg.Subject, ct)
	}
	if err != nil {
		return Permanent(fmt.Errorf("bus: decode %s as %s (%s): %w", msg.Subject, m.ProtoReflect().Descriptor().FullName(), orDefault(ct, ContentTypeProtobuf), err))
	}
	return nil
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
