// Package inspect reads any GP2GP message file — bare HL7 XML, an
// HTTP/MIME capture, or the MHS adaptor's inbound JSON — and reports what
// it holds.
package inspect

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/nhsengland/gp2gp/libs/ebxml"
	"github.com/nhsengland/gp2gp/libs/hl7"
	"github.com/nhsengland/gp2gp/libs/hl7/ehr"
)

// Formats of message files.
const (
	FormatHL7     = "hl7"
	FormatMIME    = "mime"
	FormatMHSJSON = "mhs-json"
)

// Report is what Inspect finds in one file. Fields that do not apply are
// left out of the JSON.
type Report struct {
	File   string `json:"file,omitempty"`
	Format string `json:"format"`

	Interaction    string `json:"interaction,omitempty"`
	MessageID      string `json:"messageId,omitempty"`
	EbXMLMessageID string `json:"ebxmlMessageId,omitempty"` // only when it differs from messageId
	ConversationID string `json:"conversationId,omitempty"`
	FromASID       string `json:"fromAsid,omitempty"`
	ToASID         string `json:"toAsid,omitempty"`
	FromPartyID    string `json:"fromPartyId,omitempty"`
	ToPartyID      string `json:"toPartyId,omitempty"`

	NHSNumber     string `json:"nhsNumber,omitempty"`
	RequestingODS string `json:"requestingOds,omitempty"`
	SendingODS    string `json:"sendingOds,omitempty"`
	RequestID     string `json:"requestId,omitempty"`
	ExtractID     string `json:"extractId,omitempty"`

	AckType       string `json:"ackType,omitempty"`
	ReasonCode    string `json:"reasonCode,omitempty"`
	ReasonDisplay string `json:"reasonDisplay,omitempty"`
	MessageRef    string `json:"messageRef,omitempty"`

	COPCKind string `json:"copcKind,omitempty"` // continue or attachment
	// COPCRole says what an attachment COPC carries, from its manifest:
	// attachment, fragment-index or fragment.
	COPCRole string `json:"copcRole,omitempty"`

	Attachments []Attachment   `json:"attachments,omitempty"`
	Statements  map[string]int `json:"statements,omitempty"`
	Documents   []Document     `json:"documents,omitempty"`
	Degrades    int            `json:"degradeCandidates,omitempty"`
	NOPAT       int            `json:"nopatEntries,omitempty"`
	Skeleton    bool           `json:"skeleton,omitempty"`

	// Errors lists problems found in a message that could still be read.
	Errors []string `json:"errors"`
}

// Attachment is one manifest reference other than the HL7 payload.
type Attachment struct {
	Href            string `json:"href"`
	DocumentID      string `json:"documentId,omitempty"`
	Filename        string `json:"filename,omitempty"`
	ContentType     string `json:"contentType,omitempty"`
	Compressed      bool   `json:"compressed"`
	LargeAttachment bool   `json:"largeAttachment"`
	OriginalBase64  bool   `json:"originalBase64"`
	Length          *int64 `json:"length,omitempty"`
	Skeleton        bool   `json:"skeleton"`
	// Size is the decoded size of an inline attachment's data, when the
	// file carries it.
	Size *int `json:"size,omitempty"`
}

// Document is an external document the extract refers to.
type Document struct {
	ID        string `json:"id"`
	Filename  string `json:"filename,omitempty"`
	MediaType string `json:"mediaType,omitempty"`
	Absent    bool   `json:"absent,omitempty"`
}

// ErrUnreadable is wrapped when a file holds no readable GP2GP message.
var ErrUnreadable = errors.New("no readable GP2GP message")

// Inspect reports on one message file's bytes.
func Inspect(data []byte) (*Report, error) {
	msg, format, err := open(data)
	if err != nil {
		return nil, err
	}
	r := &Report{Format: format, Errors: []string{}}
	if msg != nil {
		r.envelope(msg)
		data = msg.Payload
	}
	m, err := hl7.Decode(data)
	if err != nil {
		var ve *hl7.ValidationError
		if !errors.As(err, &ve) || m == nil {
			if msg == nil {
				return nil, fmt.Errorf("%w: %v", ErrUnreadable, err)
			}
			r.Errors = append(r.Errors, "HL7 payload: "+err.Error())
			return r, nil
		}
		r.Errors = append(r.Errors, err.Error())
	}
	r.message(m, msg)
	return r, nil
}

// open works out how the file is wrapped. It returns the ebXML message for
// MIME and MHS JSON files, or nil for bare HL7.
func open(data []byte) (*ebxml.Message, string, error) {
	trimmed := bytes.TrimSpace(bytes.TrimPrefix(data, []byte("\ufeff")))
	if len(trimmed) == 0 {
		return nil, "", fmt.Errorf("%w: the file is empty", ErrUnreadable)
	}
	switch {
	case trimmed[0] == '{':
		msg, err := ebxml.ParseInboundJSON(trimmed)
		if err != nil {
			return nil, "", fmt.Errorf("%w: MHS inbound JSON: %v", ErrUnreadable, err)
		}
		return msg, FormatMHSJSON, nil
	case trimmed[0] == '<':
		return nil, FormatHL7, nil
	}
	msg, err := ebxml.ParseMIME(data)
	if err != nil {
		// Captures kept inside a JavaScript template literal.
		if i, j := bytes.IndexByte(data, '`'), bytes.LastIndexByte(data, '`'); i >= 0 && j > i {
			if inner, ierr := ebxml.ParseMIME(data[i+1 : j]); ierr == nil {
				return inner, FormatMIME, nil
			}
		}
		return nil, "", fmt.Errorf("%w: MIME: %v", ErrUnreadable, err)
	}
	return msg, FormatMIME, nil
}

