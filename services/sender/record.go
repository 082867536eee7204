package sender

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/nhsengland/gp2gp/libs/bus"
	"github.com/nhsengland/gp2gp/libs/hl7"
	"github.com/nhsengland/gp2gp/libs/largemsg"
	"github.com/nhsengland/gp2gp/libs/stage"
	"github.com/nhsengland/gp2gp/libs/transfer"
	"github.com/nhsengland/gp2gp/libs/xmldoc"
	gp2gpv1 "github.com/nhsengland/gp2gp/proto/gp2gp/v1"
)

// recordFetchLimit bounds an EhrExtract read from the object store.
const recordFetchLimit = 128 << 20

// failureCodes maps a practice system's reasons for not supplying a record
// to the reason codes of the refusal.
var failureCodes = map[gp2gpv1.RecordFailureReason]hl7.ReasonCode{
	gp2gpv1.RecordFailureReason_RECORD_FAILURE_REASON_PATIENT_NOT_AT_PRACTICE: hl7.ReasonPatientNotAtSurgery,
	gp2gpv1.RecordFailureReason_RECORD_FAILURE_REASON_GP2GP_DISABLED:          hl7.ReasonGP2GPDisabled,
	gp2gpv1.RecordFailureReason_RECORD_FAILURE_REASON_GENERATION_FAILED:       hl7.ReasonExtractGenerationFailed,
}

// handleRecordResponse sends the record a practice's system supplied, or
// refuses the request with the reason it gave.
func (s *sender) handleRecordResponse(ctx context.Context, msg *bus.Msg) error {
	resp := &gp2gpv1.RecordResponse{}
	if err := bus.Decode(msg, resp); err != nil {
		return err
	}
	conv := hl7.NormalizeID(resp.ConversationId)
	ctx = bus.WithConversationID(ctx, conv)
	t, err := s.Store.Get(ctx, transfer.Sending, conv)
	if errors.Is(err, transfer.ErrNotFound) {
		return bus.Permanentf("record response for conversation %s, which has no EHR Request", conv)
	}
	if err != nil {
		return err
	}
	if want := recordRequestID(t); !hl7.SameID(resp.RequestId, want) {
		for attempt := range t.Attempt() {
			if hl7.SameID(resp.RequestId, hl7.DeriveID(conv, attemptName("record-request", attempt))) {
				s.Logger.InfoContext(ctx, "record response to an earlier attempt ignored", "request_id", resp.RequestId)
				return nil
			}
		}
		return bus.Permanentf("record response answers request %s; this transfer's is %s", resp.RequestId, want)
	}
	switch t.State {
	case transfer.RecordRequested:
	case transfer.RequestReceived:
		return bus.RetryAfter(time.Second, fmt.Errorf("record response for %s before the request is recorded as asked", conv))
	default:
		s.Logger.InfoContext(ctx, "record response after the request was answered", "state", t.State)
		return s.resume(ctx, t)
	}
	switch r := resp.Result.(type) {
	case *gp2gpv1.RecordResponse_Failure:
		code, ok := failureCodes[r.Failure.Reason]
		if !ok {
			code = hl7.ReasonExtractGenerationFailed
		}
		return s.refuse(ctx, t, code, "practice system: "+r.Failure.Reason.String()+" "+r.Failure.Detail)
	case *gp2gpv1.RecordResponse_Record:
		return s.sendExtract(ctx, t, r.Record)
	}
	return s.refuse(ctx, t, hl7.ReasonExtractGenerationFailed, "practice system answered with neither a record nor a failure")
}

