package hl7

import (
	"net/url"
	"strings"

	"github.com/beevik/etree"

	"github.com/nhsengland/gp2gp/libs/xmldoc"
)

// COPCKind is what a COPC_IN000001UK01 message is used for.
type COPCKind string

const (
	// KindContinue is the requester's Continue: send the attachments now.
	KindContinue COPCKind = "continue"
	// KindAttachment is a sender's attachment message. Whether it carries a
	// whole document, a fragment index or a fragment is told by its ebXML
	// manifest, not its HL7 payload.
	KindAttachment COPCKind = "attachment"
)

// COPC payload codes.
const (
	CodePayloadInfo    = "GP2GP_PI"
	CodePayloadBody    = "GP2GP_PB"
	CodeAttachmentInfo = "GP2GPLMATTACHMENTINFO"
	CodeAttachmentBody = "GP2GPLMATTACHMENT"
	// ContinueSubject is the Gp2gpfragment subject of a Continue; the NHS
	// sending adaptor checks for it.
	ContinueSubject = "Continue Acknowledgement"
)

// COPC is a COPC_IN000001UK01 message: a Continue or an attachment message.
type COPC struct {
	Wrapper
	Kind COPCKind
	// PayloadCode is PayloadInformation/code as received (Vision labels
	// attachments GP2GP_PI); Encode writes the right one for Kind.
	PayloadCode string
	// PayloadID is PayloadInformation/id; Encode uses the message id.
	PayloadID string
	// Recipients and From are the ODS codes in the Gp2gpfragment (Vision
	// leaves them empty).
	Recipients []string
	From       string
	// Subject is the Gp2gpfragment subject ("Continue Acknowledgement", or
	// "Attachment: <filename>").
	Subject string
	// AcknowledgedID is, for a Continue, the id of the extract it answers.
	AcknowledgedID string
	// Reference is, for an attachment, the document reference
	// (file://localhost/<name>, a bare name or urn:<name>).
	Reference string
}

// Filename is the attachment's file name, from the reference (without
// file://localhost/ or urn:, percent-decoded), or failing that from the
// subject.
func (c *COPC) Filename() string {
	if name := referenceFilename(c.Reference); name != "" {
		return name
	}
	return strings.TrimSpace(strings.TrimPrefix(c.Subject, "Attachment:"))
}

func referenceFilename(ref string) string {
	ref = strings.TrimSpace(ref)
	for _, p := range []string{"file://localhost/", "file:///", "urn:"} {
		if len(ref) >= len(p) && strings.EqualFold(ref[:len(p)], p) {
			ref = ref[len(p):]
			break
		}
	}
	if dec, err := url.PathUnescape(ref); err == nil {
		return dec
	}
	return ref
}

// FileReference is how GP2GP refers to an attachment by name:
// file://localhost/<percent-encoded name>.
func FileReference(filename string) string {
	return "file://localhost/" + url.PathEscape(filename)
}

// Encode writes the COPC for its Kind: a Continue needs AcknowledgedID, an
// attachment message needs Reference.
func (c *COPC) Encode() ([]byte, error) {
	c.Interaction = CommonContentCOPC
	if err := c.check(); err != nil {
		return nil, err
	}
	switch c.Kind {
	case KindContinue:
		if c.AcknowledgedID == "" {
			return nil, invalidf("%s: a Continue needs the id of the extract it answers", c.Interaction)
		}
	case KindAttachment:
		if c.Reference == "" {
			return nil, invalidf("%s: an attachment message needs its document reference", c.Interaction)
		}
	default:
		return nil, invalidf("%s: kind %q is not continue or attachment", c.Interaction, c.Kind)
	}
	if len(c.Recipients) == 0 || c.From == "" {
		return nil, invalidf("%s: recipient and sender ODS codes are required", c.Interaction)
	}
	id := NormalizeID(c.MessageID)
	doc := newDocument()
	root := c.writeWrapper(doc, nil)
	subject := add(c.writeControlAct(root), "subject", "typeCode", "SUBJ", "contextConductionInd", "false")
	pi := add(subject, "PayloadInformation", "xmlns:npfitlc", NamespaceNPfIT, "classCode", "OBS", "moodCode", "EVN")

	infoCode, infoName, bodyCode, bodyName, msgType := CodePayloadInfo, "GP2GP Payload Information",
		CodePayloadBody, "GP2GP Payload Body", "RCMR_MT000002GB01"
	subjectText := ContinueSubject
	if c.Kind == KindAttachment {
		infoCode, infoName, bodyCode, bodyName, msgType = CodeAttachmentInfo, "GP2GP Large Message Attachment Information",
			CodeAttachmentBody, "GP2GP Large Message Attachment", "RCMR_MT000001GB01"
		subjectText = "Attachment: " + c.Filename()
	}
	add(pi, "code", "code", infoCode, "codeSystem", OIDCOPCCode, "displayName", infoName)
	add(pi, "id", "root", id)
	add(pi, "npfitlc:messageType", "root", OIDMessageType, "extension", msgType)
	frag := add(add(pi, "value"), "Gp2gpfragment", "xmlns", NamespaceGP2GP)
	add(frag, "Version").SetText("01")
	recipients := add(frag, "Recipients")
	for _, r := range c.Recipients {
		add(recipients, "Recipient").SetText(strings.ToUpper(r))
	}
	add(frag, "From").SetText(strings.ToUpper(c.From))
	add(frag, "subject").SetText(subjectText)
	add(frag, "message-id").SetText(id)

	pert := add(pi, "pertinentInformation", "typeCode", "PERT")
	add(pert, "sequenceNumber", "value", "1")
	body := add(pert, "pertinentPayloadBody", "classCode", "OBS", "moodCode", "EVN")
	add(body, "code", "code", bodyCode, "codeSystem", OIDCOPCCode, "displayName", bodyName)
	add(body, "id", "root", id)
	value := add(body, "value")
	if c.Kind == KindAttachment {
		add(value, "reference", "value", c.Reference)
	} else {
		c.writeContinueAck(add(value, "Gp2gpfragment", "xmlns", NamespaceGP2GP), id)
	}
	return doc.WriteToBytes()
}

