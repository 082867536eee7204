package stage

import (
	"context"
	"errors"
	"fmt"

	"github.com/nhsengland/gp2gp/libs/bus"
	"github.com/nhsengland/gp2gp/libs/hl7"
	"github.com/nhsengland/gp2gp/libs/transfer"
	gp2gpv1 "github.com/nhsengland/gp2gp/proto/gp2gp/v1"
)

// sides maps the bus contracts' sides to the store's.
var sides = map[gp2gpv1.Side]transfer.Side{
	gp2gpv1.Side_SIDE_REQUESTING: transfer.Requesting,
	gp2gpv1.Side_SIDE_SENDING:    transfer.Sending,
}

// ReadResend decodes an operator's resend command for side and reads the
// record it names. A command that cannot be acted on at all (malformed, for
// the other side, for a transfer that does not exist) is a permanent
// error: it goes to the dead letters with the reason.
func (s *Stage) ReadResend(ctx context.Context, msg *bus.Msg, side transfer.Side) (context.Context, *gp2gpv1.ResendCommand, *transfer.Transfer, error) {
	cmd := &gp2gpv1.ResendCommand{}
	if err := bus.Decode(msg, cmd); err != nil {
		return ctx, nil, nil, err
	}
	cmd.ConversationId = hl7.NormalizeID(cmd.ConversationId)
	ctx = bus.WithConversationID(ctx, cmd.ConversationId)
	switch {
	case cmd.CommandId == "":
		return ctx, nil, nil, bus.Permanentf("resend command for %s has no command id", cmd.ConversationId)
	case sides[cmd.Side] != side:
		return ctx, nil, nil, bus.Permanentf("resend command %s is for the %s side; this stage owns the %s side", cmd.CommandId, cmd.Side, side)
	}
	t, err := s.Store.Get(ctx, side, cmd.ConversationId)
	if errors.Is(err, transfer.ErrNotFound) || errors.Is(err, transfer.ErrInvalid) {
		return ctx, nil, nil, bus.Permanentf("resend command %s: no %s transfer %s", cmd.CommandId, side, cmd.ConversationId)
	}
	if err != nil {
		return ctx, nil, nil, err
	}
	return ctx, cmd, t, nil
}

// NewResend is the record of cmd, done as action (or refused, when refused
// is not empty).
func (s *Stage) NewResend(cmd *gp2gpv1.ResendCommand, action transfer.ResendAction, refused string) transfer.Resend {
	return transfer.Resend{CommandID: cmd.CommandId, At: s.Now(), By: cmd.RequestedBy, Why: cmd.Reason, Action: action, Refused: refused}
}

// RecordResend adds r to side t's resends, once.
func (s *Stage) RecordResend(ctx context.Context, t *transfer.Transfer, r transfer.Resend) error {
	_, err := s.Store.Update(ctx, t.Side, t.ConversationID, func(t *transfer.Transfer) error {
		if _, done := t.FindResend(r.CommandID); !done {
			t.Resends = append(t.Resends, r)
		}
		return nil
	})
	if err == nil {
		if r.Refused != "" {
			s.Logger.WarnContext(ctx, "resend refused", "command_id", r.CommandID, "by", r.By, "refused", r.Refused)
		} else {
			s.Logger.InfoContext(ctx, "resent", "command_id", r.CommandID, "by", r.By, "action", r.Action)
		}
	}
	return err
}

// ResendAck asks the acknowledger to send an acknowledgement already sent
// once again, with the same message id, for resend command commandID.
func (s *Stage) ResendAck(ctx context.Context, req *gp2gpv1.AckRequest, commandID string) error {
	req.Resend = true
	if req.RequestedAt == nil {
		req.RequestedAt = timestampNow(s)
	}
	_, err := s.Bus.PublishProto(ctx, bus.Outgoing{
		Subject:  bus.AckSubject(req.FromAsid),
		DedupeID: fmt.Sprintf("ack.%s.resend.%s", req.MessageId, commandID),
		Headers:  bus.Headers{ConversationID: req.ConversationId, InteractionID: string(hl7.ApplicationAck), MessageID: req.MessageId},
	}, req)
	return err
}
