package dlq

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"mime"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/nats-io/nats.go"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/nhsengland/gp2gp/libs/bus"
	gp2gpv1 "github.com/nhsengland/gp2gp/proto/gp2gp/v1"
)

// contracts are the bus contracts the streams carry (the README's subject
// map): a protobuf body dead-lettered from one of these streams is shown
// as that message. Streams not here carry no protobuf (HL7 wire messages in
// MHS JSON envelopes, timers, MI API bodies).
var contracts = map[string]protoreflect.MessageType{
	bus.StreamRegistrations:   (&gp2gpv1.RegistrationEvent{}).ProtoReflect().Type(),
	bus.StreamRecordRequests:  (&gp2gpv1.RecordRequest{}).ProtoReflect().Type(),
	bus.StreamRecordResponses: (&gp2gpv1.RecordResponse{}).ProtoReflect().Type(),
	bus.StreamRecordsReady:    (&gp2gpv1.RecordReady{}).ProtoReflect().Type(),
	bus.StreamIntegrations:    (&gp2gpv1.IntegrationOutcome{}).ProtoReflect().Type(),
	bus.StreamAcks:            (&gp2gpv1.AckRequest{}).ProtoReflect().Type(),
	bus.StreamCommands:        (&gp2gpv1.ResendCommand{}).ProtoReflect().Type(),
	bus.StreamLifecycle:       (&gp2gpv1.TransferEvent{}).ProtoReflect().Type(),
	bus.StreamMessages:        (&gp2gpv1.MessageEvent{}).ProtoReflect().Type(),
}

// How show gives a body (Body.Form).
const (
	FormEmpty      = "empty"
	FormProtoJSON  = "protojson"   // a gp2gp.v1 contract, decoded from protobuf
	FormText       = "text"        // JSON, XML or other text, as it is
	FormBase64     = "base64"      // anything else
	FormClaimCheck = "claim-check" // the body is in the bodies object store
)

// Body is a dead letter's body as show gives it.
type Body struct {
	// Size in bytes (for a claim check, of the body in the object store).
	Size        int    `json:"size"`
	ContentType string `json:"content_type,omitempty"`
	// Form says which of the fields below holds the body.
	Form string `json:"form"`
	// Type is the gp2gp.v1 message of a FormProtoJSON body.
	Type   string          `json:"type,omitempty"`
	JSON   json.RawMessage `json:"json,omitempty"`
	Text   string          `json:"text,omitempty"`
	Base64 string          `json:"base64,omitempty"`
	// Object names the body of a FormClaimCheck in the bodies object store.
	Object string `json:"object,omitempty"`
	// Note says why a body is not shown decoded.
	Note string `json:"note,omitempty"`
}

// bodyOf describes data, the body of a message dead-lettered from stream
// with headers h.
func bodyOf(stream string, h nats.Header, data []byte) Body {
	b := Body{Size: len(data), ContentType: h.Get(bus.HeaderContentType)}
	if obj := h.Get(bus.HeaderBodyObject); obj != "" {
		b.Form, b.Object = FormClaimCheck, obj
		b.Size, _ = strconv.Atoi(h.Get(bus.HeaderBodySize))
		b.Note = "a claim check: the body is in object store " + bus.BucketBodies + ", which gp2gpctl does not read; replay sends the claim check as it is"
		return b
	}
	if len(data) == 0 {
		b.Form = FormEmpty
		return b
	}
	mt := strings.ToLower(b.ContentType)
	if parsed, _, err := mime.ParseMediaType(b.ContentType); err == nil {
		mt = parsed
	}
	if typ, ok := contracts[stream]; ok && (mt == "" || mt == bus.ContentTypeProtobuf || mt == "application/x-protobuf") {
		m := typ.New().Interface()
		err := proto.Unmarshal(data, m)
		var out []byte
		if err == nil {
			out, err = protojson.Marshal(m)
		}
		var indented bytes.Buffer
		if err == nil {
			// protojson varies its spacing on purpose; this is stable.
			err = json.Indent(&indented, out, "", "  ")
		}
		if err == nil {
			b.Form, b.Type, b.JSON = FormProtoJSON, string(typ.Descriptor().FullName()), indented.Bytes()
			return b
		}
		b.Note = fmt.Sprintf("does not decode as %s: %v", typ.Descriptor().FullName(), err)
	}
	if isText(data) {
		b.Form, b.Text = FormText, string(data)
		return b
	}
	b.Form, b.Base64 = FormBase64, base64.StdEncoding.EncodeToString(data)
	return b
}

// isText reports whether data is UTF-8 text without control characters
// other than line breaks and tabs.
func isText(data []byte) bool {
	if !utf8.Valid(data) {
		return false
	}
	for _, r := range string(data) {
		if unicode.IsControl(r) && r != '\n' && r != '\r' && r != '\t' {
			return false
		}
	}
	return true
}