// writeContinueAck writes the MCCI-shaped Message a Continue carries: an
// AA with detail code 0 "Continue" referring to the extract.
func (c *COPC) writeContinueAck(frag *etree.Element, id string) {
	ref := NormalizeID(c.AcknowledgedID)
	msg := add(frag, "Message", "xmlns", NamespaceHL7, "type", "Message")
	add(msg, "id", "root", id)
	add(msg, "code", "code", "0", "codeSystem", OIDReasonCode, "displayName", "Continue")
	add(msg, "creationTime", "value", FormatTS(c.CreationTime))
	add(msg, "versionCode", "code", "V3NPfIT3.0")
	add(msg, "interactionId", "root", OIDInteraction, "extension", string(ApplicationAck))
	add(msg, "processingCode", "code", "P")
	add(msg, "processingModeCode", "code", "T")
	add(msg, "acceptAckCode", "code", "NE")
	ack := add(msg, "acknowledgement", "typeCode", "AA")
	add(add(ack, "acknowledgementDetail", "typeCode", "IF"), "code", "code", "0", "codeSystem", OIDReasonCode, "displayName", "Continue")
	add(add(ack, "messageRef"), "id", "root", ref)
	writeDevice(add(msg, "communicationFunctionRcv", "typeCode", "RCV"), c.ToASID)
	writeDevice(add(msg, "communicationFunctionSnd", "typeCode", "SND"), c.FromASID)
	add(add(frag, "acknowledgedMessage"), "id", "root", ref)
}

// DecodeCOPC reads a COPC_IN000001UK01 message. On a *ValidationError
// (code 30) it returns what could be read.
func DecodeCOPC(data []byte) (*COPC, error) {
	root, err := parse(data, CommonContentCOPC)
	if err != nil {
		return nil, err
	}
	r := &reader{in: CommonContentCOPC}
	return readCOPC(root, r), r.result()
}

func readCOPC(root *etree.Element, r *reader) *COPC {
	c := &COPC{Wrapper: readWrapper(root, CommonContentCOPC, r), Kind: KindAttachment}
	pi := xmldoc.Path(root, "ControlActEvent", "subject", "PayloadInformation")
	if pi == nil {
		r.need("", root, "ControlActEvent/subject/PayloadInformation", "PayloadInformation")
		return c
	}
	c.PayloadCode = xmldoc.Attr(xmldoc.Child(pi, "code"), "code")
	c.PayloadID = r.bounded(NormalizeID(xmldoc.Attr(xmldoc.Child(pi, "id"), "root")), pi, "id", "payload id")
	frag := xmldoc.Path(pi, "value", "Gp2gpfragment")
	for _, rcp := range xmldoc.Children(xmldoc.Child(frag, "Recipients"), "Recipient") {
		if t := r.bounded(xmldoc.Text(rcp), frag, "Recipients/Recipient", "recipient ODS code"); t != "" {
			c.Recipients = append(c.Recipients, strings.ToUpper(t))
		}
	}
	c.From = r.bounded(strings.ToUpper(xmldoc.Text(xmldoc.Child(frag, "From"))), frag, "From", "sender ODS code")
	c.Subject = xmldoc.Text(xmldoc.Child(frag, "subject"))

	value := xmldoc.Path(pi, "pertinentInformation", "pertinentPayloadBody", "value")
	c.Reference = strings.TrimSpace(xmldoc.Attr(xmldoc.Child(value, "reference"), "value"))
	inner := xmldoc.Child(value, "Gp2gpfragment")
	msg := xmldoc.Child(inner, "Message")
	if msg != nil || strings.Contains(c.Subject, ContinueSubject) {
		c.Kind = KindContinue
		c.AcknowledgedID = NormalizeID(xmldoc.Attr(xmldoc.Path(msg, "acknowledgement", "messageRef", "id"), "root"))
		if c.AcknowledgedID == "" {
			c.AcknowledgedID = NormalizeID(xmldoc.Attr(xmldoc.Path(inner, "acknowledgedMessage", "id"), "root"))
		}
		c.AcknowledgedID = r.bounded(c.AcknowledgedID, pi, "pertinentInformation/pertinentPayloadBody/value", "acknowledged extract id")
		r.need(c.AcknowledgedID, pi, "pertinentInformation/pertinentPayloadBody/value", "the id of the extract the Continue answers")
	}
	return c
}
