package service

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"

	"github.com/nhsengland/gp2gp/libs/bus"
	"github.com/nhsengland/gp2gp/libs/natsauth"
	"github.com/nhsengland/gp2gp/libs/service/ops"
	"github.com/nhsengland/gp2gp/libs/transfer"
)

// Runtime is a started service: its logger, tracer provider, NATS
// connection and bus.
type Runtime struct {
	ownTracer bool

	Name   string
	Config Config
	Logger *slog.Logger
	Tracer *sdktrace.TracerProvider
	// Meter provides the service's metrics; Metrics are the gp2gp
	// instruments on it.
	Meter   *ops.MeterProvider
	Metrics *ops.Instruments
	Conn    *nats.Conn
	JS      jetstream.JetStream
	Bus     *bus.Bus
}

// StartOption adjusts Start.
type StartOption func(*startOptions)

type startOptions struct {
	logOutput io.Writer
	tracer    *sdktrace.TracerProvider
	bus       []bus.Option
}

// WithLogOutput sends log lines to w instead of standard error.
func WithLogOutput(w io.Writer) StartOption { return func(o *startOptions) { o.logOutput = w } }

// WithTracerProvider makes the service trace into tp (tests use an
// in-memory exporter) instead of a provider of its own. The service does
// not shut tp down.
func WithTracerProvider(tp *sdktrace.TracerProvider) StartOption {
	return func(o *startOptions) { o.tracer = tp }
}

// WithBusOptions adds options to the service's Bus (tests shorten the
// retry backoff).
func WithBusOptions(opts ...bus.Option) StartOption {
	return func(o *startOptions) { o.bus = append(o.bus, opts...) }
}

// Start sets up logging and tracing for the service called name, then
// connects to NATS, retrying until ctx ends so a service started before
// its NATS server waits for it.
func Start(ctx context.Context, name string, cfg Config, opts ...StartOption) (*Runtime, error) {
	o := startOptions{logOutput: os.Stderr}
	for _, opt := range opts {
		opt(&o)
	}
	logger := NewLogger(o.logOutput, cfg).With("service", name)
	tp, ownTracer := o.tracer, false
	if tp == nil {
		var err error
		if tp, err = newTracerProvider(ctx, name, cfg.OTLPEndpoint); err != nil {
			return nil, err
		}
		ownTracer = true
	}
	rt := &Runtime{Name: name, Config: cfg, Logger: logger, Tracer: tp, ownTracer: ownTracer}
	var err error
	if rt.Meter, err = ops.NewMeterProvider(ctx, name, cfg.OTLPMetricsEndpoint); err != nil {
		rt.shutdownTracer(ctx)
		return nil, fmt.Errorf("%s: metrics: %w", name, err)
	}
	if rt.Metrics, err = ops.NewInstruments(rt.Meter.Meter(ops.ScopeName)); err != nil {
		rt.shutdownTracer(ctx)
		return nil, fmt.Errorf("%s: metrics: %w", name, err)
	}
	if err = ops.RegisterRuntimeMetrics(rt.Meter.Meter(ops.ScopeName)); err != nil {
		rt.shutdownTracer(ctx)
		return nil, fmt.Errorf("%s: metrics: %w", name, err)
	}
	rt.Conn, err = connect(ctx, name, cfg.NATS, natsauth.InboxPrefix(natsauth.ServiceCommonName(name, cfg.ConsumerGroup)), logger)
	if err != nil {
		rt.shutdownTracer(ctx)
		return nil, err
	}
	if rt.JS, err = jetstream.New(rt.Conn); err == nil {
		rt.Bus, err = bus.New(rt.JS, append([]bus.Option{bus.WithLogger(logger), bus.WithTracerProvider(tp)}, o.bus...)...)
	}
	if err != nil {
		rt.Conn.Close()
		rt.shutdownTracer(ctx)
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	logger.Info("connected to NATS", "url", rt.Conn.ConnectedUrlRedacted(), "profile", cfg.Profile.Name,
		"practices", len(cfg.Practices))
	return rt, nil
}

func (rt *Runtime) shutdownTracer(ctx context.Context) {
	if rt.ownTracer {
		_ = rt.Tracer.Shutdown(context.WithoutCancel(ctx))
	}
	if rt.Meter != nil {
		_ = rt.Meter.Shutdown(context.WithoutCancel(ctx))
	}
}

// NewLogger builds the structured logger services use: JSON or text on w,
// at the configured level, with the conversation id and trace id of the
// context on every line logged with one.
func NewLogger(w io.Writer, cfg Config) *slog.Logger {
	hopts := &slog.HandlerOptions{Level: cfg.LogLevel}
	var h slog.Handler = slog.NewJSONHandler(w, hopts)
	if cfg.LogFormat == "text" {
		h = slog.NewTextHandler(w, hopts)
	}
	return slog.New(bus.NewLogHandler(h))
}

func newTracerProvider(ctx context.Context, name, endpoint string) (*sdktrace.TracerProvider, error) {
	opts := []sdktrace.TracerProviderOption{
		sdktrace.WithResource(resource.NewSchemaless(semconv.ServiceName(name), semconv.ServiceNamespace("gp2gp"))),
	}
	if endpoint == "" {
		// Nowhere to send spans: still make them, so trace ids reach the
		// logs and the message headers, but do not record them.
		opts = append(opts, sdktrace.WithSampler(sdktrace.NeverSample()))
		return sdktrace.NewTracerProvider(opts...), nil
	}
	exp, err := otlptracehttp.New(ctx, otlptracehttp.WithEndpointURL(endpoint))
	if err != nil {
		return nil, fmt.Errorf("%s: OTLP exporter for %s: %w", name, endpoint, err)
	}
	// Every transfer is one whole trace: sample everything, following the
	// caller's decision when a trace arrives from outside.
	opts = append(opts, sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.AlwaysSample())), sdktrace.WithBatcher(exp))
	return sdktrace.NewTracerProvider(opts...), nil
}

