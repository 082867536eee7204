package acknowledger

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nhsengland/gp2gp/libs/bus"
	"github.com/nhsengland/gp2gp/libs/hl7"
	"github.com/nhsengland/gp2gp/libs/spine"
	"github.com/nhsengland/gp2gp/libs/transfer"
)

// Deadlines the acknowledger ends.
const (
	timerExtract  = "extract"   // the requester's: no extract yet
	timerFinalAck = "final-ack" // the sender's: no final acknowledgement yet
)

// handleInbound applies an acknowledgement received from the other
// practice to the transfer it belongs to.
func (a *acknowledger) handleInbound(ctx context.Context, msg *bus.Msg) error {
	env, err := spine.Read(msg)
	if err != nil {
		return err
	}
	conv := env.Envelope.ConversationID
	ctx = bus.WithConversationID(ctx, conv)
	a.Received(ctx, string(hl7.ApplicationAck))
	ack, err := hl7.DecodeAck(env.Payload)
	if ack == nil || ack.MessageRef == "" || ack.MessageID == "" {
		// An acknowledgement is never acknowledged: keep it for an operator.
		return bus.Permanentf("unreadable acknowledgement for %s: %v", conv, err)
	}
	received := transfer.Message{ID: ack.MessageID, Interaction: string(hl7.ApplicationAck), Direction: transfer.Inbound,
		At: a.Now(), Ref: ack.MessageRef, AckType: string(ack.Type), Code: string(ack.Reason), Size: len(env.Payload)}

	// The practice it is addressed to tells the side: it acknowledges our
	// extract (we are sending) or our request (we are requesting).
	for _, side := range []transfer.Side{transfer.Sending, transfer.Requesting} {
		t, err := a.Store.Get(ctx, side, conv)
		if errors.Is(err, transfer.ErrNotFound) {
			continue
		}
		if err != nil {
			return err
		}
		if t.Practice.ASID != ack.ToASID {
			continue
		}
		if side == transfer.Sending {
			err = a.finalAck(ctx, t, ack, received)
		} else {
			err = a.requestAck(ctx, t, ack, received)
		}
		return settle(msg, err)
	}
	return settle(msg, fmt.Errorf("%w: acknowledgement %s of %s for ASID %s matches no transfer held here", errUnmatched, ack.MessageID, ack.MessageRef, ack.ToASID))
}

// errUnmatched: an acknowledgement names no message of a transfer held
// here. It may have overtaken the record of what it acknowledges (the
// other practice answers fast, the stage that sent records it next), so it
// is retried a few times before it is dead-lettered.
var errUnmatched = errors.New("unmatched acknowledgement")

// unmatchedRetries bounds the wait for the message an acknowledgement
// refers to to be recorded.
const unmatchedRetries = 6

// unmatchedWait is the wait before an unmatched acknowledgement is tried
// again: short at first, since the stage that sent what it acknowledges
// records it a moment after sending, then doubling: 100 ms, 200 ms …
// 1.6 s, 3.1 s over unmatchedRetries deliveries (it was a second each
// time, 4 s in all, which cost every acknowledgement that met the race a
// whole second).
var unmatchedWait = bus.Backoff{Min: 100 * time.Millisecond, Max: 2 * time.Second}

func settle(msg *bus.Msg, err error) error {
	if !errors.Is(err, errUnmatched) {
		return err
	}
	if msg.Delivered < unmatchedRetries {
		return bus.RetryAfter(unmatchedWait.Delay(msg.Delivered), err)
	}
	return bus.Permanent(err)
}

