package ebxml

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"
)

// MaxMHSChars is the most characters the MHS adaptor accepts in the
// payload and in each attachment's payload.
const MaxMHSChars = 5_000_000

// mhsContentTypes are the attachment content types the MHS adaptor's
// outbound request schema allows.
var mhsContentTypes = map[string]bool{
	"text/plain": true, "text/html": true, "application/pdf": true, "text/xml": true,
	"application/xml": true, "text/rtf": true, "audio/basic": true, "audio/mpeg": true,
	"image/png": true, "image/gif": true, "image/jpeg": true, "image/tiff": true,
	"video/mpeg": true, "application/msword": true, "application/octet-stream": true,
}

// HTTP headers of an MHS adaptor outbound request.
const (
	// HeaderInteractionID carries the interaction id (ebXML Action).
	HeaderInteractionID = "Interaction-Id"
	// HeaderWaitForResponse is "false" for GP2GP (asynchronous).
	HeaderWaitForResponse = "wait-for-response"
	// HeaderCorrelationID carries the conversation id.
	HeaderCorrelationID = "Correlation-Id"
	// HeaderMessageID carries the message id.
	HeaderMessageID = "Message-Id"
	// HeaderODSCode carries the recipient practice's ODS code.
	HeaderODSCode = "ods-code"
)

// OutboundHeaders are the headers of an MHS adaptor outbound request.
type OutboundHeaders struct {
	// InteractionID selects the interaction (the ebXML Action).
	InteractionID string
	// WaitForResponse is always false for GP2GP (asynchronous).
	WaitForResponse bool
	// CorrelationID becomes the ebXML ConversationId.
	CorrelationID string
	// MessageID becomes the ebXML MessageId.
	MessageID string
	// ODSCode is the recipient practice's ODS code, for the SDS lookup.
	ODSCode string
}

// HTTPHeader returns h as HTTP headers, with JSON Content-Type and Accept.
func (h OutboundHeaders) HTTPHeader() http.Header {
	hdr := http.Header{}
	hdr.Set(HeaderInteractionID, h.InteractionID)
	hdr.Set(HeaderWaitForResponse, strconv.FormatBool(h.WaitForResponse))
	hdr.Set(HeaderCorrelationID, h.CorrelationID)
	hdr.Set(HeaderMessageID, h.MessageID)
	hdr.Set(HeaderODSCode, h.ODSCode)
	hdr.Set("Content-Type", "application/json")
	hdr.Set("Accept", "application/json")
	return hdr
}

// ParseOutboundHeaders reads the MHS outbound headers of a request (as a
// stand-in MHS would). Interaction-Id is required; ids are upper-cased.
func ParseOutboundHeaders(hdr http.Header) (OutboundHeaders, error) {
	h := OutboundHeaders{
		InteractionID: strings.TrimSpace(hdr.Get(HeaderInteractionID)),
		CorrelationID: normID(hdr.Get(HeaderCorrelationID)),
		MessageID:     normID(hdr.Get(HeaderMessageID)),
		ODSCode:       strings.TrimSpace(hdr.Get(HeaderODSCode)),
	}
	if h.InteractionID == "" {
		return h, newError(PartMessage, ErrMalformed, nil, "no %s header", HeaderInteractionID)
	}
	if v := strings.TrimSpace(hdr.Get(HeaderWaitForResponse)); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return h, newError(PartMessage, ErrMalformed, err, "%s header %q", HeaderWaitForResponse, v)
		}
		h.WaitForResponse = b
	}
	return h, nil
}

