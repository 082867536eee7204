// Package dlq is gp2gpctl's dlq commands: it lists and shows the messages
// no handler could process, which the consume runner copied to the
// dead-letter stream (bus.StreamDeadLetter) with why, and replays them
// onto the subjects they came from once the cause is fixed.
//
// It needs no more than an operator's NATS permissions (natsauth.Operator):
// it reads the stream through an ephemeral ordered push consumer (headers
// only, for lists) and single-message gets, publishes on gp2gp subjects and
// deletes dead letters it has replayed.
package dlq

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/nhsengland/gp2gp/libs/bus"
	"github.com/nhsengland/gp2gp/libs/service"
	"github.com/nhsengland/gp2gp/services/gp2gpctl/internal/cli"
	"github.com/nhsengland/gp2gp/services/gp2gpctl/internal/natsconn"
)

var (
	// ErrUsage: the command line is wrong. What is wrong has been written
	// to stderr already.
	ErrUsage = cli.ErrUsage
	// ErrNotFound: the dead-letter stream holds no message with the
	// sequence asked for (it was replayed and removed, or never there).
	ErrNotFound = errors.New("no dead letter")
	// ErrNotReplayed: some dead letters asked for were not replayed; each
	// has been named on stderr.
	ErrNotReplayed = errors.New("dead letters not replayed")
)

// Entry is one dead letter, as list prints it: where it is in the
// dead-letter stream, where it came from and why it is there.
type Entry struct {
	// Seq is its sequence in the dead-letter stream: what show and replay
	// take.
	Seq uint64 `json:"seq"`
	// At is when it was dead-lettered.
	At time.Time `json:"dead_lettered_at"`
	// Stream, Consumer, Subject and Sequence locate the original message.
	Stream   string `json:"stream"`
	Consumer string `json:"consumer"`
	Subject  string `json:"subject"`
	Sequence uint64 `json:"sequence,omitempty"`
	// Deliveries is how many times it had been delivered.
	Deliveries uint64 `json:"deliveries"`
	// Permanent is true when the handler said retrying could not help,
	// false when the message used up its deliveries.
	Permanent      bool   `json:"permanent"`
	ConversationID string `json:"conversation_id,omitempty"`
	// Reason is the handler's error.
	Reason string `json:"reason"`
	// MsgID is the original's Nats-Msg-Id.
	MsgID string `json:"msg_id,omitempty"`
	// Size is the body's size in bytes; ClaimCheck says it is in the
	// bodies object store, not in the message.
	Size       int  `json:"size"`
	ClaimCheck bool `json:"claim_check,omitempty"`
}

// newEntry describes the dead-letter stream's message seq, stored at
// stored on subject with headers h and a body of size bytes.
func newEntry(seq uint64, subject string, stored time.Time, h nats.Header, size int) Entry {
	e := Entry{Seq: seq, At: stored.UTC(), Size: size, ConversationID: bus.HeadersOf(h).ConversationID}
	if dl, ok := bus.DeadLetterOf(&bus.Msg{Header: h}); ok {
		e.Stream, e.Consumer, e.Subject, e.Sequence = dl.Stream, dl.Consumer, dl.Subject, dl.Sequence
		e.Deliveries, e.Permanent, e.Reason, e.MsgID = dl.Deliveries, dl.Permanent, dl.Reason, dl.MsgID
		if !dl.At.IsZero() {
			e.At = dl.At.UTC()
		}
	} else if toks := strings.Split(subject, "."); len(toks) == 4 {
		// Not written by the consume runner: its subject still says where
		// from (gp2gp.dlq.<stream>.<consumer>).
		e.Stream, e.Consumer = toks[2], toks[3]
	}
	if n, err := strconv.Atoi(h.Get(bus.HeaderBodySize)); err == nil && h.Get(bus.HeaderBodyObject) != "" {
		e.Size, e.ClaimCheck = n, true
	}
	return e
}

// filter selects dead letters.
type filter struct {
	stream, consumer, conversation string
}

// subject is the dead-letter subject f selects.
func (f filter) subject() string {
	star := func(s string) string {
		if s == "" {
			return "*"
		}
		return s
	}
	return bus.DeadLetterSubject(star(f.stream), star(f.consumer))
}

func (f filter) match(e Entry) bool {
	return f.conversation == "" || strings.EqualFold(strings.TrimSpace(f.conversation), e.ConversationID)
}

// validate checks that the stream and consumer names are single subject
// tokens.
func (f filter) validate() error {
	for name, v := range map[string]string{"-stream": f.stream, "-consumer": f.consumer} {
		if strings.ContainsAny(v, ".*> \t\r\n") {
			return fmt.Errorf("%s %q: a stream or consumer name, without dots or wildcards", name, v)
		}
	}
	return nil
}

// deadLetters is a connection to a deployment's dead-letter stream.
type deadLetters struct {
	nc     *nats.Conn
	js     jetstream.JetStream
	push   nats.JetStreamContext // ordered push consumers, which the operator's permissions allow
	stream jetstream.Stream

	stderr    io.Writer
	mu        sync.Mutex
	asyncErrs []string // the server's asynchronous errors, reported by close
}

