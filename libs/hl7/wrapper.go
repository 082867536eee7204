package hl7

import (
	"fmt"
	"strings"
	"time"

	"github.com/beevik/etree"

	"github.com/nhsengland/gp2gp/libs/xmldoc"
)

// Wrapper is the transmission wrapper every GP2GP message shares.
type Wrapper struct {
	// MessageID is the message's id (/*/id/@root), upper-case. GP2GP wants
	// it equal to the ebXML MessageId.
	MessageID string
	// CreationTime is when the message was made.
	CreationTime time.Time
	// Interaction is the interaction id. Encode sets it from the message
	// type; for an extract, from whether the content is redacted.
	Interaction Interaction
	// ToASID is the recipient's ASID (communicationFunctionRcv).
	ToASID string
	// FromASID is the sender's ASID (communicationFunctionSnd).
	FromASID string
	// AuthorASID is the ControlActEvent author's ASID; Encode writes
	// FromASID when it is empty.
	AuthorASID string
}

// Header returns the wrapper, so every message satisfies Message.
func (w *Wrapper) Header() *Wrapper { return w }

// Message is any decoded GP2GP message: *EHRRequestMessage,
// *EHRExtractMessage, *Ack or *COPC.
type Message interface {
	Header() *Wrapper
}

// NormalizeID upper-cases and trims an id: GP2GP ids are GUIDs compared
// without case.
func NormalizeID(id string) string { return strings.ToUpper(strings.TrimSpace(id)) }

// SameID reports whether two ids are equal ignoring case and surrounding
// space; an empty id equals nothing.
func SameID(a, b string) bool {
	a, b = strings.TrimSpace(a), strings.TrimSpace(b)
	return a != "" && strings.EqualFold(a, b)
}

// readWrapper reads the wrapper of root. It reports what a reply needs
// and is missing: the message id and both ASIDs.
func readWrapper(root *etree.Element, in Interaction, r *reader) Wrapper {
	w := Wrapper{Interaction: in}
	w.MessageID = r.bounded(NormalizeID(xmldoc.Attr(xmldoc.Child(root, "id"), "root")), root, "id", "message id")
	if ct := xmldoc.Attr(xmldoc.Child(root, "creationTime"), "value"); ct != "" {
		w.CreationTime, _ = ParseTS(ct) // informative only: a bad time does not stop processing
	}
	w.ToASID = r.bounded(deviceASID(xmldoc.Path(root, "communicationFunctionRcv", "device")), root, "communicationFunctionRcv", "recipient ASID")
	w.FromASID = r.bounded(deviceASID(xmldoc.Path(root, "communicationFunctionSnd", "device")), root, "communicationFunctionSnd", "sender ASID")
	w.AuthorASID = r.bounded(deviceASID(xmldoc.Path(root, "ControlActEvent", "author1", "AgentSystemSDS", "agentSystemSDS")),
		root, "ControlActEvent/author1", "author ASID")
	r.need(w.MessageID, root, "id", "message id (id/@root)")
	r.need(w.ToASID, root, "communicationFunctionRcv", "recipient ASID")
	r.need(w.FromASID, root, "communicationFunctionSnd", "sender ASID")
	return w
}

// deviceASID reads an ASID from a device: its id with the ASID root, or
// failing that its first id, or (as one vendor writes inside the Continue)
// the device's own extension attribute.
func deviceASID(device *etree.Element) string {
	if device == nil {
		return ""
	}
	ids := xmldoc.Children(device, "id")
	for _, id := range ids {
		if xmldoc.Attr(id, "root") == OIDASID {
			return strings.TrimSpace(xmldoc.Attr(id, "extension"))
		}
	}
	if len(ids) > 0 {
		return strings.TrimSpace(xmldoc.Attr(ids[0], "extension"))
	}
	return strings.TrimSpace(xmldoc.Attr(device, "extension"))
}

// check reports what Encode cannot write without.
func (w *Wrapper) check() error {
	switch {
	case w.MessageID == "":
		return invalidf("%s: message id is required", w.Interaction)
	case w.CreationTime.IsZero():
		return invalidf("%s: creation time is required", w.Interaction)
	case w.ToASID == "":
		return invalidf("%s: recipient ASID is required", w.Interaction)
	case w.FromASID == "":
		return invalidf("%s: sender ASID is required", w.Interaction)
	}
	return nil
}

