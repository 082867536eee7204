// Package devstack runs the whole gp2gp system in one process for
// development and demonstrations: an embedded NATS server with JetStream
// (file store in a data directory), every service's Run on the loopback
// Spine, and two simulated practices (package practicesim) — A12345 and
// B86041 — whose clinical systems answer record requests with synthetic
// records and integrate what they receive. At start it performs one
// transfer and prints its timeline.
package devstack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/nhsengland/gp2gp/libs/bus"
	"github.com/nhsengland/gp2gp/libs/directory/devdirectory"
	"github.com/nhsengland/gp2gp/libs/natsauth"
	"github.com/nhsengland/gp2gp/libs/natsembed"
	"github.com/nhsengland/gp2gp/libs/practicesim"
	"github.com/nhsengland/gp2gp/libs/service"
	"github.com/nhsengland/gp2gp/libs/service/ops"
	"github.com/nhsengland/gp2gp/libs/stage"
	"github.com/nhsengland/gp2gp/libs/transfer"
	"github.com/nhsengland/gp2gp/services/acknowledger"
	"github.com/nhsengland/gp2gp/services/mireporter"
	"github.com/nhsengland/gp2gp/services/receiver"
	"github.com/nhsengland/gp2gp/services/requester"
	"github.com/nhsengland/gp2gp/services/sender"
)

// Ready is called once the NATS server is up, with its client URL.
type Ready func(natsURL string)

// Option adjusts Run.
type Option func(*options)

type options struct {
	ready     Ready
	out       io.Writer
	start     []service.StartOption
	demoed    func(conversationID string)
	violation func(string)
	practice  []practicesim.Option
}

// WithPracticeOptions adds options to every simulated practice (tests make
// their records large, say).
func WithPracticeOptions(opts ...practicesim.Option) Option {
	return func(o *options) { o.practice = append(o.practice, opts...) }
}

// WithViolations has fn called with the server's log line of every
// permissions violation, when security is on.
func WithViolations(fn func(line string)) Option { return func(o *options) { o.violation = fn } }

// WithReady has ready called with the NATS URL once the server is up.
func WithReady(ready Ready) Option { return func(o *options) { o.ready = ready } }

// WithOutput sends the demo's timeline to w (default standard error).
func WithOutput(w io.Writer) Option { return func(o *options) { o.out = w } }

// WithStartOptions passes options to every service's start.
func WithStartOptions(opts ...service.StartOption) Option {
	return func(o *options) { o.start = append(o.start, opts...) }
}

// WithDemoDone has fn called with the demo transfer's conversation id once
// it has finished.
func WithDemoDone(fn func(conversationID string)) Option { return func(o *options) { o.demoed = fn } }

