// Package mireporter is the gp2gp MI reporter service.
//
// The mireporter consumes every transfer lifecycle event and keeps the NHS
// classification of transfers (integrated within 3 days, within 8 days,
// not within 8 days) and the monthly practice and national figures.
//
// It is also where the deployment-wide gauges come from, as the one
// service that sees every transfer: transfers in flight by side and state
// (counted from the transfers bucket) and the dead-letter depth. Run one
// instance, or aggregate its gauges with max.
package mireporter

import (
	"context"
	"fmt"

	"github.com/nhsengland/gp2gp/libs/bus"
	"github.com/nhsengland/gp2gp/libs/service"
	"github.com/nhsengland/gp2gp/libs/service/ops"
)

// Run runs the mireporter until ctx ends, then drains and returns nil; it
// returns an error if it cannot start or a part of it fails.
func Run(ctx context.Context, cfg Config, opts ...service.StartOption) error {
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("%s: invalid configuration: %w", Name, err)
	}
	topo := bus.MIReporterTopology(cfg.ConsumerGroup)
	return service.Run(ctx, Name, cfg.Config, topo, func(ctx context.Context, rt *service.Runtime) ([]service.Worker, error) {
		meter := rt.Meter.Meter(ops.ScopeName)
		if _, err := ops.ObserveDeadLetters(meter, rt.JS); err != nil {
			return nil, err
		}
		active := ops.NewActiveTransfers()
		if _, err := active.Observe(meter); err != nil {
			return nil, err
		}
		kv, err := rt.JS.KeyValue(ctx, bus.BucketTransfers)
		if err != nil {
			return nil, fmt.Errorf("%s: open %s: %w", Name, bus.BucketTransfers, err)
		}
		return []service.Worker{func(ctx context.Context) error { return active.Run(ctx, kv) }}, nil
	}, opts...)
}