func (r *Report) envelope(msg *ebxml.Message) {
	env := msg.Envelope
	r.ConversationID = env.ConversationID
	r.EbXMLMessageID = env.MessageID
	r.Interaction = env.Action
	r.FromPartyID, r.ToPartyID = env.From.ID, env.To.ID
	inline := map[string]ebxml.Attachment{}
	for _, a := range msg.Attachments {
		inline[strings.ToLower(a.ContentID)] = a
	}
	for _, ref := range env.Manifest {
		if ref.Payload {
			continue
		}
		d := ref.Metadata()
		a := Attachment{
			Href: ref.Href, DocumentID: strings.TrimPrefix(ref.ID, "_"), Filename: d.Filename,
			ContentType: d.ContentType, Compressed: d.Compressed, LargeAttachment: d.LargeAttachment,
			OriginalBase64: d.OriginalBase64, Skeleton: d.Skeleton(),
		}
		if d.HasLength {
			n := d.Length
			a.Length = &n
		}
		if ref.IsCID() {
			if att, ok := inline[strings.ToLower(ref.Target())]; ok && att.Data != nil {
				n := len(att.Data)
				a.Size = &n
			}
		}
		r.Attachments = append(r.Attachments, a)
	}
}

func (r *Report) message(m hl7.Message, env *ebxml.Message) {
	h := m.Header()
	if r.Interaction != "" && r.Interaction != string(h.Interaction) {
		r.Errors = append(r.Errors, fmt.Sprintf("ebXML Action %s but HL7 payload is %s", r.Interaction, h.Interaction))
	}
	r.Interaction = string(h.Interaction)
	r.MessageID = h.MessageID
	if hl7.SameID(r.EbXMLMessageID, r.MessageID) || r.EbXMLMessageID == "" {
		r.EbXMLMessageID = ""
	}
	r.FromASID, r.ToASID = h.FromASID, h.ToASID

	switch msg := m.(type) {
	case *hl7.Request:
		r.NHSNumber, r.RequestingODS, r.SendingODS, r.RequestID = msg.NHSNumber, msg.RequestingODS, msg.SendingODS, msg.RequestID
	case *hl7.Extract:
		r.NHSNumber, r.RequestingODS, r.SendingODS = msg.NHSNumber, msg.RequestingODS, msg.SendingODS
		r.RequestID, r.ExtractID = msg.RequestID, msg.ExtractID
		r.content(msg)
	case *hl7.Ack:
		r.AckType, r.ReasonCode, r.ReasonDisplay, r.MessageRef = string(msg.Type), string(msg.Reason), msg.ReasonDisplay, msg.MessageRef
	case *hl7.COPC:
		r.COPCKind = string(msg.Kind)
		if msg.Kind == hl7.KindContinue {
			// requester → sender
			r.MessageRef = msg.AcknowledgedID
			r.RequestingODS = msg.From
			if len(msg.Recipients) > 0 {
				r.SendingODS = msg.Recipients[0]
			}
		} else {
			r.SendingODS = msg.From
			if len(msg.Recipients) > 0 {
				r.RequestingODS = msg.Recipients[0]
			}
			r.COPCRole = copcRole(env)
		}
	}
}

// copcRole tells an attachment COPC's use from its manifest: a fragment
// index lists further mid: fragments; a fragment's single attachment is a
// piece of a document; otherwise it carries a whole document.
func copcRole(env *ebxml.Message) string {
	if env == nil {
		return ""
	}
	var cid, mid int
	var fragmentName bool
	for _, ref := range env.Envelope.Manifest {
		switch {
		case ref.Payload:
		case ref.IsMID():
			mid++
		case ref.IsCID():
			cid++
			d := ref.Metadata()
			fragmentName = fragmentName || strings.HasSuffix(strings.ToLower(d.Filename), ".messageattachment") || strings.EqualFold(d.Filename, "Untitled")
		}
	}
	switch {
	case mid > 0:
		return "fragment-index"
	case cid == 1 && fragmentName:
		return "fragment"
	}
	return "attachment"
}

func (r *Report) content(msg *hl7.Extract) {
	if msg.Content == nil {
		return
	}
	s, err := ehr.Summarize(msg.Content)
	if err != nil {
		r.Errors = append(r.Errors, "content: "+err.Error())
		return
	}
	r.Statements = s.Statements
	if r.Statements == nil {
		r.Statements = map[string]int{}
	}
	r.Statements["ehrComposition"] = s.Compositions
	for _, d := range s.Documents {
		r.Documents = append(r.Documents, Document{ID: d.ID, Filename: d.Filename, MediaType: d.MediaType, Absent: d.Absent})
	}
	r.Degrades, r.NOPAT, r.Skeleton = len(s.Degrades), len(s.NOPAT), s.Skeleton
}

// JSON renders the report, indented when pretty is set.
func (r *Report) JSON(pretty bool) ([]byte, error) {
	if pretty {
		return json.MarshalIndent(r, "", "  ")
	}
	return json.Marshal(r)
}
