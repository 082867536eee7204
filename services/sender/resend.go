package sender

import (
	"context"
	"errors"
	"fmt"

	"github.com/nhsengland/gp2gp/libs/bus"
	"github.com/nhsengland/gp2gp/libs/hl7"
	"github.com/nhsengland/gp2gp/libs/transfer"
)

// handleCommand acts on an operator's resend of a sending side: for a
// failed transfer (or a refused request, other than a malformed one) it
// asks the practice's system for the record again and sends a fresh EHR
// Extract with new ids on the same conversation, as the NHS sending
// adaptor's ehr-resend does. What was done, or why not, is recorded in
// the transfer's resends.
func (s *sender) handleCommand(ctx context.Context, msg *bus.Msg) error {
	ctx, cmd, t, err := s.ReadResend(ctx, msg, transfer.Sending)
	if err != nil {
		return err
	}
	if r, done := t.FindResend(cmd.CommandId); done {
		if r.Refused != "" {
			return nil
		}
		return s.resume(ctx, t) // redelivered after the reopening was recorded
	}
	if _, err := transfer.PlanResend(t); errors.Is(err, transfer.ErrNotResendable) {
		return s.RecordResend(ctx, t, s.NewResend(cmd, "", err.Error()))
	} else if err != nil {
		return err
	}
	due := s.Now().Add(s.cfg.RecordTimeout)
	var refused error
	t, err = s.Store.Update(ctx, transfer.Sending, t.ConversationID, func(t *transfer.Transfer) error {
		refused = nil
		if _, done := t.FindResend(cmd.CommandId); done {
			return nil
		}
		// Asked again under the record's lock: the state may have moved.
		if _, err := transfer.PlanResend(t); err != nil {
			refused = err
			t.Resends = append(t.Resends, s.NewResend(cmd, "", err.Error()))
			return nil
		}
		t.Resends = append(t.Resends, s.NewResend(cmd, transfer.ResendExtract, ""))
		t.Deadlines = nil
		setDeadline(t, timerRecord, due)
		detail := "resend"
		if cmd.RequestedBy != "" {
			detail += " asked by " + cmd.RequestedBy
		}
		if cmd.Reason != "" {
			detail += ": " + cmd.Reason
		}
		return t.Reopen(transfer.RecordRequested, transfer.Reason{
			Detail: fmt.Sprintf("%s; fresh extract %d asked of %s's system", detail, t.Attempt(), t.Practice.ODS)})
	})
	if err != nil || refused != nil {
		return err
	}
	s.Logger.InfoContext(ctx, "resending the record", "command_id", cmd.CommandId, "by", cmd.RequestedBy, "attempt", t.Attempt())
	return s.resume(ctx, t)
}

// recordRequestID is the id of the record request of t's current attempt:
// a resend asks the practice's system afresh.
func recordRequestID(t *transfer.Transfer) string {
	return hl7.DeriveID(t.ConversationID, attemptName("record-request", t.Attempt()))
}

// extractID is the message and EhrExtract id of t's current attempt: a
// fresh extract has new ids.
func extractID(t *transfer.Transfer) string {
	return hl7.DeriveID(t.ConversationID, attemptName("ehr-extract", t.Attempt()))
}

func attemptName(name string, attempt int) string {
	if attempt == 0 {
		return name
	}
	return fmt.Sprintf("%s/resend-%d", name, attempt)
}