// sendExtract builds the EHR Extract around the practice's record and sends
// it, then asks for the request's acceptance and waits for the final ack.
func (s *sender) sendExtract(ctx context.Context, t *transfer.Transfer, rec *gp2gpv1.Record) error {
	rs, err := s.recordsOf(t)
	if err != nil {
		return err
	}
	content, err := s.content(ctx, rs, rec.EhrExtract)
	if err != nil {
		if bus.IsPermanent(err) {
			return s.refuse(ctx, t, hl7.ReasonExtractGenerationFailed, err.Error())
		}
		return err
	}
	doc, err := xmldoc.Parse(content, xmldoc.Limits{})
	if err != nil {
		return s.refuse(ctx, t, hl7.ReasonExtractGenerationFailed, "practice system's extract: "+err.Error())
	}
	root := doc.Root()
	if root.Tag != "EhrExtract" {
		return s.refuse(ctx, t, hl7.ReasonExtractGenerationFailed, "practice system sent <"+root.Tag+">, not an EhrExtract")
	}
	srcs, err := s.sources(ctx, rs, t, rec.Attachments)
	if err != nil {
		if bus.IsPermanent(err) {
			return s.refuse(ctx, t, hl7.ReasonExtractGenerationFailed, err.Error())
		}
		return err
	}

	now := s.Now()
	id := extractID(t)
	ex := &hl7.Extract{
		Wrapper:   hl7.Wrapper{MessageID: id, CreationTime: now, ToASID: t.Peer.ASID, FromASID: t.Practice.ASID},
		ExtractID: id, RequestID: t.RequestID, NHSNumber: t.NHSNumber,
		SendingODS: t.Practice.ODS, RequestingODS: t.Peer.ODS, Content: root,
	}
	payload, err := ex.Encode()
	if err != nil {
		return s.refuse(ctx, t, hl7.ReasonExtractGenerationFailed, err.Error())
	}
	if len(payload) > s.cfg.limits().SplitThreshold {
		skel, src, err := s.skeleton(t, ex, root, payload)
		if err != nil {
			return s.refuse(ctx, t, hl7.ReasonExtractGenerationFailed, "skeleton of a large extract: "+err.Error())
		}
		payload, srcs = skel, append([]source{src}, srcs...)
	}
	out, err := s.layout(ctx, rs, t, payload, srcs)
	if err != nil {
		if bus.IsPermanent(err) {
			return s.refuse(ctx, t, hl7.ReasonExtractGenerationFailed, err.Error())
		}
		return err
	}
	peerEP, err := s.SDS.Endpoint(ctx, t.Peer.ODS, string(ex.Interaction))
	if err != nil {
		return err
	}
	err = s.Send(ctx, stage.Wire{ConversationID: t.ConversationID, MessageID: id, Interaction: ex.Interaction,
		From: t.Practice, To: t.Peer, CPAID: peerEP.CPAID, Payload: payload, Attachments: out.attachments, External: out.external})
	if bus.IsPermanent(err) {
		return s.refuse(ctx, t, hl7.ReasonUnexpectedCondition, "Spine refused the EHR Extract: "+err.Error())
	}
	if err != nil {
		return err
	}
	due := now.Add(s.cfg.FinalAckTimeout)
	t, err = s.Store.UpdateFrom(ctx, t, func(t *transfer.Transfer) error {
		t.ExtractID = id
		t.Documents = out.documents
		t.RecordMessage(transfer.Message{ID: id, Interaction: string(ex.Interaction), Direction: transfer.Outbound,
			At: now, Role: transfer.RoleEHRExtract, Size: len(payload)})
		delete(t.Deadlines, timerRecord)
		if t.State == transfer.RecordRequested {
			setDeadline(t, timerFinalAck, due)
		}
		return t.Transition(transfer.ExtractSent, transfer.Reason{Detail: extractDetail(ex.Interaction, len(payload), t.Documents)})
	})
	if err != nil {
		return err
	}
	return s.resume(ctx, t)
}

// extractDetail describes a sent extract and how its documents travel.
func extractDetail(in hl7.Interaction, size int, docs []transfer.Document) string {
	inline, external, fragments := 0, 0, 0
	skeleton := ""
	for _, d := range docs {
		if d.Inline {
			inline++
		} else {
			external++
			fragments += len(d.Fragments)
		}
		if d.Skeleton {
			skeleton = " (a skeleton: the whole extract travels compressed)"
		}
	}
	detail := fmt.Sprintf("%s of %d bytes sent%s", in, size, skeleton)
	if len(docs) > 0 {
		detail += fmt.Sprintf("; %d documents inline, %d to follow the Continue (%d fragments)", inline, external, fragments)
	}
	return detail
}

