package mi

import (
	"cmp"
	"log/slog"
	"math"
	"slices"
	"time"
)

// Durations and codes fixed by the spec (§1.3, §1.5, §1.6).
const (
	// OnTime is the inclusive integration SLA: 8 days (691 200 s).
	OnTime = 8 * 24 * time.Hour
	// CodeABASuppressed (15) counts as success, like no code.
	CodeABASuppressed = 15
	// CodeDuplicateEHR (12) is skipped when choosing the effective extract.
	CodeDuplicateEHR = 12
)

// fatalSenderCodes are the request-ack codes that make a transfer a
// technical failure (§1.3).
var fatalSenderCodes = [...]int{6, 7, 10, 14, 23, 24, 30, 99}

// IsFatalSenderCode reports whether code is in the fatal sender set
// {6, 7, 10, 14, 23, 24, 30, 99}.
func IsFatalSenderCode(code int) bool { return slices.Contains(fatalSenderCodes[:], code) }

// Option configures Classify.
type Option func(*classifier)

// WithLogger sets the logger that receives a warning for each dropped
// (unmatched) ack. A nil logger discards them, which is also the default.
func WithLogger(l *slog.Logger) Option {
	return func(c *classifier) {
		if l != nil {
			c.log = l
		}
	}
}

type classifier struct {
	cutoff time.Duration
	log    *slog.Logger
}

// Classify turns Spine message events into one Transfer per conversation
// whose first message is an EHR request (§1.2–1.7). A cutoff > 0 drops every
// message more than cutoff after the conversation's first message (one
// exactly at the cutoff is kept); 0 or less means no cutoff. The result is
// ordered by DateRequested, then ConversationID. The input is not modified.
func Classify(events []Event, cutoff time.Duration, opts ...Option) []Transfer {
	c := classifier{cutoff: cutoff, log: slog.New(slog.DiscardHandler)}
	for _, o := range opts {
		o(&c)
	}
	groups := make(map[string][]Event)
	var order []string
	for _, e := range events {
		if _, ok := groups[e.ConversationID]; !ok {
			order = append(order, e.ConversationID)
		}
		groups[e.ConversationID] = append(groups[e.ConversationID], e)
	}
	out := make([]Transfer, 0, len(order))
	for _, id := range order {
		if t, ok := c.conversation(groups[id]); ok {
			out = append(out, t)
		}
	}
	slices.SortStableFunc(out, func(a, b Transfer) int {
		return cmp.Or(a.DateRequested.Compare(b.DateRequested), cmp.Compare(a.ConversationID, b.ConversationID))
	})
	return out
}

// message is a non-ack event with the acks paired to it, in time order.
type message struct {
	Event
	acks []Event
}

func (m *message) acked() bool { return len(m.acks) > 0 }

// conversation is one conversation after cutoff, pairing and grouping.
type conversation struct {
	request    *message
	all        []Event
	extracts   []*message
	continues  []*message
	fragments  []*message
	requesting string
	sending    string
}

func (c classifier) conversation(evs []Event) (Transfer, bool) {
	slices.SortStableFunc(evs, func(a, b Event) int { return a.Time.Compare(b.Time) })
	if c.cutoff > 0 {
		start := evs[0].Time
		evs = slices.DeleteFunc(evs, func(e Event) bool { return e.Time.Sub(start) > c.cutoff })
	}
	if evs[0].Kind() != InteractionEHRRequest {
		return Transfer{}, false
	}
	conv := c.build(evs)
	return conv.transfer(), true
}

func (c classifier) build(evs []Event) *conversation {
	conv := &conversation{all: evs, requesting: evs[0].Sender, sending: evs[0].Recipient}
	byID := make(map[string]*message, len(evs))
	msgs := make([]*message, 0, len(evs))
	for _, e := range evs {
		if e.Kind() == InteractionAck {
			continue
		}
		m := &message{Event: e}
		msgs = append(msgs, m)
		if _, dup := byID[e.MessageID]; !dup {
			byID[e.MessageID] = m
		}
	}
	ackIDs := make(map[string]bool)
	for _, e := range evs {
		if e.Kind() == InteractionAck {
			ackIDs[e.MessageID] = true
		}
	}
	for _, e := range evs {
		if e.Kind() != InteractionAck {
			continue
		}
		ref, hasRef := e.Ref()
		if m, ok := byID[ref]; ok && hasRef {
			m.acks = append(m.acks, e)
			continue
		}
		if hasRef && ackIDs[ref] {
			continue // an ack of an ack matches a message but plays no role
		}
		c.log.Warn("mi: dropping ack that matches no message",
			slog.String("conversation_id", e.ConversationID),
			slog.String("message_id", e.MessageID),
			slog.String("message_ref", e.MessageRef))
	}
	conv.request = msgs[0]
	for _, m := range msgs[1:] {
		switch m.Kind() {
		case InteractionEHRExtract, InteractionEHRExtractRedacted:
			conv.extracts = append(conv.extracts, m)
		case InteractionCOPC:
			switch m.Sender {
			case conv.requesting:
				conv.continues = append(conv.continues, m)
			case conv.sending:
				conv.fragments = append(conv.fragments, m)
			default:
				c.log.Debug("mi: ignoring COPC from a third party",
					slog.String("conversation_id", m.ConversationID),
					slog.String("message_id", m.MessageID))
			}
		default:
			c.log.Debug("mi: ignoring message of unknown role",
				slog.String("conversation_id", m.ConversationID),
				slog.String("message_id", m.MessageID),
				slog.String("interaction", m.Interaction))
		}
	}
	return conv
}

