package practicesim

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	"google.golang.org/protobuf/proto"

	"github.com/nhsengland/gp2gp/libs/bus"
	"github.com/nhsengland/gp2gp/libs/hl7"
	gp2gpv1 "github.com/nhsengland/gp2gp/proto/gp2gp/v1"
)

// answer handles one RecordRequest: it answers with the patient's record or
// a failure, on RecordResponseSubject, as the behaviour for the patient
// says. The response's dedupe id derives from the request id, so a request
// delivered twice is answered once.
func (p *Practice) answer(ctx context.Context, msg *bus.Msg) error {
	var req gp2gpv1.RecordRequest
	if err := bus.Decode(msg, &req); err != nil {
		return err
	}
	ctx = bus.WithConversationID(ctx, req.GetConversationId())
	switch ods := req.GetPracticeOds(); {
	case req.GetRequestId() == "":
		return bus.Permanentf("practicesim: record request without a request id")
	case req.GetConversationId() == "":
		return bus.Permanentf("practicesim: record request %s without a conversation id", req.GetRequestId())
	case ods != "" && ods != p.cfg.ODS:
		return bus.Permanentf("practicesim: record request %s is for practice %s, not %s", req.GetRequestId(), ods, p.cfg.ODS)
	}

	nhs := req.GetNhsNumber()
	var b RecordBehaviour
	if hl7.ValidNHSNumber(nhs) {
		b = p.records(nhs)
	} else {
		b = RecordBehaviour{
			Failure: gp2gpv1.RecordFailureReason_RECORD_FAILURE_REASON_PATIENT_NOT_AT_PRACTICE,
			Detail:  fmt.Sprintf("no patient has NHS number %q", nhs),
		}
	}
	if err := b.Validate(); err != nil {
		return bus.Permanent(fmt.Errorf("practicesim: record behaviour for %s: %w", nhs, err))
	}
	done := AnsweredRequest{
		RequestID:      req.GetRequestId(),
		ConversationID: req.GetConversationId(),
		NHSNumber:      nhs,
		RequestingODS:  req.GetRequestingPracticeOds(),
	}
	if b.NoAnswer {
		done.At = p.now()
		p.noteAnswer(done)
		p.logger.InfoContext(ctx, "record request left unanswered", "request_id", done.RequestID)
		return nil
	}
	if wait := dueIn(msg.Published, b.Delay); wait > 0 {
		return bus.Defer(wait)
	}

	resp, err := p.response(ctx, &req, b, &done)
	if err != nil {
		return err
	}
	out := bus.Outgoing{
		Subject:  bus.RecordResponseSubject(p.cfg.ODS),
		DedupeID: "record-response." + p.cfg.ODS + "." + req.GetRequestId(),
		Headers:  bus.Headers{ConversationID: req.GetConversationId()},
	}
	if _, err := p.bus.PublishProto(ctx, out, resp); err != nil {
		return fmt.Errorf("practicesim: answer record request %s: %w", req.GetRequestId(), err)
	}
	done.Responses = 1
	if b.Duplicate {
		out.DedupeID += ".duplicate"
		if _, err := p.bus.PublishProto(ctx, out, resp); err != nil {
			return fmt.Errorf("practicesim: answer record request %s again: %w", req.GetRequestId(), err)
		}
		done.Responses = 2
	}
	done.At = p.now()
	p.noteAnswer(done)
	p.logger.InfoContext(ctx, "record request answered", "request_id", done.RequestID, "answer", done.Answer.String(),
		"failure", done.Failure.String(), "extract_bytes", done.ExtractBytes, "object_store", done.InObjectStore,
		"documents", done.Attachments, "responses", done.Responses)
	return nil
}

