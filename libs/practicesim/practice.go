package practicesim

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/nhsengland/gp2gp/libs/bus"
	gp2gpv1 "github.com/nhsengland/gp2gp/proto/gp2gp/v1"
)

// Config identifies the simulated practice.
type Config struct {
	// ODS is the practice's ODS code: 3 to 10 upper-case letters and
	// digits, for example "B86041". Required.
	ODS string
	// ASID is the practice's Spine ASID (digits), for whoever wires the
	// practice into the directory. Optional: the practice's own messages
	// never carry it.
	ASID string
	// Name is the practice's name, written in its documents. Default:
	// "Simulated practice <ODS>".
	Name string
}

// Validate reports a Config that cannot be used; the error wraps
// ErrInvalidConfig.
func (c Config) Validate() error {
	switch {
	case !odsPattern.MatchString(c.ODS):
		return fmt.Errorf("%w: ODS %q is not 3 to 10 upper-case letters and digits", ErrInvalidConfig, c.ODS)
	case c.ASID != "" && !asidPattern.MatchString(c.ASID):
		return fmt.Errorf("%w: ASID %q is not digits", ErrInvalidConfig, c.ASID)
	}
	return nil
}

// Practice is a simulated practice clinical system. Its methods are safe
// for concurrent use.
type Practice struct {
	bus *bus.Bus
	cfg Config

	logger      *slog.Logger
	now         func() time.Time
	records     func(nhsNumber string) RecordBehaviour
	integration func(*gp2gpv1.RecordReady) IntegrationBehaviour
	recordSize  int
	attachments int
	absent      int
	largeSizes  []int64
	nopat       int
	localCodes  int
	profile     bus.Profile
	// consumersOnly: Ensure creates only the practice's consumers
	// (WithVendorPermissions).
	consumersOnly bool

	running atomic.Bool

	storesMu sync.Mutex
	stores   map[string]jetstream.ObjectStore
	// putMu guards putting: the objects being stored, each with a channel
	// closed once it is, so that a request delivered twice at once stores
	// each object once while other objects are stored alongside.
	putMu   sync.Mutex
	putting map[string]chan struct{}
	// digestMu guards digests: the SHA-256 of the large contents this
	// practice has generated, by content key.
	digestMu sync.Mutex
	digests  map[string][sha256.Size]byte

	// mu guards what the practice has done, and changed, which is closed
	// and replaced whenever that changes so waiters look again.
	mu         sync.Mutex
	changed    chan struct{}
	answered   []*AnsweredRequest
	answers    map[string]*AnsweredRequest // by request id
	received   []*ReceivedRecord
	receivedBy map[string]*ReceivedRecord // by conversation id
}

