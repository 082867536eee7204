// Package acknowledger is the gp2gp acknowledger service.
//
// The acknowledger builds and sends every application acknowledgement
// (MCCI_IN010000UK13) the other stages ask for — the sender's answer to an
// EHR Request, the requester's final acknowledgement, negative
// acknowledgements — and consumes the ones that arrive, matching each to
// the message it acknowledges by any of its ids and moving the transfer
// on: a request accepted or refused, a transfer completed or failed.
package acknowledger

import (
	"context"
	"fmt"

	"github.com/nhsengland/gp2gp/libs/bus"
	"github.com/nhsengland/gp2gp/libs/service"
	"github.com/nhsengland/gp2gp/libs/stage"
)

// Run runs the acknowledger until ctx ends, then drains and returns nil;
// it returns an error if it cannot start or a part of it fails.
func Run(ctx context.Context, cfg Config, opts ...stage.Option) error {
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("%s: invalid configuration: %w", Name, err)
	}
	group, ps := cfg.Service.ConsumerGroup, cfg.Service.Practices
	return stage.Run(ctx, Name, cfg.Config, bus.AcknowledgerTopology(group, ps), func(ctx context.Context, s *stage.Stage) ([]service.Worker, error) {
		a := &acknowledger{Stage: s}
		return []service.Worker{
			func(ctx context.Context) error {
				return s.Bus.Consume(ctx, bus.AcknowledgerRequests(group, ps), a.handleRequest, bus.WithConcurrency(8))
			},
			func(ctx context.Context) error {
				return s.Bus.Consume(ctx, bus.AcknowledgerAcks(group, ps), a.handleInbound, bus.WithConcurrency(8))
			},
		}, nil
	}, opts...)
}

type acknowledger struct {
	*stage.Stage
}
