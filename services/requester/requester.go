// Package requester is the gp2gp requester service.
//
// The requester is the new practice's first stage: it consumes vendor
// registration events, creates one transfer per registration, resolves the
// previous practice (from the event or PDS) and its Spine identity and
// persist durations (SDS), sends the EHR Request, and fails the transfer
// when no extract arrives within the protocol's timeout. It also acts on
// operators' resends of requesting sides (the EHR Request or the final
// acknowledgement again).
package requester

import (
	"context"
	"fmt"

	"github.com/nhsengland/gp2gp/libs/bus"
	"github.com/nhsengland/gp2gp/libs/service"
	"github.com/nhsengland/gp2gp/libs/stage"
)

// Run runs the requester until ctx ends, then drains and returns nil; it
// returns an error if it cannot start or a part of it fails.
func Run(ctx context.Context, cfg Config, opts ...stage.Option) error {
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("%s: invalid configuration: %w", Name, err)
	}
	topo := bus.RequesterTopology(cfg.Service.ConsumerGroup, cfg.Service.Practices)
	return stage.Run(ctx, Name, cfg.Config, topo, func(ctx context.Context, s *stage.Stage) ([]service.Worker, error) {
		r := &requester{Stage: s, cfg: cfg}
		return []service.Worker{
			func(ctx context.Context) error {
				return s.Bus.Consume(ctx, bus.RequesterRegistrations(cfg.Service.ConsumerGroup, cfg.Service.Practices), r.handleRegistration, bus.WithConcurrency(8))
			},
			s.Timers(r.handleTimer),
			func(ctx context.Context) error {
				return s.Bus.Consume(ctx, bus.RequesterCommands(cfg.Service.ConsumerGroup, cfg.Service.Practices), r.handleCommand)
			},
		}, nil
	}, opts...)
}

type requester struct {
	*stage.Stage
	cfg Config
}
