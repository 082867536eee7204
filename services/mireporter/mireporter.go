// Package mireporter is the gp2gp MI reporter service.
//
// The mireporter consumes the message event of every GP2GP wire message
// and every transfer lifecycle event. It classifies each transfer the way
// NHS England does (libs/mi, GP2GP-MI.md §1), keeps the monthly national
// and practice figures (§2) current, serves them as a JSON and CSV API and
// a dashboard, and turns lifecycle events into enhanced MI events posted
// to the GP Registrations MI API through a durable outbox.
//
// State: the MI bucket (bus.BucketMI) holds each open conversation's
// message events (one key per message: a redelivered event is stored
// once) and each closed conversation's classification; the figures are
// rebuilt from it at start (see live.go). It is also where the
// deployment-wide gauges come from, as the one service that sees every
// transfer: transfers in flight by side and state (counted from the
// transfers bucket) and the dead-letter depth. Run one instance, or
// aggregate its gauges with max.
package mireporter

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/nhsengland/gp2gp/libs/bus"
	"github.com/nhsengland/gp2gp/libs/mi"
	"github.com/nhsengland/gp2gp/libs/miapi"
	"github.com/nhsengland/gp2gp/libs/service"
	"github.com/nhsengland/gp2gp/libs/service/ops"
	"github.com/nhsengland/gp2gp/libs/transfer"
	gp2gpv1 "github.com/nhsengland/gp2gp/proto/gp2gp/v1"
	"github.com/nhsengland/gp2gp/services/mireporter/internal/web"
)

// Option adjusts Run, mostly for tests.
type Option func(*options)

type options struct {
	start    []service.StartOption
	now      func() time.Time
	every    time.Duration
	listened func(addr string)
	client   []miapi.ClientOption
}

// WithStartOptions passes options to the service's start.
func WithStartOptions(opts ...service.StartOption) Option {
	return func(o *options) { o.start = append(o.start, opts...) }
}

// WithClock sets the clock that decides when a conversation's cutoff has
// passed.
func WithClock(now func() time.Time) Option { return func(o *options) { o.now = now } }

// WithClassifyInterval sets how often changed conversations are
// classified again (default 500 ms).
func WithClassifyInterval(d time.Duration) Option { return func(o *options) { o.every = d } }

// WithHTTPListening has fn called with the MI API's address once it
// listens.
func WithHTTPListening(fn func(addr string)) Option { return func(o *options) { o.listened = fn } }

// WithAPIClientOptions passes options to the MI API client.
func WithAPIClientOptions(opts ...miapi.ClientOption) Option {
	return func(o *options) { o.client = append(o.client, opts...) }
}