// effective returns the effective (extract, ack) pair of §1.4.
func (conv *conversation) effective() (*message, *Event) {
	for _, x := range conv.extracts {
		for i := range x.acks {
			if a := &x.acks[i]; a.ErrorCode == nil || *a.ErrorCode == CodeABASuppressed {
				return x, a
			}
		}
	}
	for _, x := range conv.extracts {
		for i := range x.acks {
			if a := &x.acks[i]; *a.ErrorCode != CodeDuplicateEHR {
				return x, a
			}
		}
	}
	return nil, nil
}

func (conv *conversation) transfer() Transfer {
	req := conv.request
	t := Transfer{
		ConversationID:         req.ConversationID,
		DateRequested:          req.Time,
		SenderErrorCodes:       codes(req.acks),
		FinalErrorCodes:        []*int{},
		IntermediateErrorCodes: []int{},
		RequestingPracticeASID: conv.requesting,
		SendingPracticeASID:    conv.sending,
		RequestingSupplier:     req.FromSystem,
		SendingSupplier:        req.ToSystem,
	}
	for _, x := range conv.extracts {
		t.FinalErrorCodes = append(t.FinalErrorCodes, codes(x.acks)...)
	}
	for _, f := range conv.fragments {
		for _, a := range f.acks {
			if a.ErrorCode != nil {
				t.IntermediateErrorCodes = append(t.IntermediateErrorCodes, *a.ErrorCode)
			}
		}
	}

	extract, ack := conv.effective()
	var sla time.Duration
	integrated := false
	if ack != nil {
		completed := ack.Time
		t.DateCompleted = &completed
		sla = max(ack.Time.Sub(extract.Time), 0)
		secs := uint64(math.RoundToEven(sla.Seconds()))
		t.SLADuration = &secs
		integrated = ack.ErrorCode == nil || *ack.ErrorCode == CodeABASuppressed
	}
	t.Status, t.FailureReason = conv.status(ack, integrated, sla, t)
	t.LastSenderMessageTimestamp = conv.lastSenderMessage(ack, integrated)
	return t
}

// status applies the rules of §1.5 in order; the first match wins.
func (conv *conversation) status(ack *Event, integrated bool, sla time.Duration, t Transfer) (Status, FailureReason) {
	switch {
	case integrated && sla <= OnTime:
		return StatusIntegratedOnTime, ReasonNone
	case integrated:
		return StatusProcessFailure, ReasonIntegratedLate
	case ack != nil:
		return StatusTechnicalFailure, ReasonFinalError
	case len(conv.continues) > 0 || len(conv.fragments) > 0:
		return conv.copcStatus(t)
	case slices.ContainsFunc(t.SenderErrorCodes, func(c *int) bool { return c != nil && IsFatalSenderCode(*c) }):
		return StatusTechnicalFailure, ReasonFatalSenderError
	case !conv.request.acked():
		return StatusTechnicalFailure, ReasonRequestNotAcknowledged
	case len(conv.extracts) == 0:
		return StatusTechnicalFailure, ReasonCoreExtractNotSent
	case slices.ContainsFunc(t.SenderErrorCodes, func(c *int) bool { return c != nil }):
		return StatusUnclassifiedFailure, ReasonTransferredNotIntegratedWithError
	default:
		return StatusProcessFailure, ReasonTransferredNotIntegrated
	}
}

// copcStatus applies rules 3a–3e.
func (conv *conversation) copcStatus(t Transfer) (Status, FailureReason) {
	duplicate := slices.ContainsFunc(t.FinalErrorCodes, func(c *int) bool { return c != nil && *c == CodeDuplicateEHR })
	allExtractsAcked := !slices.ContainsFunc(conv.extracts, func(m *message) bool { return !m.acked() })
	allFragmentsAcked := !slices.ContainsFunc(conv.fragments, func(m *message) bool { return !m.acked() })
	switch {
	case duplicate && !allExtractsAcked:
		return StatusUnclassifiedFailure, ReasonAmbiguousCOPCs
	case len(t.IntermediateErrorCodes) > 0 && allFragmentsAcked:
		return StatusUnclassifiedFailure, ReasonTransferredNotIntegratedWithError
	case len(conv.continues) > 0 && len(conv.fragments) == 0:
		return StatusTechnicalFailure, ReasonCOPCNotSent
	case !allFragmentsAcked:
		return StatusTechnicalFailure, ReasonCOPCNotAcknowledged
	default:
		return StatusProcessFailure, ReasonTransferredNotIntegrated
	}
}

// lastSenderMessage is the latest message from the sending ASID; for an
// integrated transfer only messages up to the final ack count (§1.7).
func (conv *conversation) lastSenderMessage(ack *Event, integrated bool) *time.Time {
	var last *time.Time
	for i := range conv.all {
		e := &conv.all[i]
		if e.Sender != conv.sending {
			continue
		}
		if integrated && e.Time.After(ack.Time) {
			continue
		}
		if last == nil || e.Time.After(*last) {
			last = &e.Time
		}
	}
	if last == nil {
		return nil
	}
	ts := *last
	return &ts
}

// codes lists the codes of acks, keeping nil for an ack without a code.
func codes(acks []Event) []*int {
	out := make([]*int, 0, len(acks))
	for _, a := range acks {
		var c *int
		if a.ErrorCode != nil {
			v := *a.ErrorCode
			c = &v
		}
		out = append(out, c)
	}
	return out
}
