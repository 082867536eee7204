package sender

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/nhsengland/gp2gp/libs/bus"
	"github.com/nhsengland/gp2gp/libs/directory"
	"github.com/nhsengland/gp2gp/libs/hl7"
	"github.com/nhsengland/gp2gp/libs/spine"
	"github.com/nhsengland/gp2gp/libs/transfer"
	gp2gpv1 "github.com/nhsengland/gp2gp/proto/gp2gp/v1"
)

// spineRetries is how many deliveries a request waits out an unavailable
// PDS or SDS before refusing it with reason 20.
const spineRetries = 5

// handleSpine takes the messages the sender consumes from Spine: EHR
// Requests and Continues.
func (s *sender) handleSpine(ctx context.Context, msg *bus.Msg) error {
	env, err := spine.Read(msg)
	if err != nil {
		return err
	}
	conv := env.Envelope.ConversationID
	ctx = bus.WithConversationID(ctx, conv)
	switch {
	case strings.HasSuffix(msg.Subject, "."+string(bus.KindEHRRequest)):
		return s.handleRequest(ctx, msg, conv, env.Payload)
	case strings.HasSuffix(msg.Subject, "."+string(bus.KindContinue)):
		return s.handleContinue(ctx, conv, env)
	}
	return bus.Permanentf("sender: unexpected subject %s", msg.Subject)
}

// handleRequest checks an EHR Request, creates the sending side of the
// transfer and asks the practice's system for the record, or refuses the
// request with the reason code that applies.
func (s *sender) handleRequest(ctx context.Context, msg *bus.Msg, conv string, payload []byte) error {
	s.Received(ctx, string(hl7.EHRRequest))
	req, err := hl7.DecodeRequest(payload)
	if req == nil || req.MessageID == "" || req.FromASID == "" || req.ToASID == "" || req.RequestingODS == "" {
		// Without these no transfer can be recorded and no negative
		// acknowledgement addressed: leave it to the dead letters.
		return bus.Permanentf("EHR Request for %s cannot be answered: %v", conv, err)
	}
	practice, ok := s.PracticeByASID(req.ToASID)
	if !ok {
		return bus.Permanentf("EHR Request for ASID %s, which this sender does not serve", req.ToASID)
	}
	now := s.Now()
	t := transfer.New(transfer.Sending, conv, practice)
	t.Peer = transfer.Practice{ODS: req.RequestingODS, ASID: req.FromASID}
	t.NHSNumber, t.RequestID = req.NHSNumber, req.RequestID
	t.RecordMessage(transfer.Message{ID: req.MessageID, Interaction: string(hl7.EHRRequest), Direction: transfer.Inbound,
		At: now, Role: transfer.RoleEHRRequest, Size: len(payload)})
	existing, cerr := s.Store.Create(ctx, t)
	switch {
	case errors.Is(cerr, transfer.ErrExists):
		if _, same := existing.FindMessage(req.MessageID); !same {
			s.Logger.WarnContext(ctx, "second EHR Request for a conversation in progress ignored", "message_id", req.MessageID)
			return nil
		}
		if existing.State != transfer.RequestReceived {
			// Redelivered after it was handled: re-drive what follows the
			// state change (each step is idempotent) and stop.
			return s.resume(ctx, existing)
		}
		t = existing
	case cerr != nil && !errors.Is(cerr, transfer.ErrEventsPending):
		return cerr
	default:
		t = existing // as stored
	}

	if err != nil {
		return s.refuse(ctx, t, hl7.ReasonRequestMalformed, err.Error())
	}
	if !strings.EqualFold(req.SendingODS, practice.ODS) {
		return s.refuse(ctx, t, hl7.ReasonRequestMalformed,
			fmt.Sprintf("request for practice %s sent to the ASID of %s", req.SendingODS, practice.ODS))
	}
	if !hl7.ValidNHSNumber(req.NHSNumber) {
		return s.refuse(ctx, t, hl7.ReasonRequestMalformed, fmt.Sprintf("NHS number %q fails its check digit", req.NHSNumber))
	}

	// Our own Spine identity, and the requester's for the replies.
	self, err := s.SDS.Endpoint(ctx, practice.ODS, string(hl7.EHRExtractUK06))
	if code, detail, done := s.lookupOutcome(msg, err); done {
		return s.refuse(ctx, t, code, detail)
	} else if err != nil {
		return err
	}
	peer, err := s.SDS.Endpoint(ctx, req.RequestingODS, string(hl7.EHRExtractUK06))
	if code, detail, done := s.lookupOutcome(msg, err); done {
		return s.refuse(ctx, t, code, detail)
	} else if err != nil {
		return err
	}
	// Stored with the next change (askRecord or refuse).
	t.Practice.PartyKey, t.Peer.PartyKey = self.PartyKey, peer.PartyKey

	// 07: GP2GP switched off for this practice.
	info, err := s.SDS.Practice(ctx, practice.ODS)
	switch {
	case errors.Is(err, directory.ErrNotFound):
		return s.refuse(ctx, t, hl7.ReasonGP2GPDisabled, "no GP2GP service registered for "+practice.ODS)
	case err == nil && !info.GP2GPEnabled:
		return s.refuse(ctx, t, hl7.ReasonGP2GPDisabled, "GP2GP is disabled for "+practice.ODS)
	case err != nil:
		if code, detail, done := s.lookupOutcome(msg, err); done {
			return s.refuse(ctx, t, code, detail)
		}
		return err
	}

	// 19: PDS must say the requester is now the patient's practice.
	reg, err := s.PDS.Registration(ctx, req.NHSNumber)
	switch {
	case errors.Is(err, directory.ErrPatientNotFound):
		return s.refuse(ctx, t, hl7.ReasonPatientNotAtSurgery, "PDS does not know NHS number "+req.NHSNumber)
	case err != nil:
		if msg.Delivered >= spineRetries {
			return s.refuse(ctx, t, hl7.ReasonSpineError, "PDS unavailable: "+err.Error())
		}
		return err
	case !strings.EqualFold(reg.CurrentODS, req.RequestingODS):
		return s.refuse(ctx, t, hl7.ReasonNotCurrentProvider,
			fmt.Sprintf("PDS says %s is registered at %s, not %s", req.NHSNumber, reg.CurrentODS, req.RequestingODS))
	}

	return s.askRecord(ctx, t)
}

