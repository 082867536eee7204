package practicesim

import (
	"bytes"
	"fmt"
	"strconv"
	"time"

	"github.com/beevik/etree"

	"github.com/nhsengland/gp2gp/libs/hl7/ehr"
	gp2gpv1 "github.com/nhsengland/gp2gp/proto/gp2gp/v1"
)

// record is a generated patient record before it is sent.
type record struct {
	extract     []byte
	attachments []*gp2gpv1.Attachment
}

// generate builds the record that answers req: the EhrExtract element as
// XML and its documents. The content depends only on the NHS number, the
// two practices, the request (its id names the extract; its time dates it)
// and the practice's options, so the same request gives the same bytes
// from any instance of the practice.
func (p *Practice) generate(req *gp2gpv1.RecordRequest) (record, error) {
	nhs := req.GetNhsNumber()
	docs, attachments := p.documents(nhs)
	opts := []ehr.Option{
		ehr.WithSeed(seedFor(nhs)),
		ehr.WithPatient(nhs),
		ehr.WithPractices(p.cfg.ODS, req.GetRequestingPracticeOds()),
		ehr.WithTargetSize(p.recordSize),
		ehr.WithExtractID(derivedUUID("extract", p.cfg.ODS, req.GetRequestId())),
		ehr.WithNOPAT(p.nopat),
		ehr.WithLocalCodes(p.localCodes),
	}
	if len(docs) > 0 {
		opts = append(opts, ehr.WithAttachments(docs...))
	}
	if t := req.GetRequestedAt(); t.IsValid() && t.AsTime().Year() >= 1990 {
		opts = append(opts, ehr.WithTime(t.AsTime().Truncate(time.Second)))
	}
	extract, _, err := ehr.Generate(opts...)
	if err != nil {
		return record{}, err
	}
	var buf bytes.Buffer
	extract.WriteTo(&buf, &etree.WriteSettings{})
	return record{extract: buf.Bytes(), attachments: attachments}, nil
}

// documentKinds are the documents a record holds, in turn.
var documentKinds = []struct {
	title, contentType, ext string
}{
	{"Clinic letter", "text/plain", "txt"},
	{"Discharge summary", "text/html", "html"},
	{"Blood results", "text/csv", "csv"},
}

// documents returns a patient's n documents, as the generator references
// them and as the RecordResponse carries them. Their ids and content
// depend on the practice, the patient and the position only.
func (p *Practice) documents(nhs string) ([]ehr.Attachment, []*gp2gpv1.Attachment) {
	if p.attachments == 0 {
		return nil, nil
	}
	refs := make([]ehr.Attachment, 0, p.attachments)
	out := make([]*gp2gpv1.Attachment, 0, p.attachments)
	for i := range p.attachments {
		kind := documentKinds[i%len(documentKinds)]
		id := derivedUUID("document", p.cfg.ODS, nhs, strconv.Itoa(i))
		name := fmt.Sprintf("%s %d.%s", kind.title, i+1, kind.ext)
		body := p.documentBody(kind.contentType, kind.title, nhs, i)
		refs = append(refs, ehr.Attachment{ID: id, Filename: name, ContentType: kind.contentType})
		out = append(out, &gp2gpv1.Attachment{
			DocumentId:  id,
			Filename:    name,
			ContentType: kind.contentType,
			Content:     &gp2gpv1.Content{Content: &gp2gpv1.Content_Inline{Inline: body}},
			Size:        uint64(len(body)),
		})
	}
	return refs, out
}

// documentBody writes a short synthetic document.
func (p *Practice) documentBody(contentType, title, nhs string, i int) []byte {
	var b bytes.Buffer
	switch contentType {
	case "text/html":
		fmt.Fprintf(&b, "<!DOCTYPE html>\n<html><head><title>%s</title></head><body>\n", title)
		fmt.Fprintf(&b, "<h1>%s</h1>\n<p>Patient NHS number %s. Admitted for observation; discharged home the next day.</p>\n", title, nhs)
		fmt.Fprintf(&b, "<p>Follow-up with %s. Document %d of the record.</p>\n</body></html>\n", p.cfg.Name, i+1)
	case "text/csv":
		fmt.Fprintf(&b, "nhs_number,test,value,unit,range\n")
		fmt.Fprintf(&b, "%s,Haemoglobin,%d,g/L,130-180\n", nhs, 128+i%20)
		fmt.Fprintf(&b, "%s,Serum sodium,%d,mmol/L,133-146\n", nhs, 136+i%7)
		fmt.Fprintf(&b, "%s,HbA1c,%d,mmol/mol,20-41\n", nhs, 38+i%9)
	default:
		fmt.Fprintf(&b, "%s\n\n%s\n\nRe: patient NHS number %s\n\n", p.cfg.Name, title, nhs)
		fmt.Fprintf(&b, "Seen in clinic. Examination unremarkable. No change to medication.\n")
		fmt.Fprintf(&b, "Review in six months. (Document %d of the record.)\n", i+1)
	}
	return b.Bytes()
}
