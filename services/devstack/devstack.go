// Package devstack runs the whole gp2gp system in one process for
// development and demonstrations: an embedded NATS server with JetStream
// (file store in a data directory) and every service's Run, all serving
// the same simulated practices over the loopback Spine.
package devstack

import (
	"context"
	"fmt"
	"os"

	"github.com/nhsengland/gp2gp/libs/natsembed"
	"github.com/nhsengland/gp2gp/libs/service"
	"github.com/nhsengland/gp2gp/services/acknowledger"
	"github.com/nhsengland/gp2gp/services/mireporter"
	"github.com/nhsengland/gp2gp/services/receiver"
	"github.com/nhsengland/gp2gp/services/requester"
	"github.com/nhsengland/gp2gp/services/sender"
)

// Ready is called once the NATS server is up, with its client URL.
type Ready func(natsURL string)

// Run starts the embedded NATS server and every service, and runs them
// until ctx ends or one fails; then it stops the services (they drain) and
// the server. ready, if not nil, is told the server's URL.
func Run(ctx context.Context, cfg Config, ready Ready, opts ...service.StartOption) error {
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("devstack: invalid configuration: %w", err)
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return fmt.Errorf("devstack: data directory: %w", err)
	}
	srv, err := natsembed.Start(natsembed.Options{StoreDir: cfg.DataDir, Port: cfg.NATSPort, ServerName: "gp2gp-devstack"})
	if err != nil {
		return fmt.Errorf("devstack: %w", err)
	}
	defer srv.Shutdown()
	if ready != nil {
		ready(srv.URL())
	}

	sc := cfg.Service
	sc.NATS = service.NATSConfig{URL: srv.URL()}
	return service.RunAll(ctx,
		func(ctx context.Context) error { return requester.Run(ctx, requester.Config{Config: sc}, opts...) },
		func(ctx context.Context) error { return sender.Run(ctx, sender.Config{Config: sc}, opts...) },
		func(ctx context.Context) error { return receiver.Run(ctx, receiver.Config{Config: sc}, opts...) },
		func(ctx context.Context) error {
			return acknowledger.Run(ctx, acknowledger.Config{Config: sc}, opts...)
		},
		func(ctx context.Context) error { return mireporter.Run(ctx, mireporter.Config{Config: sc}, opts...) },
	)
}
