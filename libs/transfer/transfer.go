package transfer

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"time"
)

// Practice identifies a GP practice by ODS code, Spine ASID and MHS party
// key.
type Practice struct {
	ODS      string `json:"ods,omitempty"`
	ASID     string `json:"asid,omitempty"`
	PartyKey string `json:"party_key,omitempty"`
}

// Reason says why a change happened. Code is a GP2GP reason code ("06" …
// "99") for failures and rejections; Detail is for the on-call engineer.
type Reason struct {
	Code   string `json:"code,omitempty"`
	Detail string `json:"detail,omitempty"`
}

// Change is one state change of a record.
type Change struct {
	// Seq numbers the changes of one record from 1.
	Seq    uint64    `json:"seq"`
	From   State     `json:"from,omitempty"`
	To     State     `json:"to"`
	At     time.Time `json:"at"`
	Reason Reason    `json:"reason,omitzero"`
}

// Direction of a wire message relative to this side's practice.
type Direction string

const (
	Inbound  Direction = "in"
	Outbound Direction = "out"
)

// Message roles: what a wire message is in the transfer.
const (
	RoleEHRRequest = "ehr-request"
	RoleEHRExtract = "ehr-extract"
	RoleRequestAck = "request-ack" // the sender's AA or NACK of the request
	RoleFinalAck   = "final-ack"   // the requester's AA or NACK of the extract
	RoleContinue   = "continue"
	RoleCOPC       = "copc"
	RoleCOPCAck    = "copc-ack"
)

// Message is a wire message that belongs to a transfer, kept so that
// acknowledgements can be matched to it and the timeline shown.
type Message struct {
	// ID is the message id, upper-case.
	ID          string    `json:"id"`
	Interaction string    `json:"interaction"`
	Direction   Direction `json:"direction"`
	At          time.Time `json:"at"`
	// Role is what the message is in the transfer (Role… constants).
	Role string `json:"role,omitempty"`
	// Ref is, for an acknowledgement, the id of the message it acknowledges.
	Ref string `json:"ref,omitempty"`
	// AckType and Code are an acknowledgement's type (AA, AE, AR) and
	// reason code.
	AckType string `json:"ack_type,omitempty"`
	Code    string `json:"code,omitempty"`
	// Size of the message in bytes, when known: for a COPC, the bytes of
	// the document or fragment it carries.
	Size int `json:"size,omitempty"`
	// Document is, for a COPC or its acknowledgement, the id of the
	// document carried; Fragment its fragment's number (from 1) of
	// Fragments, when it carries one fragment (0 for a whole document or
	// a fragment index).
	Document  string `json:"document,omitempty"`
	Fragment  int    `json:"fragment,omitempty"`
	Fragments int    `json:"fragments,omitempty"`
}

// Document is one document of the record (an attachment of the extract),
// as the sending side sends it or the requesting side receives it.
type Document struct {
	// ID is the document id, upper-case, without the manifest's "_".
	ID          string `json:"id"`
	Filename    string `json:"filename,omitempty"`
	ContentType string `json:"content_type,omitempty"`
	// Size in bytes as carried (gzip for a compressed one).
	Size int64 `json:"size"`
	// Object is its name in the records object store, when it is there.
	Object string `json:"object,omitempty"`
	// Compressed: carried as gzip. Skeleton: the compressed original of a
	// skeleton extract.
	Compressed bool `json:"compressed,omitempty"`
	Skeleton   bool `json:"skeleton,omitempty"`
	// Inline: carried in the extract itself. Otherwise MessageID names the
	// COPC that carries it (or its fragment index) and Fragments the COPCs
	// of its fragments.
	Inline    bool     `json:"inline,omitempty"`
	MessageID string   `json:"message_id,omitempty"`
	Fragments []string `json:"fragments,omitempty"`
	// Done: sent whole (sending side) or stored whole (requesting side).
	Done bool `json:"done,omitempty"`
	// Absent: not carried; AbsentReason says why (a placeholder stands in).
	Absent       bool   `json:"absent,omitempty"`
	AbsentReason string `json:"absent_reason,omitempty"`
	// Code is the reason code of a NACK of one of its COPCs.
	Code string `json:"code,omitempty"`
}

