package receiver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/nhsengland/gp2gp/libs/bus"
	"github.com/nhsengland/gp2gp/libs/ebxml"
	"github.com/nhsengland/gp2gp/libs/hl7"
	"github.com/nhsengland/gp2gp/libs/hl7/ehr"
	"github.com/nhsengland/gp2gp/libs/spine"
	"github.com/nhsengland/gp2gp/libs/transfer"
	gp2gpv1 "github.com/nhsengland/gp2gp/proto/gp2gp/v1"
)

// timerExtract is the requester's deadline the extract's arrival ends.
const timerExtract = "extract"

// handleSpine takes what the receiver consumes from Spine: EHR Extracts
// and attachment messages.
func (r *receiver) handleSpine(ctx context.Context, msg *bus.Msg) error {
	env, err := spine.Read(msg)
	// A message with an attachment that is not base64 is still answered:
	// that document cannot be put together (29).
	var undecodable error
	if err != nil {
		if env == nil || !errors.Is(err, ebxml.ErrBase64) {
			return err
		}
		undecodable = err
	}
	conv := env.Envelope.ConversationID
	ctx = bus.WithConversationID(ctx, conv)
	switch {
	case strings.HasSuffix(msg.Subject, "."+string(bus.KindEHRExtract)):
		return r.handleExtract(ctx, conv, env, undecodable, msg.Delivered)
	case strings.HasSuffix(msg.Subject, "."+string(bus.KindCOPC)):
		return r.handleCOPC(ctx, conv, env, undecodable)
	}
	return bus.Permanentf("receiver: unexpected subject %s", msg.Subject)
}

// requestRace is the wait before an extract that overtook the record of
// its request is tried again: short at first, since the requester records
// the request a moment after sending it, then doubling, so that a
// requester that stopped in between has time to be redelivered the
// registration (after the consumer's 30 s ack wait) and record it: 100 ms,
// 200 ms … 20 s, 45 s over the consumer's ten deliveries. (A fixed second
// cost every extract that met the race a second, and gave up after 10 s.)
var requestRace = bus.Backoff{Min: 100 * time.Millisecond, Max: 20 * time.Second}

