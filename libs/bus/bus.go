package bus

import (
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"github.com/nats-io/nats.go/jetstream"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// instrumentationName names the tracer the bus creates spans with.
const instrumentationName = "github.com/nhsengland/gp2gp/libs/bus"

// Bus publishes and consumes gp2gp messages on one JetStream context.
// It is safe for concurrent use.
type Bus struct {
	js          jetstream.JetStream
	logger      *slog.Logger
	tracer      trace.Tracer
	propagator  propagation.TextMapPropagator
	inlineLimit int
	backoff     Backoff

	bodiesMu sync.Mutex
	bodies   jetstream.ObjectStore
}

// Option configures a Bus.
type Option func(*Bus) error

// WithLogger sets the logger for the runner's own lines (outcomes, retries,
// dead letters). Wrap its handler with NewLogHandler to get the
// conversation id and trace id on every line. Default: discard.
func WithLogger(l *slog.Logger) Option {
	return func(b *Bus) error {
		if l == nil {
			return errors.New("bus: WithLogger: nil logger")
		}
		b.logger = l
		return nil
	}
}

// WithTracerProvider sets where spans go. Default: no spans.
func WithTracerProvider(tp trace.TracerProvider) Option {
	return func(b *Bus) error {
		if tp == nil {
			return errors.New("bus: WithTracerProvider: nil provider")
		}
		b.tracer = tp.Tracer(instrumentationName)
		return nil
	}
}

// WithPropagator sets how trace context is written to and read from
// headers. Default: W3C trace context and baggage.
func WithPropagator(p propagation.TextMapPropagator) Option {
	return func(b *Bus) error {
		if p == nil {
			return errors.New("bus: WithPropagator: nil propagator")
		}
		b.propagator = p
		return nil
	}
}

// DefaultInlineLimit is the largest body sent inside a bus message; larger
// ones go to the object store (NATS refuses messages over 1 MB by default).
const DefaultInlineLimit = 900 << 10

// WithInlineLimit sets the largest body sent inside a bus message; larger
// bodies are stored in the BucketBodies object store and the message
// carries a claim check (HeaderBodyObject) that consumers resolve before
// the handler runs.
func WithInlineLimit(n int) Option {
	return func(b *Bus) error {
		if n < 1 {
			return fmt.Errorf("bus: WithInlineLimit(%d): must be positive", n)
		}
		b.inlineLimit = n
		return nil
	}
}

// WithRetryBackoff sets the backoff between deliveries of a message whose
// handler failed, for every consumer of the bus that does not set its own
// (default DefaultBackoff).
func WithRetryBackoff(bo Backoff) Option {
	return func(b *Bus) error {
		if err := bo.validate(); err != nil {
			return fmt.Errorf("bus: WithRetryBackoff: %w", err)
		}
		b.backoff = bo
		return nil
	}
}

// New returns a Bus on js.
func New(js jetstream.JetStream, opts ...Option) (*Bus, error) {
	if js == nil {
		return nil, errors.New("bus: nil JetStream")
	}
	b := &Bus{
		js:          js,
		logger:      slog.New(slog.DiscardHandler),
		tracer:      noop.NewTracerProvider().Tracer(instrumentationName),
		propagator:  propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}),
		inlineLimit: DefaultInlineLimit,
		backoff:     DefaultBackoff,
	}
	for _, o := range opts {
		if err := o(b); err != nil {
			return nil, err
		}
	}
	return b, nil
}

// JetStream returns the JetStream context the bus uses.
func (b *Bus) JetStream() jetstream.JetStream { return b.js }
