package hl7

import (
	"github.com/beevik/etree"

	"github.com/nhsengland/gp2gp/libs/xmldoc"
)

// AckType is an application acknowledgement's type code.
type AckType string

const (
	// AckAccept (AA): accepted; as a final ack, the record was integrated.
	AckAccept AckType = "AA"
	// AckError (AE): application error.
	AckError AckType = "AE"
	// AckReject (AR): application reject.
	AckReject AckType = "AR"
)

// Negative reports whether t refuses or failed (AE or AR).
func (t AckType) Negative() bool { return t == AckError || t == AckReject }

// NackType is the type a negative acknowledgement with code carries, as
// recommended: AE for 30 and 99, AR for every other code.
func NackType(code ReasonCode) AckType {
	if code == ReasonLargeMessageFailure || code == ReasonUnexpectedCondition {
		return AckError
	}
	return AckReject
}

// Ack is an application acknowledgement (MCCI_IN010000UK13).
type Ack struct {
	Wrapper
	Type AckType
	// MessageRef is the id of the acknowledged message.
	MessageRef string
	// Reason is the reason code of a negative acknowledgement ("" for AA).
	// Decode reads it from ControlActEvent/reason, falling back to
	// acknowledgementDetail; Encode writes it in both, with its display
	// text.
	Reason ReasonCode
	// ReasonDisplay is the display text as received; Encode writes the
	// official text.
	ReasonDisplay string
}

// NewNack returns a negative acknowledgement of messageRef with code, of
// the type NackType recommends.
func NewNack(w Wrapper, messageRef string, code ReasonCode) *Ack {
	return &Ack{Wrapper: w, Type: NackType(code), MessageRef: messageRef, Reason: code}
}

// Refers reports whether the acknowledgement names any of ids (compared
// without case): pass every id the acknowledged message is known by (HL7
// id, ebXML MessageId, EhrExtract id).
func (a *Ack) Refers(ids ...string) bool {
	for _, id := range ids {
		if SameID(a.MessageRef, id) {
			return true
		}
	}
	return false
}

// Encode writes the acknowledgement. A negative one needs a known reason
// code; AA must not have one.
func (a *Ack) Encode() ([]byte, error) {
	a.Interaction = ApplicationAck
	if err := a.check(); err != nil {
		return nil, err
	}
	switch {
	case a.MessageRef == "":
		return nil, invalidf("%s: the acknowledged message id is required", a.Interaction)
	case a.Type == AckAccept && a.Reason != "":
		return nil, invalidf("%s: AA carries no reason code (got %s)", a.Interaction, a.Reason)
	case a.Type.Negative() && !a.Reason.Known():
		return nil, invalidf("%s: %s needs a GP2GP reason code (got %q)", a.Interaction, a.Type, a.Reason)
	case !a.Type.Negative() && a.Type != AckAccept:
		return nil, invalidf("%s: acknowledgement type %q is not AA, AE or AR", a.Interaction, a.Type)
	}
	doc := newDocument()
	root := a.writeWrapper(doc, func(root *etree.Element) {
		ack := add(root, "acknowledgement", "typeCode", string(a.Type))
		if a.Type.Negative() {
			a.writeCode(add(ack, "acknowledgementDetail", "typeCode", "ER"))
		}
		add(add(ack, "messageRef"), "id", "root", NormalizeID(a.MessageRef))
	})
	cae := a.writeControlAct(root)
	if a.Type.Negative() {
		issue := add(add(cae, "reason", "typeCode", "RSON"), "justifyingDetectedIssueEvent", "classCode", "ALRT", "moodCode", "EVN")
		code := a.writeCode(issue)
		add(add(code, "qualifier"), "value", "code", "ER", "codeSystem", OIDAckQualifier)
	}
	return doc.WriteToBytes()
}

func (a *Ack) writeCode(parent *etree.Element) *etree.Element {
	return add(parent, "code", "code", string(a.Reason), "codeSystem", OIDReasonCode, "displayName", a.Reason.Display())
}

// DecodeAck reads an application acknowledgement. On a *ValidationError it
// returns what could be read.
func DecodeAck(data []byte) (*Ack, error) {
	root, err := parse(data, ApplicationAck)
	if err != nil {
		return nil, err
	}
	r := &reader{in: ApplicationAck}
	return readAck(root, r), r.result()
}

func readAck(root *etree.Element, r *reader) *Ack {
	a := &Ack{Wrapper: readWrapper(root, ApplicationAck, r)}
	ack := xmldoc.Child(root, "acknowledgement")
	a.Type = AckType(xmldoc.Attr(ack, "typeCode"))
	a.MessageRef = r.bounded(NormalizeID(xmldoc.Attr(xmldoc.Path(ack, "messageRef", "id"), "root")), root, "acknowledgement/messageRef/id", "message reference")
	code := xmldoc.Path(root, "ControlActEvent", "reason", "justifyingDetectedIssueEvent", "code")
	if xmldoc.Attr(code, "code") == "" {
		code = xmldoc.Path(ack, "acknowledgementDetail", "code")
	}
	if c := r.bounded(xmldoc.Attr(code, "code"), root, "ControlActEvent/reason", "reason code"); c != "" {
		a.Reason = NormalizeReason(c)
		a.ReasonDisplay = xmldoc.Attr(code, "displayName")
	}
	if ack == nil {
		r.need("", root, "acknowledgement", "acknowledgement")
		return a
	}
	if a.Type != AckAccept && !a.Type.Negative() {
		r.fail(ack, "acknowledgement type "+quote(string(a.Type))+" is not AA, AE or AR")
	}
	r.need(a.MessageRef, ack, "messageRef/id", "acknowledged message id (messageRef/id/@root)")
	return a
}

func quote(s string) string { return `"` + s + `"` }
