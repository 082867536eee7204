package practicesim

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/nhsengland/gp2gp/libs/bus"
	"github.com/nhsengland/gp2gp/libs/hl7/ehr"
	"github.com/nhsengland/gp2gp/libs/xmldoc"
	gp2gpv1 "github.com/nhsengland/gp2gp/proto/gp2gp/v1"
)

// objectReadTimeout bounds reading one object of a record: a deadline of
// its own, as the client would otherwise give the whole read its default
// API timeout (5 s), short for a large document.
const objectReadTimeout = 30 * time.Minute

// objectLookupTimeout bounds the metadata lookup that starts a read
// (bus.OpenObject): a lost reply would otherwise hold the record
// unintegrated for objectReadTimeout.
const objectLookupTimeout = 30 * time.Second

// integrate handles one RecordReady: it fetches and checks the record,
// remembers it, and reports the IntegrationOutcome the policy chooses on
// IntegrationOutcomeSubject. The outcome's dedupe id derives from the
// conversation id, so a record delivered twice is reported once.
func (p *Practice) integrate(ctx context.Context, msg *bus.Msg) error {
	var ready gp2gpv1.RecordReady
	if err := bus.Decode(msg, &ready); err != nil {
		return err
	}
	conv := ready.GetConversationId()
	ctx = bus.WithConversationID(ctx, conv)
	switch ods := ready.GetPracticeOds(); {
	case conv == "":
		return bus.Permanentf("practicesim: record ready without a conversation id")
	case ods != "" && ods != p.cfg.ODS:
		return bus.Permanentf("practicesim: record of conversation %s is for practice %s, not %s", conv, ods, p.cfg.ODS)
	}

	rec, ok := p.receivedRecord(conv)
	if !ok {
		var err error
		if rec, err = p.inspect(ctx, &ready); err != nil {
			return err
		}
		rec = p.noteReceived(rec)
		if rec.Problem != "" {
			p.logger.WarnContext(ctx, "record failed the practice's checks", "problem", rec.Problem)
		}
		p.logger.InfoContext(ctx, "record received", "extract_bytes", rec.ExtractBytes,
			"attachments", rec.Attachments, "auto_integrated", rec.AutoIntegrated)
	}
	if ready.GetAutoIntegrated() {
		return nil
	}

	b := p.integration(&ready)
	if err := b.Validate(); err != nil {
		return bus.Permanent(fmt.Errorf("practicesim: integration behaviour for conversation %s: %w", conv, err))
	}
	if b.NoReport {
		return nil
	}
	if wait := dueIn(msg.Published, b.Delay); wait > 0 {
		return bus.Defer(wait)
	}
	result, detail := b.result(), b.Detail
	if rec.Problem != "" {
		result, detail = rec.verdict, rec.Problem
	}
	if detail == "" {
		detail = "simulated outcome: " + result.String()
	}
	at := p.now()
	outcome := &gp2gpv1.IntegrationOutcome{
		ConversationId: conv,
		PracticeOds:    p.cfg.ODS,
		Result:         result,
		Detail:         detail,
		DecidedAt:      timestamppb.New(at),
	}
	out := bus.Outgoing{
		Subject:  bus.IntegrationOutcomeSubject(p.cfg.ODS),
		DedupeID: "integration-outcome." + p.cfg.ODS + "." + conv,
		Headers:  bus.Headers{ConversationID: conv},
	}
	if _, err := p.bus.PublishProto(ctx, out, outcome); err != nil {
		return fmt.Errorf("practicesim: report outcome of conversation %s: %w", conv, err)
	}
	p.noteReported(conv, result, at)
	p.logger.InfoContext(ctx, "integration outcome reported", "result", result.String())
	return nil
}

// problemError is something wrong with a record's content: the practice
// cannot file it and reports so, rather than failing the message.
type problemError struct {
	verdict gp2gpv1.IntegrationResult
	reason  string
}

func (e *problemError) Error() string { return e.reason }

func unreadable(format string, args ...any) error {
	return &problemError{gp2gpv1.IntegrationResult_INTEGRATION_RESULT_FAILED_TO_INTEGRATE, fmt.Sprintf(format, args...)}
}

// inspect fetches the record and checks it as a clinical system would
// before filing it: the extract is there and intact, parses as XML, holds
// an EhrExtract for the registered patient, and every document is there,
// of the size and SHA-256 the record says.
// A record that fails the checks comes back with Problem set; the error is
// for failures to fetch it, to be retried.
func (p *Practice) inspect(ctx context.Context, ready *gp2gpv1.RecordReady) (ReceivedRecord, error) {
	rec := ReceivedRecord{
		ConversationID: ready.GetConversationId(),
		NHSNumber:      ready.GetPatient().GetNhsNumber(),
		SendingODS:     ready.GetSendingPracticeOds(),
		Issues:         slices.Clone(ready.GetIssues()),
		AutoIntegrated: ready.GetAutoIntegrated(),
		ReceivedAt:     p.now(),
	}
	err := p.check(ctx, ready, &rec)
	var pe *problemError
	switch {
	case errors.As(err, &pe):
		rec.Problem, rec.verdict = err.Error(), pe.verdict
	case err != nil:
		return ReceivedRecord{}, fmt.Errorf("practicesim: record of conversation %s: %w", rec.ConversationID, err)
	}
	return rec, nil
}