// lookupOutcome turns an SDS error into a refusal: 24 for zero or several
// results, 20 once SDS has been unavailable for long enough; done is false
// for a retryable error.
func (s *sender) lookupOutcome(msg *bus.Msg, err error) (hl7.ReasonCode, string, bool) {
	switch {
	case err == nil:
		return "", "", false
	case errors.Is(err, directory.ErrNotFound), errors.Is(err, directory.ErrAmbiguous):
		return hl7.ReasonSDSLookup, err.Error(), true
	case msg.Delivered >= spineRetries:
		return hl7.ReasonSpineError, "SDS unavailable: " + err.Error(), true
	}
	return "", "", false
}

// askRecord records that the record is being asked for, then asks the
// practice's system (recording first means an answer can never find the
// transfer not yet waiting for it; a redelivery asks again, idempotently).
func (s *sender) askRecord(ctx context.Context, t *transfer.Transfer) error {
	due := s.Now().Add(s.cfg.RecordTimeout)
	keys := partyKeys(t)
	t, err := s.update(ctx, t, func(t *transfer.Transfer) error {
		keys(t)
		if t.State == transfer.RequestReceived {
			setDeadline(t, timerRecord, due)
		}
		return t.Transition(transfer.RecordRequested, transfer.Reason{Detail: "record asked of " + t.Practice.ODS + "'s system"})
	})
	if err != nil {
		return err
	}
	return s.resume(ctx, t)
}

// publishRecordRequest asks the practice's system for t's record.
func (s *sender) publishRecordRequest(ctx context.Context, t *transfer.Transfer) error {
	requestID := recordRequestID(t)
	due := t.Deadlines[timerRecord]
	_, err := s.Bus.PublishProto(ctx, bus.Outgoing{
		Subject:  bus.RecordRequestSubject(t.Practice.ODS),
		DedupeID: "record-request." + requestID,
		Headers:  bus.Headers{ConversationID: t.ConversationID},
	}, &gp2gpv1.RecordRequest{
		RequestId: requestID, ConversationId: t.ConversationID, NhsNumber: t.NHSNumber,
		PracticeOds: t.Practice.ODS, RequestingPracticeOds: t.Peer.ODS,
		RequestedAt: timestamppb.New(t.LastChange().At), RespondBy: timestamppb.New(due),
	})
	return err
}