// handleExtract takes an EHR Extract, delivered for the delivered-th
// time; undecodable is the error of an attachment of it that is not
// base64, if any.
func (r *receiver) handleExtract(ctx context.Context, conv string, env *ebxml.Message, undecodable error, delivered uint64) error {
	r.Received(ctx, env.Envelope.Action)
	ex, derr := hl7.DecodeExtract(env.Payload)
	msgID := env.Envelope.MessageID
	if ex != nil && ex.MessageID != "" {
		msgID = ex.MessageID
	}
	t, err := r.Store.Get(ctx, transfer.Requesting, conv)
	if errors.Is(err, transfer.ErrNotFound) {
		return r.unexpected(ctx, conv, ex)
	}
	if err != nil {
		return err
	}
	if ex != nil && ex.ToASID != "" && ex.ToASID != t.Practice.ASID {
		// The conversation is another practice's transfer: the practice
		// addressed requested nothing under it.
		return r.unexpected(ctx, conv, ex)
	}
	if m, ok := t.MessageByRole(transfer.RoleEHRExtract, transfer.Inbound); ok {
		if hl7.SameID(m.ID, msgID) || hl7.SameID(m.ID, env.Envelope.MessageID) {
			// The same extract delivered again: repeat the hand-over,
			// which may not have happened (each step is idempotent).
			if t.Assembly != nil {
				return r.resumeLarge(ctx, t, env)
			}
			return r.resumeHandover(ctx, t, ex, env)
		}
		return r.nack(ctx, t, "duplicate-extract/"+msgID, msgID, hl7.ReasonDuplicateExtract)
	}
	resent := false
	switch t.State {
	case transfer.RequestSent, transfer.RequestAcknowledged:
	case transfer.Failed:
		// A fresh extract after the transfer failed (no extract in time, or
		// the previous practice refused and then re-sent): the previous
		// practice re-sent it, which the protocol allows on the same
		// conversation. Taken when a request went and no extract came.
		if _, asked := t.MessageByRole(transfer.RoleEHRRequest, transfer.Outbound); !asked {
			return r.nack(ctx, t, "late-extract/"+msgID, msgID, hl7.ReasonUnexpectedCondition)
		}
		resent = true
	case transfer.Registered:
		// The request went but is not recorded yet: its handler is still
		// running, most likely for a few milliseconds more.
		return bus.RetryAfter(requestRace.Delay(delivered), fmt.Errorf("extract for %s before its request is recorded as sent", conv))
	default:
		// Too late: the transfer has ended.
		return r.nack(ctx, t, "late-extract/"+msgID, msgID, hl7.ReasonUnexpectedCondition)
	}
	received := transfer.Message{ID: msgID, Interaction: string(hl7.EHRExtractUK06), Direction: transfer.Inbound,
		At: r.Now(), Role: transfer.RoleEHRExtract, Size: len(env.Payload)}
	if ex != nil {
		received.Interaction = string(ex.Interaction)
	}
	if derr != nil {
		return r.reject(ctx, t, received, hl7.ReasonExtractMalformed, derr.Error())
	}
	if undecodable != nil {
		return r.reject(ctx, t, received, hl7.ReasonReassemblyFailure, undecodable.Error())
	}
	summary, err := ehr.Summarize(ex.Content)
	if err != nil {
		return r.reject(ctx, t, received, hl7.ReasonExtractMalformed, err.Error())
	}
	rs, err := r.recordsOf(t)
	if err != nil {
		return err
	}
	if large(env, summary) {
		if _, err := rs.put(ctx, coreObject(t.ConversationID), env.Payload); err != nil {
			return err
		}
		return r.takeLarge(ctx, rs, t, env, ex.ExtractID, received, resent)
	}

	rec, docs, err := r.store(ctx, rs, conv, env, summary)
	if err != nil {
		return err
	}
	returning, err := r.returning(ctx, t)
	if err != nil {
		return err
	}
	issues := issuesOf(t, ex, summary, returning)
	rec.Issues = issues
	rec.AutoIntegrated = r.cfg.AutoIntegrate && len(issues) == 0
	// Record the state, then hand the record over (and accept it, when the
	// policy allows): the practice's outcome can then never find the
	// transfer not yet waiting for it. A redelivery of the extract repeats
	// the hand-over (resumeHandover).
	t, err = r.Store.UpdateFrom(ctx, t, func(t *transfer.Transfer) error {
		if _, done := t.MessageByRole(transfer.RoleEHRExtract, transfer.Inbound); done {
			return nil // a concurrent delivery took it
		}
		t.RecordMessage(received)
		t.ExtractID = ex.ExtractID
		t.Record = rec
		delete(t.Deadlines, timerExtract)
		arrived := transfer.Reason{Detail: fmt.Sprintf("%s of %d bytes", ex.Interaction, len(env.Payload))}
		if t.State == transfer.Failed && resent {
			arrived.Detail += ", re-sent by the previous practice after the transfer had failed"
			if err := t.Reopen(transfer.ExtractReceived, arrived); err != nil {
				return err
			}
		} else if err := t.Transition(transfer.ExtractReceived, arrived); err != nil {
			return err
		}
		if err := t.Transition(transfer.ReadyToIntegrate, transfer.Reason{Detail: "record handed to the practice's system"}); err != nil {
			return err
		}
		if rec.AutoIntegrated {
			return t.Transition(transfer.Integrated, transfer.Reason{Detail: "integrated automatically: demographics match, nothing degraded or missing"})
		}
		return nil
	})
	if err != nil && !errors.Is(err, transfer.ErrEventsPending) {
		return err
	}
	if m, ok := t.MessageByRole(transfer.RoleEHRExtract, transfer.Inbound); !ok || m.ID != received.ID {
		return nil // another extract was taken concurrently
	}
	return r.handover(ctx, t, docs, env.Payload, err)
}

