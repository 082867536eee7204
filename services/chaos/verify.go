package chaos

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/nhsengland/gp2gp/libs/bus"
	"github.com/nhsengland/gp2gp/libs/practicesim"
	"github.com/nhsengland/gp2gp/libs/transfer"
)

// maxDetails bounds the lines a failed check lists.
const maxDetails = 12

// verify reads what the run left (the transfer records, the streams, the
// practices' view) and checks it.
func (r *run) verify(ctx context.Context, b *bus.Bus, store *transfer.Store, sims map[string]*practicesim.Practice, mon *monitor, smp *sampler, elapsed time.Duration) (*Report, error) {
	rep := &Report{Mode: r.cfg.Mode, Seed: r.cfg.Seed, Elapsed: elapsed, Transfers: len(r.w.transfers), Large: r.w.large(), ToRefuse: r.w.refused(),
		Kills: map[string]int{}, Reasons: map[string]int{}, Rate: r.cfg.Rate, SoakDuration: r.cfg.SoakDuration}
	r.killsMu.Lock()
	for _, k := range r.kills {
		if k.Final {
			rep.FinalRestarts++
		} else {
			rep.Kills[k.Target]++
			rep.KillCount++
		}
	}
	r.killsMu.Unlock()

	wire, err := readWire(ctx, b.JetStream())
	if err != nil {
		return nil, err
	}
	dead, err := readDeadLetters(ctx, b.JetStream())
	if err != nil {
		return nil, err
	}
	rep.WireMessages, rep.MessageEvents = wire.messages, wire.events

	states := Check{Name: "every transfer INTEGRATED (requesting) and COMPLETED (sending); the scripted refusals FAILED and REQUEST_REJECTED with 10"}
	stuck := Check{Name: "no transfer stuck (both sides terminal within the cap)"}
	dups := Check{Name: "no EHR Request, extract, Continue, COPC or ack sent twice on the wire"}
	events := Check{Name: "every wire message has one message event"}
	docs := Check{Name: "every document received with the SHA-256 it was sent with"}

	answered := map[string]practicesim.AnsweredRequest{}
	received := map[string]practicesim.ReceivedRecord{}
	for _, sim := range sims {
		for _, a := range sim.Answered() {
			answered[a.ConversationID] = a
		}
		for _, rec := range sim.Received() {
			received[rec.ConversationID] = rec
		}
	}
	// The COPCs of a large record: every large transfer sends as many.
	copcCounts := map[int]int{}
	for _, t := range r.w.transfers {
		if c, ok := wire.byConversation[t.ConversationID]; ok && t.Large {
			copcCounts[c.count(string(bus.KindCOPC))]++
		}
	}
	wantCOPCs := mode(copcCounts)

	var latencies []time.Duration
	for _, t := range r.w.transfers {
		regAt, registered := t.registered()
		if !registered {
			rep.NotStarted++
			stuck.fail(fmt.Sprintf("%s: never registered (the broker did not take it before the cap)", t.ConversationID))
			continue
		}
		rep.Started++
		req, send, err := sides(ctx, store, t.ConversationID)
		if err != nil {
			return nil, err
		}
		reqState, sendState := stateOf(req), stateOf(send)
		finished := req != nil && send != nil && req.Terminal() && send.Terminal()
		switch {
		case !finished:
			rep.Stuck++
			stuck.fail(fmt.Sprintf("%s (%s): requesting %s, sending %s%s", t.ConversationID, t.kind(), reqState, sendState, lastChange(req, send)))
		case t.Refused && req.State == transfer.Failed && send.State == transfer.RequestRejected &&
			reasonCode(req) == refusalCode && reasonCode(send) == refusalCode:
			rep.Refused++
		case !t.Refused && req.State == transfer.Integrated && send.State == transfer.Completed:
			rep.Completed++
			end := maxTime(req.LastChange().At, send.LastChange().At)
			latencies = append(latencies, end.Sub(regAt))
		default:
			rep.Failed++
			why := fmt.Sprintf("requesting %s %s / sending %s %s", req.State, orDash(reasonCode(req)), send.State, orDash(reasonCode(send)))
			if t.Refused {
				why += " (to be refused with " + refusalCode + ")"
			}
			rep.Reasons[why]++
			states.fail(fmt.Sprintf("%s (%s): %s%s", t.ConversationID, t.kind(), why, lastChange(req, send)))
		}

		c, ok := wire.byConversation[t.ConversationID]
		if !ok {
			if finished {
				dups.fail(t.ConversationID + ": nothing on the wire")
			}
			continue
		}
		rep.countWire(c)
		for _, d := range wireDuplicates(t, c, req, send, wantCOPCs, finished) {
			dups.fail(t.ConversationID + ": " + d)
		}
		for _, d := range eventGaps(c) {
			events.fail(t.ConversationID + ": " + d)
		}
		if req != nil && req.State == transfer.Integrated {
			n, bytes, problems := compareDocuments(answered[t.ConversationID], received[t.ConversationID], t)
			rep.Documents += n
			rep.DocumentBytes += bytes
			rep.ExtractBytes += int64(received[t.ConversationID].ExtractBytes)
			for _, p := range problems {
				docs.fail(t.ConversationID + ": " + p)
			}
		}
	}
	// Wire messages of conversations the run did not start.
	for conv := range wire.byConversation {
		if !slices.ContainsFunc(r.w.transfers, func(t *plannedTransfer) bool { return t.ConversationID == conv }) {
			dups.fail(conv + ": a conversation the run did not start is on the wire")
		}
	}
	rep.Latency = percentiles(latencies)
	if elapsed > 0 {
		rep.Throughput = float64(rep.Completed) / elapsed.Seconds()
	}

	rep.Checks = append(rep.Checks, states, stuck, dups, events, docs, r.checkDeadLetters(dead, rep))
	rep.Processes = r.processes(smp)
	crashes := Check{Name: "no process ended on its own (crash, panic, fatal error)"}
	for _, p := range rep.Processes {
		for _, e := range p.Exits {
			crashes.fail(fmt.Sprintf("%s pid %d ended at %s: %v (see logs/%s.log)", p.Name, e.PID, e.At.Format(time.TimeOnly), e.Err, p.Name))
		}
	}
	rep.Checks = append(rep.Checks, crashes)
	if r.cfg.Mode == ModeSoak {
		rep.Flatness = r.flatness(smp)
		flat := Check{Name: "the services' memory and goroutines flat over the soak (" + flatCriterion + ")"}
		for _, f := range rep.Flatness {
			// The broker's memory follows its streams (block caches, and
			// the dedupe ids of the last hour, one per message): reported,
			// not judged over a soak shorter than the dedupe window.
			if !f.Flat && f.Name != Broker {
				flat.fail(f.String())
			}
		}
		rep.Checks = append(rep.Checks, flat)
	}
	for i := range rep.Checks {
		rep.Checks[i].truncate()
	}
	return rep, nil
}

