package devstack_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/beevik/etree"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/nhsengland/gp2gp/libs/bus"
	"github.com/nhsengland/gp2gp/libs/directory"
	"github.com/nhsengland/gp2gp/libs/directory/devdirectory"
	"github.com/nhsengland/gp2gp/libs/ebxml"
	"github.com/nhsengland/gp2gp/libs/hl7"
	"github.com/nhsengland/gp2gp/libs/natsembed/natstest"
	"github.com/nhsengland/gp2gp/libs/practicesim"
	"github.com/nhsengland/gp2gp/libs/service"
	"github.com/nhsengland/gp2gp/libs/spine"
	"github.com/nhsengland/gp2gp/libs/stage"
	"github.com/nhsengland/gp2gp/libs/stage/stagetest"
	"github.com/nhsengland/gp2gp/libs/transfer"
	"github.com/nhsengland/gp2gp/libs/xmldoc"
	gp2gpv1 "github.com/nhsengland/gp2gp/proto/gp2gp/v1"
	"github.com/nhsengland/gp2gp/services/acknowledger"
	"github.com/nhsengland/gp2gp/services/receiver"
	"github.com/nhsengland/gp2gp/services/requester"
	"github.com/nhsengland/gp2gp/services/sender"
)

// The practices of the dev directory: patients move from A12345 ("old")
// to B86041 ("new").
const (
	oldODS, oldASID = "A12345", "200000000101"
	newODS, newASID = "B86041", "200000000102"
)

// clock is the injectable clock every stage of a harness runs on.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// harness runs the four transfer stages and the two simulated practices
// on an embedded JetStream, each stage startable and stoppable on its own.
type harness struct {
	t        *testing.T
	hc       harnessConfig
	srv      *natstest.Server
	js       jetstream.JetStream
	bus      *bus.Bus
	store    *transfer.Store
	records  jetstream.ObjectStore
	clock    *clock
	dir      *directory.File
	pds      *movingPDS
	spans    *tracetest.InMemoryExporter
	tracer   *sdktrace.TracerProvider
	cfg      stage.Config
	auto     bool
	lossy    *lossyWire
	running  map[string]func()
	practice map[string]*practicesim.Practice
	ctx      context.Context
}

type harnessOption func(*harnessConfig)

type harnessConfig struct {
	records     func(nhs string) practicesim.RecordBehaviour
	integration func(*gp2gpv1.RecordReady) practicesim.IntegrationBehaviour
	directory   func(*directory.FileData)
	auto        bool
	lossy       bool
	recordSize  int
	documents   int
	absent      int
	large       []int64
	split       int
	hook        func(*spine.Outbound) bool
	missing     string
	pdsDown     bool
	refuse      map[wireRoute]int
}

func withRecords(f func(nhs string) practicesim.RecordBehaviour) harnessOption {
	return func(c *harnessConfig) { c.records = f }
}

func withIntegration(b practicesim.IntegrationBehaviour) harnessOption {
	return func(c *harnessConfig) {
		c.integration = func(*gp2gpv1.RecordReady) practicesim.IntegrationBehaviour { return b }
	}
}

func withIntegrationFunc(f func(*gp2gpv1.RecordReady) practicesim.IntegrationBehaviour) harnessOption {
	return func(c *harnessConfig) { c.integration = f }
}

func withDirectory(f func(*directory.FileData)) harnessOption {
	return func(c *harnessConfig) { c.directory = f }
}

// withRefusingWire makes the transport refuse, for good, the first message
// of interaction in to the practice with ASID toASID.
func withRefusingWire(in hl7.Interaction, toASID string) harnessOption {
	return func(c *harnessConfig) {
		c.lossy = true
		if c.refuse == nil {
			c.refuse = map[wireRoute]int{}
		}
		c.refuse[wireRoute{in, toASID}]++
	}
}

