package bus

import (
	"context"
	"log/slog"

	"go.opentelemetry.io/otel/trace"
)

type conversationKey struct{}

// WithConversationID returns a context carrying the conversation id, which
// loggers built with NewLogHandler add to every line.
func WithConversationID(ctx context.Context, id string) context.Context {
	if id == "" {
		return ctx
	}
	return context.WithValue(ctx, conversationKey{}, id)
}

// ConversationID returns the conversation id carried by ctx, or "".
func ConversationID(ctx context.Context) string {
	id, _ := ctx.Value(conversationKey{}).(string)
	return id
}

// NewLogHandler wraps next so that every record logged with a context gets
// the context's conversation_id, trace_id and span_id. The consume runner
// puts the conversation id of the message being handled into the handler's
// context, so logger.InfoContext(ctx, …) inside a handler always names the
// transfer.
func NewLogHandler(next slog.Handler) slog.Handler { return logHandler{next} }

type logHandler struct{ next slog.Handler }

func (h logHandler) Enabled(ctx context.Context, l slog.Level) bool { return h.next.Enabled(ctx, l) }

func (h logHandler) Handle(ctx context.Context, r slog.Record) error {
	if id := ConversationID(ctx); id != "" {
		r.AddAttrs(slog.String("conversation_id", id))
	}
	if sc := trace.SpanContextFromContext(ctx); sc.IsValid() {
		r.AddAttrs(slog.String("trace_id", sc.TraceID().String()), slog.String("span_id", sc.SpanID().String()))
	}
	return h.next.Handle(ctx, r)
}

func (h logHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return logHandler{h.next.WithAttrs(attrs)}
}

func (h logHandler) WithGroup(name string) slog.Handler { return logHandler{h.next.WithGroup(name)} }