// OutboundHeaders returns the MHS outbound headers for m, sent to the
// practice with ODS code recipientODS: Interaction-Id = Action,
// wait-for-response false, Correlation-Id = ConversationID, Message-Id =
// MessageID.
func (m *Message) OutboundHeaders(recipientODS string) (OutboundHeaders, error) {
	ods := strings.TrimSpace(recipientODS)
	if err := checkToken(ods); err != nil {
		return OutboundHeaders{}, newError(PartMessage, ErrInvalid, nil, "recipient ODS code %q: %s", recipientODS, err)
	}
	for _, f := range []struct{ name, value string }{
		{"Action", m.Envelope.Action},
		{"ConversationId", m.Envelope.ConversationID},
		{"MessageId", m.Envelope.MessageID},
	} {
		if err := checkToken(f.value); err != nil {
			return OutboundHeaders{}, newError(PartMessage, ErrInvalid, nil, "%s %q: %s", f.name, f.value, err)
		}
	}
	return OutboundHeaders{
		InteractionID: m.Envelope.Action,
		CorrelationID: normID(m.Envelope.ConversationID),
		MessageID:     normID(m.Envelope.MessageID),
		ODSCode:       ods,
	}, nil
}

// flexBool reads a JSON boolean written as true/false or as a string
// ("true"/"false", any case); null is false.
type flexBool bool

func (b *flexBool) UnmarshalJSON(data []byte) error {
	s := string(bytes.TrimSpace(data))
	if s == "null" {
		*b = false
		return nil
	}
	if uq, err := strconv.Unquote(s); err == nil && len(s) > 0 && s[0] == '"' {
		s = strings.TrimSpace(uq)
	}
	switch strings.ToLower(s) {
	case "true":
		*b = true
	case "false", "":
		*b = false
	default:
		return fmt.Errorf("is_base64 must be true or false, got %.40s", string(data))
	}
	return nil
}

// jsonAttachment is an attachment in any of the MHS JSON shapes.
type jsonAttachment struct {
	Payload     string   `json:"payload"`
	IsBase64    flexBool `json:"is_base64"`
	ContentID   string   `json:"content_id"`
	ContentType string   `json:"content_type"`
	Description string   `json:"description"`
	DocumentID  string   `json:"document_id"`
}

// jsonExternal is an external attachment in any of the MHS JSON shapes;
// documentId is a spelling seen in test data.
type jsonExternal struct {
	DocumentID    string `json:"document_id"`
	DocumentIDAlt string `json:"documentId"`
	MessageID     string `json:"message_id"`
	Description   string `json:"description"`
	Title         string `json:"title,omitempty"`
}

func (x jsonExternal) documentID() string {
	if x.DocumentID != "" {
		return x.DocumentID
	}
	return x.DocumentIDAlt
}

// jsonBody is an MHS JSON body, inbound (with ebXML) or outbound.
type jsonBody struct {
	EbXML       string           `json:"ebXML"`
	Payload     string           `json:"payload"`
	Attachments []jsonAttachment `json:"attachments"`
	External    []jsonExternal   `json:"external_attachments"`
}

func decodeJSON(data []byte, o options) (*jsonBody, error) {
	if err := o.checkSize(PartJSON, data); err != nil {
		return nil, err
	}
	if i := invalidUTF8(data); i >= 0 {
		return nil, newError(PartJSON, ErrMalformed, nil, "invalid UTF-8 at byte %d: JSON text must be UTF-8", i)
	}
	var body jsonBody
	if err := json.Unmarshal(data, &body); err != nil {
		return nil, newError(PartJSON, ErrMalformed, err, "unreadable MHS JSON")
	}
	return &body, nil
}

// invalidUTF8 is the offset of the first byte of data that is not valid
// UTF-8, or -1. (encoding/json would silently turn such bytes into U+FFFD,
// changing the HL7 text.)
func invalidUTF8(data []byte) int {
	if utf8.Valid(data) {
		return -1
	}
	for i := 0; i < len(data); {
		r, n := utf8.DecodeRune(data[i:])
		if r == utf8.RuneError && n == 1 {
			return i
		}
		i += n
	}
	return -1
}

// data returns the attachment's decoded content and, when base64, its
// base64 text.
func (a jsonAttachment) data(i int) (data, encoded []byte, err error) {
	if !a.IsBase64 {
		return []byte(a.Payload), nil, nil
	}
	encoded, data, err = decodeBase64([]byte(a.Payload))
	if err != nil {
		return nil, nil, newError(PartAttachment, ErrBase64, err, "attachment %d <%s>", i, a.ContentID)
	}
	return data, encoded, nil
}