// check fills in rec from the record; it returns a *problemError for a
// record the practice cannot file.
func (p *Practice) check(ctx context.Context, ready *gp2gpv1.RecordReady, rec *ReceivedRecord) error {
	var extract bytes.Buffer
	if _, err := p.read(ctx, ready.GetEhrExtract(), &extract); err != nil {
		return fmt.Errorf("extract: %w", err)
	}
	data := extract.Bytes()
	rec.ExtractBytes = len(data)
	for _, a := range ready.GetAttachments() {
		rec.Attachments++
		doc := Document{ID: a.GetDocumentId(), Filename: a.GetFilename(), ContentType: a.GetContentType()}
		if a.GetAbsent() {
			rec.AbsentAttachments++
			doc.Absent, doc.AbsentReason = true, a.GetAbsentReason()
			rec.Documents = append(rec.Documents, doc)
			continue
		}
		got, err := p.read(ctx, a.GetContent(), io.Discard)
		if err != nil {
			return fmt.Errorf("document %s (%s): %w", a.GetDocumentId(), a.GetFilename(), err)
		}
		if a.GetSize() != 0 && a.GetSize() != uint64(got.size) {
			return unreadable("document %s (%s) has %d bytes, the record says %d", a.GetDocumentId(), a.GetFilename(), got.size, a.GetSize())
		}
		doc.Size, doc.SHA256, doc.InObjectStore = got.size, got.sha256, got.object
		rec.Documents = append(rec.Documents, doc)
	}
	doc, err := xmldoc.Parse(data, xmldoc.Limits{})
	if err != nil {
		return unreadable("extract is not readable XML: %v", err)
	}
	summary, err := ehr.Summarize(doc.Root())
	if err != nil {
		return unreadable("extract holds no EhrExtract: %v", err)
	}
	rec.Summary = summary
	switch want := ready.GetPatient().GetNhsNumber(); {
	case want == "":
		return unreadable("the record names no registered patient to match")
	case summary.NHSNumber != want:
		verdict := gp2gpv1.IntegrationResult_INTEGRATION_RESULT_WRONG_PATIENT
		if slices.Contains(ready.GetIssues(), gp2gpv1.RecordIssue_RECORD_ISSUE_RETURNING_PATIENT) {
			verdict = gp2gpv1.IntegrationResult_INTEGRATION_RESULT_ABA_WRONG_PATIENT
		}
		return &problemError{verdict, fmt.Sprintf("extract is for NHS number %q, the registered patient is %s", summary.NHSNumber, want)}
	}
	return nil
}

// readContent is what reading content found.
type readContent struct {
	size   int64
	sha256 string // lower-case hex
	object bool   // it came from the object store
}

// read copies content's bytes to w, from the message or streamed from the
// practice's records object store, hashing them on the way, and checks an
// object against its reference's size and SHA-256. A missing, truncated or
// altered object, or one in another bucket, is a problem with the record;
// an object store that does not answer is an error to retry.
func (p *Practice) read(ctx context.Context, c *gp2gpv1.Content, w io.Writer) (readContent, error) {
	h := sha256.New()
	switch x := c.GetContent().(type) {
	case *gp2gpv1.Content_Inline:
		h.Write(x.Inline)
		if _, err := w.Write(x.Inline); err != nil {
			return readContent{}, err
		}
		return readContent{size: int64(len(x.Inline)), sha256: hex.EncodeToString(h.Sum(nil))}, nil
	case *gp2gpv1.Content_Object:
		ref := x.Object
		bucket, own := ref.GetBucket(), bus.RecordsBucket(p.cfg.ODS)
		if bucket == "" {
			bucket = own
		}
		where := bucket + "/" + ref.GetName()
		if bucket != own {
			// A vendor's credentials reach its own practices' records
			// stores only: what is elsewhere cannot be read.
			return readContent{}, unreadable("object %s is not in the practice's records store %s", where, own)
		}
		store, err := p.recordsStore(ctx)
		if errors.Is(err, jetstream.ErrBucketNotFound) {
			return readContent{}, unreadable("object store %s does not exist", bucket)
		}
		if err != nil {
			return readContent{}, err
		}
		obj, err := bus.OpenObject(ctx, store, ref.GetName(), objectReadTimeout, objectLookupTimeout)
		switch {
		case errors.Is(err, jetstream.ErrObjectNotFound):
			return readContent{}, unreadable("object %s does not exist", where)
		case err != nil:
			return readContent{}, fmt.Errorf("fetch %s: %w", where, err)
		}
		defer obj.Close()
		n, err := io.Copy(io.MultiWriter(w, h), obj)
		switch {
		case errors.Is(err, jetstream.ErrDigestMismatch):
			return readContent{}, unreadable("object %s is corrupt", where)
		case err != nil:
			return readContent{}, fmt.Errorf("fetch %s: %w", where, err)
		}
		got := readContent{size: n, sha256: hex.EncodeToString(h.Sum(nil)), object: true}
		if ref.GetSize() != 0 && ref.GetSize() != uint64(n) {
			return readContent{}, unreadable("object %s has %d bytes, its reference says %d", where, n, ref.GetSize())
		}
		if want := ref.GetSha256(); want != "" && !strings.EqualFold(got.sha256, want) {
			return readContent{}, unreadable("object %s has SHA-256 %s, its reference says %s", where, got.sha256, want)
		}
		return got, nil
	}
	return readContent{}, unreadable("no content")
}
