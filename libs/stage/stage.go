package stage

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/nhsengland/gp2gp/libs/bus"
	"github.com/nhsengland/gp2gp/libs/directory"
	"github.com/nhsengland/gp2gp/libs/ebxml"
	"github.com/nhsengland/gp2gp/libs/hl7"
	"github.com/nhsengland/gp2gp/libs/service"
	"github.com/nhsengland/gp2gp/libs/spine"
	"github.com/nhsengland/gp2gp/libs/transfer"
	gp2gpv1 "github.com/nhsengland/gp2gp/proto/gp2gp/v1"
)

// Stage is a started transfer stage: the service runtime and what the
// stage's flows use.
type Stage struct {
	*service.Runtime
	Store *transfer.Store
	Spine spine.Transport
	PDS   directory.PDS
	SDS   directory.SDS
	// Patients indexes records sent, for returning patients.
	Patients jetstream.KeyValue

	cfg       Config
	now       func() time.Time
	owner     string
	practices []transfer.Practice
	// records are the served practices' records object stores, by ODS
	// code, when the stage's topology declares them.
	records map[string]jetstream.ObjectStore
}

// Option adjusts Run, mostly for tests.
type Option func(*options)

type options struct {
	now   func() time.Time
	start []service.StartOption
	spine spine.Transport
	pds   directory.PDS
	sds   directory.SDS
}

// WithClock sets the clock for transfer times and deadlines (tests inject
// one to fire timeouts without waiting).
func WithClock(now func() time.Time) Option { return func(o *options) { o.now = now } }

// WithStartOptions passes options to service.Start.
func WithStartOptions(opts ...service.StartOption) Option {
	return func(o *options) { o.start = append(o.start, opts...) }
}

// WithTransport replaces the configured Spine transport.
func WithTransport(t spine.Transport) Option { return func(o *options) { o.spine = t } }

// WithDirectory replaces the configured PDS and SDS.
func WithDirectory(pds directory.PDS, sds directory.SDS) Option {
	return func(o *options) { o.pds, o.sds = pds, sds }
}

// Run runs a transfer stage called name: it starts the service runtime,
// ensures topo, opens the transfer store and the directory, builds the
// Spine transport, asks build for the stage's workers and runs them (with
// the recovery of unpublished lifecycle events) until ctx ends.
func Run(ctx context.Context, name string, cfg Config, topo bus.Topology, build func(context.Context, *Stage) ([]service.Worker, error), opts ...Option) error {
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("%s: invalid configuration: %w", name, err)
	}
	o := options{now: time.Now}
	for _, opt := range opts {
		opt(&o)
	}
	if cfg.SystemName == "" {
		cfg.SystemName = DefaultSystemName
	}
	return service.Run(ctx, name, cfg.Service, topo, func(ctx context.Context, rt *service.Runtime) ([]service.Worker, error) {
		s := &Stage{Runtime: rt, cfg: cfg, now: o.now, owner: bus.TimerOwner(cfg.Service.ConsumerGroup, name)}
		for _, p := range cfg.Service.Practices {
			s.practices = append(s.practices, transfer.Practice{ODS: p.ODS, ASID: p.ASID})
		}
		var err error
		if s.Store, err = transfer.NewStore(ctx, rt.Bus, transfer.WithLogger(rt.Logger), transfer.WithClock(o.now),
			transfer.WithObserver(s.observe)); err != nil {
			return nil, err
		}
		if s.Patients, err = rt.JS.KeyValue(ctx, bus.BucketPatients); err != nil {
			return nil, fmt.Errorf("open bucket %s: %w", bus.BucketPatients, err)
		}
		if s.records, err = openRecords(ctx, rt.JS, topo, s.practices); err != nil {
			return nil, err
		}
		s.PDS, s.SDS = o.pds, o.sds
		if s.PDS == nil || s.SDS == nil {
			pds, sds, err := openDirectory(cfg.Directory)
			if err != nil {
				return nil, err
			}
			if s.PDS == nil {
				s.PDS = pds
			}
			if s.SDS == nil {
				s.SDS = sds
			}
		}
		s.Spine = o.spine
		if s.Spine == nil {
			if s.Spine, err = spine.New(cfg.Spine, rt.Bus, s.serves); err != nil {
				return nil, err
			}
		}
		workers, err := build(ctx, s)
		if err != nil {
			return nil, err
		}
		workers = append([]service.Worker{s.Store.Recover}, workers...)
		if addr := cfg.Spine.MHSInboundAddr; addr != "" {
			inbound, err := spine.NewInbound(rt.Bus, spine.WithServed(s.serves), spine.WithLogger(rt.Logger),
				spine.WithConversationRecipient(s.conversationRecipient))
			if err != nil {
				return nil, err
			}
			ln, err := net.Listen("tcp", addr)
			if err != nil {
				return nil, fmt.Errorf("MHS inbound endpoint: %w", err)
			}
			rt.Logger.Info("serving the MHS inbound endpoint", "addr", ln.Addr().String())
			workers = append(workers, func(ctx context.Context) error { return spine.ServeInbound(ctx, ln, inbound) })
		}
		return workers, nil
	}, o.start...)
}