func connect(ctx context.Context, name string, cfg NATSConfig, inbox string, logger *slog.Logger) (*nats.Conn, error) {
	// Replies come below the user's own prefix: the only subjects its NATS
	// permissions let it subscribe on.
	auth, err := cfg.ClientOptions(inbox)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	opts := []nats.Option{
		nats.Name("gp2gp-" + name),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(time.Second),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err != nil { // nil: our own drain or close
				logger.Warn("disconnected from NATS", "error", err)
			}
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) {
			logger.Info("reconnected to NATS", "url", nc.ConnectedUrlRedacted())
		}),
		nats.ErrorHandler(func(_ *nats.Conn, sub *nats.Subscription, err error) {
			subject := ""
			if sub != nil {
				subject = sub.Subject
			}
			logger.Error("NATS asynchronous error", "subject", subject, "error", err)
		}),
	}
	opts = append(opts, auth...)
	wait := 500 * time.Millisecond
	for {
		nc, err := nats.Connect(cfg.URL, opts...)
		if err == nil {
			return nc, nil
		}
		if !retryableConnect(err) {
			// Bad credentials, TLS or URL: waiting will not fix it.
			return nil, fmt.Errorf("%s: connect to NATS at %s: %w", name, cfg.URL, err)
		}
		logger.Warn("NATS not reachable yet; retrying", "url", cfg.URL, "error", err, "retry_in", wait.String())
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("%s: connect to NATS at %s: %w (gave up: %w)", name, cfg.URL, err, ctx.Err())
		case <-time.After(wait):
		}
		wait = min(2*wait, 10*time.Second)
	}
}

// Worker is a long-running part of a service, typically one consumer. It
// returns when ctx ends.
type Worker func(ctx context.Context) error

// Run runs a whole service: it starts the runtime, ensures topo, asks
// build for the service's workers, runs them until ctx ends or one fails,
// and closes the runtime (draining NATS) before returning. It returns the
// first failure, or nil after a clean shutdown.
func Run(ctx context.Context, name string, cfg Config, topo bus.Topology, build func(context.Context, *Runtime) ([]Worker, error), opts ...StartOption) (err error) {
	defer func() {
		// Stopped while starting: that is a clean stop, not a failure.
		if errors.Is(err, context.Canceled) && ctx.Err() != nil {
			err = nil
		}
	}()
	rt, err := Start(ctx, name, cfg, opts...)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, rt.Close(ctx)) }()
	if err := rt.Ensure(ctx, topo); err != nil {
		return err
	}
	workers, err := build(ctx, rt)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	if cfg.OpsAddr != "" {
		srv, err := rt.OpsServer(ctx, topo)
		if err != nil {
			return fmt.Errorf("%s: ops endpoint: %w", name, err)
		}
		workers = append(workers, func(ctx context.Context) error { return srv.Serve(ctx, cfg.OpsAddr) })
	}
	if err := RunAll(ctx, workers...); err != nil {
		rt.Logger.Error("stopping after a worker failed", "error", err)
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}

