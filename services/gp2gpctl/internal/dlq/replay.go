package dlq

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/nats-io/nats.go"

	"github.com/nhsengland/gp2gp/libs/bus"
	"github.com/nhsengland/gp2gp/libs/service"
	"github.com/nhsengland/gp2gp/services/gp2gpctl/internal/cli"
)

// ReplayMsgID is the Nats-Msg-Id a replay of dead letter seq is published
// with: the same for every replay of it, so the original stream stores it
// once however often it is replayed within its dedupe window.
func ReplayMsgID(seq uint64) string { return "dlq-replay." + strconv.FormatUint(seq, 10) }

// deadLetterHeaderPrefix starts the headers the consume runner adds to a
// dead-lettered copy (bus.HeaderDeadLetterReason, …); replay drops them.
const deadLetterHeaderPrefix = "Gp2gp-Dlq-"

// deadLetterSubjectPrefix starts every dead-letter subject ("gp2gp.dlq.").
var deadLetterSubjectPrefix = strings.TrimSuffix(bus.DeadLetterSubject("", ""), ".")

// What replay did with a dead letter (ReplayResult.Outcome).
const (
	// OutcomeReplayed: published onto its subject, and removed.
	OutcomeReplayed = "replayed"
	// OutcomeAlreadyReplayed: an earlier replay had published it (the
	// stream did not store it again); removed now.
	OutcomeAlreadyReplayed = "already-replayed"
	// OutcomeNotFound: not in the dead-letter stream: replayed and removed
	// already, or never there.
	OutcomeNotFound = "not-found"
	// OutcomeWouldReplay: -dry-run.
	OutcomeWouldReplay = "would-replay"
	// OutcomeFailed: see Error.
	OutcomeFailed = "failed"
)

// ReplayResult is what replay did with one dead letter.
type ReplayResult struct {
	Seq     uint64 `json:"seq"`
	Outcome string `json:"outcome"`
	// Subject, Stream and Consumer are where it came from; the replay goes
	// to Subject.
	Subject        string `json:"subject,omitempty"`
	Stream         string `json:"stream,omitempty"`
	Consumer       string `json:"consumer,omitempty"`
	ConversationID string `json:"conversation_id,omitempty"`
	// MsgID is the replay's Nats-Msg-Id.
	MsgID string `json:"msg_id"`
	// StoredIn and StoredSeq are the stream and sequence holding the replay.
	StoredIn  string `json:"stored_in,omitempty"`
	StoredSeq uint64 `json:"stored_seq,omitempty"`
	Error     string `json:"error,omitempty"`
}

// Replays is what replay printed, as JSON.
type Replays struct {
	DryRun  bool           `json:"dry_run,omitempty"`
	Results []ReplayResult `json:"results"`
}

// Replay runs "gp2gpctl dlq replay (SEQ... | -all [-stream S] [-consumer
// C]) [-dry-run] [-json] [-nats URL]" with args after the command name.
// Each dead letter is published again on its original subject with its
// original headers (the dead-letter ones removed, a claim check as it is)
// and the Nats-Msg-Id ReplayMsgID, then deleted from the dead-letter
// stream.
func Replay(ctx context.Context, cfg service.NATSConfig, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("dlq replay", flag.ContinueOnError)
	fs.SetOutput(stderr)
	all := fs.Bool("all", false, "every dead letter (of -stream, -consumer)")
	var f filter
	fs.StringVar(&f.stream, "stream", "", "with -all: only dead letters of this stream")
	fs.StringVar(&f.consumer, "consumer", "", "with -all: only dead letters of this durable consumer")
	dryRun := fs.Bool("dry-run", false, "say what would be replayed, and do nothing")
	asJSON := fs.Bool("json", false, "print JSON instead of text")
	fs.StringVar(&cfg.URL, "nats", cfg.URL, "NATS server URL (default from "+service.EnvNATSURL+")")
	rest, err := cli.Parse(fs, args)
	if err != nil {
		return err
	}
	var seqs []uint64
	for _, a := range rest {
		seq, err := parseSeq(a)
		if err != nil {
			return usage(stderr, "replay", err.Error())
		}
		if !slices.Contains(seqs, seq) {
			seqs = append(seqs, seq)
		}
	}
	switch {
	case *all && len(seqs) > 0:
		return usage(stderr, "replay", "name dead letters or -all, not both")
	case !*all && len(seqs) == 0:
		return usage(stderr, "replay", "name the dead letters to replay (sequences from dlq list), or -all")
	case !*all && (f.stream != "" || f.consumer != ""):
		return usage(stderr, "replay", "-stream and -consumer go with -all")
	}
	if err := f.validate(); err != nil {
		return usage(stderr, "replay", err.Error())
	}
	d, err := open(ctx, cfg, stderr)
	if err != nil {
		return err
	}
	defer d.close()
	if *all {
		if err := d.scan(ctx, f.subject(), func(e Entry) { seqs = append(seqs, e.Seq) }); err != nil {
			return err
		}
		if len(seqs) == 0 && !*asJSON {
			fmt.Fprintln(stderr, "gp2gpctl dlq replay: no dead letters match")
			return nil
		}
	}
	out := Replays{DryRun: *dryRun, Results: make([]ReplayResult, 0, len(seqs))}
	failed := false
	for _, seq := range seqs {
		r := d.replay(ctx, seq, *dryRun)
		out.Results = append(out.Results, r)
		switch {
		case r.Outcome == OutcomeFailed:
			failed = true
			fmt.Fprintf(stderr, "gp2gpctl dlq replay: dead letter %d: %s\n", seq, r.Error)
		case r.Outcome == OutcomeNotFound && !*all:
			// Asked for by name: say so, and fail. With -all it was there
			// when listed: another replay has just done it.
			failed = true
			fmt.Fprintf(stderr, "gp2gpctl dlq replay: dead letter %d: already replayed, or not in %s\n", seq, bus.StreamDeadLetter)
		}
		if !*asJSON {
			writeReplay(stdout, r)
		}
	}
	if *asJSON {
		if err := cli.WriteJSON(stdout, out); err != nil {
			return err
		}
	} else {
		writeReplaySummary(stdout, out)
	}
	if failed {
		return ErrNotReplayed
	}
	return nil
}

