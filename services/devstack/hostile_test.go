package devstack_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/beevik/etree"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nhsengland/gp2gp/libs/bus"
	"github.com/nhsengland/gp2gp/libs/ebxml"
	"github.com/nhsengland/gp2gp/libs/hl7"
	"github.com/nhsengland/gp2gp/libs/hl7/ehr"
	"github.com/nhsengland/gp2gp/libs/practicesim"
	"github.com/nhsengland/gp2gp/libs/service"
	"github.com/nhsengland/gp2gp/libs/spine"
	"github.com/nhsengland/gp2gp/libs/stage"
	"github.com/nhsengland/gp2gp/libs/stage/stagetest"
	"github.com/nhsengland/gp2gp/libs/transfer"
	gp2gpv1 "github.com/nhsengland/gp2gp/proto/gp2gp/v1"
	"github.com/nhsengland/gp2gp/services/acknowledger"
)

// The hostile-input corpus (testdata/hostile, README.md there) goes
// through the running stages the two ways messages arrive from Spine: the
// MHS inbound endpoint (POST of the MHS inbound JSON envelope) and the
// bus subjects the loopback publishes on. Every entry must end in what the
// protocol asks: a NACK with the right code to the right ASID, a
// dead-letter entry whose reason names the problem, or, at the endpoint,
// a 4xx when nothing can be attributed; and a normal transfer running
// alongside must complete.
//
// Bounds checked after the corpus has run three times, against the stack
// measured once it is warm (one transfer done): heap in use after GC at
// most hostileHeapBound more, goroutines at most hostileGoroutineBound
// more.
const (
	hostileHeapBound      = 64 << 20
	hostileGoroutineBound = 25
	hostileRounds         = 3
	// hostileOutcomeWait bounds the wait for the outcomes of the three
	// rounds.
	hostileOutcomeWait = 2 * time.Minute
)

// The ASID of a practice no deployment here serves, and an ODS code SDS
// does not know.
const (
	foreignASID = "999999999999"
	foreignODS  = "Z99999"
)

// The dev patients the corpus uses: one for the normal transfers, one
// whose transfers wait for an extract (the hostile extracts go there),
// one whose records are never integrated (transfers that stay
// READY_TO_INTEGRATE, for duplicate extracts and stray COPCs).
var (
	normalNHS = practicesim.Patients()[0].NHSNumber
	awaitNHS  = practicesim.Patients()[1].NHSNumber
	readyNHS  = practicesim.Patients()[2].NHSNumber
)

func TestHostileInbound(t *testing.T) {
	start := time.Now()
	hw := &hostileWire{pass: map[string]bool{}, ids: map[string]bool{}}
	h := newHarness(t,
		withWireHook(hw.hook),
		withRecords(func(nhs string) practicesim.RecordBehaviour {
			if nhs == awaitNHS {
				return practicesim.NeverAnswer()
			}
			return practicesim.SendRecord()
		}),
		withIntegrationFunc(func(r *gp2gpv1.RecordReady) practicesim.IntegrationBehaviour {
			if r.GetPatient().GetNhsNumber() == readyNHS {
				return practicesim.NeverReport()
			}
			return practicesim.IntegrationBehaviour{}
		}),
	)
	h.start()
	hs := &hostileStack{h: h, t: t, wire: hw, client: &http.Client{Timeout: time.Minute}}
	hs.url = hs.startInbound()
	t.Cleanup(hs.client.CloseIdleConnections)

	// Warm: a transfer end to end, then the baseline.
	hs.normalTransfer(t).wait()
	heap0, goroutines0, _ := hs.measure(math.MaxUint64)

	// Three rounds, each with a normal transfer alongside; the outcomes are
	// awaited together.
	var sent []sentEntry
	var normals []normal
	for round := 1; round <= hostileRounds; round++ {
		normals = append(normals, hs.normalTransfer(t))
		sent = append(sent, hs.send(round)...)
	}
	results := hs.await(sent)
	for _, n := range normals {
		n.wait()
	}
	// Every stage still answers: a last transfer after the corpus.
	hs.normalTransfer(t).wait()

	hs.bombData = nil
	heap1, goroutines1, settled := hs.measure(heap0 + hostileHeapBound/4)
	t.Logf("heap in use after GC: %.1f MiB before the corpus, %.1f MiB after %d rounds (bound +%d MiB; measured over %s); goroutines %d → %d (bound +%d)",
		float64(heap0)/(1<<20), float64(heap1)/(1<<20), hostileRounds, hostileHeapBound>>20, settled.Round(time.Millisecond),
		goroutines0, goroutines1, hostileGoroutineBound)
	assert.LessOrEqual(t, int64(heap1)-int64(heap0), int64(hostileHeapBound), "heap in use grew")
	assert.LessOrEqual(t, goroutines1-goroutines0, hostileGoroutineBound, "goroutines grew")
	hs.assertNoPanics()
	hs.assertRunning()
	logResults(t, results)
	t.Logf("%d outcomes of %d rounds checked in %s", len(results), hostileRounds, time.Since(start).Round(time.Millisecond))
}

