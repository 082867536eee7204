package practicesim

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"

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
		"responses", done.Responses)
	return nil
}

// response builds the answer to req under b, filling in done. A record
// that cannot be generated is answered GENERATION_FAILED; only storing a
// large extract can fail (and be retried).
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
	if len(rec.extract) >= InlineLimit {
		ref, err := p.storeExtract(ctx, req.GetRequestId(), rec.extract)
		if err != nil {
			return nil, fmt.Errorf("practicesim: record request %s: %w", req.GetRequestId(), err)
		}
		content = &gp2gpv1.Content{Content: &gp2gpv1.Content_Object{Object: ref}}
		done.InObjectStore = true
	}
	done.Answer, done.ExtractBytes, done.Attachments = AnswerRecord, len(rec.extract), len(rec.attachments)
	resp.Result = &gp2gpv1.RecordResponse_Record{Record: &gp2gpv1.Record{EhrExtract: content, Attachments: rec.attachments}}
	return resp, nil
}

// extractObjectName is the object store name under which practice ods
// stores the extract answering record request requestID.
func extractObjectName(ods, requestID string) string {
	return "practice/" + ods + "/record-response/" + requestID + "/ehr-extract.xml"
}

// storeExtract puts a large extract in the records object store, unless
// the same bytes are there already (a redelivered request), and returns
// its reference.
func (p *Practice) storeExtract(ctx context.Context, requestID string, data []byte) (*gp2gpv1.ObjectRef, error) {
	store, err := p.objectStore(ctx, bus.BucketRecords)
	if err != nil {
		return nil, err
	}
	p.putMu.Lock()
	defer p.putMu.Unlock()
	sum := sha256.Sum256(data)
	name := extractObjectName(p.cfg.ODS, requestID)
	ref := &gp2gpv1.ObjectRef{Bucket: bus.BucketRecords, Name: name, Size: uint64(len(data)), Sha256: hex.EncodeToString(sum[:])}
	info, err := store.GetInfo(ctx, name)
	switch {
	case err == nil && info.Size == uint64(len(data)):
		if digest, derr := jetstream.DecodeObjectDigest(info.Digest); derr == nil && bytes.Equal(digest, sum[:]) {
			return ref, nil
		}
	case err != nil && !errors.Is(err, jetstream.ErrObjectNotFound):
		return nil, fmt.Errorf("look up %s: %w", name, err)
	}
	if _, err := store.PutBytes(ctx, name, data); err != nil {
		return nil, fmt.Errorf("store extract %s (%d bytes): %w", name, len(data), err)
	}
	return ref, nil
}
