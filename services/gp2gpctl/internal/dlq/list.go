package dlq

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/nhsengland/gp2gp/libs/service"
	"github.com/nhsengland/gp2gp/services/gp2gpctl/internal/cli"
)

// defaultLimit is how many dead letters list prints unless told.
const defaultLimit = 100

// Listing is what list printed, as JSON: how many dead letters matched
// and the oldest of them, up to the limit.
type Listing struct {
	Matched     int     `json:"matched"`
	DeadLetters []Entry `json:"dead_letters"`
}

// List runs "gp2gpctl dlq list [-stream S] [-consumer C]
// [-conversation ID] [-limit N] [-json] [-nats URL]" with args after the
// command name.
func List(ctx context.Context, cfg service.NATSConfig, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("dlq list", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var f filter
	fs.StringVar(&f.stream, "stream", "", "only dead letters of this stream (GP2GP_REGISTRATIONS, …)")
	fs.StringVar(&f.consumer, "consumer", "", "only dead letters of this durable consumer (requester-registrations, …)")
	fs.StringVar(&f.conversation, "conversation", "", "only dead letters of this conversation id")
	limit := fs.Int("limit", defaultLimit, "show at most this many (the count of all matches is shown)")
	asJSON := fs.Bool("json", false, "print JSON instead of text")
	fs.StringVar(&cfg.URL, "nats", cfg.URL, "NATS server URL (default from "+service.EnvNATSURL+")")
	rest, err := cli.Parse(fs, args)
	if err != nil {
		return err
	}
	switch {
	case len(rest) > 0:
		return usage(stderr, "list", fmt.Sprintf("unexpected argument %q", rest[0]))
	case *limit < 1:
		return usage(stderr, "list", "-limit must be at least 1")
	}
	if err := f.validate(); err != nil {
		return usage(stderr, "list", err.Error())
	}
	d, err := open(ctx, cfg, stderr)
	if err != nil {
		return err
	}
	defer d.close()
	l := Listing{DeadLetters: []Entry{}}
	err = d.scan(ctx, f.subject(), func(e Entry) {
		if !f.match(e) {
			return
		}
		l.Matched++
		if len(l.DeadLetters) < *limit {
			l.DeadLetters = append(l.DeadLetters, e)
		}
	})
	if err != nil {
		return err
	}
	if *asJSON {
		return cli.WriteJSON(stdout, l)
	}
	if l.Matched == 0 {
		fmt.Fprintln(stderr, "gp2gpctl dlq list: no dead letters match")
		return nil
	}
	return writeList(stdout, l)
}

// timeFormat is how times are printed: UTC, to the millisecond.
const timeFormat = "2006-01-02T15:04:05.000Z07:00"

func formatTime(t time.Time) string {
	if t.IsZero() {
		return "?"
	}
	return t.UTC().Format(timeFormat)
}

// listReasonLen bounds the reason on a list line; show prints all of it.
const listReasonLen = 100

// writeList prints one line per dead letter, then how many matched.
func writeList(w io.Writer, l Listing) error {
	rows := [][]string{{"SEQ", "DEAD-LETTERED", "STREAM", "CONSUMER", "SUBJECT", "DELIVERIES", "CONVERSATION", "REASON"}}
	for _, e := range l.DeadLetters {
		rows = append(rows, []string{strconv.FormatUint(e.Seq, 10), formatTime(e.At), orUnknown(e.Stream), orUnknown(e.Consumer),
			orUnknown(e.Subject), strconv.FormatUint(e.Deliveries, 10), orUnknown(e.ConversationID), shorten(e.Reason, listReasonLen)})
	}
	if err := cli.WriteTable(w, rows); err != nil {
		return err
	}
	noun := "dead letters"
	if l.Matched == 1 {
		noun = "dead letter"
	}
	line := fmt.Sprintf("%d %s", l.Matched, noun)
	if n := len(l.DeadLetters); n < l.Matched {
		line += fmt.Sprintf(", the oldest %d shown; use -limit to see more", n)
	}
	_, err := fmt.Fprintln(w, line)
	return err
}

func orUnknown(s string) string {
	if s == "" {
		return "?"
	}
	return s
}

// shorten puts s on one line (no tabs: they separate the columns) of at
// most n runes.
func shorten(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n-1]) + "…"
}