// response builds the answer to req under b, filling in done. A record
// that cannot be generated is answered GENERATION_FAILED; only storing
// the extract or documents in the object store can fail (and be retried).
func (p *Practice) response(ctx context.Context, req *gp2gpv1.RecordRequest, b RecordBehaviour, done *AnsweredRequest) (*gp2gpv1.RecordResponse, error) {
	resp := &gp2gpv1.RecordResponse{RequestId: req.GetRequestId(), ConversationId: req.GetConversationId()}
	fail := func(reason gp2gpv1.RecordFailureReason, detail string) *gp2gpv1.RecordResponse {
		if detail == "" {
			detail = "simulated failure: " + reason.String()
		}
		done.Answer, done.Failure, done.Detail = AnswerFailure, reason, detail
		resp.Result = &gp2gpv1.RecordResponse_Failure{Failure: &gp2gpv1.RecordFailure{Reason: reason, Detail: detail}}
		return resp
	}
	if b.Failure != gp2gpv1.RecordFailureReason_RECORD_FAILURE_REASON_UNSPECIFIED {
		return fail(b.Failure, b.Detail), nil
	}
	rec, err := p.generate(req)
	if err != nil {
		return fail(gp2gpv1.RecordFailureReason_RECORD_FAILURE_REASON_GENERATION_FAILED, "generate record: "+err.Error()), nil
	}
	content := &gp2gpv1.Content{Content: &gp2gpv1.Content_Inline{Inline: rec.extract}}
	room := InlineLimit - len(rec.extract)
	if len(rec.extract) >= InlineLimit {
		store, err := p.recordsStore(ctx)
		if err != nil {
			return nil, fmt.Errorf("practicesim: record request %s: %w", req.GetRequestId(), err)
		}
		ref, err := p.storeBytes(ctx, store, extractObjectName(p.cfg.ODS, req.GetRequestId()), rec.extract)
		if err != nil {
			return nil, fmt.Errorf("practicesim: record request %s: extract: %w", req.GetRequestId(), err)
		}
		content = &gp2gpv1.Content{Content: &gp2gpv1.Content_Object{Object: ref}}
		done.InObjectStore = true
		room = InlineLimit
	}
	attachments, sent, err := p.attach(ctx, req.GetRequestId(), rec.documents, room)
	if err != nil {
		return nil, fmt.Errorf("practicesim: record request %s: %w", req.GetRequestId(), err)
	}
	done.Answer, done.ExtractBytes = AnswerRecord, len(rec.extract)
	done.Attachments, done.Documents = len(sent), sent
	resp.Result = &gp2gpv1.RecordResponse_Record{Record: &gp2gpv1.Record{EhrExtract: content, Attachments: attachments}}
	return resp, nil
}

// attach turns a record's documents into the RecordResponse's attachments,
// and lists them as sent. Small documents travel inline while their
// encoded size fits in room bytes; large ones, and those that do not fit,
// are stored in the practice's records object store under names derived
// from the request.
func (p *Practice) attach(ctx context.Context, requestID string, docs []document, room int) ([]*gp2gpv1.Attachment, []Document, error) {
	if len(docs) == 0 {
		return nil, nil, nil
	}
	attachments := make([]*gp2gpv1.Attachment, 0, len(docs))
	sent := make([]Document, 0, len(docs))
	var store objectWriter
	for _, d := range docs {
		a := &gp2gpv1.Attachment{DocumentId: d.id, Filename: d.filename, ContentType: d.contentType}
		doc := Document{ID: d.id, Filename: d.filename, ContentType: d.contentType}
		if d.absent {
			a.Absent, a.AbsentReason = true, absentReason
			doc.Absent, doc.AbsentReason = true, absentReason
			attachments, sent = append(attachments, a), append(sent, doc)
			continue
		}
		if d.large == nil && len(d.body) < AttachmentInlineLimit {
			a.Content = &gp2gpv1.Content{Content: &gp2gpv1.Content_Inline{Inline: d.body}}
			a.Size = uint64(len(d.body))
			if n := proto.Size(a); n <= room {
				room -= n
				sum := sha256.Sum256(d.body)
				doc.Size, doc.SHA256 = int64(len(d.body)), hex.EncodeToString(sum[:])
				attachments, sent = append(attachments, a), append(sent, doc)
				continue
			}
		}
		if store == nil {
			s, err := p.recordsStore(ctx)
			if err != nil {
				return nil, nil, err
			}
			store = s
		}
		name := documentObjectName(p.cfg.ODS, requestID, d.id)
		var ref *gp2gpv1.ObjectRef
		var err error
		if d.large != nil {
			ref, err = p.storeLarge(ctx, store, name, d.large)
		} else {
			ref, err = p.storeBytes(ctx, store, name, d.body)
		}
		if err != nil {
			return nil, nil, fmt.Errorf("document %s (%s): %w", d.id, d.filename, err)
		}
		a.Content = &gp2gpv1.Content{Content: &gp2gpv1.Content_Object{Object: ref}}
		a.Size = ref.GetSize()
		room -= proto.Size(a)
		doc.Size, doc.SHA256, doc.InObjectStore = int64(ref.GetSize()), ref.GetSha256(), true
		attachments, sent = append(attachments, a), append(sent, doc)
	}
	return attachments, sent, nil
}