// ParseInboundJSON parses what the MHS adaptor puts on its inbound queue:
// {"ebXML", "payload", "attachments": [{"payload", "is_base64",
// "content_id", "content_type", "description"}], "external_attachments":
// [{"document_id", "message_id", "description", "title"}]}. It accepts
// is_base64 as a boolean or a string and documentId for document_id.
// Attachments are matched to the manifest's cid: references by content id
// (then, for those without one, in order) and take their document id and,
// when the JSON has none, their description from it; external attachments
// are matched to mid: references by message id (then in order), and mid:
// references the JSON does not list are added.
//
// The input must be UTF-8, as JSON text is. An attachment whose base64
// does not decode fails the parse with ErrBase64 (the error names the
// first such attachment), but the message is returned with the error, that
// attachment without Data (its Encoded holds the text as received), so
// that the recipient can still tell whom to answer; any other failure
// returns no message.
func ParseInboundJSON(data []byte, opts ...Option) (*Message, error) {
	o, err := buildOptions(opts)
	if err != nil {
		return nil, err
	}
	body, err := decodeJSON(data, o)
	if err != nil {
		return nil, err
	}
	if strings.TrimSpace(body.EbXML) == "" {
		return nil, newError(PartJSON, ErrNoEnvelope, nil, "no ebXML member")
	}
	env, err := parseEnvelope([]byte(body.EbXML), o)
	if err != nil {
		return nil, err
	}
	m := &Message{Envelope: *env, Payload: []byte(body.Payload)}
	claimed := make([]bool, len(env.Manifest))
	if pi := payloadRef(env.Manifest); pi >= 0 {
		m.PayloadContentID = env.Manifest[pi].Target()
		claimed[pi] = true
	}

	ids := make([]string, len(body.Attachments))
	for i, a := range body.Attachments {
		ids[i] = trimAngles(a.ContentID)
	}
	match := matchRefs(env.Manifest, claimed, Reference.IsCID, ids)
	var undecodable error
	for i, ja := range body.Attachments {
		d, enc, err := ja.data(i)
		if err != nil {
			if undecodable == nil {
				undecodable = err
			}
			d, enc = nil, []byte(ja.Payload)
		}
		a := Attachment{
			Encoded:         enc,
			ContentID:       ids[i],
			ContentType:     strings.TrimSpace(ja.ContentType),
			Base64:          bool(ja.IsBase64),
			DocumentID:      ja.DocumentID,
			DescriptionText: ja.Description,
			Data:            d,
		}
		if r := match[i]; r >= 0 {
			ref := env.Manifest[r]
			a.ContentID = orDefault(a.ContentID, ref.Target())
			a.DocumentID = orDefault(a.DocumentID, ref.ID)
			a.DescriptionText = orDefault(a.DescriptionText, ref.Description)
		}
		a.Description = ParseDescription(a.DescriptionText)
		m.Attachments = append(m.Attachments, a)
	}

	ids = make([]string, len(body.External))
	for i, x := range body.External {
		ids[i] = strings.TrimSpace(x.MessageID)
	}
	match = matchRefs(env.Manifest, claimed, Reference.IsMID, ids)
	byRef := make(map[int]int, len(match))
	for i, r := range match {
		if r >= 0 {
			byRef[r] = i
		}
	}
	for r, ref := range env.Manifest {
		if !ref.IsMID() {
			continue
		}
		x := externalFromRef(ref)
		if i, ok := byRef[r]; ok {
			jx := body.External[i]
			x.MessageID = normID(orDefault(jx.MessageID, x.MessageID))
			x.DocumentID = orDefault(jx.documentID(), x.DocumentID)
			if jx.Description != "" {
				x.DescriptionText = jx.Description
				x.Description = ParseDescription(jx.Description)
			}
		}
		m.External = append(m.External, x)
	}
	for i, r := range match {
		if r < 0 {
			m.External = append(m.External, externalFromJSON(body.External[i]))
		}
	}
	return m, undecodable
}

