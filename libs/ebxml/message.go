package ebxml

import (
	"fmt"
	"mime"
	"strings"
	"unicode/utf8"
)

// EnvelopeContentID is the Content-Id MarshalMIME gives the ebXML part,
// and the multipart start parameter.
const EnvelopeContentID = "ebXMLHeader@spine.nhs.uk"

// Message is one GP2GP message as it travels: the ebXML envelope, the HL7
// payload and its attachments. Inline attachments travel with it (cid:
// manifest references); external ones are announced here (mid:
// references) and travel later, each in its own COPC message.
type Message struct {
	// Envelope is the ebXML envelope. After parsing, Envelope.Manifest is
	// the manifest as received; MarshalMIME and InboundJSON ignore it and
	// write a manifest derived from the payload and attachments below.
	Envelope Envelope
	// PayloadContentID is the Content-Id of the HL7 payload part (without
	// angle brackets). When empty, MarshalMIME uses
	// "<MessageID>@spine.nhs.uk".
	PayloadContentID string
	// Payload is the HL7 V3 XML.
	Payload []byte
	// Attachments travel inline: in MIME part order after ParseMIME, in
	// JSON order after ParseInboundJSON; builders keep their order.
	Attachments []Attachment
	// External lists the attachments announced by mid: references.
	External []ExternalAttachment
}

// Attachment is an inline attachment: a MIME part of the message (or an
// MHS JSON attachment) with its manifest metadata.
type Attachment struct {
	// ContentID is the MIME Content-Id without angle brackets (the cid: of
	// its manifest reference). When empty, MarshalMIME invents one. The
	// MHS outbound interface does not carry it.
	ContentID string
	// ContentType is the MIME type of the part.
	ContentType string
	// Base64 reports whether the content travels base64-encoded (MIME
	// Content-Transfer-Encoding base64, MHS "is_base64"). Data is always
	// the decoded bytes.
	Base64 bool
	// DocumentID is the eb:id of its manifest reference ("_<documentId>").
	DocumentID string
	// Description is the parsed manifest description; builders write it.
	Description Description
	// DescriptionText is the description as received; builders ignore it.
	DescriptionText string
	// Data is the decoded content.
	Data []byte
	// Encoded is the base64 text as received, white space removed, when
	// Base64 is set (nil otherwise); builders ignore it. A fragment of a
	// large attachment is a slice of the whole document's base64 text:
	// reassemble by concatenating the fragments' Encoded text and decoding
	// once, which is right even when a sender cuts at a length that is not
	// a multiple of 4.
	Encoded []byte
}

// ExternalAttachment is a document announced by a mid: manifest reference;
// it travels in the COPC message whose MessageId is MessageID.
type ExternalAttachment struct {
	// DocumentID is the eb:id of its manifest reference ("_<documentId>").
	DocumentID string
	// MessageID is the message id of the COPC that will carry it
	// (upper-case).
	MessageID string
	// Description is the parsed manifest description; builders write it.
	Description Description
	// DescriptionText is the description as received; builders ignore it.
	DescriptionText string
}

// Large reports whether the message announces external attachments (mid:
// references), making it a large message that waits for a Continue.
func (m *Message) Large() bool { return len(m.External) > 0 }

// ParseMIME parses a GP2GP message as it travels between message handling
// systems: a multipart/related body, optionally preceded by the HTTP
// request line and headers or by MIME headers (see package doc for the
// tolerated vendor quirks). The ebXML part is the one named by the
// Content-Type start parameter, else the first part; the payload is the
// part named by the manifest's HL7 payload reference; every other part is
// an attachment, matched to its manifest reference by Content-Id. Every mid:
// reference becomes an ExternalAttachment.
func ParseMIME(data []byte, opts ...Option) (*Message, error) {
	o, err := buildOptions(opts)
	if err != nil {
		return nil, err
	}
	if err := o.checkSize(PartMIME, data); err != nil {
		return nil, err
	}
	mb, err := splitMIME(data, o)
	if err != nil {
		return nil, err
	}
	if len(mb.parts) == 0 {
		return nil, newError(PartMIME, ErrNoEnvelope, nil, "the MIME body has no parts")
	}
	envIdx := 0
	if mb.start != "" {
		for i, p := range mb.parts {
			if strings.EqualFold(p.contentID, mb.start) {
				envIdx = i
				break
			}
		}
	}
	env, err := parseEnvelope(mb.parts[envIdx].data, o)
	if err != nil {
		return nil, err
	}
	m := &Message{Envelope: *env}

	payloadIdx := -1
	if pi := payloadRef(env.Manifest); pi >= 0 {
		ref := env.Manifest[pi]
		m.PayloadContentID = ref.Target()
		for i, p := range mb.parts {
			if i != envIdx && strings.EqualFold(p.contentID, m.PayloadContentID) {
				payloadIdx = i
				break
			}
		}
		if payloadIdx < 0 {
			return nil, newError(PartMIME, ErrNoPayload, nil, "no MIME part has the payload's Content-Id <%s>", m.PayloadContentID)
		}
	} else if len(mb.parts) > 1 { // no manifest: take the part after the envelope
		payloadIdx = (envIdx + 1) % len(mb.parts)
		m.PayloadContentID = mb.parts[payloadIdx].contentID
	}
	if payloadIdx >= 0 {
		m.Payload = mb.parts[payloadIdx].data
	}

	for i, p := range mb.parts {
		if i == envIdx || i == payloadIdx {
			continue
		}
		a := Attachment{
			ContentID:   p.contentID,
			ContentType: strings.TrimSpace(p.header.Get("Content-Type")),
			Base64:      p.base64,
			Data:        p.data,
			Encoded:     p.encoded,
		}
		if ref, ok := findRef(env.Manifest, Reference.IsCID, p.contentID); ok {
			a.DocumentID = ref.ID
			a.DescriptionText = ref.Description
			a.Description = ParseDescription(ref.Description)
		}
		m.Attachments = append(m.Attachments, a)
	}
	for _, r := range env.Manifest {
		if r.IsMID() {
			m.External = append(m.External, externalFromRef(r))
		}
	}
	return m, nil
}

