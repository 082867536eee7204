package practicesim

import (
	"bytes"
	"time"

	"github.com/beevik/etree"

	"github.com/nhsengland/gp2gp/libs/hl7/ehr"
	gp2gpv1 "github.com/nhsengland/gp2gp/proto/gp2gp/v1"
)

// record is a generated patient record before it is sent.
type record struct {
	extract   []byte
	documents []document
}

// generate builds the record that answers req: the EhrExtract element as
// XML and its documents. The content depends only on the NHS number, the
// two practices, the request (its id names the extract; its time dates it)
// and the practice's options, so the same request gives the same bytes
// from any instance of the practice.
func (p *Practice) generate(req *gp2gpv1.RecordRequest) (record, error) {
	nhs := req.GetNhsNumber()
	docs := p.documents(nhs)
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
		refs := make([]ehr.Attachment, len(docs))
		for i, d := range docs {
			refs[i] = d.ref()
		}
		opts = append(opts, ehr.WithAttachments(refs...))
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
	return record{extract: buf.Bytes(), documents: docs}, nil
}