// handover gives the practice's system the record t holds (docs are its
// attachments, payload the extract), and asks for the final AA when it was integrated
// automatically. pending is the error of the state update before it (a
// lifecycle event still to publish), returned once the hand-over is done.
func (r *receiver) handover(ctx context.Context, t *transfer.Transfer, docs []*gp2gpv1.Attachment, payload []byte, pending error) error {
	if err := r.publishReady(ctx, t, t.Record, docs, payload); err != nil {
		return err
	}
	if t.Record.AutoIntegrated {
		m, _ := t.MessageByRole(transfer.RoleEHRExtract, transfer.Inbound)
		if err := r.finalAck(ctx, m.ID, t, hl7.AckAccept, ""); err != nil {
			return err
		}
	}
	return pending
}

// resumeHandover repeats the hand-over of an extract delivered again after
// its state was recorded: the handler that recorded it may have stopped
// before handing the record over.
func (r *receiver) resumeHandover(ctx context.Context, t *transfer.Transfer, ex *hl7.Extract, env *ebxml.Message) error {
	auto := t.State == transfer.Integrated && t.Record != nil && t.Record.AutoIntegrated
	if (t.State != transfer.ReadyToIntegrate && !auto) || t.Record == nil || ex == nil {
		return nil // handed over and answered, or never taken
	}
	summary, err := ehr.Summarize(ex.Content)
	if err != nil {
		return nil // it was taken before, so this cannot fail; nothing to repeat
	}
	rs, err := r.recordsOf(t)
	if err != nil {
		return err
	}
	_, docs, err := r.store(ctx, rs, t.ConversationID, env, summary)
	if err != nil {
		return err
	}
	return r.handover(ctx, t, docs, env.Payload, nil)
}

// store keeps the extract, its summary and its inline documents in the
// requesting practice's records object store rs, under the conversation id.
func (r *receiver) store(ctx context.Context, rs records, conv string, env *ebxml.Message, summary ehr.Summary) (*transfer.Record, []*gp2gpv1.Attachment, error) {
	extractRef, err := rs.put(ctx, conv+"/extract.xml", env.Payload)
	if err != nil {
		return nil, nil, err
	}
	sum, err := json.Marshal(summary)
	if err != nil {
		return nil, nil, err
	}
	if _, err := rs.put(ctx, conv+"/summary.json", sum); err != nil {
		return nil, nil, err
	}
	absent := absentDocuments(summary)
	var docs []*gp2gpv1.Attachment
	for _, a := range env.Attachments {
		id := strings.TrimPrefix(a.DocumentID, "_")
		if id == "" {
			id = a.ContentID
		}
		ref, err := rs.put(ctx, conv+"/attachments/"+id, a.Data)
		if err != nil {
			return nil, nil, err
		}
		doc := &gp2gpv1.Attachment{DocumentId: id, Filename: a.Description.Filename, ContentType: a.ContentType,
			Content: &gp2gpv1.Content{Content: &gp2gpv1.Content_Object{Object: ref}}, Size: uint64(len(a.Data))}
		if reason, ok := absent[hl7.NormalizeID(id)]; ok {
			doc.Absent, doc.AbsentReason = true, reason // the placeholder's text is its content
			delete(absent, hl7.NormalizeID(id))
		}
		docs = append(docs, doc)
	}
	docs = append(docs, absentOnly(summary, absent)...)
	return &transfer.Record{Object: extractRef.Name, Summary: conv + "/summary.json"}, docs, nil
}

// returning reports a returning patient (A-B-A): the registration says so,
// or this practice sent the patient's record away before.
func (r *receiver) returning(ctx context.Context, t *transfer.Transfer) (bool, error) {
	if t.Registration != nil && t.Registration.ReturningPatient {
		return true, nil
	}
	_, err := r.Patients.Get(ctx, t.Practice.ODS+"."+t.NHSNumber)
	switch {
	case errors.Is(err, jetstream.ErrKeyNotFound):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("patient index: %w", err)
	}
	return true, nil
}

// issuesOf lists what the integrating clinician should know.
func issuesOf(t *transfer.Transfer, ex *hl7.Extract, s ehr.Summary, returning bool) []string {
	var issues []string
	if !strings.EqualFold(ex.NHSNumber, t.NHSNumber) {
		issues = append(issues, gp2gpv1.RecordIssue_RECORD_ISSUE_DEMOGRAPHICS_MISMATCH.String())
	}
	if len(s.Degrades) > 0 {
		issues = append(issues, gp2gpv1.RecordIssue_RECORD_ISSUE_DEGRADED_ENTRIES.String())
	}
	for _, d := range s.Documents {
		if d.Absent {
			issues = append(issues, gp2gpv1.RecordIssue_RECORD_ISSUE_ATTACHMENTS_ABSENT.String())
			break
		}
	}
	if returning {
		issues = append(issues, gp2gpv1.RecordIssue_RECORD_ISSUE_RETURNING_PATIENT.String())
	}
	return issues
}