// findRef returns the first reference of kind (IsCID or IsMID) whose
// target equals target, ignoring case.
func findRef(refs []Reference, kind func(Reference) bool, target string) (Reference, bool) {
	if target == "" {
		return Reference{}, false
	}
	for _, r := range refs {
		if kind(r) && strings.EqualFold(r.Target(), target) {
			return r, true
		}
	}
	return Reference{}, false
}

func externalFromRef(r Reference) ExternalAttachment {
	return ExternalAttachment{
		DocumentID:      r.ID,
		MessageID:       normID(r.Target()),
		DescriptionText: r.Description,
		Description:     ParseDescription(r.Description),
	}
}

// MaxAttachments is the most inline attachments one message may carry:
// Spine allows 100 MIME parts, less the envelope and the payload.
const MaxAttachments = 98

// payloadID returns the payload Content-Id MarshalMIME uses.
func (m *Message) payloadID() string {
	if m.PayloadContentID != "" {
		return m.PayloadContentID
	}
	return normID(m.Envelope.MessageID) + "@spine.nhs.uk"
}

// attachmentID returns the Content-Id MarshalMIME uses for attachment i.
func (m *Message) attachmentID(i int) string {
	if id := m.Attachments[i].ContentID; id != "" {
		return id
	}
	return fmt.Sprintf("attachment%d.%s@spine.nhs.uk", i+1, normID(m.Envelope.MessageID))
}

// Manifest returns the manifest the builders write: the HL7 payload
// reference, one cid: reference per attachment, one mid: reference per
// external attachment.
func (m *Message) Manifest() []Reference {
	refs := make([]Reference, 0, 1+len(m.Attachments)+len(m.External))
	refs = append(refs, Reference{Href: "cid:" + m.payloadID(), Description: PayloadDescription, Payload: true})
	for i, a := range m.Attachments {
		refs = append(refs, Reference{Href: "cid:" + m.attachmentID(i), ID: a.DocumentID, Description: a.Description.String()})
	}
	for _, x := range m.External {
		refs = append(refs, Reference{Href: "mid:" + normID(x.MessageID), ID: x.DocumentID, Description: x.Description.String()})
	}
	return refs
}

// validate checks what every builder needs: ids, a text payload, at most
// MaxAttachments attachments, each with a content type, a described
// filename and text content unless base64.
func (m *Message) validate() error {
	for _, f := range []struct{ name, value string }{
		{"Action", m.Envelope.Action},
		{"ConversationId", m.Envelope.ConversationID},
		{"MessageId", m.Envelope.MessageID},
	} {
		if err := checkToken(f.value); err != nil {
			return newError(PartMessage, ErrInvalid, nil, "%s %q: %s", f.name, f.value, err)
		}
	}
	if len(m.Payload) == 0 {
		return newError(PartMessage, ErrInvalid, nil, "no HL7 payload")
	}
	if !utf8.Valid(m.Payload) {
		return newError(PartMessage, ErrInvalid, nil, "HL7 payload is not valid UTF-8")
	}
	if len(m.Attachments) > MaxAttachments {
		return newError(PartMessage, ErrLimit, nil, "%d attachments, at most %d are allowed", len(m.Attachments), MaxAttachments)
	}
	for i, a := range m.Attachments {
		if err := checkContentType(a.ContentType); err != nil {
			return newError(PartAttachment, ErrInvalid, nil, "attachment %d: content type %q: %s", i, a.ContentType, err)
		}
		if err := checkDescribed(a.Description, a.DocumentID); err != nil {
			return newError(PartAttachment, ErrInvalid, nil, "attachment %d: %s", i, err)
		}
		if !a.Base64 && !utf8.Valid(a.Data) {
			return newError(PartAttachment, ErrInvalid, nil, "attachment %d is not valid UTF-8 text; send it base64", i)
		}
	}
	for i, x := range m.External {
		if err := checkToken(x.MessageID); err != nil {
			return newError(PartAttachment, ErrInvalid, nil, "external attachment %d: message id %q: %s", i, x.MessageID, err)
		}
		if err := checkDescribed(x.Description, x.DocumentID); err != nil {
			return newError(PartAttachment, ErrInvalid, nil, "external attachment %d: %s", i, err)
		}
	}
	return nil
}

func checkContentType(ct string) error {
	if err := checkText(ct, false); err != nil {
		return err
	}
	if _, _, err := mime.ParseMediaType(ct); err != nil {
		return err
	}
	return nil
}

func checkDescribed(d Description, documentID string) error {
	if d.Filename == "" || d.ContentType == "" {
		return fmt.Errorf("description needs a filename and a content type")
	}
	if d.HasLength && d.Length < 0 {
		return fmt.Errorf("negative length %d", d.Length)
	}
	if documentID != "" && !isNCName(documentID) {
		return fmt.Errorf("document id %q is not an XML NCName (prefix it with \"_\")", documentID)
	}
	return nil
}