// writeWrapper starts a document for w: the root element and the
// transmission wrapper up to communicationFunctionSnd. beforeRcv, if not
// nil, writes what comes between acceptAckCode and communicationFunctionRcv
// (the MCCI acknowledgement). It returns the root.
func (w *Wrapper) writeWrapper(doc *etree.Document, beforeRcv func(root *etree.Element)) *etree.Element {
	root := doc.CreateElement(string(w.Interaction))
	root.CreateAttr("xmlns", NamespaceHL7)
	add(root, "id", "root", NormalizeID(w.MessageID))
	add(root, "creationTime", "value", FormatTS(w.CreationTime))
	add(root, "versionCode", "code", w.Interaction.versionCode())
	add(root, "interactionId", "root", OIDInteraction, "extension", string(w.Interaction))
	add(root, "processingCode", "code", "P")
	add(root, "processingModeCode", "code", "T")
	add(root, "acceptAckCode", "code", "NE")
	if beforeRcv != nil {
		beforeRcv(root)
	}
	writeDevice(add(root, "communicationFunctionRcv", "typeCode", "RCV"), w.ToASID)
	writeDevice(add(root, "communicationFunctionSnd", "typeCode", "SND"), w.FromASID)
	return root
}

func writeDevice(parent *etree.Element, asid string) {
	dev := add(parent, "device", "classCode", "DEV", "determinerCode", "INSTANCE")
	add(dev, "id", "root", OIDASID, "extension", asid)
}

// writeControlAct writes the ControlActEvent with its author and returns
// it for the message to add its subject or reason.
func (w *Wrapper) writeControlAct(root *etree.Element) *etree.Element {
	cae := add(root, "ControlActEvent", "classCode", "CACT", "moodCode", "EVN")
	author := w.AuthorASID
	if author == "" {
		author = w.FromASID
	}
	sys := add(add(add(cae, "author1", "typeCode", "AUT"), "AgentSystemSDS", "classCode", "AGNT"),
		"agentSystemSDS", "classCode", "DEV", "determinerCode", "INSTANCE")
	add(sys, "id", "root", OIDASID, "extension", author)
	return cae
}

// add appends a child element tag with attributes given as name, value
// pairs, and returns it.
func add(parent *etree.Element, tag string, attrs ...string) *etree.Element {
	el := parent.CreateElement(tag)
	for i := 0; i+1 < len(attrs); i += 2 {
		el.CreateAttr(attrs[i], attrs[i+1])
	}
	return el
}

// newDocument starts an output document with its XML declaration.
func newDocument() *etree.Document {
	doc := etree.NewDocument()
	doc.CreateProcInst("xml", `version="1.0" encoding="UTF-8"`)
	return doc
}

// reader records the first problem met while decoding a message.
type reader struct {
	in  Interaction
	err *ValidationError
}

// need records that value, found under parent at step (a child local name
// or a sub-path in words), is required and missing.
func (r *reader) need(value string, parent *etree.Element, step, what string) {
	if value != "" || r.err != nil {
		return
	}
	path := xmldoc.Where(parent)
	if step != "" {
		path += "/" + step
	}
	r.err = &ValidationError{Interaction: r.in, Path: path, Reason: "missing " + what, Code: r.in.NackCode()}
}

// MaxValueLength bounds each identifying value the decoders read: ids,
// ASIDs, NHS numbers, ODS codes, reason codes. Real ones are GUIDs,
// twelve digits, ten digits, six characters; a longer value is malformed,
// and a value of megabytes must not travel on into transfer records, logs
// and negative acknowledgements.
const MaxValueLength = 256

// bounded returns value, found under parent at step, or records that it is
// too long and returns "" when it is over MaxValueLength.
func (r *reader) bounded(value string, parent *etree.Element, step, what string) string {
	if len(value) <= MaxValueLength {
		return value
	}
	if r.err == nil {
		path := xmldoc.Where(parent)
		if step != "" {
			path += "/" + step
		}
		r.err = &ValidationError{Interaction: r.in, Path: path, Code: r.in.NackCode(),
			Reason: fmt.Sprintf("%s of %d bytes is longer than %d", what, len(value), MaxValueLength)}
	}
	return ""
}

// fail records a problem at el.
func (r *reader) fail(el *etree.Element, reason string) {
	if r.err == nil {
		r.err = &ValidationError{Interaction: r.in, Path: xmldoc.Where(el), Reason: reason, Code: r.in.NackCode()}
	}
}

// result is nil or the first problem, as an error.
func (r *reader) result() error {
	if r.err == nil {
		return nil
	}
	return r.err
}
