// Package acknowledger is the gp2gp acknowledger service.
//
// The acknowledger builds and sends every application acknowledgement (MCCI) and consumes
// inbound ones, closing transfers with their outcome.
package acknowledger

import (
	"context"
	"fmt"

	"github.com/nhsengland/gp2gp/libs/bus"
	"github.com/nhsengland/gp2gp/libs/service"
	"github.com/nhsengland/gp2gp/libs/transfer"
)

// Run runs the acknowledger until ctx ends, then drains and returns nil; it
// returns an error if it cannot start or a part of it fails.
func Run(ctx context.Context, cfg Config, opts ...service.StartOption) error {
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("%s: invalid configuration: %w", Name, err)
	}
	topo := bus.AcknowledgerTopology(cfg.ConsumerGroup, cfg.Practices)
	return service.Run(ctx, Name, cfg.Config, topo, func(ctx context.Context, rt *service.Runtime) ([]service.Worker, error) {
		store, err := transfer.NewStore(ctx, rt.Bus, transfer.WithLogger(rt.Logger))
		if err != nil {
			return nil, err
		}
		return []service.Worker{store.Recover}, nil
	}, opts...)
}
