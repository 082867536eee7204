package ops

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/nhsengland/gp2gp/libs/bus"
)

// deadLetterTimeout bounds one reading of the dead-letter stream, so that a
// slow JetStream cannot hold up a scrape.
const deadLetterTimeout = 2 * time.Second

// ObserveDeadLetters registers MetricDeadLetters on meter: at every
// collection it reads the message count of the dead-letter stream
// (bus.StreamDeadLetter) through js. When the stream cannot be read the
// gauge is left out of that collection and the error is reported (by
// MeterProvider.WritePrometheus as ErrPartialMetrics). Every service sees
// the same stream, so register it in one deployment (or aggregate with
// max). Unregister the returned registration to stop observing.
func ObserveDeadLetters(meter metric.Meter, js jetstream.JetStream) (metric.Registration, error) {
	if meter == nil || js == nil {
		return nil, errors.New("ops: ObserveDeadLetters: nil meter or JetStream")
	}
	gauge, err := meter.Int64ObservableGauge(MetricDeadLetters, metric.WithUnit("{message}"),
		metric.WithDescription("Messages in the dead-letter stream "+bus.StreamDeadLetter))
	if err != nil {
		return nil, fmt.Errorf("ops: create dead-letter gauge: %w", err)
	}
	dlq := &streamDepth{js: js, name: bus.StreamDeadLetter}
	attrs := metric.WithAttributeSet(attribute.NewSet(attribute.String(AttrStream, bus.StreamDeadLetter)))
	reg, err := meter.RegisterCallback(func(ctx context.Context, o metric.Observer) error {
		n, err := dlq.messages(ctx)
		if err != nil {
			return err
		}
		o.ObserveInt64(gauge, int64(n), attrs)
		return nil
	}, gauge)
	if err != nil {
		return nil, fmt.Errorf("ops: register dead-letter gauge: %w", err)
	}
	return reg, nil
}

// streamDepth reads a stream's message count, keeping the stream handle
// once it has been found (the stream may be created after the gauge).
type streamDepth struct {
	js   jetstream.JetStream
	name string

	mu     sync.Mutex
	stream jetstream.Stream
}

func (s *streamDepth) messages(ctx context.Context) (uint64, error) {
	ctx, cancel := context.WithTimeout(ctx, deadLetterTimeout)
	defer cancel()
	s.mu.Lock()
	stream := s.stream
	s.mu.Unlock()
	if stream == nil {
		found, err := s.js.Stream(ctx, s.name)
		if err != nil {
			return 0, fmt.Errorf("ops: dead-letter depth: stream %s: %w", s.name, err)
		}
		s.mu.Lock()
		s.stream = found
		s.mu.Unlock()
		stream = found
	}
	info, err := stream.Info(ctx)
	if err != nil {
		if errors.Is(err, jetstream.ErrStreamNotFound) {
			s.mu.Lock()
			s.stream = nil // deleted: look it up afresh next time
			s.mu.Unlock()
		}
		return 0, fmt.Errorf("ops: dead-letter depth: stream %s: %w", s.name, err)
	}
	return info.State.Msgs, nil
}