// OpsServer is the service's ops endpoint: liveness, readiness (NATS
// connected, the topology's streams present), metrics, and the transfer
// views when the topology holds transfer state.
func (rt *Runtime) OpsServer(ctx context.Context, topo bus.Topology) (*ops.Server, error) {
	streams := make([]string, 0, len(topo.Streams))
	for _, s := range topo.Streams {
		streams = append(streams, s.Name)
	}
	opts := []ops.Option{
		ops.WithMetrics(rt.Meter), ops.WithLogger(rt.Logger),
		ops.WithChecks(ops.NATSConnected(rt.Conn), ops.StreamsPresent(rt.JS, streams...)),
	}
	for _, kv := range topo.KeyValues {
		if kv.Bucket != bus.BucketTransfers {
			continue
		}
		bucket, err := rt.JS.KeyValue(ctx, bus.BucketTransfers)
		if err != nil {
			return nil, err
		}
		store, err := transfer.NewStore(ctx, rt.Bus)
		if err != nil {
			return nil, err
		}
		reader, err := ops.NewKVTransferReader(bucket, store)
		if err != nil {
			return nil, err
		}
		opts = append(opts, ops.WithTransfers(reader))
	}
	return ops.NewServer(opts...)
}

// Ensure creates or updates the streams, buckets and consumers of topo.
func (rt *Runtime) Ensure(ctx context.Context, topo bus.Topology) error {
	if err := bus.Ensure(ctx, rt.JS, rt.Config.Profile, topo); err != nil {
		return fmt.Errorf("%s: %w", rt.Name, err)
	}
	rt.Logger.Info("streams and consumers ready", "streams", len(topo.Streams), "buckets", len(topo.KeyValues),
		"consumers", len(topo.Consumers))
	return nil
}

// RunAll runs fns concurrently until ctx ends or one fails; a failure
// cancels the others. A worker may return nil early (a startup task);
// RunAll still runs until ctx ends. It returns the first failure after all
// workers have returned, or nil once ctx has ended and they all have.
func RunAll(ctx context.Context, fns ...Worker) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	var once sync.Once
	var first error
	for _, fn := range fns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := fn(ctx); err != nil {
				once.Do(func() { first = err; cancel() })
			}
		}()
	}
	wg.Wait()
	if first != nil {
		return first
	}
	// Workers that finished early (startup tasks) do not stop the service.
	<-ctx.Done()
	return nil
}

// Close drains the NATS connection (pending publishes and acks are
// flushed) and flushes spans. It waits at most the shutdown timeout, even
// if ctx has already ended (as it has when a service stops).
func (rt *Runtime) Close(ctx context.Context) error {
	var errs []error
	drained := make(chan struct{})
	rt.Conn.SetClosedHandler(func(*nats.Conn) { close(drained) })
	if err := rt.Conn.Drain(); err != nil {
		errs = append(errs, fmt.Errorf("drain NATS: %w", err))
		rt.Conn.Close()
	} else {
		select {
		case <-drained:
		case <-time.After(rt.Config.ShutdownTimeout):
			errs = append(errs, errors.New("drain NATS: timed out"))
			rt.Conn.Close()
		}
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), rt.Config.ShutdownTimeout)
	defer cancel()
	if rt.ownTracer {
		if err := rt.Tracer.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("flush spans: %w", err))
		}
	}
	if err := rt.Meter.Shutdown(ctx); err != nil {
		errs = append(errs, fmt.Errorf("flush metrics: %w", err))
	}
	rt.Logger.Info("stopped")
	return errors.Join(errs...)
}

// Main is the whole of a service's main function: it loads the
// configuration, runs the service until SIGINT or SIGTERM, and exits once,
// with status 1 and the error on standard error if either fails.
func Main[C, O any](load func() (C, error), run func(context.Context, C, ...O) error) {
	if err := mainErr(load, run); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func mainErr[C, O any](load func() (C, error), run func(context.Context, C, ...O) error) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cfg, err := load()
	if err != nil {
		return err
	}
	return run(ctx, cfg)
}