// Run runs the mireporter until ctx ends, then drains and returns nil; it
// returns an error if it cannot start or a part of it fails.
func Run(ctx context.Context, cfg Config, opts ...Option) error {
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("%s: invalid configuration: %w", Name, err)
	}
	o := options{now: time.Now, every: classifyEvery}
	for _, opt := range opts {
		opt(&o)
	}
	var lookup mi.PracticeLookup
	if cfg.ODSMetadata != "" {
		md, err := loadMetadata(cfg.ODSMetadata)
		if err != nil {
			return fmt.Errorf("%s: %s: %w", Name, EnvODSMetadata, err)
		}
		lookup = md.Lookup()
	}
	var client *miapi.Client
	if cfg.APIURL != "" {
		var err error
		copts := o.client
		if cfg.APIKey != "" {
			copts = append([]miapi.ClientOption{miapi.WithAPIKey(cfg.APIKey)}, copts...)
		}
		if client, err = miapi.NewClient(cfg.APIURL, copts...); err != nil {
			return fmt.Errorf("%s: %s: %w", Name, EnvAPIURL, err)
		}
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
		transfers, err := rt.JS.KeyValue(ctx, bus.BucketTransfers)
		if err != nil {
			return nil, fmt.Errorf("%s: open %s: %w", Name, bus.BucketTransfers, err)
		}
		kv, err := rt.JS.KeyValue(ctx, bus.BucketMI)
		if err != nil {
			return nil, fmt.Errorf("%s: open %s: %w", Name, bus.BucketMI, err)
		}
		m := newModel(cfg.Cutoff, o.now, lookup)
		l := &live{kv: kv, model: m, logger: rt.Logger, now: o.now}
		messages := bus.MIReporterMessages(cfg.ConsumerGroup)
		l.pending = func(ctx context.Context) (uint64, error) {
			c, err := rt.JS.Consumer(ctx, messages.Stream, messages.Durable)
			if err != nil {
				return 0, err
			}
			info, err := c.Info(ctx)
			if err != nil {
				return 0, err
			}
			return info.NumPending + uint64(info.NumAckPending), nil
		}
		figs := &figures{model: m, kv: kv, now: o.now}
		group := cfg.ConsumerGroup

		var x *enhanced
		if client != nil {
			store, err := transfer.NewStore(ctx, rt.Bus, transfer.WithLogger(rt.Logger))
			if err != nil {
				return nil, err
			}
			secret, err := deploymentSecret(ctx, kv)
			if err != nil {
				return nil, fmt.Errorf("%s: the deployment secret: %w", Name, err)
			}
			x = &enhanced{bus: rt.Bus, store: store, supplier: cfg.SupplierODS, secret: secret, logger: rt.Logger}
		}
		lifecycle := func(ctx context.Context, msg *bus.Msg) error {
			var ev gp2gpv1.TransferEvent
			if err := bus.Decode(msg, &ev); err != nil {
				return bus.Permanent(err)
			}
			if err := l.handleLifecycle(ctx, &ev); err != nil {
				return err
			}
			if x != nil {
				return x.handle(ctx, &ev)
			}
			return nil
		}

		workers := []service.Worker{
			func(ctx context.Context) error { return active.Run(ctx, transfers) },
			l.watch,
			func(ctx context.Context) error { return l.classify(ctx, o.every, figs.write) },
			func(ctx context.Context) error {
				return rt.Bus.Consume(ctx, messages, l.handleMessage, bus.WithConcurrency(8))
			},
			func(ctx context.Context) error {
				return rt.Bus.Consume(ctx, bus.MIReporterLifecycle(group), lifecycle, bus.WithConcurrency(4))
			},
		}
		if client != nil {
			p := &poster{client: client, logger: rt.Logger}
			workers = append(workers, func(ctx context.Context) error {
				return rt.Bus.Consume(ctx, bus.MIReporterOutbox(group), p.handle, bus.WithConcurrency(4))
			})
		}
		if cfg.HTTPAddr != "" {
			ln, err := net.Listen("tcp", cfg.HTTPAddr)
			if err != nil {
				return nil, fmt.Errorf("%s: %s: %w", Name, EnvHTTPAddr, err)
			}
			rt.Logger.Info("serving the MI API and dashboard", "addr", ln.Addr().String())
			if o.listened != nil {
				o.listened(ln.Addr().String())
			}
			h := web.NewHandler(figs, web.WithLogger(rt.Logger), web.WithClock(o.now))
			workers = append(workers, func(ctx context.Context) error { return serve(ctx, ln, h) })
		}
		return workers, nil
	}, o.start...)
}

// loadMetadata reads the ODS metadata file.
func loadMetadata(path string) (*mi.Metadata, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer func() { _ = f.Close() }()
	return mi.LoadMetadata(f)
}

// serve serves h on ln until ctx ends, then shuts down within 5 s.
func serve(ctx context.Context, ln net.Listener, h http.Handler) error {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: time.Minute}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done:
		return fmt.Errorf("%s: MI API: %w", Name, err)
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	err := srv.Shutdown(shutdown)
	if e := <-done; !errors.Is(e, http.ErrServerClosed) && err == nil {
		err = e
	}
	return err
}