func externalFromJSON(jx jsonExternal) ExternalAttachment {
	return ExternalAttachment{
		DocumentID:      jx.documentID(),
		MessageID:       normID(jx.MessageID),
		DescriptionText: jx.Description,
		Description:     ParseDescription(jx.Description),
	}
}

// matchRefs pairs each id with an unclaimed manifest reference of the
// given kind: first by equal target (ignoring case), then, for the ids
// still unpaired, with the remaining references in order. It returns the
// reference index per id (-1 when none is left) and marks them claimed.
func matchRefs(refs []Reference, claimed []bool, kind func(Reference) bool, ids []string) []int {
	out := make([]int, len(ids))
	for i, id := range ids {
		out[i] = -1
		if id == "" {
			continue
		}
		for r, ref := range refs {
			if !claimed[r] && kind(ref) && strings.EqualFold(ref.Target(), id) {
				out[i], claimed[r] = r, true
				break
			}
		}
	}
	for i := range ids {
		if out[i] >= 0 {
			continue
		}
		for r, ref := range refs {
			if !claimed[r] && kind(ref) {
				out[i], claimed[r] = r, true
				break
			}
		}
	}
	return out
}

// ParseOutboundJSON parses an MHS adaptor outbound request body with its
// headers, as a stand-in MHS would: the envelope gets only Action,
// ConversationID and MessageID (from the headers); attachments have no
// content ids.
func ParseOutboundJSON(data []byte, h OutboundHeaders, opts ...Option) (*Message, error) {
	o, err := buildOptions(opts)
	if err != nil {
		return nil, err
	}
	body, err := decodeJSON(data, o)
	if err != nil {
		return nil, err
	}
	m := &Message{
		Envelope: Envelope{Action: h.InteractionID, ConversationID: normID(h.CorrelationID), MessageID: normID(h.MessageID)},
		Payload:  []byte(body.Payload),
	}
	for i, ja := range body.Attachments {
		d, enc, err := ja.data(i)
		if err != nil {
			return nil, err
		}
		m.Attachments = append(m.Attachments, Attachment{
			Encoded:         enc,
			ContentID:       trimAngles(ja.ContentID),
			ContentType:     strings.TrimSpace(ja.ContentType),
			Base64:          bool(ja.IsBase64),
			DocumentID:      ja.DocumentID,
			DescriptionText: ja.Description,
			Description:     ParseDescription(ja.Description),
			Data:            d,
		})
	}
	for _, jx := range body.External {
		m.External = append(m.External, externalFromJSON(jx))
	}
	return m, nil
}

type outboundAttachment struct {
	ContentType string `json:"content_type"`
	IsBase64    bool   `json:"is_base64"`
	Description string `json:"description"`
	Payload     string `json:"payload"`
	DocumentID  string `json:"document_id,omitempty"`
}

type outboundExternal struct {
	DocumentID  string `json:"document_id,omitempty"`
	MessageID   string `json:"message_id"`
	Description string `json:"description"`
}

type outboundBody struct {
	Payload     string               `json:"payload"`
	Attachments []outboundAttachment `json:"attachments"`
	External    []outboundExternal   `json:"external_attachments"`
}