// inlineExtract is the largest extract record-ready carries inline; a
// larger one is referenced in the requesting practice's records object
// store (where every extract is kept either way).
const inlineExtract = 256 << 10

// placeholderReason is what record-ready says of a document the sending
// practice replaced by a placeholder.
const placeholderReason = "the sending practice could not include it and sent a placeholder in its place"

// absentDocuments are the documents the extract refers to by a placeholder
// (protocol §4.5), by id, with the reason record-ready gives.
func absentDocuments(s ehr.Summary) map[string]string {
	out := map[string]string{}
	for _, d := range s.Documents {
		if d.Absent {
			out[hl7.NormalizeID(d.ID)] = placeholderReason + " (" + d.Filename + ")"
		}
	}
	return out
}

// absentOnly lists, in the extract's order, the absent documents of s
// still in absent: placeholders referred to but not carried.
func absentOnly(s ehr.Summary, absent map[string]string) []*gp2gpv1.Attachment {
	var out []*gp2gpv1.Attachment
	for _, d := range s.Documents {
		if reason, ok := absent[hl7.NormalizeID(d.ID)]; ok {
			out = append(out, &gp2gpv1.Attachment{DocumentId: d.ID, Filename: d.Filename, ContentType: d.MediaType,
				Absent: true, AbsentReason: reason})
		}
	}
	return out
}

// publishReady hands the stored record to the practice's system. payload
// is the extract, when the caller has it; a larger one, or none, is
// referenced in the practice's records object store.
func (r *receiver) publishReady(ctx context.Context, t *transfer.Transfer, rec *transfer.Record, docs []*gp2gpv1.Attachment, payload []byte) error {
	m, _ := t.MessageByRole(transfer.RoleEHRExtract, transfer.Inbound)
	size := uint64(m.Size)
	if rec.Size > 0 {
		size = uint64(rec.Size)
	}
	rs, err := r.recordsOf(t)
	if err != nil {
		return err
	}
	extract := &gp2gpv1.Content{Content: &gp2gpv1.Content_Object{Object: rs.ref(rec.Object, size, "")}}
	if payload != nil && len(payload) <= inlineExtract {
		extract = &gp2gpv1.Content{Content: &gp2gpv1.Content_Inline{Inline: payload}}
	}
	ready := &gp2gpv1.RecordReady{
		ConversationId: t.ConversationID, PracticeOds: t.Practice.ODS, SendingPracticeOds: t.Peer.ODS,
		Patient:     &gp2gpv1.Patient{NhsNumber: t.NHSNumber},
		EhrExtract:  extract,
		Attachments: docs, ReceivedAt: timestamppb.New(r.Now()), AutoIntegrated: rec.AutoIntegrated,
	}
	if reg := t.Registration; reg != nil {
		ready.Patient = &gp2gpv1.Patient{NhsNumber: t.NHSNumber, GivenName: reg.GivenName, FamilyName: reg.FamilyName, BirthDate: reg.BirthDate, Gender: reg.Gender}
		ready.RegistrationEventId = reg.EventID
	}
	for _, i := range rec.Issues {
		ready.Issues = append(ready.Issues, gp2gpv1.RecordIssue(gp2gpv1.RecordIssue_value[i]))
	}
	_, err = r.Bus.PublishProto(ctx, bus.Outgoing{
		Subject: bus.RecordReadySubject(t.Practice.ODS), DedupeID: "record-ready." + t.ConversationID + "." + m.ID,
		Headers: bus.Headers{ConversationID: t.ConversationID},
	}, ready)
	return err
}