// Run starts the embedded NATS server, every service and the simulated
// practices, and runs them until ctx ends or one fails; then it stops
// everything (the services drain) and the server.
func Run(ctx context.Context, cfg Config, opts ...Option) error {
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("devstack: invalid configuration: %w", err)
	}
	o := options{out: os.Stderr}
	for _, opt := range opts {
		opt(&o)
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return fmt.Errorf("devstack: data directory: %w", err)
	}
	eo := natsembed.Options{StoreDir: cfg.DataDir, Port: cfg.NATSPort, ServerName: "gp2gp-devstack"}
	var sec *security
	if cfg.Security {
		var err error
		if sec, err = setUpSecurity(cfg.DataDir, cfg.Stage.Service.Practices, cfg.Stage.Service.ConsumerGroup); err != nil {
			return err
		}
		eo.ConfigFile = sec.conf
		eo.Logger = violationLogger{logger: service.NewLogger(os.Stderr, cfg.Stage.Service).With("service", "nats"), violation: o.violation}
	}
	srv, err := natsembed.Start(eo)
	if err != nil {
		return fmt.Errorf("devstack: %w", err)
	}
	defer srv.Shutdown()
	if o.ready != nil {
		o.ready(srv.URL())
	}

	sc := cfg.Stage
	// natsFor is how the service (or tool) whose certificate CN is cn
	// connects.
	natsFor := func(cn string) service.NATSConfig {
		if sec == nil {
			return service.NATSConfig{URL: srv.URL()}
		}
		return sec.client(srv.URL(), cn)
	}
	stageOpts := []stage.Option{stage.WithStartOptions(o.start...)}
	if sc.Directory.File == "" && sc.Directory.PDSURL == "" && sc.Directory.SDSURL == "" {
		dir, err := devdirectory.File()
		if err != nil {
			return fmt.Errorf("devstack: dev directory: %w", err)
		}
		sc.Directory.File = "(embedded dev directory)"
		stageOpts = append(stageOpts, stage.WithDirectory(dir, dir))
	}
	// withOps is the configuration of the i-th service, named name.
	withOps := func(c stage.Config, i int) stage.Config {
		name := []string{requester.Name, sender.Name, receiver.Name, acknowledger.Name, mireporter.Name}[i]
		c.Service.NATS = natsFor(natsauth.ServiceCommonName(name, c.Service.ConsumerGroup))
		if cfg.OpsPort > 0 {
			c.Service.OpsAddr = "127.0.0.1:" + strconv.Itoa(cfg.OpsPort+i)
		}
		return c
	}
	mi := mireporter.Config{Config: withOps(sc, 4).Service, Cutoff: mireporter.DefaultCutoff}
	if mi.ODSMetadata, err = writeODSMetadata(cfg.DataDir, sc.Service.Practices); err != nil {
		return err
	}
	if cfg.MIPort > 0 {
		mi.HTTPAddr = "127.0.0.1:" + strconv.Itoa(cfg.MIPort)
	}

	return service.RunAll(ctx,
		func(ctx context.Context) error {
			return requester.Run(ctx, requester.Config{Config: withOps(sc, 0), ExtractWeight: 1, COPCWeight: 1}, stageOpts...)
		},
		func(ctx context.Context) error {
			return sender.Run(ctx, sender.Config{Config: withOps(sc, 1), RecordTimeout: 10 * time.Minute, FinalAckTimeout: 8 * 24 * time.Hour}, stageOpts...)
		},
		func(ctx context.Context) error {
			return receiver.Run(ctx, receiver.Config{Config: withOps(sc, 2), AutoIntegrate: cfg.AutoIntegrate}, stageOpts...)
		},
		func(ctx context.Context) error {
			return acknowledger.Run(ctx, acknowledger.Config{Config: withOps(sc, 3)}, stageOpts...)
		},
		func(ctx context.Context) error {
			return mireporter.Run(ctx, mi, mireporter.WithStartOptions(o.start...))
		},
		func(ctx context.Context) error {
			return runPractices(ctx, natsFor, sc.Service, cfg.Demo, sec != nil, o)
		},
	)
}

// runPractices runs the simulated practices' clinical systems, each on a
// NATS connection of its own as a vendor's system would (in a secure dev
// stack, as a vendor user serving that practice alone), and the demo,
// which watches the transfer as the operator.
func runPractices(ctx context.Context, natsFor func(cn string) service.NATSConfig, sc service.Config, demo, secure bool, o options) error {
	logger := service.NewLogger(os.Stderr, sc).With("service", "practice-sim")
	var practices []*practicesim.Practice
	var workers []service.Worker
	for _, p := range sc.Practices {
		b, closeConn, err := dial(natsFor(VendorCN(p.ODS)), "gp2gp-devstack-practice-"+p.ODS, bus.WithLogger(logger))
		if err != nil {
			return fmt.Errorf("devstack: practice %s: %w", p.ODS, err)
		}
		defer closeConn()
		opts := append([]practicesim.Option{practicesim.WithLogger(logger)}, o.practice...)
		if secure {
			opts = append(opts, practicesim.WithVendorPermissions())
		}
		sim, err := practicesim.New(b, practicesim.Config{ODS: p.ODS, ASID: p.ASID}, opts...)
		if err != nil {
			return err
		}
		practices = append(practices, sim)
		workers = append(workers, sim.Run)
	}
	if demo && len(practices) > 1 {
		b, closeConn, err := dial(natsFor(OperatorCN), "gp2gp-devstack-demo")
		if err != nil {
			return fmt.Errorf("devstack: demo: %w", err)
		}
		defer closeConn()
		workers = append(workers, func(ctx context.Context) error { return runDemo(ctx, b, practices, o) })
	}
	return service.RunAll(ctx, workers...)
}

// dial connects to NATS as cfg says, reconnecting for ever, and returns a
// bus on the connection and a func closing it.
func dial(cfg service.NATSConfig, name string, opts ...bus.Option) (*bus.Bus, func(), error) {
	auth, err := cfg.ClientOptions("")
	if err != nil {
		return nil, nil, err
	}
	nc, err := nats.Connect(cfg.URL, append([]nats.Option{nats.Name(name), nats.MaxReconnects(-1)}, auth...)...)
	if err != nil {
		return nil, nil, err
	}
	js, err := jetstream.New(nc)
	var b *bus.Bus
	if err == nil {
		b, err = bus.New(js, opts...)
	}
	if err != nil {
		nc.Close()
		return nil, nil, err
	}
	return b, nc.Close, nil
}

