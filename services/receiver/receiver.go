// Package receiver is the gp2gp receiver service.
//
// The receiver is the new practice's stage for the record itself: it consumes EHR Extracts
// and attachment COPCs, reassembles and stores the record and hands it to the practice's system.
package receiver

import (
	"context"
	"fmt"

	"github.com/nhsengland/gp2gp/libs/bus"
	"github.com/nhsengland/gp2gp/libs/service"
	"github.com/nhsengland/gp2gp/libs/transfer"
)

// Run runs the receiver until ctx ends, then drains and returns nil; it
// returns an error if it cannot start or a part of it fails.
func Run(ctx context.Context, cfg Config, opts ...service.StartOption) error {
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("%s: invalid configuration: %w", Name, err)
	}
	topo := bus.ReceiverTopology(cfg.ConsumerGroup, cfg.Practices)
	return service.Run(ctx, Name, cfg.Config, topo, func(ctx context.Context, rt *service.Runtime) ([]service.Worker, error) {
		store, err := transfer.NewStore(ctx, rt.Bus, transfer.WithLogger(rt.Logger))
		if err != nil {
			return nil, err
		}
		return []service.Worker{store.Recover}, nil
	}, opts...)
}