// openRecords opens the records object store of each practice in ps whose
// store topo declares.
func openRecords(ctx context.Context, js jetstream.JetStream, topo bus.Topology, ps []transfer.Practice) (map[string]jetstream.ObjectStore, error) {
	declared := map[string]bool{}
	for _, st := range topo.ObjectStores {
		declared[st.Bucket] = true
	}
	out := map[string]jetstream.ObjectStore{}
	for _, p := range ps {
		bucket := bus.RecordsBucket(p.ODS)
		if !declared[bucket] {
			continue
		}
		store, err := js.ObjectStore(ctx, bucket)
		if err != nil {
			return nil, fmt.Errorf("open object store %s of practice %s: %w", bucket, p.ODS, err)
		}
		out[p.ODS] = store
	}
	return out, nil
}

// RecordsFor is the records object store of served practice ods, matched
// without case: bus.RecordsBucket of its ODS code as configured, opened at
// startup. It fails, naming the practice, when the stage does not serve it
// (the error wraps ErrNotServed) or keeps no records (its topology
// declares no records stores).
func (s *Stage) RecordsFor(ods string) (jetstream.ObjectStore, error) {
	p, ok := s.PracticeByODS(ods)
	if !ok {
		return nil, fmt.Errorf("records of practice %q: %w", ods, ErrNotServed)
	}
	store, ok := s.records[p.ODS]
	if !ok {
		return nil, fmt.Errorf("records of practice %s: the %s stage keeps no records", p.ODS, s.Name)
	}
	return store, nil
}

func openDirectory(c DirectoryConfig) (directory.PDS, directory.SDS, error) {
	var pds directory.PDS
	var sds directory.SDS
	if c.File != "" {
		f, err := directory.LoadFile(c.File)
		if err != nil {
			return nil, nil, err
		}
		pds, sds = f, f
	}
	var copts []directory.ClientOption
	if c.APIKey != "" {
		copts = append(copts, directory.WithAPIKey(c.APIKey))
	}
	if c.PDSURL != "" {
		p, err := directory.NewPDSClient(c.PDSURL, copts...)
		if err != nil {
			return nil, nil, err
		}
		pds = p
	}
	if c.SDSURL != "" {
		s, err := directory.NewSDSClient(c.SDSURL, copts...)
		if err != nil {
			return nil, nil, err
		}
		sds = directory.NewCachedSDS(s, 10*time.Minute, time.Now)
	}
	return pds, sds, nil
}

// observe records a state change in the metrics: a side started or
// finished, and how long the state it left lasted.
func (s *Stage) observe(ctx context.Context, t *transfer.Transfer, c transfer.Change) {
	if c.Seq == 1 {
		s.Metrics.TransferStarted(ctx, t.Side)
		return
	}
	if i := int(c.Seq) - 2; i >= 0 && i < len(t.History) {
		s.Metrics.StageLatency(ctx, string(c.From), c.At.Sub(t.History[i].At))
	}
	if t.Side.Terminal(c.To) {
		s.Metrics.TransferFinished(ctx, t.Side, c.To, c.Reason.Code)
	}
}

// Received counts a wire message received.
func (s *Stage) Received(ctx context.Context, interaction string) {
	s.Metrics.MessageReceived(ctx, interaction)
}

// Now is the stage's clock.
func (s *Stage) Now() time.Time { return s.now().UTC() }

// Config is the stage's configuration.
func (s *Stage) Config() Config { return s.cfg }

// serves reports whether asid is a practice this stage serves.
func (s *Stage) serves(asid string) bool {
	_, ok := s.PracticeByASID(asid)
	return ok
}

// PracticeByASID returns the served practice with asid.
func (s *Stage) PracticeByASID(asid string) (transfer.Practice, bool) {
	for _, p := range s.practices {
		if p.ASID == strings.TrimSpace(asid) {
			return p, true
		}
	}
	return transfer.Practice{}, false
}

// PracticeByODS returns the served practice with ods.
func (s *Stage) PracticeByODS(ods string) (transfer.Practice, bool) {
	for _, p := range s.practices {
		if strings.EqualFold(p.ODS, strings.TrimSpace(ods)) {
			return p, true
		}
	}
	return transfer.Practice{}, false
}

// Identify completes a practice's Spine identity (ASID, party key, CPA id)
// for interaction from SDS.
func (s *Stage) Identify(ctx context.Context, ods, interaction string) (directory.Endpoint, error) {
	ep, err := s.SDS.Endpoint(ctx, ods, interaction)
	if err != nil {
		return directory.Endpoint{}, fmt.Errorf("SDS %s %s: %w", ods, interaction, err)
	}
	return ep, nil
}

