package receiver

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nhsengland/gp2gp/libs/bus"
	"github.com/nhsengland/gp2gp/libs/hl7"
	"github.com/nhsengland/gp2gp/libs/transfer"
	gp2gpv1 "github.com/nhsengland/gp2gp/proto/gp2gp/v1"
)

// outcomes maps what a practice did with a record to its final
// acknowledgement: AA, or a negative acknowledgement with the code.
var outcomes = map[gp2gpv1.IntegrationResult]hl7.ReasonCode{
	gp2gpv1.IntegrationResult_INTEGRATION_RESULT_INTEGRATED:                 "",
	gp2gpv1.IntegrationResult_INTEGRATION_RESULT_INTEGRATED_AND_SUPPRESSED:  "",
	gp2gpv1.IntegrationResult_INTEGRATION_RESULT_SUPPRESSED_AND_REACTIVATED: hl7.ReasonABASuppressed,
	gp2gpv1.IntegrationResult_INTEGRATION_RESULT_FILED_AS_ATTACHMENT:        hl7.ReasonABAFiledAsAttachment,
	gp2gpv1.IntegrationResult_INTEGRATION_RESULT_FAILED_TO_INTEGRATE:        hl7.ReasonIntegrationFailed,
	gp2gpv1.IntegrationResult_INTEGRATION_RESULT_ABA_WRONG_PATIENT:          hl7.ReasonABAWrongPatient,
	gp2gpv1.IntegrationResult_INTEGRATION_RESULT_WRONG_PATIENT:              hl7.ReasonWrongPatient,
}

// handleOutcome turns a practice's integration outcome into the final
// acknowledgement.
func (r *receiver) handleOutcome(ctx context.Context, msg *bus.Msg) error {
	out := &gp2gpv1.IntegrationOutcome{}
	if err := bus.Decode(msg, out); err != nil {
		return err
	}
	conv := hl7.NormalizeID(out.ConversationId)
	ctx = bus.WithConversationID(ctx, conv)
	code, known := outcomes[out.Result]
	if !known {
		return bus.Permanentf("integration outcome %s for %s is not a result this receiver knows", out.Result, conv)
	}
	t, err := r.Store.Get(ctx, transfer.Requesting, conv)
	if errors.Is(err, transfer.ErrNotFound) {
		return bus.Permanentf("integration outcome for conversation %s, which has no transfer", conv)
	}
	if err != nil {
		return err
	}
	if !msgFromPractice(msg, t) {
		return bus.Permanentf("integration outcome for %s published by another practice (%s)", conv, msg.Subject)
	}
	if t.State != transfer.ReadyToIntegrate {
		if (t.State == transfer.Integrated || t.State == transfer.Rejected) && t.Record != nil && !t.Record.AutoIntegrated {
			// Redelivered after the decision: ask for the acknowledgement
			// again in case it was not asked for (the acknowledger sends
			// each acknowledgement once).
			return r.ackOutcome(ctx, t, outcomeCode(t))
		}
		if t.State == transfer.RequestSent || t.State == transfer.RequestAcknowledged {
			// The record was handed over but its state not yet recorded.
			return bus.RetryAfter(time.Second, fmt.Errorf("integration outcome for %s before its record is recorded as ready", conv))
		}
		return bus.Permanentf("integration outcome for %s while it is %s", conv, t.State)
	}
	if err := r.ackOutcome(ctx, t, code); err != nil {
		return err
	}
	_, err = r.Store.UpdateFrom(ctx, t, func(t *transfer.Transfer) error {
		if t.State != transfer.ReadyToIntegrate {
			return nil
		}
		if t.Record != nil {
			t.Record.Outcome = out.Result.String()
			t.Record.Degrades = degradesOf(out.GetDegrades())
		}
		if code == "" {
			return t.Transition(transfer.Integrated, transfer.Reason{Detail: out.Result.String() + " " + out.Detail})
		}
		return t.Transition(transfer.Rejected, transfer.Reason{Code: string(code), Detail: out.Result.String() + " " + out.Detail})
	})
	return err
}

func (r *receiver) ackOutcome(ctx context.Context, t *transfer.Transfer, code hl7.ReasonCode) error {
	ref, _ := t.MessageByRole(transfer.RoleEHRExtract, transfer.Inbound)
	if code == "" {
		return r.finalAck(ctx, ref.ID, t, hl7.AckAccept, "")
	}
	return r.finalAck(ctx, ref.ID, t, hl7.NackType(code), code)
}

func msgFromPractice(msg *bus.Msg, t *transfer.Transfer) bool {
	return msg.Subject == bus.IntegrationOutcomeSubject(t.Practice.ODS)
}

// outcomeCode is the reason code of the decision already recorded.
func outcomeCode(t *transfer.Transfer) hl7.ReasonCode {
	if t.State == transfer.Integrated {
		return ""
	}
	return hl7.ReasonCode(t.LastChange().Reason.Code)
}

// degradesOf copies the degraded entries an outcome reports.
func degradesOf(ds []*gp2gpv1.Degrade) []transfer.Degrade {
	out := make([]transfer.Degrade, 0, len(ds))
	for _, d := range ds {
		td := transfer.Degrade{Type: d.GetType(), Reason: d.GetReason()}
		for _, c := range d.GetCoding() {
			td.Coding = append(td.Coding, transfer.Coding{Code: c.GetCode(), System: c.GetSystem()})
		}
		out = append(out, td)
	}
	if len(out) == 0 {
		return nil
	}
	return out
}