// Registration is what the requesting side keeps of the registration
// event that started it.
type Registration struct {
	EventID          string    `json:"event_id"`
	RegisteredAt     time.Time `json:"registered_at"`
	ReturningPatient bool      `json:"returning_patient,omitempty"`
	// Type is the registration type (gp2gp.v1.RegistrationType name) and
	// MFA whether multifactor authentication was present; Supplier is the
	// reporting system supplier's ODS code, when the event gave one.
	Type       string `json:"type,omitempty"`
	MFA        bool   `json:"mfa,omitempty"`
	Supplier   string `json:"supplier,omitempty"`
	GivenName  string `json:"given_name,omitempty"`
	FamilyName string `json:"family_name,omitempty"`
	BirthDate  string `json:"birth_date,omitempty"`
	Gender     string `json:"gender,omitempty"`
}

// Record is what the requesting side keeps of a received record.
type Record struct {
	// Object is the object store name of the extract's HL7; Summary of its
	// summary (JSON).
	Object  string `json:"object"`
	Summary string `json:"summary,omitempty"`
	// Size of the extract's HL7 in bytes (the reassembled one, for a
	// skeleton).
	Size int64 `json:"size,omitempty"`
	// Issues flagged for the integrating clinician (gp2gp.v1.RecordIssue
	// names).
	Issues []string `json:"issues,omitempty"`
	// AutoIntegrated is true when the auto-integration policy accepted it.
	AutoIntegrated bool `json:"auto_integrated,omitempty"`
	// Outcome is the practice's integration result, once reported.
	Outcome string `json:"outcome,omitempty"`
	// Degrades are the entries the practice's system reported it could not
	// file as sent (for the enhanced MI).
	Degrades []Degrade `json:"degrades,omitempty"`
}

// Degrade is one degraded entry of a received record (MI API vocabulary).
type Degrade struct {
	Type   string   `json:"type"`
	Reason string   `json:"reason"`
	Coding []Coding `json:"coding,omitempty"`
}

// Coding is a code and its code system.
type Coding struct {
	Code   string `json:"code"`
	System string `json:"system"`
}

// Transfer is one side of one transfer.
type Transfer struct {
	// ConversationID is the GP2GP conversation id, upper-case.
	ConversationID string `json:"conversation_id"`
	Side           Side   `json:"side"`
	State          State  `json:"state"`
	// Practice is this side's practice; Peer the other one, once known.
	Practice Practice `json:"practice"`
	Peer     Practice `json:"peer,omitzero"`
	// NHSNumber of the patient whose record is transferred.
	NHSNumber string `json:"nhs_number,omitempty"`
	// RequestID is the EhrRequest id; ExtractID the EhrExtract id.
	RequestID string `json:"request_id,omitempty"`
	ExtractID string `json:"extract_id,omitempty"`
	// Registration (requesting side) and Record (requesting side, once
	// received).
	Registration *Registration `json:"registration,omitempty"`
	Record       *Record       `json:"record,omitempty"`
	// Deadlines are the transfer's pending timeouts by kind; a timer that
	// fires checks that its deadline is still the one recorded here.
	Deadlines map[string]time.Time `json:"deadlines,omitempty"`
	CreatedAt time.Time            `json:"created_at"`
	UpdatedAt time.Time            `json:"updated_at"`
	// History holds every state change, oldest first.
	History []Change `json:"history"`
	// Messages lists the wire messages of the transfer, in the order
	// recorded.
	Messages []Message `json:"messages,omitempty"`
	// Assembly is the requesting side's reassembly state of a large
	// message (largemsg.Assembly as JSON), while its parts arrive.
	Assembly json.RawMessage `json:"assembly,omitempty"`
	// Documents are the record's documents, once the extract was laid out
	// (sending side) or received (requesting side).
	Documents []Document `json:"documents,omitempty"`
	// Resends lists the resends asked of this side, oldest first.
	Resends []Resend `json:"resends,omitempty"`
	// Outbox holds changes whose lifecycle events are not yet known to be
	// published.
	Outbox []Change `json:"outbox,omitempty"`

	revision uint64
	raw      []byte // the stored bytes at revision
}