// reject ends the transfer with a negative final acknowledgement of the
// extract it could not take. The acknowledgement is asked for before the
// state is recorded, so a redelivery after a stop repeats both.
func (r *receiver) reject(ctx context.Context, t *transfer.Transfer, received transfer.Message, code hl7.ReasonCode, detail string) error {
	r.Logger.WarnContext(ctx, "extract rejected", "reason_code", code, "detail", detail)
	if err := r.finalAck(ctx, received.ID, t, hl7.NackType(code), code); err != nil {
		return err
	}
	_, err := r.Store.UpdateFrom(ctx, t, func(t *transfer.Transfer) error {
		if _, done := t.MessageByRole(transfer.RoleEHRExtract, transfer.Inbound); done {
			return nil
		}
		t.RecordMessage(received)
		delete(t.Deadlines, timerExtract)
		if err := t.Transition(transfer.ExtractReceived, transfer.Reason{}); err != nil {
			return err
		}
		return t.Transition(transfer.Rejected, transfer.Reason{Code: string(code), Detail: detail})
	})
	return err
}

// nack sends a negative acknowledgement of a message without changing the
// transfer (a duplicate or late extract).
func (r *receiver) nack(ctx context.Context, t *transfer.Transfer, purpose, ref string, code hl7.ReasonCode) error {
	r.Logger.WarnContext(ctx, "extract refused", "message_id", ref, "reason_code", code)
	return r.AskAck(ctx, toPeer(t, purpose, gp2gpv1.AckPurpose_ACK_PURPOSE_FINAL, hl7.NackType(code), code, ref))
}

// toPeer is the request for an acknowledgement of message ref from this
// side's practice to the sending practice; purpose names its message id.
func toPeer(t *transfer.Transfer, purpose string, p gp2gpv1.AckPurpose, typ hl7.AckType, code hl7.ReasonCode, ref string) *gp2gpv1.AckRequest {
	return &gp2gpv1.AckRequest{
		MessageId: hl7.DeriveID(t.ConversationID, purpose), ConversationId: t.ConversationID,
		Side: gp2gpv1.Side_SIDE_REQUESTING, Purpose: p,
		TypeCode: string(typ), ReasonCode: string(code), MessageRef: ref,
		FromAsid: t.Practice.ASID, FromOds: t.Practice.ODS, FromPartyKey: t.Practice.PartyKey,
		ToAsid: t.Peer.ASID, ToOds: t.Peer.ODS, ToPartyKey: t.Peer.PartyKey,
	}
}

// unexpected answers an extract no request of ours asked for (09).
func (r *receiver) unexpected(ctx context.Context, conv string, ex *hl7.Extract) error {
	if ex == nil || ex.MessageID == "" || ex.FromASID == "" || ex.ToASID == "" {
		return bus.Permanentf("extract for unknown conversation %s cannot be answered", conv)
	}
	practice, ok := r.PracticeByASID(ex.ToASID)
	if !ok {
		return bus.Permanentf("extract for ASID %s, which this receiver does not serve", ex.ToASID)
	}
	r.Logger.WarnContext(ctx, "extract without a request", "message_id", ex.MessageID, "from_asid", ex.FromASID)
	return r.AskAck(ctx, &gp2gpv1.AckRequest{
		MessageId: hl7.DeriveID(conv, "unexpected-extract/"+ex.MessageID), ConversationId: conv,
		Side: gp2gpv1.Side_SIDE_REQUESTING, Purpose: gp2gpv1.AckPurpose_ACK_PURPOSE_FINAL,
		TypeCode: string(hl7.NackType(hl7.ReasonUnexpectedExtract)), ReasonCode: string(hl7.ReasonUnexpectedExtract),
		MessageRef: ex.MessageID, FromAsid: practice.ASID, FromOds: practice.ODS,
		ToAsid: ex.FromASID, ToOds: ex.SendingODS,
	})
}

// finalAck asks for the final acknowledgement of the transfer's extract,
// whose message id is ref.
func (r *receiver) finalAck(ctx context.Context, ref string, t *transfer.Transfer, typ hl7.AckType, code hl7.ReasonCode) error {
	return r.AskAck(ctx, toPeer(t, "final-ack", gp2gpv1.AckPurpose_ACK_PURPOSE_FINAL, typ, code, ref))
}