// replay replays dead letter seq, or with dryRun only reads it.
func (d *deadLetters) replay(ctx context.Context, seq uint64, dryRun bool) ReplayResult {
	r := ReplayResult{Seq: seq, MsgID: ReplayMsgID(seq)}
	fail := func(err error) ReplayResult {
		r.Outcome, r.Error = OutcomeFailed, err.Error()
		return r
	}
	m, err := d.get(ctx, seq)
	if errors.Is(err, ErrNotFound) {
		r.Outcome = OutcomeNotFound
		return r
	}
	if err != nil {
		return fail(err)
	}
	e := newEntry(m.Sequence, m.Subject, m.Time, m.Header, len(m.Data))
	r.Subject, r.Stream, r.Consumer, r.ConversationID = e.Subject, e.Stream, e.Consumer, e.ConversationID
	if !bus.ValidSubject(e.Subject) {
		return fail(fmt.Errorf("names no original subject (%s): not a dead letter the consume runner wrote", bus.HeaderDeadLetterSubject))
	}
	if strings.HasPrefix(e.Subject, deadLetterSubjectPrefix) {
		return fail(fmt.Errorf("its original subject %s is a dead-letter subject: replaying it would only dead-letter it again", e.Subject))
	}
	if dryRun {
		r.Outcome = OutcomeWouldReplay
		return r
	}
	ack, err := d.js.PublishMsg(ctx, &nats.Msg{Subject: e.Subject, Header: replayHeader(m.Header, seq), Data: m.Data})
	if err != nil {
		return fail(fmt.Errorf("publish onto %s: %w", e.Subject, err))
	}
	r.StoredIn, r.StoredSeq = ack.Stream, ack.Sequence
	r.Outcome = OutcomeReplayed
	if ack.Duplicate {
		r.Outcome = OutcomeAlreadyReplayed
	}
	if err := d.stream.DeleteMsg(ctx, seq); err != nil {
		if _, gerr := d.get(ctx, seq); errors.Is(gerr, ErrNotFound) {
			return r // another replay of it removed it meanwhile
		}
		return fail(fmt.Errorf("published onto %s (%s sequence %d), but not removed from %s: %w; "+
			"replaying it again within the stream's dedupe window does not store it twice", e.Subject, ack.Stream, ack.Sequence, bus.StreamDeadLetter, err))
	}
	return r
}

// replayHeader is h, a dead letter's headers, without the dead-letter and
// JetStream ones, with the replay's dedupe id. A claim check stays as it
// is: its object outlives the dead letter.
func replayHeader(h nats.Header, seq uint64) nats.Header {
	out := make(nats.Header, len(h))
	for k, v := range h {
		if hasPrefixFold(k, deadLetterHeaderPrefix) || hasPrefixFold(k, "Nats-") {
			continue
		}
		out[k] = slices.Clone(v)
	}
	out[bus.HeaderMsgID] = []string{ReplayMsgID(seq)}
	return out
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

// writeReplay prints one line about r.
func writeReplay(w io.Writer, r ReplayResult) {
	about := fmt.Sprintf("for %s (%s)", orUnknown(r.Consumer), orUnknown(r.Stream))
	if r.ConversationID != "" {
		about += ", conversation " + r.ConversationID
	}
	switch r.Outcome {
	case OutcomeReplayed:
		fmt.Fprintf(w, "dead letter %d: replayed onto %s %s: %s sequence %d; removed from %s\n",
			r.Seq, r.Subject, about, r.StoredIn, r.StoredSeq, bus.StreamDeadLetter)
	case OutcomeAlreadyReplayed:
		fmt.Fprintf(w, "dead letter %d: already replayed onto %s %s (%s sequence %d; not stored again); removed from %s\n",
			r.Seq, r.Subject, about, r.StoredIn, r.StoredSeq, bus.StreamDeadLetter)
	case OutcomeWouldReplay:
		fmt.Fprintf(w, "dead letter %d: would replay onto %s %s\n", r.Seq, r.Subject, about)
	case OutcomeNotFound:
		fmt.Fprintf(w, "dead letter %d: already replayed, or not in %s\n", r.Seq, bus.StreamDeadLetter)
	case OutcomeFailed:
		fmt.Fprintf(w, "dead letter %d: not replayed: %s\n", r.Seq, r.Error)
	}
}

func writeReplaySummary(w io.Writer, out Replays) {
	counts := map[string]int{}
	for _, r := range out.Results {
		counts[r.Outcome]++
	}
	if out.DryRun {
		fmt.Fprintf(w, "dry run: %d of %d dead letters would be replayed; nothing was done\n", counts[OutcomeWouldReplay], len(out.Results))
		return
	}
	fmt.Fprintf(w, "%d of %d dead letters replayed", counts[OutcomeReplayed], len(out.Results))
	for _, o := range []string{OutcomeAlreadyReplayed, OutcomeNotFound, OutcomeFailed} {
		if counts[o] > 0 {
			fmt.Fprintf(w, ", %d %s", counts[o], strings.ReplaceAll(o, "-", " "))
		}
	}
	fmt.Fprintln(w)
}