// refusalCode is the reason code of a refused transfer: the sending
// practice's system could not produce the record.
const refusalCode = "10"

func (t *plannedTransfer) kind() string {
	switch {
	case t.Large:
		return "large"
	case t.Refused:
		return "refused"
	}
	return "small"
}

func stateOf(t *transfer.Transfer) string {
	if t == nil {
		return "(none)"
	}
	return string(t.State)
}

func reasonCode(t *transfer.Transfer) string {
	for i := len(t.History) - 1; i >= 0; i-- {
		if c := t.History[i].Reason.Code; c != "" {
			return c
		}
	}
	return ""
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// lastChange describes the latest change of either side, for a transfer
// that went wrong.
func lastChange(req, send *transfer.Transfer) string {
	var c transfer.Change
	side := ""
	for _, t := range []*transfer.Transfer{req, send} {
		if t != nil && t.LastChange().At.After(c.At) {
			c, side = t.LastChange(), string(t.Side)
		}
	}
	if side == "" {
		return ""
	}
	detail := c.Reason.Detail
	if len(detail) > 160 {
		detail = detail[:160] + "…"
	}
	return fmt.Sprintf("; last change %s %s → %s at %s: %s", side, c.From, c.To, c.At.Format("15:04:05.000"), detail)
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// mode is the most frequent key of counts (0 when empty).
func mode(counts map[int]int) int {
	best, bestN := 0, 0
	for k, n := range counts {
		if n > bestN || n == bestN && k < best {
			best, bestN = k, n
		}
	}
	return best
}

// wireDuplicates lists what conversation c sent more often than the
// protocol says. Every message's ids derive from the conversation and
// what the message is, so a retried send is the same message, stored once
// (the loopback's dedupe id is spine.<message id>.<asid>); a second
// distinct id for the same role is a second send.
func wireDuplicates(t *plannedTransfer, c *conversationWire, req, send *transfer.Transfer, wantCOPCs int, finished bool) []string {
	var out []string
	for k, n := range c.stored {
		if n > 1 {
			out = append(out, fmt.Sprintf("message %s stored %d times for ASID %s", k[strings.IndexByte(k, '/')+1:], n, k[:strings.IndexByte(k, '/')]))
		}
	}
	want := map[bus.SpineKind]int{bus.KindEHRRequest: 1, bus.KindEHRExtract: 1, bus.KindContinue: 0, bus.KindCOPC: 0}
	switch {
	case t.Large:
		want[bus.KindContinue], want[bus.KindCOPC] = 1, wantCOPCs
	case t.Refused:
		want[bus.KindEHRExtract] = 0
	}
	for _, kind := range []bus.SpineKind{bus.KindEHRRequest, bus.KindEHRExtract, bus.KindContinue, bus.KindCOPC} {
		got := c.count(string(kind))
		switch {
		case got > want[kind]:
			out = append(out, fmt.Sprintf("%d %s messages on the wire, want %d (%s)", got, kind, want[kind], strings.Join(sortedKeys(c.ids[string(kind)]), ", ")))
		case got < want[kind] && finished && req != nil && req.State == transfer.Integrated:
			out = append(out, fmt.Sprintf("%d %s messages on the wire, want %d, yet the transfer completed", got, kind, want[kind]))
		}
	}
	for ref, ids := range c.acks {
		if len(ids) > 1 {
			out = append(out, fmt.Sprintf("%d acks of message %s: %s", len(ids), ref, strings.Join(sortedKeys(ids), ", ")))
		}
	}
	if finished && req != nil && send != nil && (req.State == transfer.Integrated || t.Refused) {
		// The request's acceptance (its refusal) and the final ack are
		// there (two of either is caught above).
		acked := []struct{ what, id string }{{"the EHR Request", firstKey(c.ids[string(bus.KindEHRRequest)])}}
		if !t.Refused {
			acked = append(acked, struct{ what, id string }{"the extract", send.ExtractID})
		}
		for _, id := range acked {
			if id.id != "" && len(c.acks[strings.ToUpper(id.id)]) == 0 {
				out = append(out, fmt.Sprintf("no ack of %s %s on the wire, want 1", id.what, id.id))
			}
		}
	}
	sort.Strings(out)
	return out
}

// eventGaps lists the wire messages of c without a message event, the
// events without a wire message, and events stored twice.
func eventGaps(c *conversationWire) []string {
	var out []string
	sent := map[string]bool{}
	for _, ids := range c.ids {
		for id := range ids {
			sent[id] = true
			if c.events[id] == nil {
				out = append(out, "message "+id+" went on the wire without a message event")
			}
		}
	}
	for id, n := range c.eventCopies {
		if !sent[id] {
			out = append(out, fmt.Sprintf("message event %s (%s) with no message on the wire", id, c.events[id].GetInteraction()))
		}
		if n > 1 {
			out = append(out, fmt.Sprintf("message event %s stored %d times", id, n))
		}
	}
	sort.Strings(out)
	return out
}

// compareDocuments compares the documents the sending practice sent with
// those the requesting practice received. It returns how many matched and
// their bytes.
func compareDocuments(sent practicesim.AnsweredRequest, got practicesim.ReceivedRecord, t *plannedTransfer) (int, int64, []string) {
	if sent.ConversationID == "" {
		return 0, 0, []string{"the sending practice has no answered request"}
	}
	if got.ConversationID == "" {
		return 0, 0, []string{"INTEGRATED, but the requesting practice never received the record"}
	}
	var problems []string
	if got.Problem != "" {
		problems = append(problems, "the requesting practice's checks failed: "+got.Problem)
	}
	want := smallAttachments
	if t.Large {
		want++
	}
	if len(sent.Documents) != want {
		problems = append(problems, fmt.Sprintf("%d documents sent, want %d", len(sent.Documents), want))
	}
	byID := map[string]practicesim.Document{}
	for _, d := range got.Documents {
		byID[strings.ToUpper(d.ID)] = d
	}
	n, bytes := 0, int64(0)
	for _, d := range sent.Documents {
		r, ok := byID[strings.ToUpper(d.ID)]
		switch {
		case !ok:
			problems = append(problems, fmt.Sprintf("document %s (%s) sent but not received", d.ID, d.Filename))
		case r.Absent:
			problems = append(problems, fmt.Sprintf("document %s (%s) arrived absent: %s", d.ID, d.Filename, r.AbsentReason))
		case r.SHA256 != d.SHA256 || r.Size != d.Size:
			problems = append(problems, fmt.Sprintf("document %s (%s): sent %d bytes SHA-256 %s, received %d bytes SHA-256 %s", d.ID, d.Filename, d.Size, d.SHA256, r.Size, r.SHA256))
		default:
			n++
			bytes += r.Size
		}
	}
	if len(got.Documents) != len(sent.Documents) {
		problems = append(problems, fmt.Sprintf("%d documents received, %d sent", len(got.Documents), len(sent.Documents)))
	}
	return n, bytes, problems
}

// checkDeadLetters checks that the dead-letter stream holds each poison
// message once and nothing else.
func (r *run) checkDeadLetters(dead []deadLetter, rep *Report) Check {
	c := Check{Name: fmt.Sprintf("dead letters are exactly the %d poison messages injected", len(r.w.poison))}
	rep.DeadLetters, rep.Poison = len(dead), len(r.w.poison)
	want := map[string]poison{}
	for _, p := range r.w.poison {
		want[p.DedupeID] = p
	}
	seen := map[string]int{}
	for _, d := range dead {
		if _, ok := want[d.MsgID]; !ok {
			reason := d.Reason
			if len(reason) > 200 {
				reason = reason[:200] + "…"
			}
			c.fail(fmt.Sprintf("unexpected dead letter from %s (%s, msg id %q): %s", d.Consumer, d.Subject, d.MsgID, reason))
			continue
		}
		seen[d.MsgID]++
	}
	for id, p := range want {
		switch seen[id] {
		case 1:
		case 0:
			c.fail(fmt.Sprintf("poison %s (%s) not dead-lettered", id, p.Kind))
		default:
			c.fail(fmt.Sprintf("poison %s (%s) dead-lettered %d times", id, p.Kind, seen[id]))
		}
	}
	return c
}

// processes is each process's starts, kills, peak memory and unexpected
// ends.
func (r *run) processes(smp *sampler) []ProcessStats {
	var out []ProcessStats
	for _, name := range targets() {
		p := r.cl.procs[name]
		p.Sample()
		st := p.Stats()
		out = append(out, ProcessStats{Name: name, Starts: st.Starts, PeakKiB: st.PeakKiB, Exits: st.Exits})
	}
	return out
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func firstKey(m map[string]bool) string {
	keys := sortedKeys(m)
	if len(keys) == 0 {
		return ""
	}
	return keys[0]
}
