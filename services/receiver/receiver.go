// Package receiver is the gp2gp receiver service.
//
// The receiver is the new practice's stage for the record itself: it
// consumes EHR Extracts (21 malformed, 09 never requested, 12 duplicate),
// stores the record and its summary in the object store, hands it to the
// practice's system (or integrates it automatically when the policy allows)
// and turns the practice's integration outcome into the final
// acknowledgement. It recognises a returning patient (A-B-A).
package receiver

import (
	"context"
	"fmt"

	"github.com/nhsengland/gp2gp/libs/bus"
	"github.com/nhsengland/gp2gp/libs/service"
	"github.com/nhsengland/gp2gp/libs/stage"
)

// Run runs the receiver until ctx ends, then drains and returns nil; it
// returns an error if it cannot start or a part of it fails.
func Run(ctx context.Context, cfg Config, opts ...stage.Option) error {
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("%s: invalid configuration: %w", Name, err)
	}
	group, ps := cfg.Service.ConsumerGroup, cfg.Service.Practices
	return stage.Run(ctx, Name, cfg.Config, bus.ReceiverTopology(group, ps), func(ctx context.Context, s *stage.Stage) ([]service.Worker, error) {
		r := &receiver{Stage: s, cfg: cfg}
		return []service.Worker{
			func(ctx context.Context) error {
				return s.Bus.Consume(ctx, bus.ReceiverExtracts(group, ps), r.handleSpine, bus.WithConcurrency(8))
			},
			func(ctx context.Context) error {
				return s.Bus.Consume(ctx, bus.ReceiverIntegrations(group, ps), r.handleOutcome, bus.WithConcurrency(8))
			},
			s.Timers(r.handleTimer),
		}, nil
	}, opts...)
}

type receiver struct {
	*stage.Stage
	cfg Config
}
