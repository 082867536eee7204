package bus

import (
	"context"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/nats-io/nats.go"
)

// Headers added to a dead-lettered copy. The copy keeps the original body
// and the original's own headers, except JetStream's Nats-* control
// headers, whose dedupe id moves to HeaderDeadLetterMsgID.
const (
	HeaderDeadLetterReason     = "Gp2gp-Dlq-Reason"
	HeaderDeadLetterPermanent  = "Gp2gp-Dlq-Permanent"
	HeaderDeadLetterSubject    = "Gp2gp-Dlq-Subject"
	HeaderDeadLetterStream     = "Gp2gp-Dlq-Stream"
	HeaderDeadLetterConsumer   = "Gp2gp-Dlq-Consumer"
	HeaderDeadLetterSequence   = "Gp2gp-Dlq-Sequence"
	HeaderDeadLetterDeliveries = "Gp2gp-Dlq-Deliveries"
	HeaderDeadLetterTime       = "Gp2gp-Dlq-Time"
	HeaderDeadLetterMsgID      = "Gp2gp-Dlq-Msg-Id"
)

// maxReasonLen bounds the reason header; the full error is in the log.
const maxReasonLen = 4096

// DeadLetter describes why and where from a message was dead-lettered.
type DeadLetter struct {
	// Reason is the handler's error (a panic's includes the stack).
	Reason string
	// Permanent is true when the handler said retrying could not help,
	// false when the message used up its deliveries.
	Permanent bool
	// Subject, Stream, Consumer and Sequence locate the original message.
	Subject, Stream, Consumer string
	Sequence                  uint64
	// Deliveries is how many times the message had been delivered.
	Deliveries uint64
	// At is when it was dead-lettered.
	At time.Time
	// MsgID is the original's Nats-Msg-Id, for replay.
	MsgID string
}

// DeadLetterOf reads the dead-letter description from a message of the
// dead-letter stream; ok is false if msg is not a dead-lettered copy.
func DeadLetterOf(msg *Msg) (dl DeadLetter, ok bool) {
	h := msg.Header
	if headerValue(h, HeaderDeadLetterStream) == "" {
		return DeadLetter{}, false
	}
	dl = DeadLetter{
		Reason:    headerValue(h, HeaderDeadLetterReason),
		Permanent: headerValue(h, HeaderDeadLetterPermanent) == "true",
		Subject:   headerValue(h, HeaderDeadLetterSubject),
		Stream:    headerValue(h, HeaderDeadLetterStream),
		Consumer:  headerValue(h, HeaderDeadLetterConsumer),
		MsgID:     headerValue(h, HeaderDeadLetterMsgID),
	}
	dl.Sequence, _ = strconv.ParseUint(headerValue(h, HeaderDeadLetterSequence), 10, 64)
	dl.Deliveries, _ = strconv.ParseUint(headerValue(h, HeaderDeadLetterDeliveries), 10, 64)
	dl.At, _ = time.Parse(time.RFC3339Nano, headerValue(h, HeaderDeadLetterTime))
	return dl, true
}

// deadLetter copies msg to the dead-letter stream. The copy's dedupe id is
// derived from the original's stream position, so a crash between copying
// and terminating cannot produce two copies.
func (b *Bus) deadLetter(ctx context.Context, msg *Msg, dl DeadLetter) error {
	h := make(nats.Header, len(msg.Header)+9)
	for k, v := range msg.Header {
		if !strings.HasPrefix(k, "Nats-") {
			h[k] = v
		}
	}
	if dl.At.IsZero() {
		dl.At = time.Now().UTC()
	}
	h[HeaderDeadLetterReason] = []string{truncate(oneLine(dl.Reason), maxReasonLen)}
	h[HeaderDeadLetterPermanent] = []string{strconv.FormatBool(dl.Permanent)}
	h[HeaderDeadLetterSubject] = []string{dl.Subject}
	h[HeaderDeadLetterStream] = []string{dl.Stream}
	h[HeaderDeadLetterConsumer] = []string{dl.Consumer}
	h[HeaderDeadLetterSequence] = []string{strconv.FormatUint(dl.Sequence, 10)}
	h[HeaderDeadLetterDeliveries] = []string{strconv.FormatUint(dl.Deliveries, 10)}
	h[HeaderDeadLetterTime] = []string{dl.At.Format(time.RFC3339Nano)}
	if id := headerValue(msg.Header, HeaderMsgID); id != "" {
		h[HeaderDeadLetterMsgID] = []string{id}
	}
	_, err := b.Publish(ctx, Outgoing{
		Subject:  DeadLetterSubject(dl.Stream, dl.Consumer),
		DedupeID: "dlq." + dl.Stream + "." + dl.Consumer + "." + strconv.FormatUint(dl.Sequence, 10),
		Data:     msg.Data,
		Header:   h,
	})
	return err
}

// oneLine makes s safe as a header value: NATS headers end at a line break.
func oneLine(s string) string {
	return strings.NewReplacer("\r\n", " | ", "\n", " | ", "\r", " ", "\t", " ").Replace(s)
}

// truncate shortens s to at most n bytes, cutting on a rune boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	i := n - len("…")
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i] + "…"
}
