package hl7

import (
	"strings"

	"github.com/beevik/etree"

	"github.com/nhsengland/gp2gp/libs/xmldoc"
)

// Request is an EHR Request (RCMR_IN010000UK05): the requesting practice
// asks the sending practice for a patient's record.
type Request struct {
	Wrapper
	// RequestID is the EhrRequest id; the extract echoes it.
	RequestID string
	// NHSNumber of the patient.
	NHSNumber string
	// RequestingODS is the requesting (new) practice: EhrRequest/author.
	RequestingODS string
	// SendingODS is the practice asked for the record: EhrRequest/destination.
	SendingODS string
}

// Encode writes the request. It fails with ErrInvalidMessage if a value the
// schema requires is missing.
func (r *Request) Encode() ([]byte, error) {
	r.Interaction = EHRRequest
	if err := r.check(); err != nil {
		return nil, err
	}
	switch {
	case r.RequestID == "":
		return nil, invalidf("%s: request id is required", r.Interaction)
	case r.NHSNumber == "":
		return nil, invalidf("%s: NHS number is required", r.Interaction)
	case r.RequestingODS == "" || r.SendingODS == "":
		return nil, invalidf("%s: requesting and sending ODS codes are required", r.Interaction)
	}
	doc := newDocument()
	root := r.writeWrapper(doc, nil)
	subject := add(r.writeControlAct(root), "subject", "typeCode", "SUBJ", "contextConductionInd", "false")
	ehr := add(subject, "EhrRequest", "classCode", "EXTRACT", "moodCode", "RQO")
	add(ehr, "id", "root", NormalizeID(r.RequestID))
	patient := add(add(ehr, "recordTarget", "typeCode", "RCT"), "patient", "classCode", "PAT")
	add(patient, "id", "root", OIDNHSNumber, "extension", r.NHSNumber)
	writeOrg(add(ehr, "author", "typeCode", "AUT"), r.RequestingODS)
	writeOrg(add(ehr, "destination", "typeCode", "DST"), r.SendingODS)
	return doc.WriteToBytes()
}

// writeOrg writes AgentOrgSDS/agentOrganizationSDS/id for an ODS code.
func writeOrg(parent *etree.Element, ods string) {
	org := add(add(parent, "AgentOrgSDS", "classCode", "AGNT"), "agentOrganizationSDS", "classCode", "ORG", "determinerCode", "INSTANCE")
	add(org, "id", "root", OIDODS, "extension", strings.ToUpper(ods))
}

// DecodeRequest reads an EHR Request. On a *ValidationError (code 18) the
// returned request holds whatever could be read, so a negative
// acknowledgement can still be addressed when its wrapper is intact.
func DecodeRequest(data []byte) (*Request, error) {
	root, err := parse(data, EHRRequest)
	if err != nil {
		return nil, err
	}
	r := &reader{in: EHRRequest}
	return readRequest(root, r), r.result()
}

func readRequest(root *etree.Element, r *reader) *Request {
	req := &Request{Wrapper: readWrapper(root, EHRRequest, r)}
	cae := xmldoc.Child(root, "ControlActEvent")
	ehr := xmldoc.Path(cae, "subject", "EhrRequest")
	if ehr == nil {
		r.need("", root, "ControlActEvent/subject/EhrRequest", "EhrRequest")
		return req
	}
	req.RequestID = r.bounded(NormalizeID(xmldoc.Attr(xmldoc.Child(ehr, "id"), "root")), ehr, "id", "request id")
	req.NHSNumber = r.bounded(idExtension(xmldoc.Path(ehr, "recordTarget", "patient"), OIDNHSNumber), ehr, "recordTarget/patient/id", "NHS number")
	req.RequestingODS = r.bounded(orgODS(xmldoc.Child(ehr, "author")), ehr, "author", "requesting practice ODS code")
	req.SendingODS = r.bounded(orgODS(xmldoc.Child(ehr, "destination")), ehr, "destination", "sending practice ODS code")
	r.need(req.RequestID, ehr, "id", "request id (EhrRequest/id/@root)")
	r.need(req.NHSNumber, ehr, "recordTarget/patient/id", "NHS number")
	r.need(req.RequestingODS, ehr, "author", "requesting practice ODS code")
	r.need(req.SendingODS, ehr, "destination", "sending practice ODS code")
	return req
}

// idExtension returns the extension of el's id with root oid, or of its
// only id when none has that root.
func idExtension(el *etree.Element, oid string) string {
	ids := xmldoc.Children(el, "id")
	for _, id := range ids {
		if xmldoc.Attr(id, "root") == oid {
			return strings.TrimSpace(xmldoc.Attr(id, "extension"))
		}
	}
	if len(ids) == 1 {
		return strings.TrimSpace(xmldoc.Attr(ids[0], "extension"))
	}
	return ""
}

// orgODS reads the ODS code under a participation (author, destination):
// AgentOrgSDS/agentOrganizationSDS/id/@extension.
func orgODS(participation *etree.Element) string {
	return strings.ToUpper(idExtension(xmldoc.Path(participation, "AgentOrgSDS", "agentOrganizationSDS"), OIDODS))
}