// OutboundJSON builds the body of an MHS adaptor outbound request:
// {"payload", "attachments": [{"content_type", "is_base64", "description",
// "payload", "document_id"}], "external_attachments": [{"document_id",
// "message_id", "description"}]}. It enforces the MHS limits: at most
// MaxAttachments attachments, payload and each attachment at most
// MaxMHSChars characters (ErrLimit), content types from the MHS list
// (ErrInvalid). Descriptions are written with Description.String.
func (m *Message) OutboundJSON() ([]byte, error) {
	if err := m.validate(); err != nil {
		return nil, err
	}
	if n := utf8.RuneCount(m.Payload); n > MaxMHSChars {
		return nil, newError(PartMessage, ErrLimit, nil, "payload of %d characters exceeds %d", n, MaxMHSChars)
	}
	out := outboundBody{
		Payload:     string(m.Payload),
		Attachments: make([]outboundAttachment, 0, len(m.Attachments)),
		External:    make([]outboundExternal, 0, len(m.External)),
	}
	for i, a := range m.Attachments {
		if err := checkMHSContentType(a.ContentType); err != nil {
			return nil, newError(PartAttachment, ErrInvalid, nil, "attachment %d: %s", i, err)
		}
		oa := outboundAttachment{
			ContentType: a.ContentType,
			IsBase64:    a.Base64,
			Description: a.Description.String(),
			Payload:     string(a.Data),
			DocumentID:  a.DocumentID,
		}
		if a.Base64 {
			oa.Payload = base64.StdEncoding.EncodeToString(a.Data)
		}
		if n := utf8.RuneCountInString(oa.Payload); n > MaxMHSChars {
			return nil, newError(PartAttachment, ErrLimit, nil, "attachment %d of %d characters exceeds %d", i, n, MaxMHSChars)
		}
		out.Attachments = append(out.Attachments, oa)
	}
	for _, x := range m.External {
		out.External = append(out.External, outboundExternal{
			DocumentID:  x.DocumentID,
			MessageID:   normID(x.MessageID),
			Description: x.Description.String(),
		})
	}
	return marshalJSON(out)
}

func checkMHSContentType(ct string) error {
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil || !mhsContentTypes[mt] {
		return fmt.Errorf("content type %q is not one the MHS adaptor accepts", ct)
	}
	return nil
}

type inboundAttachment struct {
	Payload     string `json:"payload"`
	IsBase64    bool   `json:"is_base64"`
	ContentID   string `json:"content_id"`
	ContentType string `json:"content_type"`
	Description string `json:"description"`
}

type inboundExternal struct {
	DocumentID  string `json:"document_id"`
	MessageID   string `json:"message_id"`
	Description string `json:"description"`
	Title       string `json:"title"`
}

type inboundBody struct {
	EbXML       string              `json:"ebXML"`
	Payload     string              `json:"payload"`
	Attachments []inboundAttachment `json:"attachments"`
	External    []inboundExternal   `json:"external_attachments"`
}

// InboundJSON builds what the MHS adaptor would put on its inbound queue
// for m (for stand-ins and tests): the ebXML envelope with the derived
// manifest, the payload, the attachments with their content ids, and the
// external attachments with a title (the filename).
func (m *Message) InboundJSON() ([]byte, error) {
	if err := m.validate(); err != nil {
		return nil, err
	}
	env := m.Envelope
	env.Manifest = m.Manifest()
	ebxml, err := env.Build()
	if err != nil {
		return nil, err
	}
	out := inboundBody{
		EbXML:       string(ebxml),
		Payload:     string(m.Payload),
		Attachments: make([]inboundAttachment, 0, len(m.Attachments)),
		External:    make([]inboundExternal, 0, len(m.External)),
	}
	for i, a := range m.Attachments {
		ia := inboundAttachment{
			Payload:     string(a.Data),
			IsBase64:    a.Base64,
			ContentID:   m.attachmentID(i),
			ContentType: a.ContentType,
			Description: a.Description.String(),
		}
		if a.Base64 {
			ia.Payload = base64.StdEncoding.EncodeToString(a.Data)
		}
		out.Attachments = append(out.Attachments, ia)
	}
	for _, x := range m.External {
		out.External = append(out.External, inboundExternal{
			DocumentID:  x.DocumentID,
			MessageID:   normID(x.MessageID),
			Description: x.Description.String(),
			Title:       x.Description.Filename,
		})
	}
	return marshalJSON(out)
}

// marshalJSON encodes v without HTML escaping (the payloads are XML).
func marshalJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, newError(PartJSON, ErrInvalid, err, "encoding JSON")
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}
