// Package bus is the gp2gp message bus on NATS JetStream.
//
// It provides three things, so that no service talks to JetStream directly:
//
//   - The topology (topology.go): every stream, subject, key-value bucket and
//     durable consumer of the system, declared once, and Ensure, which creates
//     or updates them idempotently.
//   - Publishing (Bus.Publish): every message carries a deterministic
//     Nats-Msg-Id so a repeated publish is stored once (JetStream dedupe), the
//     typed gp2gp headers (conversation id, interaction id, message id) and the
//     caller's W3C trace context.
//   - Consuming (Bus.Consume): a handler is func(ctx, *Msg) error and the
//     runner owns acknowledgement. nil acks the message; a retryable error naks
//     it with exponential backoff; a Permanent error, or a message that has
//     reached its maximum deliveries, is copied to the dead-letter stream with
//     the reason, its original subject and its delivery count, and then
//     terminated. Nothing is dropped silently: the server-side delivery limit
//     is unlimited and the runner enforces the limit itself, so a message
//     leaves a consumer only by being acknowledged or dead-lettered.
//
// Panic recovery, logging (log/slog, with the conversation id on every line)
// and OpenTelemetry tracing (a producer span on publish, a consumer span on
// receive, linked through the traceparent header) are middleware that the
// runner installs around every handler.
package bus