// New returns a record for side in its initial state, to pass to
// Store.Create.
func New(side Side, conversationID string, practice Practice) *Transfer {
	t := &Transfer{ConversationID: NormalizeID(conversationID), Side: side, Practice: practice}
	t.History = []Change{{Seq: 1, To: side.InitialState()}}
	t.State = side.InitialState()
	return t
}

// Revision is the key-value revision the record was read at (0 for a
// record not yet stored).
func (t *Transfer) Revision() uint64 { return t.revision }

// Terminal reports whether nothing further can happen to this side.
func (t *Transfer) Terminal() bool { return t.Side.Terminal(t.State) }

// LastChange is the most recent state change.
func (t *Transfer) LastChange() Change {
	if len(t.History) == 0 {
		return Change{}
	}
	return t.History[len(t.History)-1]
}

// Transition moves the record to state to, for reason r. Moving to the
// current state does nothing and returns nil, so that handling a message
// twice is harmless. A move the machine does not allow returns a
// *TransitionError and changes nothing.
func (t *Transfer) Transition(to State, r Reason) error {
	if to == t.State {
		return nil
	}
	if !t.Side.Allows(t.State, to) {
		return &TransitionError{Side: t.Side, From: t.State, To: to}
	}
	t.History = append(t.History, Change{Seq: t.LastChange().Seq + 1, From: t.State, To: to, Reason: r})
	t.State = to
	return nil
}

// RecordMessage adds a wire message to the transfer unless a message with
// the same id (compared without case) is already there. It reports
// whether it added it.
func (t *Transfer) RecordMessage(m Message) bool {
	m.ID = NormalizeID(m.ID)
	for _, have := range t.Messages {
		if have.ID == m.ID {
			return false
		}
	}
	t.Messages = append(t.Messages, m)
	return true
}

// CountDocuments counts the documents for which keep is true.
func (t *Transfer) CountDocuments(keep func(Document) bool) int {
	n := 0
	for _, d := range t.Documents {
		if keep(d) {
			n++
		}
	}
	return n
}

// MessageByRole returns the first recorded message with role going in
// direction.
func (t *Transfer) MessageByRole(role string, dir Direction) (Message, bool) {
	for _, m := range t.Messages {
		if m.Role == role && m.Direction == dir {
			return m, true
		}
	}
	return Message{}, false
}

// FindMessage returns the recorded message with id (compared without
// case).
func (t *Transfer) FindMessage(id string) (Message, bool) {
	id = NormalizeID(id)
	for _, m := range t.Messages {
		if m.ID == id {
			return m, true
		}
	}
	return Message{}, false
}

// NormalizeID upper-cases a GUID-style id, as GP2GP ids are compared
// without case.
func NormalizeID(id string) string { return strings.ToUpper(strings.TrimSpace(id)) }

var conversationIDPattern = regexp.MustCompile(`^[A-Z0-9][A-Z0-9_-]{0,63}$`)

// key is the record's key-value key.
func key(side Side, conversationID string) (string, error) {
	if !side.Valid() {
		return "", fmt.Errorf("%w: side %q", ErrInvalid, side)
	}
	id := NormalizeID(conversationID)
	if !conversationIDPattern.MatchString(id) {
		return "", fmt.Errorf("%w: conversation id %q", ErrInvalid, conversationID)
	}
	return string(side) + "." + id, nil
}

// validate checks a record about to be stored under key k.
func (t *Transfer) validate(k string) error {
	if got, err := key(t.Side, t.ConversationID); err != nil || got != k {
		return fmt.Errorf("%w: an update may not change the side or conversation id of %s", ErrInvalid, k)
	}
	if !t.Side.Has(t.State) {
		return fmt.Errorf("%w: %q is not a %s state", ErrInvalid, t.State, t.Side)
	}
	return nil
}
