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

// discard is the default logger: it drops everything.
var discard = slog.New(slog.DiscardHandler)

// Classify turns Spine message events into one Transfer per conversation
// whose first message is an EHR request (§1.2–1.7). A cutoff > 0 drops every
// message more than cutoff after the conversation's first message (one
// exactly at the cutoff is kept); 0 or less means no cutoff. The result is
// ordered by DateRequested, then ConversationID. The input is not modified.
func Classify(events []Event, cutoff time.Duration, opts ...Option) []Transfer {
	c := classifier{cutoff: cutoff, log: discard}
	for _, o := range opts {
		o(&c)
	}
	if len(events) == 0 {
		return []Transfer{}
	}
	if oneConversation(events) { // the common call from a streaming importer
		if t, ok := c.conversation(events, &scratch{}); ok {
			return []Transfer{t}
		}
		return []Transfer{}
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
	s := &scratch{}
	for _, id := range order {
		if t, ok := c.conversation(groups[id], s); ok {
			out = append(out, t)
		}
	}
	slices.SortStableFunc(out, func(a, b Transfer) int {
		return cmp.Or(a.DateRequested.Compare(b.DateRequested), cmp.Compare(a.ConversationID, b.ConversationID))
	})
	return out
}

// Classifier classifies conversations one at a time, as Classify does,
// for importers that group events themselves. It reuses its working
// memory from one conversation to the next, so it is not safe for
// concurrent use; the Transfers it returns share nothing with it.
type Classifier struct {
	c classifier
	s scratch
}

// NewClassifier returns a Classifier with a cutoff and options as
// Classify takes them.
func NewClassifier(cutoff time.Duration, opts ...Option) *Classifier {
	c := &Classifier{c: classifier{cutoff: cutoff, log: discard}}
	for _, o := range opts {
		o(&c.c)
	}
	return c
}

// Conversation classifies the events of one conversation: it returns the
// conversation's Transfer, and false when its first message (after the
// cutoff) is not an EHR request or there are no events. The events'
// ConversationIDs are not compared: they are taken to be equal. The input
// is not modified.
func (c *Classifier) Conversation(events []Event) (Transfer, bool) {
	if len(events) == 0 {
		return Transfer{}, false
	}
	return c.c.conversation(events, &c.s)
}

func oneConversation(events []Event) bool {
	id := events[0].ConversationID
	for i := 1; i < len(events); i++ {
		if events[i].ConversationID != id {
			return false
		}
	}
	return true
}

// message is a non-ack event with the acks paired to it, in time order.
type message struct {
	*Event
	kind Interaction
	acks []*Event
}

func (m *message) acked() bool { return len(m.acks) > 0 }

// conversation is one conversation after cutoff, pairing and grouping.
type conversation struct {
	request    *message
	all        []*Event // in time order, after the cutoff
	extracts   []*message
	continues  []*message
	fragments  []*message
	requesting string
	sending    string
}

// scratch is the working memory of classifying one conversation, which a
// Classifier reuses.
type scratch struct {
	all     []*Event
	kinds   []Interaction // of all
	targets []int32       // of all: the message an ack pairs with, or -1
	counts  []int32       // of msgs: how many acks pair with it
	msgs    []message
	acks    []*Event
	roles   []*message
	conv    conversation
}

// conversation classifies the events of one conversation, which it reads
// but does not modify, in the working memory s.
func (c classifier) conversation(evs []Event, s *scratch) (Transfer, bool) {
	all := s.all[:0]
	for i := range evs {
		all = append(all, &evs[i])
	}
	s.all = all
	slices.SortStableFunc(all, func(a, b *Event) int { return a.Time.Compare(b.Time) })
	if c.cutoff > 0 && c.cutoff < math.MaxInt64 { // no time is more than the longest Duration after another
		// e.Time.Sub(start) > cutoff, but without Sub's overflow check,
		// an Add and an Equal for every event.
		limit := all[0].Time.Add(c.cutoff)
		all = slices.DeleteFunc(all, func(e *Event) bool { return e.Time.After(limit) })
	}
	kinds := s.kinds[:0]
	for _, e := range all {
		kinds = append(kinds, e.Kind())
	}
	s.kinds = kinds
	if kinds[0] != InteractionEHRRequest {
		return Transfer{}, false
	}
	conv := c.build(all, kinds, s)
	return conv.transfer(), true
}

// linearLookup is the size up to which build finds messages by scanning
// rather than through a map.
const linearLookup = 32

// build pairs acks with messages and sorts the messages into their roles,
// kinds being those of all. Its slices are s's, reused.
func (c classifier) build(all []*Event, kinds []Interaction, s *scratch) *conversation {
	s.conv = conversation{all: all, requesting: all[0].Sender, sending: all[0].Recipient}
	conv := &s.conv
	n := 0
	for _, k := range kinds {
		if k != InteractionAck {
			n++
		}
	}
	msgs := slices.Grow(s.msgs[:0], n)
	for i, e := range all {
		if kinds[i] != InteractionAck {
			msgs = append(msgs, message{Event: e, kind: kinds[i]})
		}
	}
	s.msgs = msgs
	// byID finds the first message with an id.
	var index map[string]int
	if len(msgs) > linearLookup {
		index = make(map[string]int, len(msgs))
		for i := range msgs {
			if _, dup := index[msgs[i].MessageID]; !dup {
				index[msgs[i].MessageID] = i
			}
		}
	}
	byID := func(id string) int {
		if index != nil {
			if i, ok := index[id]; ok {
				return i
			}
			return -1
		}
		for i := range msgs {
			if msgs[i].MessageID == id {
				return i
			}
		}
		return -1
	}

	// Pair each ack with its message (-1: none), then give every message
	// its acks, in time order, out of one shared slice.
	targets := s.targets[:0]
	counts := slices.Grow(s.counts[:0], len(msgs))[:len(msgs)]
	clear(counts)
	s.counts = counts
	paired := 0
	var ackIDs map[string]bool // built when first needed
	for i, e := range all {
		if kinds[i] != InteractionAck {
			targets = append(targets, -1)
			continue
		}
		target := int32(-1)
		ref, hasRef := e.Ref()
		switch {
		case !hasRef:
			c.dropAck(e)
		default:
			if m := byID(ref); m >= 0 {
				target = int32(m)
				counts[m]++
				paired++
				break
			}
			if ackIDs == nil {
				ackIDs = make(map[string]bool)
				for j, a := range all {
					if kinds[j] == InteractionAck {
						ackIDs[a.MessageID] = true
					}
				}
			}
			if !ackIDs[ref] { // an ack of an ack matches a message but plays no role
				c.dropAck(e)
			}
		}
		targets = append(targets, target)
	}
	s.targets = targets
	acks := slices.Grow(s.acks[:0], paired)[:paired]
	s.acks = acks
	at := int32(0)
	for m := range msgs {
		msgs[m].acks = acks[at : at : at+counts[m]]
		at += counts[m]
	}
	for i, t := range targets {
		if t >= 0 {
			msgs[t].acks = append(msgs[t].acks, all[i])
		}
	}

	conv.request = &msgs[0]
	var nx, nc, nf int
	for i := range msgs[1:] {
		m := &msgs[1+i]
		switch m.kind {
		case InteractionEHRExtract, InteractionEHRExtractRedacted:
			nx++
		case InteractionCOPC:
			switch m.Sender {
			case conv.requesting:
				nc++
			case conv.sending:
				nf++
			}
		}
	}
	roles := slices.Grow(s.roles[:0], nx+nc+nf)
	s.roles = roles
	conv.extracts, conv.continues, conv.fragments = roles[0:0:nx], roles[nx:nx:nx+nc], roles[nx+nc:nx+nc:nx+nc+nf]
	for i := range msgs[1:] {
		m := &msgs[1+i]
		switch m.kind {
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

// dropAck warns of an ack that matches no message.
func (c classifier) dropAck(e *Event) {
	c.log.Warn("mi: dropping ack that matches no message",
		slog.String("conversation_id", e.ConversationID),
		slog.String("message_id", e.MessageID),
		slog.String("message_ref", e.MessageRef))
}

// effective returns the effective (extract, ack) pair of §1.4.
func (conv *conversation) effective() (*message, *Event) {
	for _, x := range conv.extracts {
		for _, a := range x.acks {
			if a.ErrorCode == nil || *a.ErrorCode == CodeABASuppressed {
				return x, a
			}
		}
	}
	for _, x := range conv.extracts {
		for _, a := range x.acks {
			if *a.ErrorCode != CodeDuplicateEHR {
				return x, a
			}
		}
	}
	return nil, nil
}

func (conv *conversation) transfer() Transfer {
	req := conv.request
	// What the transfer points to, allocated at once: its times and SLA,
	// and the error codes of its lists (a quarter of a million transfers
	// a month made these small allocations a sizeable cost).
	finals, coded := 0, countCodes(req.acks)
	for _, x := range conv.extracts {
		finals += len(x.acks)
		coded += countCodes(x.acks)
	}
	held := &transferValues{}
	if coded > 0 {
		held.codes = make([]int, 0, coded)
	}
	var codeLists []*int // the two lists, one after the other
	if n := len(req.acks) + finals; n <= len(held.lists) {
		codeLists = held.lists[:0:n]
	} else {
		codeLists = make([]*int, 0, n)
	}
	t := Transfer{
		ConversationID:         req.ConversationID,
		DateRequested:          req.Time,
		SenderErrorCodes:       slices.Clip(held.appendCodes(codeLists, req.acks)),
		IntermediateErrorCodes: []int{},
		RequestingPracticeASID: conv.requesting,
		SendingPracticeASID:    conv.sending,
		RequestingSupplier:     req.FromSystem,
		SendingSupplier:        req.ToSystem,
	}
	t.FinalErrorCodes = codeLists[len(t.SenderErrorCodes):len(t.SenderErrorCodes):cap(codeLists)]
	for _, x := range conv.extracts {
		t.FinalErrorCodes = held.appendCodes(t.FinalErrorCodes, x.acks)
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
		held.completed = ack.Time
		t.DateCompleted = &held.completed
		sla = max(ack.Time.Sub(extract.Time), 0)
		held.sla = uint64(math.RoundToEven(sla.Seconds()))
		t.SLADuration = &held.sla
		integrated = ack.ErrorCode == nil || *ack.ErrorCode == CodeABASuppressed
	}
	t.Status, t.FailureReason = conv.status(ack, integrated, sla, t)
	if last := conv.lastSenderMessage(ack, integrated); last != nil {
		held.lastSender = *last
		t.LastSenderMessageTimestamp = &held.lastSender
	}
	return t
}

// transferValues holds what a Transfer's pointers point to.
type transferValues struct {
	completed, lastSender time.Time
	sla                   uint64
	codes                 []int   // room for the transfer's codes
	lists                 [2]*int // room for its lists of codes, if short (as nearly all are)
}

// appendCodes appends the codes of acks to list, nil for an ack without
// a code, the values in v.codes, which has room for them.
func (v *transferValues) appendCodes(list []*int, acks []*Event) []*int {
	for _, a := range acks {
		var c *int
		if a.ErrorCode != nil {
			v.codes = append(v.codes, *a.ErrorCode)
			c = &v.codes[len(v.codes)-1]
		}
		list = append(list, c)
	}
	return list
}

// countCodes is how many of acks have a code.
func countCodes(acks []*Event) int {
	n := 0
	for _, a := range acks {
		if a.ErrorCode != nil {
			n++
		}
	}
	return n
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
// integrated transfer only messages up to the final ack count (§1.7). It
// points into the events: the caller copies it.
func (conv *conversation) lastSenderMessage(ack *Event, integrated bool) *time.Time {
	var last *time.Time
	for _, e := range conv.all {
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
	return last
}