// acceptRequest asks for the AA of the EHR Request, as TPP sends it: with
// the extract.
func (s *sender) acceptRequest(ctx context.Context, t *transfer.Transfer) error {
	ref, _ := t.MessageByRole(transfer.RoleEHRRequest, transfer.Inbound)
	return s.AskAck(ctx, &gp2gpv1.AckRequest{
		MessageId: hl7.DeriveID(t.ConversationID, "request-ack"), ConversationId: t.ConversationID,
		Side: gp2gpv1.Side_SIDE_SENDING, Purpose: gp2gpv1.AckPurpose_ACK_PURPOSE_REQUEST, TypeCode: string(hl7.AckAccept),
		MessageRef: ref.ID, FromAsid: t.Practice.ASID, FromOds: t.Practice.ODS, FromPartyKey: t.Practice.PartyKey,
		ToAsid: t.Peer.ASID, ToOds: t.Peer.ODS, ToPartyKey: t.Peer.PartyKey,
	})
}

// content returns the bytes of a practice system's Content, fetching it
// from the practice's records object store rs when it came by reference.
// A reference to any other bucket is refused (a permanent error).
func (s *sender) content(ctx context.Context, rs records, c *gp2gpv1.Content) ([]byte, error) {
	switch v := c.GetContent().(type) {
	case *gp2gpv1.Content_Inline:
		return v.Inline, nil
	case *gp2gpv1.Content_Object:
		ref := v.Object
		if err := rs.check(ref, "content "+ref.Name); err != nil {
			return nil, err
		}
		if ref.Size > recordFetchLimit {
			return nil, bus.Permanentf("content %s of %d bytes is over the %d-byte limit", ref.Name, ref.Size, recordFetchLimit)
		}
		// Opened as the documents are: the read has a deadline of its own
		// (not the client's 5 s), and the lookup that starts it a short one,
		// so a reply lost to a broker restart cannot hold the handler.
		r, err := largemsg.ObjectStore(rs.store).Open(ctx, ref.Name)
		if errors.Is(err, jetstream.ErrObjectNotFound) {
			return nil, bus.Permanentf("content %s is not in %s", ref.Name, rs.bucket)
		}
		if err != nil {
			return nil, err
		}
		defer r.Close()
		data, err := io.ReadAll(io.LimitReader(r, recordFetchLimit+1))
		if err != nil {
			return nil, fmt.Errorf("content %s: %w", ref.Name, err)
		}
		if ref.Sha256 != "" {
			sum := sha256.Sum256(data)
			if !strings.EqualFold(hex.EncodeToString(sum[:]), ref.Sha256) {
				return nil, bus.Permanentf("content %s does not match its SHA-256", ref.Name)
			}
		}
		return data, nil
	}
	return nil, bus.Permanentf("the record has no EhrExtract content")
}

// handleTimer refuses a request whose record never came, and fails a
// transfer whose final acknowledgement never came.
func (s *sender) handleTimer(ctx context.Context, timer bus.Timer) error {
	ctx = bus.WithConversationID(ctx, timer.ConversationID)
	t, err := s.Store.Get(ctx, transfer.Sending, timer.Key)
	if errors.Is(err, transfer.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if !stage.Due(t, timer) {
		return nil
	}
	switch timer.Kind {
	case timerRecord:
		if t.State != transfer.RecordRequested {
			return nil
		}
		return s.refuse(ctx, t, hl7.ReasonExtractGenerationFailed,
			fmt.Sprintf("the practice system did not supply the record by %s", timer.Due.Format(time.RFC3339)))
	case timerFinalAck:
		_, err := s.Store.Update(ctx, transfer.Sending, timer.Key, func(t *transfer.Transfer) error {
			delete(t.Deadlines, timerFinalAck)
			if t.Terminal() {
				return nil
			}
			// Recorded with 99; nothing is sent (protocol §0.8).
			return t.Transition(transfer.Failed, transfer.Reason{Code: string(hl7.ReasonUnexpectedCondition),
				Detail: fmt.Sprintf("no final acknowledgement by %s", timer.Due.Format(time.RFC3339))})
		})
		return err
	}
	return bus.Permanentf("sender: unknown timer kind %q", timer.Kind)
}