// hostileStack is the harness with the inbound endpoint and what the test
// observes.
type hostileStack struct {
	h      *harness
	t      *testing.T
	wire   *hostileWire
	url    string
	client *http.Client
	// dlq caches the dead letters read so far, by original dedupe id and
	// in order.
	dlqNext uint64
	dlq     []dlqEntry
	// inboundDone receives the error of the acknowledger serving the
	// endpoint, should it stop.
	inboundDone <-chan error
	// bombData is the gzip bomb, made once; content an EhrExtract.
	bombOnce    sync.Once
	bombData    []byte
	contentOnce sync.Once
	content     *etree.Element
}

type dlqEntry struct {
	subject string
	bus.DeadLetter
}

// startInbound runs one more acknowledger, configured to serve the MHS
// inbound endpoint (GP2GP_MHS_INBOUND_ADDR) as a deployment would, and
// returns the endpoint's URL once it answers.
func (hs *hostileStack) startInbound() string {
	t, h := hs.t, hs.h
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())

	cfg := h.cfg
	cfg.Spine.MHSInboundAddr = addr
	ctx, cancel := context.WithCancel(h.ctx)
	done := make(chan error, 1)
	hs.inboundDone = done
	go func() {
		done <- acknowledger.Run(ctx, acknowledger.Config{Config: cfg},
			stage.WithClock(h.clock.Now), stage.WithDirectory(h.pds, h.dir), stage.WithTransport(h.lossy),
			stage.WithStartOptions(service.WithLogOutput(testLog{t, "inbound"}),
				service.WithBusOptions(bus.WithRetryBackoff(bus.Backoff{Min: 20 * time.Millisecond, Max: 200 * time.Millisecond}))))
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			assert.NoError(t, err, "the acknowledger serving the inbound endpoint stopped with an error")
		case <-time.After(30 * time.Second):
			t.Error("the acknowledger serving the inbound endpoint did not stop")
		}
	})
	url := "http://" + addr + "/"
	require.Eventually(t, func() bool {
		select {
		case err := <-done:
			t.Fatalf("the acknowledger serving the inbound endpoint stopped: %v", err)
		default:
		}
		resp, err := hs.client.Get(url)
		if err != nil {
			return false
		}
		_ = resp.Body.Close()
		return resp.StatusCode == http.StatusMethodNotAllowed
	}, 15*time.Second, 20*time.Millisecond)
	return url
}

