package bus

import (
	"context"
	"fmt"
	"log/slog"
	"runtime/debug"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
)

// Middleware wraps a Handler with cross-cutting behaviour.
type Middleware func(Handler) Handler

// Chain applies mws to h so that mws[0] is the outermost.
func Chain(h Handler, mws ...Middleware) Handler {
	for i := len(mws) - 1; i >= 0; i-- {
		h = mws[i](h)
	}
	return h
}

// Recover turns a panic in the handler into an error wrapping ErrPanic,
// with the stack, so the runner treats it like any other failure: the
// message is retried and, if it keeps panicking, dead-lettered.
func Recover() Middleware {
	return func(next Handler) Handler {
		return func(ctx context.Context, msg *Msg) (err error) {
			defer func() {
				if r := recover(); r != nil {
					err = fmt.Errorf("%w: %v\n%s", ErrPanic, r, debug.Stack())
				}
			}()
			return next(ctx, msg)
		}
	}
}

// Logging puts the message's conversation id into the handler's context
// (see NewLogHandler) and logs each handling at debug level with its
// duration. Outcomes (retry, dead letter) are logged by the runner.
func Logging(logger *slog.Logger) Middleware {
	return func(next Handler) Handler {
		return func(ctx context.Context, msg *Msg) error {
			ctx = WithConversationID(ctx, msg.Headers().ConversationID)
			if !logger.Enabled(ctx, slog.LevelDebug) {
				return next(ctx, msg)
			}
			start := time.Now()
			err := next(ctx, msg)
			logger.DebugContext(ctx, "handled message", "subject", msg.Subject, "sequence", msg.Sequence,
				"delivered", msg.Delivered, "duration", time.Since(start).String(), "error", err)
			return err
		}
	}
}

// Tracing starts a consumer span for each message, a child of the producer
// span whose context the message carries, so one transfer is one trace
// across every stage.
func Tracing(tracer trace.Tracer, propagator propagation.TextMapPropagator) Middleware {
	return func(next Handler) Handler {
		return func(ctx context.Context, msg *Msg) error {
			ctx = propagator.Extract(ctx, HeaderCarrier(msg.Header))
			ctx, span := tracer.Start(ctx, msg.Subject+" process", trace.WithSpanKind(trace.SpanKindConsumer))
			defer span.End()
			if span.IsRecording() {
				span.SetAttributes(
					semconv.MessagingSystemKey.String("nats"),
					semconv.MessagingDestinationName(msg.Subject),
					semconv.MessagingConsumerGroupName(msg.Consumer),
					attribute.Int64("messaging.nats.delivered", int64(msg.Delivered)),
				)
				if id := msg.Headers().ConversationID; id != "" {
					span.SetAttributes(semconv.MessagingMessageConversationID(id))
				}
			}
			err := next(ctx, msg)
			if err != nil {
				span.RecordError(err)
				span.SetStatus(codes.Error, err.Error())
			}
			return err
		}
	}
}