// refuse answers the EHR Request with a negative acknowledgement of code
// and ends the transfer.
//
// A request already answered (a resend that could not produce the record)
// is not answered again: the transfer only records the refusal.
func (s *sender) refuse(ctx context.Context, t *transfer.Transfer, code hl7.ReasonCode, detail string) error {
	nackID := hl7.DeriveID(t.ConversationID, "request-nack")
	if prev, answered := t.MessageByRole(transfer.RoleRequestAck, transfer.Outbound); !answered || hl7.SameID(prev.ID, nackID) {
		ref, _ := t.MessageByRole(transfer.RoleEHRRequest, transfer.Inbound)
		err := s.AskAck(ctx, &gp2gpv1.AckRequest{
			MessageId: nackID, ConversationId: t.ConversationID,
			Side: gp2gpv1.Side_SIDE_SENDING, Purpose: gp2gpv1.AckPurpose_ACK_PURPOSE_REQUEST,
			TypeCode: string(hl7.NackType(code)), ReasonCode: string(code), MessageRef: ref.ID,
			FromAsid: t.Practice.ASID, FromOds: t.Practice.ODS, FromPartyKey: t.Practice.PartyKey,
			ToAsid: t.Peer.ASID, ToOds: t.Peer.ODS, ToPartyKey: t.Peer.PartyKey,
		})
		if err != nil {
			return err
		}
	}
	keys := partyKeys(t)
	_, err := s.update(ctx, t, func(t *transfer.Transfer) error {
		keys(t)
		delete(t.Deadlines, timerRecord)
		return t.Transition(transfer.RequestRejected, transfer.Reason{Code: string(code), Detail: detail})
	})
	if err == nil {
		s.Logger.WarnContext(ctx, "EHR Request refused", "reason_code", code, "detail", detail)
	}
	return err
}

// update changes held, the sending side as this handler holds it (party
// keys it looked up may be set on it, not yet stored; fn stores them).
func (s *sender) update(ctx context.Context, held *transfer.Transfer, fn func(*transfer.Transfer) error) (*transfer.Transfer, error) {
	if held.Revision() == 0 {
		return s.Store.Update(ctx, transfer.Sending, held.ConversationID, fn)
	}
	return s.Store.UpdateFrom(ctx, held, fn)
}

// partyKeys returns a function that gives a record the MHS party keys t
// has, where the record has none yet.
func partyKeys(t *transfer.Transfer) func(*transfer.Transfer) {
	self, peer := t.Practice.PartyKey, t.Peer.PartyKey
	return func(t *transfer.Transfer) {
		if t.Practice.PartyKey == "" {
			t.Practice.PartyKey = self
		}
		if t.Peer.PartyKey == "" {
			t.Peer.PartyKey = peer
		}
	}
}

func setDeadline(t *transfer.Transfer, kind string, due time.Time) {
	if t.Deadlines == nil {
		t.Deadlines = map[string]time.Time{}
	}
	t.Deadlines[kind] = due
}

// resume repeats the idempotent steps that follow a recorded state, for a
// message redelivered after its handler stopped half way.
func (s *sender) resume(ctx context.Context, t *transfer.Transfer) error {
	switch t.State {
	case transfer.RecordRequested:
		if err := s.publishRecordRequest(ctx, t); err != nil {
			return err
		}
		return s.Schedule(ctx, timerRecord, t.ConversationID, t.Deadlines[timerRecord])
	case transfer.ExtractSent, transfer.AttachmentsSent:
		if t.State == transfer.ExtractSent && external(t) {
			// The documents and the request's acceptance follow the
			// Continue.
			return s.Schedule(ctx, timerFinalAck, t.ConversationID, t.Deadlines[timerFinalAck])
		}
		// The request is answered once: a fresh extract after a refusal or
		// a failure goes without another acknowledgement of it.
		if _, answered := t.MessageByRole(transfer.RoleRequestAck, transfer.Outbound); !answered && t.Attempt() == 0 {
			if err := s.acceptRequest(ctx, t); err != nil {
				return err
			}
		}
		return s.Schedule(ctx, timerFinalAck, t.ConversationID, t.Deadlines[timerFinalAck])
	case transfer.ContinueReceived:
		return s.sendDocuments(ctx, t)
	}
	return nil
}