// Wire is one HL7 message to send through Spine.
type Wire struct {
	ConversationID string
	MessageID      string
	Interaction    hl7.Interaction
	From           transfer.Practice
	To             transfer.Practice
	CPAID          string
	Payload        []byte
	Attachments    []ebxml.Attachment
	External       []ebxml.ExternalAttachment
	// Ref and Code are, for an acknowledgement, the id of the message it
	// acknowledges and its reason code ("" for AA): they go into the
	// message event.
	Ref  string
	Code string
}

// Send wraps w in its ebXML envelope and hands it to the Spine transport.
func (s *Stage) Send(ctx context.Context, w Wire) error {
	msg := &ebxml.Message{
		Envelope: ebxml.Envelope{
			From: ebxml.PartyID{ID: w.From.PartyKey}, To: ebxml.PartyID{ID: w.To.PartyKey}, CPAID: w.CPAID,
			ConversationID: hl7.NormalizeID(w.ConversationID), Action: string(w.Interaction),
			MessageID: hl7.NormalizeID(w.MessageID), Timestamp: s.Now(),
			DuplicateElimination: true, AckRequested: true,
		},
		Payload: w.Payload, Attachments: w.Attachments, External: w.External,
	}
	if err := s.Spine.Send(ctx, &spine.Outbound{Message: msg, FromASID: w.From.ASID, ToASID: w.To.ASID, ToODS: w.To.ODS}); err != nil {
		return fmt.Errorf("send %s %s: %w", w.Interaction, w.MessageID, err)
	}
	if err := spine.PublishMessageEvent(ctx, s.Bus, s.sentEvent(w, msg.Envelope.Timestamp)); err != nil {
		return err
	}
	s.Metrics.MessageSent(ctx, string(w.Interaction))
	s.Logger.InfoContext(bus.WithConversationID(ctx, w.ConversationID), "sent", "interaction", w.Interaction,
		"message_id", w.MessageID, "to_ods", w.To.ODS, "to_asid", w.To.ASID, "bytes", len(w.Payload))
	return nil
}

// sentEvent is the message event of w, sent at.
func (s *Stage) sentEvent(w Wire, at time.Time) *gp2gpv1.MessageEvent {
	ev := &gp2gpv1.MessageEvent{
		ConversationId: w.ConversationID, MessageId: w.MessageID, Interaction: string(w.Interaction),
		SenderAsid: w.From.ASID, RecipientAsid: w.To.ASID, SenderOds: w.From.ODS, RecipientOds: w.To.ODS,
		MessageRef: hl7.NormalizeID(w.Ref), ErrorCode: w.Code, OccurredAt: timestamppb.New(at),
		Direction: gp2gpv1.MessageDirection_MESSAGE_DIRECTION_SENT, FromSystem: s.cfg.SystemName,
	}
	if s.serves(w.To.ASID) {
		ev.ToSystem = s.cfg.SystemName
	}
	return ev
}

// AskAck asks the acknowledger to send an acknowledgement. The request's
// message id makes asking twice send once.
func (s *Stage) AskAck(ctx context.Context, req *gp2gpv1.AckRequest) error {
	if req.RequestedAt == nil {
		req.RequestedAt = timestampNow(s)
	}
	_, err := s.Bus.PublishProto(ctx, bus.Outgoing{
		Subject:  bus.AckSubject(req.FromAsid),
		DedupeID: "ack." + req.MessageId,
		Headers:  bus.Headers{ConversationID: req.ConversationId, InteractionID: string(hl7.ApplicationAck), MessageID: req.MessageId},
	}, req)
	return err
}

func timestampNow(s *Stage) *timestamppb.Timestamp { return timestamppb.New(s.Now()) }

// Schedule sets a durable deadline of kind for conversation: the stage's
// timer worker gets it when due.
func (s *Stage) Schedule(ctx context.Context, kind, conversationID string, due time.Time) error {
	return s.Bus.Schedule(ctx, bus.Timer{Owner: s.owner, Kind: kind, Key: hl7.NormalizeID(conversationID),
		ConversationID: hl7.NormalizeID(conversationID), Due: due})
}

// Timers is the worker running the stage's timeouts through h.
func (s *Stage) Timers(h bus.TimerHandler) service.Worker {
	return func(ctx context.Context) error {
		return s.Bus.RunTimers(ctx, bus.TimerConsumer(s.cfg.Service.ConsumerGroup, s.Name), h,
			[]bus.TimerOption{bus.WithTimerClock(s.now), bus.WithTimerPoll(s.cfg.TimerPoll)})
	}
}

// Due reports whether timer t is still the transfer's deadline of its kind
// (a later reschedule or the transfer moving on makes it stale).
func Due(t *transfer.Transfer, timer bus.Timer) bool {
	d, ok := t.Deadlines[timer.Kind]
	return ok && d.Equal(timer.Due)
}

// ErrNotServed marks a message for a practice this deployment does not
// serve.
var ErrNotServed = errors.New("stage: practice not served here")