// withPDSDown makes PDS answer every look-up with a server error.
func withPDSDown() harnessOption { return func(c *harnessConfig) { c.pdsDown = true } }

// withDocuments gives the previous practice's records n small documents
// and one large document of each size in large.
func withDocuments(n int, large ...int64) harnessOption {
	return func(c *harnessConfig) { c.documents, c.large = n, large }
}

// withWireHook passes every Spine message through f before the wire; f
// may change it, and returns false to lose it.
func withWireHook(f func(*spine.Outbound) bool) harnessOption {
	return func(c *harnessConfig) { c.lossy, c.hook = true, f }
}

// withMissingAttachments sets the receiver's missing-attachment policy.
func withMissingAttachments(policy string) harnessOption {
	return func(c *harnessConfig) { c.missing = policy }
}

// withAbsentDocuments makes the first n documents ones the previous
// practice cannot supply.
func withAbsentDocuments(n int) harnessOption { return func(c *harnessConfig) { c.absent = n } }

// withSplitThreshold sets the sender's split threshold (small ones make
// large messaging cheap to test).
func withSplitThreshold(n int) harnessOption { return func(c *harnessConfig) { c.split = n } }

// withRecordSize makes the previous practice's records about n bytes.
func withRecordSize(n int) harnessOption { return func(c *harnessConfig) { c.recordSize = n } }

func withAutoIntegration() harnessOption { return func(c *harnessConfig) { c.auto = true } }

// withLossyWire puts every stage's Spine messages through a loopback that
// can be told to lose some (harness.lose).
func withLossyWire() harnessOption { return func(c *harnessConfig) { c.lossy = true } }

func newHarness(t *testing.T, opts ...harnessOption) *harness {
	t.Helper()
	var hc harnessConfig
	for _, o := range opts {
		o(&hc)
	}
	srv := natstest.NewServer(t)
	h := &harness{
		t: t, srv: srv, clock: &clock{now: time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)},
		spans: tracetest.NewInMemoryExporter(), running: map[string]func(){}, practice: map[string]*practicesim.Practice{},
		ctx: natstest.Context(t, 5*time.Minute), auto: hc.auto, hc: hc,
	}
	h.tracer = sdktrace.NewTracerProvider(sdktrace.WithSyncer(h.spans))
	t.Cleanup(func() { _ = h.tracer.Shutdown(context.Background()) })

	data := devDirectoryData(t)
	if hc.directory != nil {
		hc.directory(&data)
	}
	raw, err := json.Marshal(data)
	require.NoError(t, err)
	h.dir, err = directory.ParseFile(raw)
	require.NoError(t, err)

	h.pds = &movingPDS{PDS: h.dir, current: map[string]string{}}
	h.pds.down.Store(hc.pdsDown)
	h.cfg = stagetest.Config(t, srv.URL())
	h.js = srv.JetStream()
	h.bus, err = bus.New(h.js, bus.WithTracerProvider(h.tracer))
	require.NoError(t, err)
	if hc.lossy {
		lb, err := spine.NewLoopback(h.bus)
		require.NoError(t, err)
		h.lossy = &lossyWire{next: lb, lose: map[wireRoute]int{}, refuse: map[wireRoute]int{}, hook: hc.hook}
		for r, n := range hc.refuse {
			h.lossy.refuse[r] = n
		}
	}

	for _, p := range []struct{ ods, asid string }{{oldODS, oldASID}, {newODS, newASID}} {
		popts := []practicesim.Option{practicesim.WithClock(h.clock.Now)}
		if hc.records != nil {
			popts = append(popts, practicesim.WithRecords(hc.records))
		}
		if hc.integration != nil {
			popts = append(popts, practicesim.WithIntegration(hc.integration))
		}
		if hc.recordSize > 0 {
			popts = append(popts, practicesim.WithRecordSize(hc.recordSize))
		}
		if hc.documents > 0 {
			popts = append(popts, practicesim.WithAttachments(hc.documents))
		}
		if hc.absent > 0 {
			popts = append(popts, practicesim.WithAbsentAttachments(hc.absent))
		}
		if len(hc.large) > 0 {
			popts = append(popts, practicesim.WithLargeAttachments(hc.large...))
		}
		sim, err := practicesim.New(h.bus, practicesim.Config{ODS: p.ods, ASID: p.asid}, popts...)
		require.NoError(t, err)
		require.NoError(t, sim.Ensure(h.ctx))
		h.practice[p.ods] = sim
		ctx, cancel := context.WithCancel(h.ctx)
		done := make(chan error, 1)
		go func() { done <- sim.Run(ctx) }()
		t.Cleanup(func() { cancel(); <-done })
	}
	return h
}

