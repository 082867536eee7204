package spine

import (
	"context"
	"fmt"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/nhsengland/gp2gp/libs/bus"
	"github.com/nhsengland/gp2gp/libs/ebxml"
	"github.com/nhsengland/gp2gp/libs/hl7"
	gp2gpv1 "github.com/nhsengland/gp2gp/proto/gp2gp/v1"
)

// PublishMessageEvent publishes the event of one wire message on
// gp2gp.message.<conversation id> (GP2GP_MESSAGES). The dedupe id is the
// message id: publishing the event of a message again, or its SENT and
// RECEIVED events both, stores one event within the dedupe window.
func PublishMessageEvent(ctx context.Context, b *bus.Bus, ev *gp2gpv1.MessageEvent) error {
	conv, id := hl7.NormalizeID(ev.GetConversationId()), hl7.NormalizeID(ev.GetMessageId())
	if err := checkHeaderValue("conversation id", conv); err != nil {
		return bus.Permanent(fmt.Errorf("spine: message event: %w", err))
	}
	if err := checkHeaderValue("message id", id); err != nil {
		return bus.Permanent(fmt.Errorf("spine: message event: %w", err))
	}
	ev.ConversationId, ev.MessageId = conv, id
	_, err := b.PublishProto(ctx, bus.Outgoing{
		Subject:  bus.MessageSubject(conv),
		DedupeID: "message." + id,
		Headers:  bus.Headers{ConversationID: conv, InteractionID: ev.GetInteraction(), MessageID: id},
	}, ev)
	if err != nil {
		return fmt.Errorf("spine: message event %s: %w", id, err)
	}
	return nil
}

// receivedEvent is the event of msg, received from Spine at, whose payload
// decoded as decoded (nil when it could not be read).
func receivedEvent(msg *ebxml.Message, decoded hl7.Message, in hl7.Interaction, toASID string, at time.Time) *gp2gpv1.MessageEvent {
	ev := &gp2gpv1.MessageEvent{
		ConversationId: msg.Envelope.ConversationID,
		MessageId:      msg.Envelope.MessageID,
		Interaction:    string(in),
		RecipientAsid:  toASID,
		OccurredAt:     timestamppb.New(at),
		Direction:      gp2gpv1.MessageDirection_MESSAGE_DIRECTION_RECEIVED,
	}
	if decoded != nil {
		ev.SenderAsid = decoded.Header().FromASID
	}
	if ack, ok := decoded.(*hl7.Ack); ok {
		ev.MessageRef = hl7.NormalizeID(ack.MessageRef)
		ev.ErrorCode = string(ack.Reason)
	}
	return ev
}
