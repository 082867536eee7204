// Package mireporter is the gp2gp MI reporter service.
//
// The mireporter consumes every transfer lifecycle event and keeps the NHS
// classification of transfers (integrated within 3 days, within 8 days,
// not within 8 days) and the monthly practice and national figures.
package mireporter

import (
	"context"
	"fmt"

	"github.com/nhsengland/gp2gp/libs/bus"
	"github.com/nhsengland/gp2gp/libs/service"
)

// Run runs the mireporter until ctx ends, then drains and returns nil; it
// returns an error if it cannot start or a part of it fails.
func Run(ctx context.Context, cfg Config, opts ...service.StartOption) error {
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("%s: invalid configuration: %w", Name, err)
	}
	topo := bus.MIReporterTopology(cfg.ConsumerGroup)
	return service.Run(ctx, Name, cfg.Config, topo, func(context.Context, *service.Runtime) ([]service.Worker, error) {
		return nil, nil
	}, opts...)
}
