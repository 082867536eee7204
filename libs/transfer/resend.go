package transfer

import (
	"errors"
	"fmt"
	"slices"
	"time"
)

// ResendAction is what a resend of one side of a transfer does, where the
// protocol allows one (see PlanResend).
type ResendAction string

const (
	// ResendRequest re-sends the EHR Request as it was, with the same ids:
	// a sender that has it already ignores a duplicate request of a
	// conversation in progress (protocol §4.3).
	ResendRequest ResendAction = "ehr-request"
	// ResendFinalAck re-sends the final acknowledgement as it was: a
	// sender ignores a duplicate final acknowledgement.
	ResendFinalAck ResendAction = "final-ack"
	// ResendExtract asks the practice's system for the record again and
	// sends a fresh EHR Extract (new ids, same conversation), as the NHS
	// sending adaptor's ehr-resend does for a failed transfer.
	ResendExtract ResendAction = "ehr-extract"
)

// Describe says what the action does, for people.
func (a ResendAction) Describe() string {
	switch a {
	case ResendRequest:
		return "re-send the EHR Request (same message id)"
	case ResendFinalAck:
		return "re-send the final acknowledgement (same message id)"
	case ResendExtract:
		return "fetch the record again and send a fresh EHR Extract (new ids, same conversation)"
	}
	return string(a)
}

// ErrNotResendable: the protocol allows nothing to be re-sent for the
// transfer in its state. The concrete error says why.
var ErrNotResendable = errors.New("transfer: nothing can be re-sent")

// unresendableCodes are sending-side refusals a fresh extract cannot
// answer: the request itself was malformed.
var unresendableCodes = []string{"18"}

// PlanResend says what a resend of side t does, or why there is none
// (an error wrapping ErrNotResendable). The stage that acts on a resend
// asks again when it acts, as the state may have moved on.
func PlanResend(t *Transfer) (ResendAction, error) {
	no := func(format string, args ...any) (ResendAction, error) {
		return "", fmt.Errorf("%w: %s transfer %s is %s: %s", ErrNotResendable, t.Side, t.ConversationID, t.State, fmt.Sprintf(format, args...))
	}
	switch t.Side {
	case Requesting:
		switch t.State {
		case RequestSent, RequestAcknowledged:
			if _, ok := t.MessageByRole(RoleEHRRequest, Outbound); !ok {
				return no("no EHR Request is recorded")
			}
			return ResendRequest, nil
		case Integrated, Rejected:
			if _, ok := t.MessageByRole(RoleFinalAck, Outbound); !ok {
				return no("its final acknowledgement is not sent yet")
			}
			return ResendFinalAck, nil
		case Failed:
			return no("a finished conversation cannot be requested again; register the patient again " +
				"(a new registration event starts a new conversation), or ask the previous practice to re-send its extract")
		case Registered:
			return no("the EHR Request is not sent yet")
		}
		return no("the extract is with the practice's system; nothing is waiting on the other practice")
	case Sending:
		switch t.State {
		case Failed, RequestRejected:
			if t.RequestID == "" || t.Peer.ASID == "" {
				return no("the EHR Request was not readable enough to answer")
			}
			if code := t.LastChange().Reason.Code; slices.Contains(unresendableCodes, code) {
				return no("the EHR Request was refused as malformed (%s); the requesting practice must send a new one", code)
			}
			return ResendExtract, nil
		case ExtractSent, ContinueReceived, AttachmentsSent:
			return no("the extract is sent and its final acknowledgement awaited (until %s); a fresh extract can be sent once the transfer has failed",
				deadlineText(t, "final-ack"))
		case Completed:
			return no("the requesting practice acknowledged the extract")
		}
		return no("the record is still being prepared")
	}
	return no("unknown side")
}

func deadlineText(t *Transfer, kind string) string {
	if d, ok := t.Deadlines[kind]; ok {
		return d.UTC().Format(time.RFC3339)
	}
	return "its deadline"
}

// Resend records one resend asked of a transfer: by whom and why, and what
// was done or why it was refused.
type Resend struct {
	// CommandID identifies the request to resend, so that acting on it
	// twice records it once.
	CommandID string       `json:"command_id"`
	At        time.Time    `json:"at"`
	By        string       `json:"by,omitempty"`
	Why       string       `json:"why,omitempty"`
	Action    ResendAction `json:"action,omitempty"`
	// Refused says why nothing was re-sent.
	Refused string `json:"refused,omitempty"`
}

// FindResend returns the resend recorded for command id.
func (t *Transfer) FindResend(commandID string) (Resend, bool) {
	for _, r := range t.Resends {
		if r.CommandID == commandID {
			return r, true
		}
	}
	return Resend{}, false
}

// Attempt is how many fresh extracts the sending side has been asked for
// beyond the first: 0 until a resend of the extract.
func (t *Transfer) Attempt() int {
	n := 0
	for _, r := range t.Resends {
		if r.Action == ResendExtract && r.Refused == "" {
			n++
		}
	}
	return n
}

// reopen lists, per side, the finished states a resend may take a
// transfer out of, and where to.
var reopen = map[Side]map[State][]State{
	Requesting: {Failed: {ExtractReceived}},
	Sending:    {Failed: {RecordRequested}, RequestRejected: {RecordRequested}},
}

// Reopen moves a finished record back into the transfer for a resend: the
// sending side to RecordRequested for a fresh extract, the requesting side
// to ExtractReceived when that extract arrives. Other moves return a
// *TransitionError.
func (t *Transfer) Reopen(to State, r Reason) error {
	if !slices.Contains(reopen[t.Side][t.State], to) {
		return &TransitionError{Side: t.Side, From: t.State, To: to}
	}
	t.History = append(t.History, Change{Seq: t.LastChange().Seq + 1, From: t.State, To: to, Reason: r})
	t.State = to
	return nil
}
