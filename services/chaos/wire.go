package chaos

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/protobuf/proto"

	"github.com/nhsengland/gp2gp/libs/bus"
	gp2gpv1 "github.com/nhsengland/gp2gp/proto/gp2gp/v1"
)

// wireMessage is one message stored in GP2GP_SPINE_IN: what went on the
// (loopback) wire.
type wireMessage struct {
	ASID, Kind, MessageID, Interaction string
}

// conversationWire is what went on the wire in one conversation.
type conversationWire struct {
	// ids by Spine kind (ehr-request, ehr-extract, continue, copc, ack):
	// the distinct message ids sent.
	ids map[string]map[string]bool
	// stored counts the copies stored of each message, by recipient ASID
	// and message id: one per send, however often a stage retried it (the
	// loopback publishes with dedupe id spine.<message id>.<asid>).
	stored map[string]int
	// events are the message events (GP2GP_MESSAGES), by message id, and
	// eventCopies how many copies of each the stream holds.
	events      map[string]*gp2gpv1.MessageEvent
	eventCopies map[string]int
	// acks are the distinct MCCI message ids by the id they acknowledge.
	acks map[string]map[string]bool
}

func newConversationWire() *conversationWire {
	return &conversationWire{ids: map[string]map[string]bool{}, stored: map[string]int{},
		events: map[string]*gp2gpv1.MessageEvent{}, eventCopies: map[string]int{}, acks: map[string]map[string]bool{}}
}

func (w *conversationWire) count(kind string) int { return len(w.ids[kind]) }

// wire is everything sent on the wire during the run, by conversation.
type wire struct {
	byConversation map[string]*conversationWire
	// messages and events count what the streams hold.
	messages, events int
}

func (w *wire) conversation(id string) *conversationWire {
	c, ok := w.byConversation[id]
	if !ok {
		c = newConversationWire()
		w.byConversation[id] = c
	}
	return c
}

// readWire reads GP2GP_SPINE_IN (headers only) and GP2GP_MESSAGES from
// the start.
func readWire(ctx context.Context, js jetstream.JetStream) (*wire, error) {
	w := &wire{byConversation: map[string]*conversationWire{}}
	err := scanStream(ctx, js, bus.StreamSpineIn, true, func(m jetstream.Msg) error {
		h := bus.HeadersOf(m.Headers())
		// gp2gp.spine.in.<asid>.<kind>
		tok := strings.Split(m.Subject(), ".")
		if len(tok) != 5 || h.ConversationID == "" || h.MessageID == "" {
			return fmt.Errorf("chaos: unexpected message on %s: subject %s, conversation %q, message %q", bus.StreamSpineIn, m.Subject(), h.ConversationID, h.MessageID)
		}
		asid, kind := tok[3], tok[4]
		c := w.conversation(h.ConversationID)
		if c.ids[kind] == nil {
			c.ids[kind] = map[string]bool{}
		}
		c.ids[kind][h.MessageID] = true
		c.stored[asid+"/"+h.MessageID]++
		w.messages++
		return nil
	})
	if err != nil {
		return nil, err
	}
	err = scanStream(ctx, js, bus.StreamMessages, false, func(m jetstream.Msg) error {
		var ev gp2gpv1.MessageEvent
		if err := proto.Unmarshal(m.Data(), &ev); err != nil {
			return fmt.Errorf("chaos: message event on %s: %w", m.Subject(), err)
		}
		c := w.conversation(ev.GetConversationId())
		id := ev.GetMessageId()
		c.events[id] = &ev
		c.eventCopies[id]++
		if ref := ev.GetMessageRef(); ref != "" {
			if c.acks[ref] == nil {
				c.acks[ref] = map[string]bool{}
			}
			c.acks[ref][id] = true
		}
		w.events++
		return nil
	})
	return w, err
}

// scanStream calls fn with every message of stream, from the first to the
// last stored when it starts.
func scanStream(ctx context.Context, js jetstream.JetStream, stream string, headersOnly bool, fn func(jetstream.Msg) error) error {
	s, err := js.Stream(ctx, stream)
	if err != nil {
		return fmt.Errorf("chaos: stream %s: %w", stream, err)
	}
	last := s.CachedInfo().State.LastSeq
	if s.CachedInfo().State.Msgs == 0 {
		return nil
	}
	cons, err := s.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{HeadersOnly: headersOnly})
	if err != nil {
		return fmt.Errorf("chaos: read %s: %w", stream, err)
	}
	var seq uint64
	for seq < last {
		batch, err := cons.Fetch(256, jetstream.FetchMaxWait(5*time.Second))
		if err != nil {
			return fmt.Errorf("chaos: read %s: %w", stream, err)
		}
		n := 0
		for m := range batch.Messages() {
			n++
			md, err := m.Metadata()
			if err != nil {
				return err
			}
			seq = md.Sequence.Stream
			if err := fn(m); err != nil {
				return err
			}
		}
		if err := batch.Error(); err != nil && !errors.Is(err, jetstream.ErrNoMessages) && !errors.Is(err, context.DeadlineExceeded) {
			return fmt.Errorf("chaos: read %s: %w", stream, err)
		}
		if n == 0 {
			return fmt.Errorf("chaos: read %s: stopped at sequence %d of %d", stream, seq, last)
		}
	}
	return nil
}

// deadLetter is one message of GP2GP_DLQ.
type deadLetter struct {
	MsgID, Reason, Consumer, Subject string
}

// readDeadLetters reads GP2GP_DLQ's messages' headers.
func readDeadLetters(ctx context.Context, js jetstream.JetStream) ([]deadLetter, error) {
	var out []deadLetter
	err := scanStream(ctx, js, bus.StreamDeadLetter, true, func(m jetstream.Msg) error {
		h := m.Headers()
		out = append(out, deadLetter{
			MsgID: h.Get(bus.HeaderDeadLetterMsgID), Reason: h.Get(bus.HeaderDeadLetterReason),
			Consumer: h.Get(bus.HeaderDeadLetterConsumer), Subject: h.Get(bus.HeaderDeadLetterSubject),
		})
		return nil
	})
	return out, err
}
