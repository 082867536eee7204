package ops

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/nhsengland/gp2gp/libs/transfer"
)

// EntryKind says what a timeline entry records.
type EntryKind string

// Timeline entry kinds.
const (
	// EntryState is a state change of one side.
	EntryState EntryKind = "state"
	// EntryMessage is a wire message sent or received by one side.
	EntryMessage EntryKind = "message"
	// EntryResend is an operator's resend, done or refused.
	EntryResend EntryKind = "resend"
)

// Entry is one line of a transfer's timeline.
type Entry struct {
	At   time.Time     `json:"at"`
	Side transfer.Side `json:"side"`
	Kind EntryKind     `json:"kind"`
	// What happened, in a few words: "REQUEST_SENT → EXTRACT_RECEIVED",
	// "received EHR Extract (RCMR_IN030000UK06)".
	What string `json:"what"`
	// ReasonCode is the GP2GP reason code of a change, or the code an
	// acknowledgement carried.
	ReasonCode string `json:"reason_code,omitempty"`
	// Detail: a change's reason detail; a message's id, what it
	// acknowledges and its size.
	Detail string `json:"detail,omitempty"`
	// Change is the state change (Kind EntryState), Message the wire
	// message (Kind EntryMessage), Resend the resend (Kind EntryResend), as
	// recorded.
	Change  *transfer.Change  `json:"change,omitempty"`
	Message *transfer.Message `json:"message,omitempty"`
	Resend  *transfer.Resend  `json:"resend,omitempty"`
}

// Timeline merges the state changes and wire messages of records (the two
// sides of one conversation, normally; nil records are skipped) into one
// list in time order. Entries at the same instant keep the order of
// records; within a record the record's creation comes first, then
// resends (what an operator asked for comes before what it caused), then
// messages (a message recorded with a change is what caused it or what it
// sent), then the other changes, each in recorded order.
func Timeline(records ...*transfer.Transfer) []Entry {
	type keyed struct {
		Entry
		record, kind, index int
	}
	var all []keyed
	for r, t := range records {
		if t == nil {
			continue
		}
		for i, rs := range t.Resends {
			all = append(all, keyed{Entry: resendEntry(t.Side, rs), record: r, kind: -1, index: i})
		}
		for i, m := range t.Messages {
			all = append(all, keyed{Entry: messageEntry(t, m), record: r, kind: 0, index: i})
		}
		for i, c := range t.History {
			kind := 1
			if c.From == "" {
				kind = -2
			}
			all = append(all, keyed{Entry: changeEntry(t.Side, c), record: r, kind: kind, index: i})
		}
	}
	slices.SortFunc(all, func(a, b keyed) int {
		return cmp.Or(a.At.Compare(b.At), cmp.Compare(a.record, b.record), cmp.Compare(a.kind, b.kind), cmp.Compare(a.index, b.index))
	})
	out := make([]Entry, len(all))
	for i, k := range all {
		out[i] = k.Entry
	}
	return out
}

func changeEntry(side transfer.Side, c transfer.Change) Entry {
	what := string(c.To)
	if c.From != "" {
		what = string(c.From) + " → " + what
	} else {
		what = "started " + what
	}
	if side.Terminal(c.To) {
		what += " (final)"
	}
	return Entry{At: c.At, Side: side, Kind: EntryState, What: what, ReasonCode: c.Reason.Code, Detail: c.Reason.Detail, Change: &c}
}

func resendEntry(side transfer.Side, r transfer.Resend) Entry {
	what := "resend asked"
	if r.By != "" {
		what += " by " + r.By
	}
	detail := r.Why
	if r.Refused != "" {
		what += ": refused"
		detail = strings.TrimPrefix(strings.Join([]string{r.Why, r.Refused}, "; "), "; ")
	} else {
		what += ": " + r.Action.Describe()
	}
	return Entry{At: r.At, Side: side, Kind: EntryResend, What: what, Detail: detail, Resend: &r}
}

// roleNames are the timeline's words for message roles.
var roleNames = map[string]string{
	transfer.RoleEHRRequest: "EHR Request",
	transfer.RoleEHRExtract: "EHR Extract",
	transfer.RoleRequestAck: "request acknowledgement",
	transfer.RoleFinalAck:   "final acknowledgement",
	transfer.RoleContinue:   "Continue",
	transfer.RoleCOPC:       "COPC",
	transfer.RoleCOPCAck:    "COPC acknowledgement",
}

func messageEntry(t *transfer.Transfer, m transfer.Message) Entry {
	side := t.Side
	verb := "sent"
	if m.Direction == transfer.Inbound {
		verb = "received"
	}
	name := roleNames[m.Role]
	if name == "" {
		name = cmp.Or(m.Role, "message")
	}
	what := verb + " " + name
	if m.AckType != "" {
		what += " " + m.AckType
	}
	if m.Interaction != "" {
		what += " (" + m.Interaction + ")"
	}
	if m.Document != "" {
		what += ": " + documentPart(t, m)
	}
	if m.Role == transfer.RoleEHRExtract && len(t.Documents) > 0 && m.Direction == transfer.Outbound {
		what += ": " + documentsSummary(t.Documents)
	}
	var detail []string
	if m.ID != "" {
		detail = append(detail, "id "+m.ID)
	}
	if m.Ref != "" {
		detail = append(detail, "acknowledges "+m.Ref)
	}
	if m.Size > 0 {
		detail = append(detail, strconv.Itoa(m.Size)+" bytes")
	}
	return Entry{At: m.At, Side: side, Kind: EntryMessage, What: what, ReasonCode: m.Code, Detail: strings.Join(detail, "; "), Message: &m}
}

// documentPart names the document (or fragment) a COPC or its
// acknowledgement carries: "fragment 3 of 32 of scan.tif (DOC-ID)".
func documentPart(t *transfer.Transfer, m transfer.Message) string {
	name := m.Document
	for _, d := range t.Documents {
		if d.ID == m.Document && d.Filename != "" {
			name = d.Filename + " (" + d.ID + ")"
		}
	}
	switch {
	case m.Fragment > 0:
		return fmt.Sprintf("fragment %d of %d of %s", m.Fragment, m.Fragments, name)
	case m.Fragments > 0:
		return fmt.Sprintf("fragment index of %s (%d fragments)", name, m.Fragments)
	}
	return "document " + name
}

// documentsSummary says how a record's documents travel.
func documentsSummary(docs []transfer.Document) string {
	inline, external, fragments := 0, 0, 0
	for _, d := range docs {
		switch {
		case d.Absent:
		case d.Inline:
			inline++
		default:
			external++
			fragments += len(d.Fragments)
		}
	}
	return fmt.Sprintf("%d documents inline, %d after the Continue (%d of them in %d fragments)", inline, external, countFragmented(docs), fragments)
}

func countFragmented(docs []transfer.Document) int {
	n := 0
	for _, d := range docs {
		if len(d.Fragments) > 0 {
			n++
		}
	}
	return n
}

// String is the entry on one line, for logs and tests.
func (e Entry) String() string {
	s := fmt.Sprintf("%s %s %s %s", e.At.UTC().Format(time.RFC3339Nano), e.Side, e.Kind, e.What)
	if e.ReasonCode != "" {
		s += " [" + e.ReasonCode + "]"
	}
	if e.Detail != "" {
		s += " " + e.Detail
	}
	return s
}