func devDirectoryData(t *testing.T) directory.FileData {
	var data directory.FileData
	require.NoError(t, json.Unmarshal(devdirectory.JSON(), &data))
	return data
}

var stages = []string{"requester", "sender", "receiver", "acknowledger"}

// start starts the named stages (all four when none are named).
func (h *harness) start(names ...string) {
	h.t.Helper()
	if len(names) == 0 {
		names = stages
	}
	for _, name := range names {
		if _, ok := h.running[name]; ok {
			continue
		}
		ctx, cancel := context.WithCancel(h.ctx)
		done := make(chan error, 1)
		opts := []stage.Option{
			stage.WithClock(h.clock.Now), stage.WithDirectory(h.pds, h.dir),
			stage.WithStartOptions(service.WithLogOutput(testLog{h.t, name}), service.WithTracerProvider(h.tracer),
				service.WithBusOptions(bus.WithRetryBackoff(bus.Backoff{Min: 20 * time.Millisecond, Max: 200 * time.Millisecond}))),
		}
		if h.lossy != nil {
			opts = append(opts, stage.WithTransport(h.lossy))
		}
		go func() {
			switch name {
			case "requester":
				done <- requester.Run(ctx, requester.Config{Config: h.cfg, ExtractWeight: 1, COPCWeight: 1}, opts...)
			case "sender":
				done <- sender.Run(ctx, sender.Config{Config: h.cfg, RecordTimeout: 10 * time.Minute, FinalAckTimeout: 8 * 24 * time.Hour, SplitThreshold: h.hc.split}, opts...)
			case "receiver":
				done <- receiver.Run(ctx, receiver.Config{Config: h.cfg, AutoIntegrate: h.auto, MissingAttachments: h.hc.missing}, opts...)
			case "acknowledger":
				done <- acknowledger.Run(ctx, acknowledger.Config{Config: h.cfg}, opts...)
			}
		}()
		stopped := false
		stop := func() {
			if stopped {
				return
			}
			stopped = true
			cancel()
			select {
			case err := <-done:
				require.NoError(h.t, err, "%s stopped with an error", name)
			case <-time.After(30 * time.Second):
				h.t.Errorf("%s did not stop", name)
			}
		}
		h.running[name] = stop
		h.t.Cleanup(stop)
	}
	h.waitConsumers(names...)
	if h.store == nil {
		var err error
		h.store, err = transfer.NewStore(h.ctx, h.bus)
		require.NoError(h.t, err)
	}
	if h.records == nil {
		var err error
		h.records, err = h.js.ObjectStore(h.ctx, bus.RecordsBucket(newODS))
		require.NoError(h.t, err)
	}
}

// waitConsumers waits until the named stages have created their consumers.
func (h *harness) waitConsumers(names ...string) {
	h.t.Helper()
	topo := map[string]bus.Topology{
		"requester":    bus.RequesterTopology("", stagetest.Practices),
		"sender":       bus.SenderTopology("", stagetest.Practices),
		"receiver":     bus.ReceiverTopology("", stagetest.Practices),
		"acknowledger": bus.AcknowledgerTopology("", stagetest.Practices),
	}
	for _, name := range names {
		for _, c := range topo[name].Consumers {
			require.Eventually(h.t, func() bool {
				_, err := h.js.Consumer(h.ctx, c.Stream, c.Durable)
				return err == nil
			}, 15*time.Second, 10*time.Millisecond, "%s consumer %s", name, c.Durable)
		}
	}
}

