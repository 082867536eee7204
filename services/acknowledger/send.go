package acknowledger

import (
	"context"
	"errors"

	"github.com/nhsengland/gp2gp/libs/bus"
	"github.com/nhsengland/gp2gp/libs/hl7"
	"github.com/nhsengland/gp2gp/libs/stage"
	"github.com/nhsengland/gp2gp/libs/transfer"
	gp2gpv1 "github.com/nhsengland/gp2gp/proto/gp2gp/v1"
)

// roles names the transfer message each purpose of acknowledgement is.
var roles = map[gp2gpv1.AckPurpose]string{
	gp2gpv1.AckPurpose_ACK_PURPOSE_REQUEST: transfer.RoleRequestAck,
	gp2gpv1.AckPurpose_ACK_PURPOSE_FINAL:   transfer.RoleFinalAck,
	gp2gpv1.AckPurpose_ACK_PURPOSE_COPC:    transfer.RoleCOPCAck,
}

// handleRequest sends the acknowledgement a stage asked for, once (again
// when an operator re-sends it), and records it in the transfer.
func (a *acknowledger) handleRequest(ctx context.Context, msg *bus.Msg) error {
	req := &gp2gpv1.AckRequest{}
	if err := bus.Decode(msg, req); err != nil {
		return err
	}
	conv := hl7.NormalizeID(req.ConversationId)
	ctx = bus.WithConversationID(ctx, conv)
	role, ok := roles[req.Purpose]
	if !ok {
		return bus.Permanentf("acknowledgement request %s has no purpose", req.MessageId)
	}
	side := transfer.Requesting
	if req.Side == gp2gpv1.Side_SIDE_SENDING {
		side = transfer.Sending
	}
	t, err := a.Store.Get(ctx, side, conv)
	switch {
	case errors.Is(err, transfer.ErrNotFound):
		t = nil // a negative acknowledgement of a message with no transfer (09)
	case err != nil:
		return err
	default:
		if _, sent := t.FindMessage(req.MessageId); sent && !req.Resend {
			return nil
		}
	}

	from := transfer.Practice{ODS: req.FromOds, ASID: req.FromAsid, PartyKey: req.FromPartyKey}
	to := transfer.Practice{ODS: req.ToOds, ASID: req.ToAsid, PartyKey: req.ToPartyKey}
	cpa := req.CpaId
	if to.ODS != "" && (to.PartyKey == "" || cpa == "") {
		if ep, err := a.SDS.Endpoint(ctx, to.ODS, string(hl7.ApplicationAck)); err == nil {
			to.PartyKey, cpa = orElse(to.PartyKey, ep.PartyKey), orElse(cpa, ep.CPAID)
		}
	}
	now := a.Now()
	ack := &hl7.Ack{
		Wrapper: hl7.Wrapper{MessageID: req.MessageId, CreationTime: now, ToASID: to.ASID, FromASID: from.ASID},
		Type:    hl7.AckType(req.TypeCode), MessageRef: req.MessageRef, Reason: hl7.ReasonCode(req.ReasonCode),
	}
	payload, err := ack.Encode()
	if err != nil {
		return bus.Permanent(err)
	}
	if err := a.Send(ctx, stage.Wire{ConversationID: conv, MessageID: req.MessageId, Interaction: hl7.ApplicationAck,
		From: from, To: to, CPAID: cpa, Payload: payload, Ref: req.MessageRef, Code: req.ReasonCode}); err != nil {
		return err
	}
	if t == nil {
		return nil
	}
	_, err = a.Store.UpdateFrom(ctx, t, func(t *transfer.Transfer) error {
		t.RecordMessage(transfer.Message{ID: req.MessageId, Interaction: string(hl7.ApplicationAck), Direction: transfer.Outbound,
			At: now, Role: role, Ref: hl7.NormalizeID(req.MessageRef), AckType: req.TypeCode, Code: req.ReasonCode, Size: len(payload)})
		return nil
	})
	return err
}

func orElse(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
