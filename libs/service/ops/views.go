package ops

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nhsengland/gp2gp/libs/transfer"
)

// View is what the ops endpoints and gp2gpctl show of one side of a
// transfer: the record without what identifies the patient (NHS number,
// name, birth date, gender).
type View struct {
	ConversationID string            `json:"conversation_id"`
	Side           transfer.Side     `json:"side"`
	State          transfer.State    `json:"state"`
	Terminal       bool              `json:"terminal"`
	Practice       transfer.Practice `json:"practice"`
	Peer           transfer.Practice `json:"peer,omitzero"`
	RequestID      string            `json:"request_id,omitempty"`
	ExtractID      string            `json:"extract_id,omitempty"`
	// Registration is when and how the requesting side started.
	Registration *RegistrationView `json:"registration,omitempty"`
	Record       *transfer.Record  `json:"record,omitempty"`
	// Deadlines are the pending timeouts, by kind.
	Deadlines  map[string]time.Time `json:"deadlines,omitempty"`
	CreatedAt  time.Time            `json:"created_at"`
	UpdatedAt  time.Time            `json:"updated_at"`
	LastChange transfer.Change      `json:"last_change"`
	// ReasonCode is the most recent reason code in the history.
	ReasonCode string             `json:"reason_code,omitempty"`
	History    []transfer.Change  `json:"history"`
	Messages   []transfer.Message `json:"messages,omitempty"`
	// PendingEvents counts lifecycle events stored but not yet known to be
	// published (the record's outbox); more than zero for long means
	// publishing is failing.
	PendingEvents int `json:"pending_events,omitempty"`
}

// RegistrationView is the registration event that started a requesting
// side, without the patient's details.
type RegistrationView struct {
	EventID          string    `json:"event_id"`
	RegisteredAt     time.Time `json:"registered_at"`
	ReturningPatient bool      `json:"returning_patient,omitempty"`
}

// NewView is the view of t.
func NewView(t *transfer.Transfer) *View {
	v := &View{
		ConversationID: t.ConversationID, Side: t.Side, State: t.State, Terminal: t.Terminal(),
		Practice: t.Practice, Peer: t.Peer, RequestID: t.RequestID, ExtractID: t.ExtractID,
		Record: t.Record, Deadlines: t.Deadlines, CreatedAt: t.CreatedAt, UpdatedAt: t.UpdatedAt,
		LastChange: t.LastChange(), ReasonCode: lastReasonCode(t), History: t.History, Messages: t.Messages,
		PendingEvents: len(t.Outbox),
	}
	if r := t.Registration; r != nil {
		v.Registration = &RegistrationView{EventID: r.EventID, RegisteredAt: r.RegisteredAt, ReturningPatient: r.ReturningPatient}
	}
	return v
}

// Summary is one transfer side in a list.
type Summary struct {
	ConversationID string         `json:"conversation_id"`
	Side           transfer.Side  `json:"side"`
	State          transfer.State `json:"state"`
	Terminal       bool           `json:"terminal"`
	// Practice and Peer are ODS codes.
	Practice string `json:"practice"`
	Peer     string `json:"peer,omitempty"`
	// LastChangeAt is when the state last changed.
	LastChangeAt time.Time `json:"last_change_at"`
	// ReasonCode is the most recent reason code in the history.
	ReasonCode string `json:"reason_code,omitempty"`
}

// NewSummary is the summary of t.
func NewSummary(t *transfer.Transfer) Summary {
	return Summary{
		ConversationID: t.ConversationID, Side: t.Side, State: t.State, Terminal: t.Terminal(),
		Practice: t.Practice.ODS, Peer: t.Peer.ODS, LastChangeAt: lastChangeAt(t), ReasonCode: lastReasonCode(t),
	}
}

// Status is everything known about one conversation: each side's record
// (nil when this deployment holds none) and their merged timeline.
type Status struct {
	ConversationID string  `json:"conversation_id"`
	Requesting     *View   `json:"requesting,omitempty"`
	Sending        *View   `json:"sending,omitempty"`
	Timeline       []Entry `json:"timeline"`
}

// TransferGetter reads one transfer side; *transfer.Store is one. Get
// returns an error wrapping transfer.ErrNotFound when there is no such
// record, and transfer.ErrInvalid for a malformed conversation id.
type TransferGetter interface {
	Get(ctx context.Context, side transfer.Side, conversationID string) (*transfer.Transfer, error)
}

// GetStatus reads both sides of conversationID. When neither exists it
// returns an error wrapping transfer.ErrNotFound.
func GetStatus(ctx context.Context, r TransferGetter, conversationID string) (*Status, error) {
	st := &Status{ConversationID: transfer.NormalizeID(conversationID)}
	var records []*transfer.Transfer
	for _, side := range []transfer.Side{transfer.Requesting, transfer.Sending} {
		t, err := r.Get(ctx, side, conversationID)
		if errors.Is(err, transfer.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		records = append(records, t)
		if side == transfer.Requesting {
			st.Requesting = NewView(t)
		} else {
			st.Sending = NewView(t)
		}
	}
	if len(records) == 0 {
		return nil, fmt.Errorf("%w: no transfer with conversation id %s", transfer.ErrNotFound, st.ConversationID)
	}
	st.Timeline = Timeline(records...)
	return st, nil
}

// lastChangeAt is when t's state last changed (its last update if the
// history is empty).
func lastChangeAt(t *transfer.Transfer) time.Time {
	if at := t.LastChange().At; !at.IsZero() {
		return at
	}
	return t.UpdatedAt
}

func lastReasonCode(t *transfer.Transfer) string {
	for i := len(t.History) - 1; i >= 0; i-- {
		if c := t.History[i].Reason.Code; c != "" {
			return c
		}
	}
	return ""
}