// finalAck closes the sending side: AA completes it, AE/AR fails it.
func (a *acknowledger) finalAck(ctx context.Context, t *transfer.Transfer, ack *hl7.Ack, received transfer.Message) error {
	extract, _ := t.MessageByRole(transfer.RoleEHRExtract, transfer.Outbound)
	if !ack.Refers(extract.ID, t.ExtractID) {
		if doc, n, ok := copcOf(t, ack.MessageRef); ok {
			return a.copcAck(ctx, t, ack, received, doc, n)
		}
		return fmt.Errorf("%w: %s refers to %s, which is not this transfer's extract", errUnmatched, ack.MessageID, ack.MessageRef)
	}
	received.Role = transfer.RoleFinalAck
	t, err := a.Store.UpdateFrom(ctx, t, func(t *transfer.Transfer) error {
		t.RecordMessage(received)
		if t.Terminal() {
			return nil // a duplicate, or after the 8-day failure: ignored
		}
		delete(t.Deadlines, timerFinalAck)
		if ack.Type == hl7.AckAccept {
			return t.Transition(transfer.Completed, transfer.Reason{Detail: "final acknowledgement AA"})
		}
		return t.Transition(transfer.Failed, transfer.Reason{Code: string(ack.Reason),
			Detail: fmt.Sprintf("final acknowledgement %s: %s", ack.Type, reasonText(ack))})
	})
	if err != nil {
		return err
	}
	if t.State == transfer.Completed {
		// Remember the record left this practice, for a returning patient.
		if _, err := a.Patients.Put(ctx, t.Practice.ODS+"."+t.NHSNumber, []byte(t.ConversationID)); err != nil {
			return fmt.Errorf("patient index: %w", err)
		}
	}
	return nil
}

// copcOf finds the document whose COPC has message id ref: n is the
// fragment's number, 0 for the COPC carrying the document or its index.
// The ids are known from the extract's layout, so an acknowledgement can
// be matched before the COPC is recorded as sent.
func copcOf(t *transfer.Transfer, ref string) (transfer.Document, int, bool) {
	for _, d := range t.Documents {
		if d.Inline {
			continue
		}
		if hl7.SameID(d.MessageID, ref) {
			return d, 0, true
		}
		for i, f := range d.Fragments {
			if hl7.SameID(f, ref) {
				return d, i + 1, true
			}
		}
	}
	return transfer.Document{}, 0, false
}

// copcAck records the acknowledgement of one of our COPCs; a negative one
// marks its document (only an acknowledgement of the extract closes the
// transfer, protocol §3.4).
func (a *acknowledger) copcAck(ctx context.Context, t *transfer.Transfer, ack *hl7.Ack, received transfer.Message, doc transfer.Document, n int) error {
	received.Role, received.Document, received.Fragment, received.Fragments = transfer.RoleCOPCAck, doc.ID, n, len(doc.Fragments)
	_, err := a.Store.UpdateFrom(ctx, t, func(t *transfer.Transfer) error {
		if !t.RecordMessage(received) {
			return nil // a duplicate
		}
		if ack.Type.Negative() {
			for i := range t.Documents {
				if t.Documents[i].ID == doc.ID {
					t.Documents[i].Code = string(ack.Reason)
				}
			}
		}
		return nil
	})
	return err
}

// requestAck applies the sending practice's answer to our EHR Request.
func (a *acknowledger) requestAck(ctx context.Context, t *transfer.Transfer, ack *hl7.Ack, received transfer.Message) error {
	request, _ := t.MessageByRole(transfer.RoleEHRRequest, transfer.Outbound)
	if !ack.Refers(request.ID, t.RequestID) {
		return fmt.Errorf("%w: %s refers to %s, which is not this transfer's request", errUnmatched, ack.MessageID, ack.MessageRef)
	}
	received.Role = transfer.RoleRequestAck
	_, err := a.Store.UpdateFrom(ctx, t, func(t *transfer.Transfer) error {
		t.RecordMessage(received)
		switch {
		case ack.Type == hl7.AckAccept && t.State == transfer.RequestSent:
			return t.Transition(transfer.RequestAcknowledged, transfer.Reason{Detail: "the sending practice accepted the request"})
		case ack.Type.Negative() && (t.State == transfer.RequestSent || t.State == transfer.RequestAcknowledged):
			delete(t.Deadlines, timerExtract)
			return t.Transition(transfer.Failed, transfer.Reason{Code: string(ack.Reason),
				Detail: fmt.Sprintf("the sending practice refused the request (%s): %s", ack.Type, reasonText(ack))})
		}
		return nil // an AA after the extract, or a late answer: kept in the timeline
	})
	return err
}

func reasonText(ack *hl7.Ack) string {
	if d := ack.Reason.Display(); d != "" {
		return d
	}
	return ack.ReasonDisplay
}