// open connects to NATS and opens the dead-letter stream. close reports
// on stderr what the server said asynchronously (a permissions violation,
// for one) and closes the connection.
func open(ctx context.Context, cfg service.NATSConfig, stderr io.Writer) (*deadLetters, error) {
	d := &deadLetters{stderr: stderr}
	var err error
	d.nc, err = natsconn.Dial(cfg, nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
		d.mu.Lock()
		defer d.mu.Unlock()
		d.asyncErrs = append(d.asyncErrs, err.Error())
	}))
	if err != nil {
		return nil, err
	}
	fail := func(err error) (*deadLetters, error) {
		d.close()
		return nil, err
	}
	if d.js, err = jetstream.New(d.nc); err != nil {
		return fail(fmt.Errorf("JetStream: %w", err))
	}
	if d.push, err = d.nc.JetStream(); err != nil {
		return fail(fmt.Errorf("JetStream: %w", err))
	}
	d.stream, err = d.js.Stream(ctx, bus.StreamDeadLetter)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		return fail(fmt.Errorf("NATS at %s has no %s stream: no gp2gp service has run there", natsconn.Redact(cfg.URL), bus.StreamDeadLetter))
	}
	if err != nil {
		return fail(fmt.Errorf("open stream %s at %s: %w", bus.StreamDeadLetter, natsconn.Redact(cfg.URL), err))
	}
	return d, nil
}

func (d *deadLetters) close() {
	_ = d.nc.FlushTimeout(time.Second)
	d.nc.Close()
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, e := range d.asyncErrs {
		fmt.Fprintf(d.stderr, "gp2gpctl dlq: NATS reported: %s\n", e)
	}
	d.asyncErrs = nil
}

// scanIdle is how long scan waits for the next message before asking the
// server whether any are left.
const scanIdle = 250 * time.Millisecond

// scan calls fn with each dead letter on subject, oldest first, read
// without its body. It reads what the stream holds when it starts, and
// what arrives meanwhile.
func (d *deadLetters) scan(ctx context.Context, subject string, fn func(Entry)) error {
	sub, err := d.push.SubscribeSync(subject, nats.OrderedConsumer(), nats.HeadersOnly(), nats.DeliverAll(),
		nats.BindStream(bus.StreamDeadLetter), nats.Context(ctx))
	if err != nil {
		return fmt.Errorf("read %s: %w", bus.StreamDeadLetter, err)
	}
	defer func() { _ = sub.Unsubscribe() }()
	// The consumer sequence of the last message read: the server's count
	// of what it delivered includes messages still on their way.
	var last uint64
	done := func() (bool, error) {
		ci, err := sub.ConsumerInfo()
		if err != nil {
			return false, fmt.Errorf("read %s: %w", bus.StreamDeadLetter, err)
		}
		// Delivered.Consumer is 0 when the ordered consumer has just been
		// recreated (after a gap) and has delivered nothing yet.
		return ci.NumPending == 0 && (ci.Delivered.Consumer == last || ci.Delivered.Consumer == 0), nil
	}
	if end, err := done(); end || err != nil {
		return err
	}
	for {
		wait, cancel := context.WithTimeout(ctx, scanIdle)
		m, err := sub.NextMsgWithContext(wait)
		cancel()
		switch {
		case err == nil:
			meta, err := m.Metadata()
			if err != nil {
				return fmt.Errorf("read %s: %w", bus.StreamDeadLetter, err)
			}
			last = meta.Sequence.Consumer
			size, _ := strconv.Atoi(m.Header.Get(nats.MsgSize))
			fn(newEntry(meta.Sequence.Stream, m.Subject, meta.Timestamp, m.Header, size))
			if meta.NumPending == 0 {
				return nil
			}
		case ctx.Err() != nil:
			return fmt.Errorf("read %s: %w", bus.StreamDeadLetter, ctx.Err())
		case errors.Is(err, context.DeadlineExceeded):
			if end, err := done(); end || err != nil {
				return err
			}
		default:
			return fmt.Errorf("read %s: %w", bus.StreamDeadLetter, err)
		}
	}
}

// get reads dead letter seq with its body.
func (d *deadLetters) get(ctx context.Context, seq uint64) (*jetstream.RawStreamMsg, error) {
	m, err := d.stream.GetMsg(ctx, seq)
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return nil, fmt.Errorf("%w %d in %s", ErrNotFound, seq, bus.StreamDeadLetter)
	}
	if err != nil {
		return nil, fmt.Errorf("read %s message %d: %w", bus.StreamDeadLetter, seq, err)
	}
	return m, nil
}

// usage explains a wrong command line on stderr and returns ErrUsage.
func usage(stderr io.Writer, command, problem string) error {
	fmt.Fprintf(stderr, "gp2gpctl dlq %s: %s (gp2gpctl help shows the usage)\n", command, problem)
	return ErrUsage
}

// parseSeq reads a dead-letter stream sequence.
func parseSeq(s string) (uint64, error) {
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil || n == 0 {
		return 0, fmt.Errorf("%q is not a dead letter's sequence (a number from dlq list)", s)
	}
	return n, nil
}