// stop stops the named stages.
func (h *harness) stop(names ...string) {
	h.t.Helper()
	for _, name := range names {
		if stop, ok := h.running[name]; ok {
			stop()
			delete(h.running, name)
		}
	}
}

// register registers the first dev patient at the new practice, from the
// old one, and returns the conversation id.
func (h *harness) register() string {
	h.t.Helper()
	pt := practicesim.Patients()[0]
	conv, err := h.practice[newODS].Register(h.ctx, pt.Registration(oldODS))
	require.NoError(h.t, err)
	return conv
}

// get reads one side of a transfer.
func (h *harness) get(side transfer.Side, conv string) *transfer.Transfer {
	h.t.Helper()
	t, err := h.store.Get(h.ctx, side, conv)
	require.NoError(h.t, err)
	return t
}

// waitState waits for one side of conv to reach state.
func (h *harness) waitState(side transfer.Side, conv string, state transfer.State) *transfer.Transfer {
	h.t.Helper()
	return h.waitStateWithin(side, conv, state, 20*time.Second)
}

// waitStateWithin waits up to d for one side of conv to reach state.
func (h *harness) waitStateWithin(side transfer.Side, conv string, state transfer.State, d time.Duration) *transfer.Transfer {
	h.t.Helper()
	var last *transfer.Transfer
	deadline := time.Now().Add(d)
	for {
		if t, err := h.store.Get(h.ctx, side, conv); err == nil {
			last = t
			if t.State == state {
				return t
			}
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("%s side of %s never reached %s within %s (last: %s)", side, conv, state, d, stateOf(last))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func stateOf(t *transfer.Transfer) string {
	if t == nil {
		return "none"
	}
	return fmt.Sprintf("%s %+v", t.State, t.LastChange().Reason)
}

// wireMessage is one HL7 message seen on the loopback Spine.
type wireMessage struct {
	Subject     string
	Conv        string
	Interaction hl7.Interaction
	ID          string
	Payload     []byte
	AckType     hl7.AckType
	Reason      hl7.ReasonCode
	Ref         string
	// Env is the whole message: envelope, manifest and attachments.
	Env *ebxml.Message
}

// wire lists the messages of conv that crossed the loopback Spine, in
// order.
func (h *harness) wire(conv string) []wireMessage {
	h.t.Helper()
	var out []wireMessage
	h.eachMsg(bus.StreamSpineIn, func(raw *jetstream.RawStreamMsg, msg *bus.Msg) bool {
		env, err := spine.Read(msg)
		require.NoError(h.t, err)
		if strings.EqualFold(env.Envelope.ConversationID, conv) {
			out = append(out, decodeWire(h.t, raw.Subject, env))
		}
		return true
	})
	return out
}

func decodeWire(t *testing.T, subject string, env *ebxml.Message) wireMessage {
	m, err := hl7.Decode(env.Payload)
	w := wireMessage{Subject: subject, Conv: env.Envelope.ConversationID, ID: env.Envelope.MessageID, Payload: env.Payload, Env: env}
	if m != nil {
		w.Interaction = m.Header().Interaction
	}
	if ack, ok := m.(*hl7.Ack); ok && err == nil {
		w.AckType, w.Reason, w.Ref = ack.Type, ack.Reason, ack.MessageRef
	}
	return w
}

// count counts the wire messages of an interaction (and, for acks, of a
// type and reason).
func count(msgs []wireMessage, in hl7.Interaction) int {
	n := 0
	for _, m := range msgs {
		if m.Interaction == in {
			n++
		}
	}
	return n
}

// acks are the acknowledgements among msgs.
func acks(msgs []wireMessage) []wireMessage {
	var out []wireMessage
	for _, m := range msgs {
		if m.Interaction == hl7.ApplicationAck {
			out = append(out, m)
		}
	}
	return out
}

// inject puts a hand-made wire message on the loopback Spine, as the other
// practice's system would send it.
func (h *harness) inject(conv, messageID string, interaction hl7.Interaction, fromASID, toASID string, payload []byte) {
	h.t.Helper()
	loop, err := spine.NewLoopback(h.bus)
	require.NoError(h.t, err)
	err = loop.Send(h.ctx, &spine.Outbound{
		Message: &ebxml.Message{
			Envelope: ebxml.Envelope{ConversationID: conv, MessageID: messageID, Action: string(interaction), Timestamp: h.clock.Now()},
			Payload:  payload,
		},
		FromASID: fromASID, ToASID: toASID,
	})
	require.NoError(h.t, err)
}

// testLog sends a stage's log lines to the test log (shown on failure).
type testLog struct {
	t    *testing.T
	name string
}

func (l testLog) Write(p []byte) (int, error) {
	l.t.Log(l.name + ": " + strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

var _ io.Writer = testLog{}

// movingPDS is the directory's PDS with patients a test moves to another
// practice.
type movingPDS struct {
	directory.PDS
	down    atomic.Bool
	mu      sync.Mutex
	current map[string]string
}

func (p *movingPDS) move(nhs, ods string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.current[nhs] = ods
}

func (p *movingPDS) Registration(ctx context.Context, nhs string) (directory.Registration, error) {
	if p.down.Load() {
		return directory.Registration{}, errors.New("PDS: HTTP 503 Service Unavailable")
	}
	r, err := p.PDS.Registration(ctx, nhs)
	p.mu.Lock()
	defer p.mu.Unlock()
	if ods, ok := p.current[nhs]; ok && err == nil {
		r.PreviousODS, r.CurrentODS = r.CurrentODS, ods
	}
	return r, err
}

// lossyWire is a Spine transport that loses the next messages of chosen
// interactions to chosen practices, as a network or a broken MHS might,
// and passes the rest to the loopback.
type lossyWire struct {
	next spine.Transport
	mu   sync.Mutex
	lose map[wireRoute]int
	lost []string // message ids
	// refuse makes the transport refuse messages for good, as an MHS
	// adaptor answering 4xx would.
	refuse map[wireRoute]int
	hook   func(*spine.Outbound) bool
}

type wireRoute struct {
	in     hl7.Interaction
	toASID string
}

func (l *lossyWire) Send(ctx context.Context, out *spine.Outbound) error {
	if l.hook != nil && !l.hook(out) {
		return nil
	}
	l.mu.Lock()
	r := wireRoute{hl7.Interaction(out.Message.Envelope.Action), out.ToASID}
	if l.refuse[r] > 0 {
		l.refuse[r]--
		l.mu.Unlock()
		return bus.Permanent(errors.New("MHS adaptor: HTTP 400: message refused"))
	}
	if l.lose[r] > 0 {
		l.lose[r]--
		l.lost = append(l.lost, out.Message.Envelope.MessageID)
		l.mu.Unlock()
		return nil
	}
	l.mu.Unlock()
	return l.next.Send(ctx, out)
}

// lose makes the wire lose the next n messages of interaction in to the
// practice with ASID toASID.
func (h *harness) lose(in hl7.Interaction, toASID string, n int) {
	h.t.Helper()
	require.NotNil(h.t, h.lossy, "the harness needs withLossyWire")
	h.lossy.mu.Lock()
	defer h.lossy.mu.Unlock()
	h.lossy.lose[wireRoute{in, toASID}] += n
}

// lost lists the ids of the messages the wire lost.
func (h *harness) lost() []string {
	h.lossy.mu.Lock()
	defer h.lossy.mu.Unlock()
	return slices.Clone(h.lossy.lost)
}

// eachMsg calls fn with every message of stream, oldest first, its body
// put back when it travelled as a claim check, until fn returns false.
func (h *harness) eachMsg(stream string, fn func(raw *jetstream.RawStreamMsg, msg *bus.Msg) bool) {
	h.t.Helper()
	s, err := h.js.Stream(h.ctx, stream)
	require.NoError(h.t, err)
	info, err := s.Info(h.ctx)
	require.NoError(h.t, err)
	for seq := info.State.FirstSeq; info.State.Msgs > 0 && seq <= info.State.LastSeq; seq++ {
		raw, err := s.GetMsg(h.ctx, seq)
		if err != nil {
			continue // deleted
		}
		msg := &bus.Msg{Subject: raw.Subject, Data: raw.Data, Header: raw.Header}
		require.NoError(h.t, h.bus.Body(h.ctx, msg))
		if !fn(raw, msg) {
			return
		}
	}
}

// redeliver publishes again, under a new dedupe id, the first message of
// conv on the wire that pred picks: a duplicate as Spine delivers one
// after its own deduplication window.
func (h *harness) redeliver(conv string, pred func(wireMessage) bool) {
	h.t.Helper()
	done := false
	h.eachMsg(bus.StreamSpineIn, func(raw *jetstream.RawStreamMsg, msg *bus.Msg) bool {
		env, err := spine.Read(msg)
		if err != nil || !strings.EqualFold(env.Envelope.ConversationID, conv) || !pred(decodeWire(h.t, raw.Subject, env)) {
			return true
		}
		again := nats.NewMsg(raw.Subject)
		again.Data = raw.Data
		for k, v := range raw.Header {
			again.Header[k] = v
		}
		again.Header.Set(jetstream.MsgIDHeader, raw.Header.Get(jetstream.MsgIDHeader)+".again")
		_, err = h.js.PublishMsg(h.ctx, again)
		require.NoError(h.t, err)
		done = true
		return false
	})
	if !done {
		h.t.Fatalf("no message of %s to deliver again", conv)
	}
}

// suppliedExtract is the EhrExtract the previous practice's system supplied
// for conv, serialized as the tests compare it.
func (h *harness) suppliedExtract(conv string) []byte {
	h.t.Helper()
	var out []byte
	h.eachMsg(bus.StreamRecordResponses, func(_ *jetstream.RawStreamMsg, msg *bus.Msg) bool {
		resp := &gp2gpv1.RecordResponse{}
		require.NoError(h.t, bus.Decode(msg, resp))
		if !strings.EqualFold(resp.GetConversationId(), conv) {
			return true
		}
		content := resp.GetRecord().GetEhrExtract()
		data := content.GetInline()
		if ref := content.GetObject(); ref != nil {
			store, err := h.js.ObjectStore(h.ctx, ref.GetBucket())
			require.NoError(h.t, err)
			data, err = store.GetBytes(h.ctx, ref.GetName())
			require.NoError(h.t, err)
		}
		doc, err := xmldoc.Parse(data, xmldoc.Limits{MaxBytes: 64 << 20})
		require.NoError(h.t, err)
		out = serialize(h.t, doc.Root())
		return false
	})
	if out == nil {
		h.t.Fatalf("no record response for %s", conv)
	}
	return out
}

// serialize writes el the one way tests compare elements.
func serialize(t *testing.T, el *etree.Element) []byte {
	t.Helper()
	c := el.Copy()
	c.RemoveAttr("xmlns") // the wrapper declares the namespace once
	c.RemoveAttr("xmlns:xsi")
	var buf bytes.Buffer
	c.WriteTo(&buf, &etree.WriteSettings{})
	return buf.Bytes()
}

func digest(t *testing.T, data []byte) string {
	t.Helper()
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}
