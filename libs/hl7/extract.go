package hl7

import (
	"time"

	"github.com/beevik/etree"

	"github.com/nhsengland/gp2gp/libs/xmldoc"
)

// Extract is an EHR Extract (RCMR_IN030000UK06, or RCMR_IN030000UK07 when
// entries carry the NOPAT confidentiality code): the patient's record, sent
// by the sending practice in answer to a Request.
type Extract struct {
	Wrapper
	// ExtractID is the EhrExtract id. GP2GP wants it equal to the message
	// id; Encode uses the message id when it is empty.
	ExtractID string
	// RequestID is the id of the EhrRequest this extract fulfils
	// (inFulfillmentOf/priorEhrRequest).
	RequestID string
	// NHSNumber of the patient.
	NHSNumber string
	// SendingODS is the practice the record comes from (EhrExtract/author).
	SendingODS string
	// RequestingODS is the practice it is for (EhrExtract/destination).
	RequestingODS string
	// AvailabilityTime of the extract.
	AvailabilityTime time.Time
	// Content is the EhrExtract element: the record itself. Encode writes
	// ExtractID, RequestID, NHSNumber, SendingODS, RequestingODS and
	// AvailabilityTime into it and makes it part of the message document.
	Content *etree.Element
}

// Redacted reports whether any entry of the content is marked NOPAT (no
// disclosure to the patient), which makes the extract a UK07.
func (e *Extract) Redacted() bool {
	found := false
	xmldoc.Descendants(e.Content, func(el *etree.Element) bool {
		if found {
			return false
		}
		if el.Tag == "confidentialityCode" && xmldoc.Attr(el, "code") == "NOPAT" {
			found = true
		}
		return true
	})
	return found
}

// Encode writes the extract around its content: RCMR_IN030000UK07 when the
// content is redacted, RCMR_IN030000UK06 otherwise. The content must have
// the elements the values are written into (id, availabilityTime,
// recordTarget/patient/id, author and destination organisation ids,
// inFulfillmentOf/priorEhrRequest/id), as every EhrExtract does.
func (e *Extract) Encode() ([]byte, error) {
	e.Interaction = EHRExtractUK06
	if e.Redacted() {
		e.Interaction = EHRExtractUK07
	}
	if err := e.check(); err != nil {
		return nil, err
	}
	if e.Content == nil {
		return nil, invalidf("%s: content (the EhrExtract element) is required", e.Interaction)
	}
	if e.Content.Tag != "EhrExtract" {
		return nil, invalidf("%s: content is <%s>, not <EhrExtract>", e.Interaction, e.Content.Tag)
	}
	if e.ExtractID == "" {
		e.ExtractID = e.MessageID
	}
	if e.AvailabilityTime.IsZero() {
		e.AvailabilityTime = e.CreationTime
	}
	switch {
	case e.RequestID == "":
		return nil, invalidf("%s: the request id it fulfils is required", e.Interaction)
	case e.NHSNumber == "":
		return nil, invalidf("%s: NHS number is required", e.Interaction)
	case e.SendingODS == "" || e.RequestingODS == "":
		return nil, invalidf("%s: sending and requesting ODS codes are required", e.Interaction)
	}
	for _, set := range []struct {
		path        []string
		attr, value string
	}{
		{[]string{"id"}, "root", NormalizeID(e.ExtractID)},
		{[]string{"availabilityTime"}, "value", FormatTS(e.AvailabilityTime)},
		{[]string{"recordTarget", "patient", "id"}, "extension", e.NHSNumber},
		{[]string{"author", "AgentOrgSDS", "agentOrganizationSDS", "id"}, "extension", e.SendingODS},
		{[]string{"destination", "AgentOrgSDS", "agentOrganizationSDS", "id"}, "extension", e.RequestingODS},
		{[]string{"inFulfillmentOf", "priorEhrRequest", "id"}, "root", NormalizeID(e.RequestID)},
	} {
		el := xmldoc.Path(e.Content, set.path...)
		if el == nil {
			return nil, invalidf("%s: content lacks EhrExtract/%s", e.Interaction, joinPath(set.path))
		}
		el.CreateAttr(set.attr, set.value)
	}

	doc := newDocument()
	root := e.writeWrapper(doc, nil)
	subject := add(e.writeControlAct(root), "subject", "typeCode", "SUBJ", "contextConductionInd", "false")
	subject.AddChild(e.Content)
	return doc.WriteToBytes()
}

func joinPath(p []string) string {
	s := p[0]
	for _, x := range p[1:] {
		s += "/" + x
	}
	return s
}

// DecodeExtract reads an EHR Extract (either interaction). On a
// *ValidationError (code 21) it returns what could be read.
func DecodeExtract(data []byte) (*Extract, error) {
	root, err := parse(data, EHRExtractUK06)
	if err != nil {
		return nil, err
	}
	in := Interaction(root.Tag)
	r := &reader{in: in}
	return readExtract(root, in, r), r.result()
}

func readExtract(root *etree.Element, in Interaction, r *reader) *Extract {
	e := &Extract{Wrapper: readWrapper(root, in, r)}
	ehr := xmldoc.Path(root, "ControlActEvent", "subject", "EhrExtract")
	if ehr == nil {
		r.need("", root, "ControlActEvent/subject/EhrExtract", "EhrExtract")
		return e
	}
	e.Content = ehr
	e.ExtractID = r.bounded(NormalizeID(xmldoc.Attr(xmldoc.Child(ehr, "id"), "root")), ehr, "id", "extract id")
	e.RequestID = r.bounded(NormalizeID(xmldoc.Attr(xmldoc.Path(ehr, "inFulfillmentOf", "priorEhrRequest", "id"), "root")),
		ehr, "inFulfillmentOf/priorEhrRequest/id", "request id")
	e.NHSNumber = r.bounded(idExtension(xmldoc.Path(ehr, "recordTarget", "patient"), OIDNHSNumber), ehr, "recordTarget/patient/id", "NHS number")
	e.SendingODS = r.bounded(orgODS(xmldoc.Child(ehr, "author")), ehr, "author", "sending practice ODS code")
	e.RequestingODS = r.bounded(orgODS(xmldoc.Child(ehr, "destination")), ehr, "destination", "requesting practice ODS code")
	if v := xmldoc.Attr(xmldoc.Child(ehr, "availabilityTime"), "value"); v != "" {
		e.AvailabilityTime, _ = ParseTS(v)
	}
	r.need(e.ExtractID, ehr, "id", "extract id (EhrExtract/id/@root)")
	r.need(e.NHSNumber, ehr, "recordTarget/patient/id", "NHS number")
	return e
}

// Refers reports whether id names this extract: its message id, its
// EhrExtract id, or (given by the caller) its ebXML MessageId — vendors
// acknowledge an extract by any of them.
func (e *Extract) Refers(id string, ebxmlMessageID string) bool {
	return SameID(id, e.MessageID) || SameID(id, e.ExtractID) || SameID(id, ebxmlMessageID)
}