// runDemo registers the first dev patient at their current practice, waits
// for the transfer to finish and prints its timeline.
func runDemo(ctx context.Context, b *bus.Bus, practices []*practicesim.Practice, o options) error {
	pt := practicesim.Patients()[0]
	var at *practicesim.Practice
	for _, p := range practices {
		if p.Config().ODS == pt.CurrentODS {
			at = p
		}
	}
	if at == nil {
		return nil
	}
	if err := at.Ensure(ctx); err != nil {
		return err
	}
	store, err := waitForStore(ctx, b)
	if err != nil {
		return nil // stopping
	}
	conv, err := registerAndWatch(ctx, at, store, pt, o.out, "gp2gp dev stack demo")
	if err != nil {
		if ctx.Err() != nil {
			return nil // stopping
		}
		return err
	}
	if o.demoed != nil {
		o.demoed(conv)
	}
	return nil
}

// registerAndWatch registers pt at practice at (from their previous
// practice), waits for both sides of the transfer to finish and prints its
// timeline to out.
func registerAndWatch(ctx context.Context, at *practicesim.Practice, store *transfer.Store, pt practicesim.Patient, out io.Writer, title string) (string, error) {
	conv, err := at.Register(ctx, pt.Registration(pt.PreviousODS))
	if err != nil {
		return "", fmt.Errorf("devstack: registration: %w", err)
	}
	fmt.Fprintf(out, "\n%s: %s %s (NHS %s) registered at %s; requesting the record from %s (conversation %s)\n",
		title, pt.GivenName, pt.FamilyName, pt.NHSNumber, pt.CurrentODS, pt.PreviousODS, conv)
	status, err := waitFinished(ctx, store, conv)
	if err != nil {
		return conv, err
	}
	fmt.Fprintf(out, "\ntransfer %s: requesting side %s, sending side %s\n", conv, sideState(status.Requesting), sideState(status.Sending))
	for _, e := range status.Timeline {
		fmt.Fprintln(out, "  "+e.String())
	}
	fmt.Fprintf(out, "\nlook it up again with: gp2gpctl status %s\n\n", conv)
	return conv, nil
}

func sideState(v *ops.View) string {
	if v == nil {
		return "(none)"
	}
	return string(v.State)
}

// waitForStore opens the transfer store once the services have created its
// bucket.
func waitForStore(ctx context.Context, b *bus.Bus) (*transfer.Store, error) {
	for {
		store, err := transfer.NewStore(ctx, b)
		if err == nil {
			return store, nil
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// waitFinished waits until both sides of conv are terminal.
func waitFinished(ctx context.Context, store *transfer.Store, conv string) (*ops.Status, error) {
	for {
		status, err := ops.GetStatus(ctx, store, conv)
		if err == nil && done(status.Requesting) && done(status.Sending) {
			return status, nil
		}
		if err != nil && !errors.Is(err, transfer.ErrNotFound) && ctx.Err() == nil {
			return nil, err
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func done(v *ops.View) bool {
	return v != nil && v.Terminal
}

// writeODSMetadata writes the MI's organisation metadata for the simulated
// practices (one Sub-ICB location, "DEV") into dir, and returns its path.
func writeODSMetadata(dir string, ps []bus.Practice) (string, error) {
	type practice struct {
		ODSCode string   `json:"odsCode"`
		Name    string   `json:"name"`
		ASIDs   []string `json:"asids"`
	}
	type sicbl struct {
		ODSCode   string   `json:"odsCode"`
		Name      string   `json:"name"`
		Practices []string `json:"practices"`
	}
	md := struct {
		Practices []practice `json:"practices"`
		SICBLs    []sicbl    `json:"sicbls"`
	}{SICBLs: []sicbl{{ODSCode: "DEV", Name: "Dev stack Sub-ICB location"}}}
	for _, p := range ps {
		md.Practices = append(md.Practices, practice{ODSCode: p.ODS, Name: "Simulated practice " + p.ODS, ASIDs: []string{p.ASID}})
		md.SICBLs[0].Practices = append(md.SICBLs[0].Practices, p.ODS)
	}
	data, err := json.MarshalIndent(md, "", "  ")
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, "mi-ods-metadata.json")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		return "", fmt.Errorf("devstack: MI metadata: %w", err)
	}
	return path, nil
}
