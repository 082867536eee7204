package ebxml

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"mime/multipart"
	"net/textproto"
	"strings"
)

// DefaultBoundary is the multipart boundary MarshalMIME uses (Spine's),
// unless some part's content contains it.
const DefaultBoundary = "--=_MIME-Boundary"

// base64LineLength is the MIME line length for base64 content.
const base64LineLength = 76

type outPart struct {
	contentID, contentType, encoding string
	body                             []byte
}

// MarshalMIME builds the multipart/related body Spine carries, and its
// Content-Type header value:
//
//	multipart/related; boundary="--=_MIME-Boundary"; type="text/xml"; start="<ebXMLHeader@spine.nhs.uk>"
//
// The parts are the ebXML envelope (Content-Id EnvelopeContentID, 8bit),
// the HL7 payload (application/xml, 8bit) and each attachment (base64 in
// 76-column lines when Base64 is set, 8bit otherwise), with CRLF line
// ends. The manifest is derived from the message (see Manifest); the
// envelope must pass Envelope.Validate.
func (m *Message) MarshalMIME() (body []byte, contentType string, err error) {
	if err := m.validate(); err != nil {
		return nil, "", err
	}
	seen := map[string]bool{strings.ToLower(EnvelopeContentID): true}
	ids := []string{m.payloadID()}
	for i := range m.Attachments {
		ids = append(ids, m.attachmentID(i))
	}
	for _, id := range ids {
		if err := checkToken(id); err != nil || strings.ContainsAny(id, "<>") {
			return nil, "", newError(PartMessage, ErrInvalid, nil, "content id %q is not usable", id)
		}
		if seen[strings.ToLower(id)] {
			return nil, "", newError(PartMessage, ErrInvalid, nil, "content id %q is used twice", id)
		}
		seen[strings.ToLower(id)] = true
	}
	env := m.Envelope
	env.Manifest = m.Manifest()
	envXML, err := env.Build()
	if err != nil {
		return nil, "", err
	}
	parts := []outPart{
		{contentID: EnvelopeContentID, contentType: "text/xml; charset=UTF-8", encoding: "8bit", body: envXML},
		{contentID: ids[0], contentType: "application/xml; charset=UTF-8", encoding: "8bit", body: m.Payload},
	}
	for i, a := range m.Attachments {
		p := outPart{contentID: ids[i+1], contentType: a.ContentType, encoding: "8bit", body: a.Data}
		if a.Base64 {
			p.encoding, p.body = "base64", encodeBase64Lines(a.Data)
		}
		parts = append(parts, p)
	}
	return writeMultipart(parts)
}

// writeMultipart writes parts under a boundary none of them contains.
func writeMultipart(parts []outPart) ([]byte, string, error) {
	boundary := DefaultBoundary
	for n := 1; ; n++ {
		clash := false
		for _, p := range parts {
			if bytes.Contains(p.body, []byte("--"+boundary)) {
				clash = true
				break
			}
		}
		if !clash {
			break
		}
		boundary = fmt.Sprintf("%s_%d", DefaultBoundary, n)
	}
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	if err := w.SetBoundary(boundary); err != nil {
		return nil, "", newError(PartMIME, ErrInvalid, err, "boundary %q", boundary)
	}
	for _, p := range parts {
		h := textproto.MIMEHeader{}
		h.Set("Content-Id", "<"+p.contentID+">")
		h.Set("Content-Type", p.contentType)
		h.Set("Content-Transfer-Encoding", p.encoding)
		pw, err := w.CreatePart(h)
		if err != nil {
			return nil, "", newError(PartMIME, ErrInvalid, err, "writing part <%s>", p.contentID)
		}
		if _, err := pw.Write(p.body); err != nil {
			return nil, "", newError(PartMIME, ErrInvalid, err, "writing part <%s>", p.contentID)
		}
	}
	if err := w.Close(); err != nil {
		return nil, "", newError(PartMIME, ErrInvalid, err, "closing multipart body")
	}
	ct := `multipart/related; boundary="` + boundary + `"; type="text/xml"; start="<` + EnvelopeContentID + `>"`
	return buf.Bytes(), ct, nil
}

// encodeBase64Lines encodes data as base64 in CRLF-separated lines of
// base64LineLength characters.
func encodeBase64Lines(data []byte) []byte {
	enc := base64.StdEncoding.EncodeToString(data)
	var b bytes.Buffer
	b.Grow(len(enc) + len(enc)/base64LineLength*2 + 2)
	for len(enc) > base64LineLength {
		b.WriteString(enc[:base64LineLength])
		b.WriteString("\r\n")
		enc = enc[base64LineLength:]
	}
	b.WriteString(enc)
	return b.Bytes()
}