// measure is the heap in use after a GC and the number of goroutines,
// once the stack is idle: idle connections closed, the harness's recorded
// spans dropped (the test keeps every span in memory), and the broker's
// block caches given time to expire (JetStream keeps a block it read or
// wrote cached for 10 s) when the heap is still over limit. It returns
// the lowest of the samples taken until the heap is at most limit, or
// for 15 s.
func (hs *hostileStack) measure(limit uint64) (heap uint64, goroutines int, settled time.Duration) {
	hs.client.CloseIdleConnections()
	start := time.Now()
	for i := 0; ; i++ {
		hs.h.spans.Reset()
		var ms runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&ms)
		n := runtime.NumGoroutine()
		if i == 0 || ms.HeapInuse < heap {
			heap = ms.HeapInuse
		}
		if i == 0 || n < goroutines {
			goroutines = n
		}
		if (heap <= limit && i >= 2) || time.Since(start) > 15*time.Second {
			return heap, goroutines, time.Since(start)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// normal is a transfer of the normal patient under way.
type normal struct {
	hs   *hostileStack
	conv string
}

// normalTransfer registers the normal patient at the new practice.
func (hs *hostileStack) normalTransfer(t *testing.T) normal {
	conv := hl7.NewID()
	hs.wire.passConversation(conv)
	pt := practicesim.Patients()[0].Registration(oldODS)
	pt.ConversationID = conv
	_, err := hs.h.practice[newODS].Register(hs.h.ctx, pt)
	require.NoError(t, err)
	return normal{hs: hs, conv: conv}
}

func (n normal) wait() {
	n.hs.h.waitStateWithin(transfer.Requesting, n.conv, transfer.Integrated, time.Minute)
	n.hs.h.waitStateWithin(transfer.Sending, n.conv, transfer.Completed, time.Minute)
}

// assertRunning checks that every stage still runs: the endpoint answers,
// the acknowledger serving it has not stopped, and every stage's durable
// consumers have a pull request waiting (their consume loops are alive).
func (hs *hostileStack) assertRunning() {
	t, h := hs.t, hs.h
	select {
	case err := <-hs.inboundDone:
		t.Errorf("the acknowledger serving the inbound endpoint stopped: %v", err)
	default:
	}
	resp, err := hs.client.Get(hs.url)
	if assert.NoError(t, err, "the inbound endpoint answers") {
		_ = resp.Body.Close()
		assert.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
	}
	for _, topo := range []bus.Topology{
		bus.RequesterTopology("", stagetest.Practices), bus.SenderTopology("", stagetest.Practices),
		bus.ReceiverTopology("", stagetest.Practices), bus.AcknowledgerTopology("", stagetest.Practices),
	} {
		for _, c := range topo.Consumers {
			assert.Eventually(t, func() bool {
				cons, err := h.js.Consumer(h.ctx, c.Stream, c.Durable)
				if err != nil {
					return false
				}
				info, err := cons.Info(h.ctx)
				return err == nil && info.NumWaiting > 0
			}, 10*time.Second, 20*time.Millisecond, "consumer %s pulls", c.Durable)
		}
	}
}

// assertNoPanics checks that no dead letter is a recovered panic.
func (hs *hostileStack) assertNoPanics() {
	hs.readDLQ()
	for _, d := range hs.dlq {
		assert.NotContains(hs.t, strings.ToLower(d.Reason), "panic", "dead letter of %s", d.Subject)
	}
}

// readDLQ reads the dead letters added since the last call (headers only).
func (hs *hostileStack) readDLQ() {
	s, err := hs.h.js.Stream(hs.h.ctx, bus.StreamDeadLetter)
	require.NoError(hs.t, err)
	info, err := s.Info(hs.h.ctx)
	require.NoError(hs.t, err)
	if hs.dlqNext == 0 {
		hs.dlqNext = info.State.FirstSeq
	}
	for ; info.State.Msgs > 0 && hs.dlqNext <= info.State.LastSeq; hs.dlqNext++ {
		raw, err := s.GetMsg(hs.h.ctx, hs.dlqNext)
		if err != nil {
			continue
		}
		if dl, ok := bus.DeadLetterOf(&bus.Msg{Subject: raw.Subject, Header: raw.Header}); ok {
			hs.dlq = append(hs.dlq, dlqEntry{subject: raw.Subject, DeadLetter: dl})
		}
	}
}

// hostileWire is the Spine as the test sees it: the normal transfers'
// messages and the setup ones pass, the rest (answers to the corpus) are
// kept and go no further, as they would go to the Spine.
type hostileWire struct {
	mu sync.Mutex
	// pass holds the conversations whose messages go through.
	pass map[string]bool
	// ids are the corpus' message ids: acknowledgements of them never go
	// through.
	ids  map[string]bool
	sent []sentMessage
}

// sentMessage is what a stage sent in answer to the corpus.
type sentMessage struct {
	Conv, ToASID, ID string
	Interaction      hl7.Interaction
	AckType          hl7.AckType
	Reason           hl7.ReasonCode
	Ref              string
}

func (w *hostileWire) passConversation(conv string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.pass[hl7.NormalizeID(conv)] = true
}

func (w *hostileWire) corpusID(id string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.ids[hl7.NormalizeID(id)] = true
}

func (w *hostileWire) hook(out *spine.Outbound) bool {
	m := out.Message
	s := sentMessage{Conv: hl7.NormalizeID(m.Envelope.ConversationID), ToASID: out.ToASID, ID: m.Envelope.MessageID,
		Interaction: hl7.Interaction(m.Envelope.Action)}
	if ack, _ := hl7.DecodeAck(m.Payload); ack != nil {
		s.AckType, s.Reason, s.Ref = ack.Type, ack.Reason, hl7.NormalizeID(ack.MessageRef)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.pass[s.Conv] && !w.ids[s.Ref] {
		return true
	}
	w.sent = append(w.sent, s)
	return false
}

// acksOf are the acknowledgements sent of message id.
func (w *hostileWire) acksOf(id string) []sentMessage {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []sentMessage
	for _, s := range w.sent {
		if s.Interaction == hl7.ApplicationAck && hl7.SameID(s.Ref, id) {
			out = append(out, s)
		}
	}
	return out
}

// hostileResult is one corpus entry's outcome in one round.
type hostileResult struct {
	round int
	entry string
	route string
	got   string
}

// logResults logs the outcome table: each entry by each route, the first
// round it ran.
func logResults(t *testing.T, results []hostileResult) {
	var b strings.Builder
	fmt.Fprintf(&b, "%-64s %-5s %s\n", "entry", "route", "outcome (first round it ran)")
	seen := map[string]bool{}
	for _, r := range results {
		if k := r.entry + "\x00" + r.route; !seen[k] {
			seen[k] = true
			fmt.Fprintf(&b, "%-64s %-5s %s\n", r.entry, r.route, r.got)
		}
	}
	t.Log("\n" + b.String())
}

// ---- the corpus ----

// routes
const (
	viaHTTP = "http"
	viaBus  = "bus"
)

// expectation is an outcome an entry must reach.
type expectation struct {
	what  string
	check func() (ok bool, got string)
}

// sentEntry is one corpus entry on its way, with what must follow.
type sentEntry struct {
	round        int
	entry, route string
	expect       []expectation
}

// send sends round n of the corpus.
func (hs *hostileStack) send(n int) []sentEntry {
	c := &corpus{hs: hs, round: n}
	start := time.Now()
	c.prepare()
	c.run()
	hs.t.Logf("round %d: %d entries sent in %s", n, len(c.sent), time.Since(start).Round(time.Millisecond))
	return c.sent
}

// await waits for every entry's outcome (each must come within
// hostileOutcomeWait) and returns them by entry.
func (hs *hostileStack) await(sent []sentEntry) []hostileResult {
	t := hs.t
	start := time.Now()
	deadline := start.Add(hostileOutcomeWait)
	pending := slices.Clone(sent)
	var results []hostileResult
	for len(pending) > 0 {
		hs.readDLQ()
		var still []sentEntry
		for _, s := range pending {
			ok, got := true, []string{}
			for _, e := range s.expect {
				eok, egot := e.check()
				ok = ok && eok
				got = append(got, egot)
			}
			if ok || time.Now().After(deadline) {
				if !ok {
					var wants []string
					for _, e := range s.expect {
						wants = append(wants, e.what)
					}
					t.Errorf("round %d: %s via %s: want %s; got %s", s.round, s.entry, s.route, strings.Join(wants, ", "), strings.Join(got, ", "))
				}
				results = append(results, hostileResult{round: s.round, entry: s.entry, route: s.route, got: strings.Join(got, "; ")})
				continue
			}
			still = append(still, s)
		}
		pending = still
		if len(pending) > 0 {
			time.Sleep(50 * time.Millisecond)
		}
	}
	t.Logf("outcomes of %d entries within %s", len(sent), time.Since(start).Round(time.Millisecond))
	sort.SliceStable(results, func(i, j int) bool {
		a, b := results[i], results[j]
		return a.entry < b.entry || a.entry == b.entry && (a.route < b.route || a.route == b.route && a.round < b.round)
	})
	return results
}

// corpus is one round of the corpus: its targets (transfers the hostile
// messages aim at) and what was sent.
type corpus struct {
	hs    *hostileStack
	round int
	// ready is a transfer READY_TO_INTEGRATE: its extract came, its
	// integration never does.
	ready string
	// waiting are transfers waiting for an extract, for awaiting.
	waiting []string
	sent    []sentEntry
	files   map[string][]byte
}

func (c *corpus) t() *testing.T { return c.hs.t }

// file reads a corpus file.
func (c *corpus) file(name string) []byte {
	if c.files == nil {
		c.files = map[string][]byte{}
	}
	if b, ok := c.files[name]; ok {
		return b
	}
	b, err := os.ReadFile(filepath.Join("testdata", "hostile", name))
	require.NoError(c.t(), err)
	c.files[name] = b
	return b
}

// prepare makes the round's targets, all at once: the READY_TO_INTEGRATE
// transfer and the transfers waiting for an extract.
func (c *corpus) prepare() {
	h := c.hs.h
	register := func(pt practicesim.Patient) string {
		conv := hl7.NewID()
		reg := pt.Registration(oldODS)
		reg.ConversationID = conv
		_, err := h.practice[newODS].Register(h.ctx, reg)
		require.NoError(c.t(), err)
		return conv
	}
	c.ready = hl7.NewID()
	c.hs.wire.passConversation(c.ready)
	reg := practicesim.Patients()[2].Registration(oldODS)
	reg.ConversationID = c.ready
	_, err := h.practice[newODS].Register(h.ctx, reg)
	require.NoError(c.t(), err)

	n := 0
	for _, route := range []string{viaHTTP, viaBus} {
		n += 8 // six attack files, another practice's, invalid base64
		if c.heavy(route) {
			n += 2 + 3 // the 100,000s, the bombs
		}
	}
	for range n {
		c.waiting = append(c.waiting, register(practicesim.Patients()[1]))
	}
	for _, conv := range c.waiting {
		h.waitStateWithin(transfer.Requesting, conv, transfer.RequestSent, time.Minute)
	}
	h.waitStateWithin(transfer.Requesting, c.ready, transfer.ReadyToIntegrate, time.Minute)
}

// heavy reports whether the round sends the heavy entries by route: the
// 200 MB bodies, the values of 8 MiB, the structures of 100,000 and the
// gzip bombs (each gunzips 16 MiB before it is refused). The race
// detector makes them ten times slower, so under it they go once, the
// first round by the endpoint, the second by the bus; without it, every
// round.
func (c *corpus) heavy(route string) bool {
	return !raceEnabled || route == viaHTTP && c.round == 1 || route == viaBus && c.round == 2
}

// awaiting is a transfer of the waiting patient whose request went: it
// waits for an extract.
func (c *corpus) awaiting() string {
	require.NotEmpty(c.t(), c.waiting, "prepare made too few waiting transfers")
	conv := c.waiting[0]
	c.waiting = c.waiting[1:]
	return conv
}

// message is a wire message of the corpus.
type message struct {
	conv, id string
	action   hl7.Interaction
	kind     bus.SpineKind
	toASID   string // the subject it goes on, on the bus
	body     []byte // the MHS inbound JSON
}

// deliver sends m by route: POST to the endpoint (returning the status
// and body) or publish on the bus.
func (c *corpus) deliver(route string, m message, contentType string) (int, string) {
	c.hs.wire.corpusID(m.id)
	switch route {
	case viaHTTP:
		return c.post(m.body, contentType)
	case viaBus:
		h := c.hs.h
		if contentType == "" {
			contentType = bus.ContentTypeJSON
		}
		_, err := h.bus.Publish(h.ctx, bus.Outgoing{
			Subject: bus.SpineInSubject(m.toASID, m.kind), DedupeID: busDedupeID(m),
			Data: m.body, ContentType: contentType,
			Headers: bus.Headers{ConversationID: safeHeader(m.conv), MessageID: safeHeader(m.id), InteractionID: string(m.action)},
		})
		require.NoError(c.t(), err)
		return 0, ""
	}
	panic("route " + route)
}

// busDedupeID is the loopback's dedupe id of m, or one derived from it when
// its id could not be one.
func busDedupeID(m message) string {
	if safeHeader(m.id) == m.id && m.id != "" {
		return spine.DedupeID(m.id, m.toASID)
	}
	return "spine." + hl7.DeriveID(m.conv, "hostile/"+m.id) + "." + m.toASID
}

func safeHeader(s string) string {
	if s == "" || len(s) > 256 || strings.ContainsAny(s, "\r\n\x00") {
		return "HOSTILE"
	}
	return s
}

func (c *corpus) post(body []byte, contentType string) (int, string) {
	req, err := http.NewRequestWithContext(c.hs.h.ctx, http.MethodPost, c.hs.url, bytes.NewReader(body))
	require.NoError(c.t(), err)
	if contentType == "" {
		contentType = "application/json"
	}
	req.Header.Set("Content-Type", contentType)
	return c.do(req)
}

func (c *corpus) do(req *http.Request) (int, string) {
	resp, err := c.hs.client.Do(req)
	require.NoError(c.t(), err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	return resp.StatusCode, string(b)
}

// record adds a sent entry.
func (c *corpus) record(entry, route string, expect ...expectation) {
	c.sent = append(c.sent, sentEntry{round: c.round, entry: entry, route: route, expect: expect})
}

// ---- expectations ----

// status expects the endpoint's answer.
func status(got int, body string, want int, text string) expectation {
	return expectation{
		what: fmt.Sprintf("HTTP %d %q", want, text),
		check: func() (bool, string) {
			msg := body
			var e spine.ErrorResponse
			var r spine.InboundResponse
			switch {
			case json.Unmarshal([]byte(body), &e) == nil && e.Error != "":
				msg = e.Error
			case json.Unmarshal([]byte(body), &r) == nil && r.Subject != "":
				msg = "published on " + r.Subject
				if r.Duplicate {
					msg += " (duplicate)"
				}
			}
			ok := got == want && (strings.Contains(msg, text) || strings.Contains(body, text))
			if len(msg) > 160 {
				msg = msg[:160] + "…"
			}
			return ok, fmt.Sprintf("HTTP %d %s", got, strings.TrimSpace(msg))
		},
	}
}

// nack expects one negative acknowledgement of message id with code,
// sent to toASID.
func (c *corpus) nack(id string, code hl7.ReasonCode, toASID string) expectation {
	w := c.hs.wire
	return expectation{
		what: fmt.Sprintf("NACK %s → %s", code, toASID),
		check: func() (bool, string) {
			acks := w.acksOf(id)
			if len(acks) == 0 {
				return false, "no acknowledgement"
			}
			var got []string
			ok := len(acks) == 1
			for _, a := range acks {
				got = append(got, fmt.Sprintf("%s %s → %s", a.AckType, a.Reason, a.ToASID))
				ok = ok && a.AckType == hl7.NackType(code) && a.Reason == code && a.ToASID == toASID
			}
			return ok, "NACK " + strings.Join(got, ", ")
		},
	}
}

// deadLetter expects a dead letter of the message published with dedupe
// id msgID whose reason holds text.
func (c *corpus) deadLetter(msgID, text string) expectation {
	hs := c.hs
	return expectation{
		what: fmt.Sprintf("dead letter %q", text),
		check: func() (bool, string) {
			for _, d := range hs.dlq {
				if d.MsgID == msgID {
					reason := d.Reason
					if len(reason) > 200 {
						reason = reason[:200] + "…"
					}
					return strings.Contains(d.Reason, text), fmt.Sprintf("dead letter (%s, %d deliveries): %s", d.Consumer, d.Deliveries, reason)
				}
			}
			return false, "no dead letter"
		},
	}
}

// state expects a side of conv in a state, with a reason code.
func (c *corpus) state(side transfer.Side, conv string, want transfer.State, code hl7.ReasonCode) expectation {
	h := c.hs.h
	return expectation{
		what: fmt.Sprintf("%s %s %s", side, want, code),
		check: func() (bool, string) {
			tr, err := h.store.Get(h.ctx, side, conv)
			if err != nil {
				return false, string(side) + " " + err.Error()
			}
			got := fmt.Sprintf("%s %s", side, tr.State)
			if c := tr.LastChange().Reason.Code; c != "" {
				got += " " + c
			}
			return tr.State == want && tr.LastChange().Reason.Code == string(code), got
		},
	}
}

// ---- building messages ----

// template fills a corpus XML template.
func (c *corpus) template(name string, vars map[string]string) []byte {
	out := string(c.file(name))
	for k, v := range vars {
		out = strings.ReplaceAll(out, "${"+k+"}", v)
	}
	return []byte(out)
}

// requestVars are the values of a well-formed EHR Request from the new
// practice to the old one.
func (c *corpus) requestVars(id string) map[string]string {
	return map[string]string{
		"MESSAGE_ID": id, "TO_ASID": oldASID, "FROM_ASID": newASID, "REQUEST_ID": hl7.NewID(),
		"NHS_NUMBER": normalNHS, "REQUESTING_ODS": newODS, "SENDING_ODS": oldODS,
		"CREATION_TIME": c.hs.h.clock.Now().Format("20060102150405"),
	}
}

func envelope(conv, id string, action hl7.Interaction, now time.Time) ebxml.Envelope {
	return ebxml.Envelope{
		From: ebxml.PartyID{ID: "HOSTILE-820388"}, To: ebxml.PartyID{ID: "GP2GP-820388"}, CPAID: "S1001A1630",
		ConversationID: conv, Action: string(action), MessageID: id, Timestamp: now,
		DuplicateElimination: true, AckRequested: true,
	}
}

// inbound is the MHS inbound JSON of a message with payload and no
// attachments, written whatever the payload holds.
func (c *corpus) inbound(conv, id string, action hl7.Interaction, payload []byte) []byte {
	env := envelope(conv, id, action, c.hs.h.clock.Now())
	env.Manifest = (&ebxml.Message{Envelope: env, Payload: []byte("x")}).Manifest()
	ebXML, err := env.Build()
	require.NoError(c.t(), err)
	return inboundJSON(string(ebXML), payload)
}

// inboundJSON writes the envelope JSON with the payload's bytes as they
// are: characters JSON must escape are escaped, any other byte (invalid
// UTF-8 included) is copied. (By hand, not with encoding/json, which would
// replace invalid UTF-8 and keep its buffer for the largest entries in a
// pool, counted in the heap the test measures.)
func inboundJSON(ebXML string, payload []byte) []byte {
	var b bytes.Buffer
	b.Grow(len(ebXML) + len(payload) + 128)
	b.WriteString(`{"ebXML":"`)
	jsonText(&b, []byte(ebXML))
	b.WriteString(`","payload":"`)
	jsonText(&b, payload)
	b.WriteString(`","attachments":[],"external_attachments":[]}`)
	return b.Bytes()
}

// jsonText writes text as the inside of a JSON string.
func jsonText(b *bytes.Buffer, text []byte) {
	for _, x := range text {
		switch {
		case x == '"' || x == '\\':
			b.WriteByte('\\')
			b.WriteByte(x)
		case x < 0x20:
			fmt.Fprintf(b, `\u%04x`, x)
		default:
			b.WriteByte(x)
		}
	}
}

// withAttachments is the MHS inbound JSON of a whole message, written as
// the MHS adaptor writes it (by hand, as inboundJSON). An attachment's
// Encoded text, when set, is sent as its payload instead of the base64 of
// its Data.
func (c *corpus) withAttachments(m *ebxml.Message) []byte {
	env := m.Envelope
	env.Manifest = m.Manifest()
	ebXML, err := env.Build()
	require.NoError(c.t(), err)
	var b bytes.Buffer
	str := func(name string, v []byte) {
		b.WriteString(`"` + name + `":"`)
		jsonText(&b, v)
		b.WriteString(`"`)
	}
	b.WriteString("{")
	str("ebXML", ebXML)
	b.WriteString(",")
	str("payload", m.Payload)
	b.WriteString(`,"attachments":[`)
	for i, a := range m.Attachments {
		if i > 0 {
			b.WriteString(",")
		}
		payload := a.Encoded
		if payload == nil {
			payload = a.Data
			if a.Base64 {
				payload = []byte(base64.StdEncoding.EncodeToString(a.Data))
			}
		}
		b.WriteString("{")
		str("payload", payload)
		fmt.Fprintf(&b, `,"is_base64":%t,`, a.Base64)
		require.NotEmpty(c.t(), a.ContentID)
		str("content_id", []byte(a.ContentID))
		b.WriteString(",")
		str("content_type", []byte(a.ContentType))
		b.WriteString(",")
		str("description", []byte(a.Description.String()))
		b.WriteString("}")
	}
	b.WriteString(`],"external_attachments":[`)
	for i, x := range m.External {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString("{")
		str("document_id", []byte(x.DocumentID))
		b.WriteString(",")
		str("message_id", []byte(x.MessageID))
		b.WriteString(",")
		str("description", []byte(x.Description.String()))
		b.WriteString(",")
		str("title", []byte(x.Description.Filename))
		b.WriteString("}")
	}
	b.WriteString("]}")
	return b.Bytes()
}

// extract is an EHR Extract of conv from the old practice to toASID.
func (c *corpus) extract(conv, id, fromASID, toASID string) *hl7.Extract {
	hs := c.hs
	hs.contentOnce.Do(func() {
		var err error
		hs.content, _, err = ehr.Generate(ehr.WithSeed(7), ehr.WithPatient(awaitNHS), ehr.WithPractices(oldODS, newODS))
		require.NoError(c.t(), err)
	})
	content := hs.content.Copy()
	return &hl7.Extract{
		Wrapper:   hl7.Wrapper{MessageID: id, CreationTime: c.hs.h.clock.Now(), ToASID: toASID, FromASID: fromASID},
		RequestID: hl7.DeriveID(conv, "ehr-request-id"), NHSNumber: awaitNHS,
		SendingODS: oldODS, RequestingODS: newODS, Content: content,
	}
}

func (c *corpus) encode(m interface{ Encode() ([]byte, error) }) []byte {
	b, err := m.Encode()
	require.NoError(c.t(), err)
	return b
}

// gzipBomb is a gzip stream of gib GiB of zeros (a 1 MiB member,
// repeated: about a kilobyte per MiB).
func gzipBomb(t *testing.T, gib int) []byte {
	var member bytes.Buffer
	zw, err := gzip.NewWriterLevel(&member, gzip.BestCompression)
	require.NoError(t, err)
	_, err = zw.Write(make([]byte, 1<<20))
	require.NoError(t, err)
	require.NoError(t, zw.Close())
	return bytes.Repeat(member.Bytes(), gib<<10)
}

// deepNesting is a document nested levels deep.
func deepNesting(root string, levels int) []byte {
	var b bytes.Buffer
	b.WriteString("<" + root + ` xmlns="urn:hl7-org:v3">`)
	b.WriteString(strings.Repeat("<a>", levels))
	b.WriteString(strings.Repeat("</a>", levels))
	b.WriteString("</" + root + ">")
	return b.Bytes()
}

// manyAttributes is a document whose root has n attributes.
func manyAttributes(root string, n int) []byte {
	var b bytes.Buffer
	b.WriteString("<" + root + ` xmlns="urn:hl7-org:v3"`)
	for i := range n {
		b.WriteString(" a" + strconv.Itoa(i) + `="x"`)
	}
	b.WriteString("/>")
	return b.Bytes()
}

// filler is an endless reader of one byte.
type filler byte

func (f filler) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(f)
	}
	return len(p), nil
}

// countingReader counts what is read through it.
type countingReader struct {
	r  io.Reader
	mu sync.Mutex
	n  int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.mu.Lock()
	c.n += int64(n)
	c.mu.Unlock()
	return n, err
}

func (c *countingReader) count() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}
