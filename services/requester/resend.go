package requester

import (
	"context"
	"errors"

	"github.com/nhsengland/gp2gp/libs/bus"
	"github.com/nhsengland/gp2gp/libs/hl7"
	"github.com/nhsengland/gp2gp/libs/transfer"
	gp2gpv1 "github.com/nhsengland/gp2gp/proto/gp2gp/v1"
)

// handleCommand acts on an operator's resend of a requesting side: the
// EHR Request again while the extract is awaited, or the final
// acknowledgement again once sent. Either goes with its original ids, so
// a practice that has it already ignores it. What was done, or why not,
// is recorded in the transfer's resends.
func (r *requester) handleCommand(ctx context.Context, msg *bus.Msg) error {
	ctx, cmd, t, err := r.ReadResend(ctx, msg, transfer.Requesting)
	if err != nil {
		return err
	}
	if _, done := t.FindResend(cmd.CommandId); done {
		return nil
	}
	action, err := transfer.PlanResend(t)
	if errors.Is(err, transfer.ErrNotResendable) {
		return r.RecordResend(ctx, t, r.NewResend(cmd, "", err.Error()))
	}
	if err != nil {
		return err
	}
	switch action {
	case transfer.ResendRequest:
		err = r.resendRequest(ctx, t)
	case transfer.ResendFinalAck:
		err = r.resendFinalAck(ctx, t, cmd.CommandId)
	default:
		return bus.Permanentf("requester: resend action %q is not the requesting side's", action)
	}
	if bus.IsPermanent(err) {
		return r.RecordResend(ctx, t, r.NewResend(cmd, action, err.Error()))
	}
	if err != nil {
		return err
	}
	return r.RecordResend(ctx, t, r.NewResend(cmd, action, ""))
}

// resendRequest sends t's EHR Request again, as it was.
func (r *requester) resendRequest(ctx context.Context, t *transfer.Transfer) error {
	peer, err := r.Identify(ctx, t.Peer.ODS, string(hl7.EHRRequest))
	if err != nil {
		return err
	}
	to := t.Peer
	to.ASID, to.PartyKey = peer.ASID, peer.PartyKey
	_, _, err = r.sendEHRRequest(ctx, t.ConversationID, t.NHSNumber, t.Practice, to, peer.CPAID, r.Now())
	return err
}

// resendFinalAck asks the acknowledger to send t's final acknowledgement
// again, as it was.
func (r *requester) resendFinalAck(ctx context.Context, t *transfer.Transfer, commandID string) error {
	ack, _ := t.MessageByRole(transfer.RoleFinalAck, transfer.Outbound)
	return r.ResendAck(ctx, &gp2gpv1.AckRequest{
		MessageId: ack.ID, ConversationId: t.ConversationID, Side: gp2gpv1.Side_SIDE_REQUESTING,
		Purpose: gp2gpv1.AckPurpose_ACK_PURPOSE_FINAL, TypeCode: ack.AckType, ReasonCode: ack.Code, MessageRef: ack.Ref,
		FromAsid: t.Practice.ASID, FromOds: t.Practice.ODS, FromPartyKey: t.Practice.PartyKey,
		ToAsid: t.Peer.ASID, ToOds: t.Peer.ODS, ToPartyKey: t.Peer.PartyKey,
	}, commandID)
}
