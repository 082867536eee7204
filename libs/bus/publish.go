package bus

import (
	"context"
	"fmt"
	"strconv"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/protobuf/proto"
)

// Outgoing is a message to publish.
type Outgoing struct {
	// Subject to publish on; build it with the subject functions.
	Subject string
	// DedupeID identifies the logical message: publishing twice with the
	// same id (within the stream's dedupe window) stores it once. Derive it
	// from what the message is about, never from a random value, for
	// example "registration.<ods>.<event id>".
	DedupeID string
	// Data is the body.
	Data []byte
	// Headers are the typed gp2gp headers.
	Headers Headers
	// ContentType of Data; see the ContentType constants.
	ContentType string
	// Header holds any further headers. Bus headers overwrite clashes.
	Header nats.Header
}

// Publish stores out in its stream and returns the stream's acknowledgement.
// PubAck.Duplicate is true when the dedupe id had been seen before and
// nothing new was stored. The caller's trace context travels in the
// message's headers under a producer span.
func (b *Bus) Publish(ctx context.Context, out Outgoing) (*jetstream.PubAck, error) {
	if !ValidSubject(out.Subject) {
		return nil, fmt.Errorf("%w: %q", ErrInvalidSubject, out.Subject)
	}
	if out.DedupeID == "" {
		return nil, fmt.Errorf("%w (subject %s)", ErrNoDedupeID, out.Subject)
	}
	ctx, span := b.tracer.Start(ctx, out.Subject+" send", trace.WithSpanKind(trace.SpanKindProducer))
	defer span.End()
	if span.IsRecording() {
		span.SetAttributes(
			semconv.MessagingSystemKey.String("nats"),
			semconv.MessagingDestinationName(out.Subject),
			semconv.MessagingMessageID(out.DedupeID),
		)
		if out.Headers.ConversationID != "" {
			span.SetAttributes(semconv.MessagingMessageConversationID(out.Headers.ConversationID))
		}
	}

	msg := &nats.Msg{Subject: out.Subject, Data: out.Data, Header: make(nats.Header, len(out.Header)+8)}
	for k, v := range out.Header {
		if k != HeaderBodyObject && k != HeaderBodySize {
			msg.Header[k] = v
		}
	}
	if len(out.Data) > b.inlineLimit {
		name, err := b.checkIn(ctx, out.DedupeID, out.Data)
		if err != nil {
			span.RecordError(err)
			span.SetStatus(codes.Error, err.Error())
			return nil, err
		}
		msg.Data = nil
		msg.Header[HeaderBodyObject] = []string{name}
		msg.Header[HeaderBodySize] = []string{strconv.Itoa(len(out.Data))}
	}
	out.Headers.writeTo(msg.Header)
	if out.ContentType != "" {
		msg.Header[HeaderContentType] = []string{out.ContentType}
	}
	msg.Header[HeaderMsgID] = []string{out.DedupeID}
	b.propagator.Inject(ctx, HeaderCarrier(msg.Header))

	ack, err := b.js.PublishMsg(ctx, msg)
	if err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
		return nil, fmt.Errorf("bus: publish %s: %w", out.Subject, err)
	}
	if ack.Duplicate {
		span.SetAttributes(attribute.Bool("messaging.nats.duplicate", true))
	}
	return ack, nil
}

// PublishProto publishes m, binary-encoded, as out's body.
func (b *Bus) PublishProto(ctx context.Context, out Outgoing, m proto.Message) (*jetstream.PubAck, error) {
	data, err := proto.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("bus: encode %T: %w", m, err)
	}
	out.Data, out.ContentType = data, ContentTypeProtobuf
	return b.Publish(ctx, out)
}
