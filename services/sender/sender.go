// Package sender is the gp2gp sender service.
//
// The sender is the previous practice's stage: it consumes EHR Requests,
// checks them (18 malformed, 07 GP2GP disabled, 19 requester not the
// patient's current practice, 06 patient not here, 10 record not produced,
// 20 Spine services failing, 99), asks the practice's system for the
// record, sends the EHR Extract (UK06, or UK07 when entries are NOPAT),
// asks the acknowledger to accept the request, and fails the transfer when
// no final acknowledgement arrives within 8 days. An operator's resend of a
// failed transfer fetches the record again and sends a fresh extract.
package sender

import (
	"context"
	"fmt"

	"github.com/nhsengland/gp2gp/libs/bus"
	"github.com/nhsengland/gp2gp/libs/service"
	"github.com/nhsengland/gp2gp/libs/stage"
)

// Timer kinds.
const (
	timerRecord   = "record"
	timerFinalAck = "final-ack"
)

// Run runs the sender until ctx ends, then drains and returns nil; it
// returns an error if it cannot start or a part of it fails.
func Run(ctx context.Context, cfg Config, opts ...stage.Option) error {
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("%s: invalid configuration: %w", Name, err)
	}
	group, ps := cfg.Service.ConsumerGroup, cfg.Service.Practices
	return stage.Run(ctx, Name, cfg.Config, bus.SenderTopology(group, ps), func(ctx context.Context, s *stage.Stage) ([]service.Worker, error) {
		snd := &sender{Stage: s, cfg: cfg}
		return []service.Worker{
			func(ctx context.Context) error {
				return s.Bus.Consume(ctx, bus.SenderRequests(group, ps), snd.handleSpine, bus.WithConcurrency(8))
			},
			func(ctx context.Context) error {
				return s.Bus.Consume(ctx, bus.SenderRecordResponses(group, ps), snd.handleRecordResponse, bus.WithConcurrency(8))
			},
			s.Timers(snd.handleTimer),
			func(ctx context.Context) error {
				return s.Bus.Consume(ctx, bus.SenderCommands(group, ps), snd.handleCommand)
			},
		}, nil
	}, opts...)
}

type sender struct {
	*stage.Stage
	cfg Config
}
