package dlq

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/nhsengland/gp2gp/libs/bus"
	"github.com/nhsengland/gp2gp/libs/service"
	"github.com/nhsengland/gp2gp/services/gp2gpctl/internal/cli"
)

// Letter is everything about one dead letter, as show prints it.
type Letter struct {
	Entry
	// DLQSubject and StoredAt are the message's subject and time in the
	// dead-letter stream.
	DLQSubject string    `json:"dlq_subject"`
	StoredAt   time.Time `json:"stored_at"`
	// Headers are all of its headers, the dead-letter ones included.
	Headers map[string][]string `json:"headers"`
	Body    Body                `json:"body"`
}

func newLetter(m *jetstream.RawStreamMsg) Letter {
	e := newEntry(m.Sequence, m.Subject, m.Time, m.Header, len(m.Data))
	h := map[string][]string(m.Header)
	if h == nil {
		h = map[string][]string{}
	}
	return Letter{Entry: e, DLQSubject: m.Subject, StoredAt: m.Time.UTC(), Headers: h, Body: bodyOf(e.Stream, m.Header, m.Data)}
}

// Show runs "gp2gpctl dlq show SEQ [-json] [-nats URL]" with args after
// the command name.
func Show(ctx context.Context, cfg service.NATSConfig, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("dlq show", flag.ContinueOnError)
	fs.SetOutput(stderr)
	asJSON := fs.Bool("json", false, "print JSON instead of text")
	fs.StringVar(&cfg.URL, "nats", cfg.URL, "NATS server URL (default from "+service.EnvNATSURL+")")
	rest, err := cli.Parse(fs, args)
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		return usage(stderr, "show", "name one dead letter's sequence (from dlq list)")
	}
	seq, err := parseSeq(rest[0])
	if err != nil {
		return usage(stderr, "show", err.Error())
	}
	d, err := open(ctx, cfg, stderr)
	if err != nil {
		return err
	}
	defer d.close()
	m, err := d.get(ctx, seq)
	if err != nil {
		return err
	}
	l := newLetter(m)
	if *asJSON {
		return cli.WriteJSON(stdout, l)
	}
	return writeLetter(stdout, l)
}

// writeLetter prints l for a person: where it came from and why, every
// header, then the body.
func writeLetter(w io.Writer, l Letter) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "dead letter %d in %s (%s, stored %s)\n\n", l.Seq, bus.StreamDeadLetter, l.DLQSubject, formatTime(l.StoredAt))
	kind := "gave up after its deliveries"
	if l.Permanent {
		kind = "permanent"
	}
	from := orUnknown(l.Stream) + ", consumer " + orUnknown(l.Consumer)
	if l.Sequence > 0 {
		from = orUnknown(l.Stream) + " sequence " + strconv.FormatUint(l.Sequence, 10) + ", consumer " + orUnknown(l.Consumer)
	}
	rows := [][]string{
		{"reason", strings.Join(strings.Fields(l.Reason), " ")},
		{"failure", kind},
		{"from", from},
		{"subject", orUnknown(l.Subject)},
		{"deliveries", strconv.FormatUint(l.Deliveries, 10)},
		{"dead-lettered", formatTime(l.At)},
		{"conversation", orUnknown(l.ConversationID)},
		{"msg id", orUnknown(l.MsgID)},
	}
	if err := cli.WriteTable(bw, rows); err != nil {
		return err
	}
	fmt.Fprintln(bw, "\nheaders")
	for _, k := range slices.Sorted(maps.Keys(l.Headers)) {
		for _, v := range l.Headers[k] {
			fmt.Fprintf(bw, "  %s: %s\n", k, v)
		}
	}
	fmt.Fprintln(bw)
	writeBody(bw, l.Body)
	return bw.Flush()
}

func writeBody(w io.Writer, b Body) {
	ct := b.ContentType
	if ct == "" {
		ct = "no content type"
	}
	switch b.Form {
	case FormEmpty:
		fmt.Fprintf(w, "body: empty (%s)\n", ct)
	case FormClaimCheck:
		fmt.Fprintf(w, "body: %d bytes in object store %s as %s (%s)\n", b.Size, bus.BucketBodies, b.Object, ct)
		fmt.Fprintf(w, "  %s\n", b.Note)
	case FormProtoJSON:
		fmt.Fprintf(w, "body: %s (%s, %d bytes), as protojson\n%s\n", b.Type, ct, b.Size, b.JSON)
	case FormText:
		fmt.Fprintf(w, "body: %s, %d bytes\n%s\n", ct, b.Size, strings.TrimRight(b.Text, "\n"))
	default:
		fmt.Fprintf(w, "body: %s, %d bytes, as base64\n%s\n", ct, b.Size, b.Base64)
	}
	if b.Note != "" && b.Form != FormClaimCheck {
		fmt.Fprintf(w, "  (%s)\n", b.Note)
	}
}