// New returns a practice that talks to gp2gp on b.
func New(b *bus.Bus, cfg Config, opts ...Option) (*Practice, error) {
	if b == nil {
		return nil, fmt.Errorf("%w: nil bus", ErrInvalidConfig)
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Name == "" {
		cfg.Name = "Simulated practice " + cfg.ODS
	}
	p := &Practice{
		bus:         b,
		cfg:         cfg,
		logger:      slog.New(slog.DiscardHandler),
		now:         time.Now,
		records:     func(string) RecordBehaviour { return SendRecord() },
		integration: func(*gp2gpv1.RecordReady) IntegrationBehaviour { return IntegrationBehaviour{} },
		recordSize:  DefaultRecordSize,
		profile:     bus.DevProfile,
		stores:      map[string]jetstream.ObjectStore{},
		putting:     map[string]chan struct{}{},
		digests:     map[string][sha256.Size]byte{},
		changed:     make(chan struct{}),
		answers:     map[string]*AnsweredRequest{},
		receivedBy:  map[string]*ReceivedRecord{},
	}
	for _, o := range opts {
		if o == nil {
			return nil, invalidOption("nil option")
		}
		if err := o(p); err != nil {
			return nil, err
		}
	}
	p.logger = p.logger.With("practice", cfg.ODS)
	return p, nil
}

// Config returns the practice's configuration, defaults applied.
func (p *Practice) Config() Config { return p.cfg }

// Ensure creates or updates what the practice uses (bus.PracticeTopology:
// the streams it reads and publishes to, the object stores, its two
// durable consumers). Run calls it; call it yourself to Register before
// Run has started.
func (p *Practice) Ensure(ctx context.Context) error {
	topo := bus.PracticeTopology(p.cfg.ODS)
	if p.consumersOnly {
		return p.ensureConsumers(ctx, bus.Topology{Consumers: topo.Consumers})
	}
	if err := bus.Ensure(ctx, p.bus.JetStream(), p.profile, topo); err != nil {
		return fmt.Errorf("practicesim: practice %s: %w", p.cfg.ODS, err)
	}
	return nil
}

// ensureConsumers creates the practice's consumers once the services have
// created their streams, retrying while a stream is missing.
func (p *Practice) ensureConsumers(ctx context.Context, topo bus.Topology) error {
	wait := 100 * time.Millisecond
	for {
		err := bus.Ensure(ctx, p.bus.JetStream(), p.profile, topo)
		if err == nil {
			return nil
		}
		if !errors.Is(err, jetstream.ErrStreamNotFound) {
			return fmt.Errorf("practicesim: practice %s: %w", p.cfg.ODS, err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("practicesim: practice %s: %w (waiting for the services to create the streams)", p.cfg.ODS, err)
		case <-time.After(wait):
		}
		wait = min(2*wait, 2*time.Second)
	}
}

// consumeConcurrency is how many messages of each consumer are handled at
// once: a large record being generated does not hold up the others.
const consumeConcurrency = 4

// Run ensures the practice's topology, then answers record requests
// (bus.PracticeRecordRequests) and integrates records ready
// (bus.PracticeRecordsReady) until ctx ends. It returns nil once ctx has
// ended (at whatever point) and the messages in hand are done with;
// ErrRunning if the practice is already running; an error if it cannot
// start or a consumer disappears.
func (p *Practice) Run(ctx context.Context) error {
	if !p.running.CompareAndSwap(false, true) {
		return ErrRunning
	}
	defer p.running.Store(false)
	if err := p.Ensure(ctx); err != nil {
		if ctx.Err() != nil {
			return nil // stopped before it started
		}
		return err
	}
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	consumers := []struct {
		spec bus.ConsumerSpec
		h    bus.Handler
	}{
		{bus.PracticeRecordRequests(p.cfg.ODS), p.answer},
		{bus.PracticeRecordsReady(p.cfg.ODS), p.integrate},
	}
	errs := make(chan error, len(consumers))
	for _, c := range consumers {
		go func() { errs <- p.bus.Consume(cctx, c.spec, c.h, bus.WithConcurrency(consumeConcurrency)) }()
	}
	p.logger.InfoContext(ctx, "practice running", "name", p.cfg.Name)
	var first error
	for range consumers {
		// A consumer cut short while starting reports the cancellation;
		// once ctx has ended that is a clean stop too.
		if err := <-errs; err != nil && first == nil && ctx.Err() == nil {
			first = fmt.Errorf("practicesim: practice %s: %w", p.cfg.ODS, err)
			cancel()
		}
	}
	return first
}

// recordsStore opens the practice's own records object store
// (bus.RecordsBucket), the only one it writes to or reads from.
func (p *Practice) recordsStore(ctx context.Context) (jetstream.ObjectStore, error) {
	return p.objectStore(ctx, bus.RecordsBucket(p.cfg.ODS))
}

// objectStore opens the object store bucket, once.
func (p *Practice) objectStore(ctx context.Context, bucket string) (jetstream.ObjectStore, error) {
	p.storesMu.Lock()
	defer p.storesMu.Unlock()
	if s, ok := p.stores[bucket]; ok {
		return s, nil
	}
	s, err := p.bus.JetStream().ObjectStore(ctx, bucket)
	if err != nil {
		return nil, fmt.Errorf("open object store %s: %w", bucket, err)
	}
	p.stores[bucket] = s
	return s, nil
}

// dueIn is how long is left of delay after published, on the wall clock;
// zero or less once due.
func dueIn(published time.Time, delay time.Duration) time.Duration {
	if delay <= 0 {
		return 0
	}
	return time.Until(published.Add(delay))
}
