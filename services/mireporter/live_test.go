package mireporter_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/nhsengland/gp2gp/libs/bus"
	"github.com/nhsengland/gp2gp/libs/mi"
	"github.com/nhsengland/gp2gp/libs/natsembed/natstest"
	"github.com/nhsengland/gp2gp/libs/service"
	"github.com/nhsengland/gp2gp/libs/service/servicetest"
	gp2gpv1 "github.com/nhsengland/gp2gp/proto/gp2gp/v1"
	"github.com/nhsengland/gp2gp/services/mireporter"
)

const (
	day          = 24 * time.Hour
	reqASID      = "200000000101"
	sendASID     = "200000000102"
	strangerASID = "999999999999"
	urn          = "urn:nhs:names:services:gp2gp/"
)

// spineLog is a Spine message log (GP2GP-MI.md §1.1) built row by row.
type spineLog struct {
	rows []string
	n    int
}

func (s *spineLog) add(at time.Time, conv, interaction, from, to, ref, code string) string {
	s.n++
	id := fmt.Sprintf("%s-%04d", conv[:8], s.n)
	if ref == "" {
		ref = "NotProvided"
	}
	if code == "" {
		code = "NONE"
	}
	s.rows = append(s.rows, strings.Join([]string{at.UTC().Format("2006-01-02 15:04:05") + " UTC", conv, id, urn + interaction,
		from, to, ref, code, "SysA", "SysB"}, ","))
	return id
}

func (s *spineLog) csv() string {
	return "_time,conversationID,GUID,interactionID,messageSender,messageRecipient,messageRef,jdiEvent,fromSystem,toSystem\n" +
		strings.Join(s.rows, "\n") + "\n"
}

// conversations writes a month of transfers covering the status rules:
// every conversation is requested in June 2026 (one at 00:30 BST on 1 July,
// which is 30 June UTC).
func conversations() *spineLog {
	s := &spineLog{}
	t0 := time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)
	conv := func(i int) string { return fmt.Sprintf("C%07d-0000-4000-8000-000000000000", i) }
	integrated := func(i int, from string, sla time.Duration, code string) {
		c, at := conv(i), t0.Add(time.Duration(i)*time.Hour)
		r := s.add(at, c, "RCMR_IN010000UK05", from, sendASID, "", "")
		s.add(at.Add(time.Minute), c, "MCCI_IN010000UK13", sendASID, from, r, "")
		x := s.add(at.Add(time.Hour), c, "RCMR_IN030000UK06", sendASID, from, "", "")
		s.add(at.Add(time.Hour+sla), c, "MCCI_IN010000UK13", from, sendASID, x, code)
	}
	integrated(1, reqASID, 2*day, "")             // within 3 days
	integrated(2, reqASID, 3*day, "")             // 259 200 s: still within 3 days
	integrated(3, reqASID, 5*day, "")             // 3–8 day band
	integrated(4, reqASID, 8*day, "")             // 691 200 s: on time
	integrated(5, reqASID, 8*day+time.Second, "") // late
	integrated(6, reqASID, time.Hour, "15")       // suppressed counts as integrated
	integrated(7, reqASID, time.Hour, "11")       // final error
	integrated(8, strangerASID, time.Hour, "")    // not attributable to a practice

	c, at := conv(9), t0.Add(9*time.Hour) // fatal sender error
	r := s.add(at, c, "RCMR_IN010000UK05", reqASID, sendASID, "", "")
	s.add(at.Add(time.Minute), c, "MCCI_IN010000UK13", sendASID, reqASID, r, "06")

	c, at = conv(10), t0.Add(10*time.Hour) // extract, never acknowledged
	r = s.add(at, c, "RCMR_IN010000UK05", reqASID, sendASID, "", "")
	s.add(at.Add(time.Minute), c, "MCCI_IN010000UK13", sendASID, reqASID, r, "")
	s.add(at.Add(time.Hour), c, "RCMR_IN030000UK06", sendASID, reqASID, "", "")

	c, at = conv(11), t0.Add(11*time.Hour) // large message, a fragment never acknowledged
	r = s.add(at, c, "RCMR_IN010000UK05", reqASID, sendASID, "", "")
	s.add(at.Add(time.Minute), c, "MCCI_IN010000UK13", sendASID, reqASID, r, "")
	x := s.add(at.Add(time.Hour), c, "RCMR_IN030000UK06", sendASID, reqASID, "", "")
	s.add(at.Add(2*time.Hour), c, "COPC_IN000001UK01", reqASID, sendASID, x, "")
	f1 := s.add(at.Add(3*time.Hour), c, "COPC_IN000001UK01", sendASID, reqASID, "", "")
	s.add(at.Add(3*time.Hour), c, "COPC_IN000001UK01", sendASID, reqASID, "", "")
	s.add(at.Add(4*time.Hour), c, "MCCI_IN010000UK13", reqASID, sendASID, f1, "")

	c, at = conv(12), t0.Add(12*time.Hour) // an ack first: not a transfer
	s.add(at, c, "MCCI_IN010000UK13", sendASID, reqASID, "X", "")
	s.add(at.Add(time.Minute), c, "RCMR_IN010000UK05", reqASID, sendASID, "", "")

	c, at = conv(13), time.Date(2026, 6, 30, 23, 30, 0, 0, time.UTC) // 00:30 BST on 1 July: June
	s.add(at, c, "RCMR_IN010000UK05", reqASID, sendASID, "", "")

	c, at = conv(14), t0.Add(14*time.Hour) // an ack to an unknown message, and one after the cutoff
	r = s.add(at, c, "RCMR_IN010000UK05", reqASID, sendASID, "", "")
	s.add(at.Add(time.Minute), c, "MCCI_IN010000UK13", sendASID, reqASID, r, "")
	x = s.add(at.Add(time.Hour), c, "RCMR_IN030000UK06", sendASID, reqASID, "", "")
	s.add(at.Add(2*time.Hour), c, "MCCI_IN010000UK13", reqASID, sendASID, "NOSUCHMESSAGE", "")
	s.add(at.Add(15*day), c, "MCCI_IN010000UK13", reqASID, sendASID, x, "")
	return s
}

const metadata = `{
  "practices": [
    {"odsCode": "A12345", "name": "Riverside Surgery", "asids": ["200000000101"]},
    {"odsCode": "B86041", "name": "Hillside Practice", "asids": ["200000000102"]}
  ],
  "sicbls": [{"odsCode": "00L", "name": "NHS North East SICBL", "practices": ["A12345", "B86041"]}]
}`

// reporter is a running mireporter against an embedded JetStream.
type reporter struct {
	t      *testing.T
	srv    *natstest.Server
	cfg    mireporter.Config
	opts   []mireporter.Option
	base   string
	cancel context.CancelFunc
	done   chan error
	bus    *bus.Bus
	js     jetstream.JetStream
}

func newReporter(t *testing.T, now func() time.Time, extra ...mireporter.Option) *reporter {
	t.Helper()
	return newReporterWith(t, nil, now, extra...)
}

func newReporterWith(t *testing.T, configure func(*mireporter.Config), now func() time.Time, extra ...mireporter.Option) *reporter {
	t.Helper()
	srv := natstest.NewServer(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "ods.json")
	require.NoError(t, os.WriteFile(path, []byte(metadata), 0o600))
	cfg := mireporter.Config{Config: servicetest.Config(srv.URL()), Cutoff: 14 * day, ODSMetadata: path, HTTPAddr: "127.0.0.1:0"}
	cfg.Practices = nil
	if os.Getenv("MI_TEST_LOG") != "" {
		cfg.LogLevel = slog.LevelDebug
	}
	if configure != nil {
		configure(&cfg)
	}
	r := &reporter{t: t, srv: srv, cfg: cfg, js: srv.JetStream()}
	r.opts = append([]mireporter.Option{mireporter.WithClock(now), mireporter.WithClassifyInterval(20 * time.Millisecond),
		mireporter.WithStartOptions(service.WithLogOutput(logOut()))}, extra...)
	r.start()
	b, err := bus.New(r.js)
	require.NoError(t, err)
	r.bus = b
	return r
}

func (r *reporter) start() {
	r.t.Helper()
	addr := make(chan string, 1)
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel, r.done = cancel, make(chan error, 1)
	opts := append(r.opts, mireporter.WithHTTPListening(func(a string) { addr <- a }))
	go func() { r.done <- mireporter.Run(ctx, r.cfg, opts...) }()
	select {
	case a := <-addr:
		r.base = "http://" + a
	case err := <-r.done:
		r.t.Fatalf("mireporter stopped: %v", err)
	case <-time.After(20 * time.Second):
		r.t.Fatal("mireporter did not listen")
	}
	r.t.Cleanup(r.stop)
}

func (r *reporter) stop() {
	if r.cancel == nil {
		return
	}
	r.cancel()
	r.cancel = nil
	select {
	case err := <-r.done:
		require.NoError(r.t, err)
	case <-time.After(30 * time.Second):
		r.t.Fatal("mireporter did not stop")
	}
}

func (r *reporter) restart() {
	r.t.Helper()
	r.stop()
	r.start()
}

// publish publishes ev as a message event; again publishes it under
// another dedupe id, as a re-publish after the stream's dedupe window.
func (r *reporter) publish(e mi.Event, again bool) {
	r.t.Helper()
	ev := &gp2gpv1.MessageEvent{
		ConversationId: e.ConversationID, MessageId: e.MessageID, Interaction: e.Interaction,
		SenderAsid: e.Sender, RecipientAsid: e.Recipient, OccurredAt: timestamppb.New(e.Time),
		FromSystem: e.FromSystem, ToSystem: e.ToSystem, Direction: gp2gpv1.MessageDirection_MESSAGE_DIRECTION_SENT,
	}
	if ref, ok := e.Ref(); ok {
		ev.MessageRef = ref
	}
	if e.ErrorCode != nil {
		ev.ErrorCode = fmt.Sprintf("%02d", *e.ErrorCode)
	}
	dedupe := "message." + e.MessageID
	if again {
		dedupe = "again." + e.MessageID
	}
	_, err := r.bus.PublishProto(context.Background(), bus.Outgoing{Subject: bus.MessageSubject(e.ConversationID), DedupeID: dedupe}, ev)
	require.NoError(r.t, err)
}

func (r *reporter) get(path string, into any) int {
	r.t.Helper()
	resp, err := http.Get(r.base + path)
	require.NoError(r.t, err)
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	require.NoError(r.t, err)
	if resp.StatusCode == http.StatusOK && into != nil {
		require.NoError(r.t, json.Unmarshal(data, into), string(data))
	}
	return resp.StatusCode
}

// imported classifies the log as gp2gpctl mi report does.
func imported(t *testing.T, log string) mi.Report {
	t.Helper()
	evs, err := mi.ParseSpineCSV(strings.NewReader(log))
	require.NoError(t, err)
	md, err := mi.LoadMetadata(strings.NewReader(metadata))
	require.NoError(t, err)
	ts := mi.Classify(evs, 14*day)
	mi.Attribute(ts, md.Lookup())
	return mi.BuildReport(ts, time.Now())
}

// sameAsImport waits until every transfer of want is classified live as
// it is imported, and the month figures agree.
func (r *reporter) sameAsImport(want mi.Report) {
	r.t.Helper()
	for _, w := range want.Transfers {
		wantJSON, err := json.Marshal(w)
		require.NoError(r.t, err)
		var wantValue any
		require.NoError(r.t, json.Unmarshal(wantJSON, &wantValue))
		// The live view is eventually consistent: a transfer may show a
		// classification of the events applied so far (already past its
		// cutoff, so not in progress) before the last of them is in. Wait
		// for all of it.
		var got json.RawMessage
		ok := assert.Eventually(r.t, func() bool {
			if r.get("/api/v1/transfers/"+w.ConversationID, &got) != http.StatusOK {
				return false
			}
			var g any
			return json.Unmarshal(got, &g) == nil && reflect.DeepEqual(g, wantValue)
		}, 20*time.Second, 20*time.Millisecond, "transfer %s", w.ConversationID)
		if !ok {
			assert.JSONEq(r.t, string(wantJSON), string(got), w.ConversationID)
		}
	}
	for _, n := range want.National {
		var got struct {
			Metrics []mi.NationalMonth `json:"metrics"`
		}
		month := fmt.Sprintf("%04d-%02d", n.Year, n.Month)
		require.Eventually(r.t, func() bool {
			return r.get("/api/v1/national?month="+month, &got) == http.StatusOK && len(got.Metrics) == 1 &&
				got.Metrics[0].TransferCount == n.TransferCount
		}, 20*time.Second, 20*time.Millisecond, "national %s", month)
		assert.Equal(r.t, n, got.Metrics[0], month)
	}
	for _, p := range want.Practices {
		var got struct {
			Practice mi.PracticeMetrics `json:"practice"`
		}
		require.Equal(r.t, http.StatusOK, r.get("/api/v1/practices/"+p.ODSCode, &got), p.ODSCode)
		assert.Equal(r.t, p, got.Practice, p.ODSCode)
	}
}

func TestLiveClassificationEqualsTheImportsAndSurvivesARestart(t *testing.T) {
	log := conversations().csv()
	want := imported(t, log)
	require.Len(t, want.Transfers, 13, "conversation 12 is not a transfer")
	require.NotEmpty(t, want.Practices)

	// Long after every cutoff: every conversation is closed once all its
	// events are in. The events wait in the stream while the mireporter
	// is down, as after an outage.
	r := newReporter(t, func() time.Time { return time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC) })
	r.stop()
	evs, err := mi.ParseSpineCSV(strings.NewReader(log))
	require.NoError(t, err)
	for i, e := range evs {
		r.publish(e, false)
		if i%3 == 0 {
			r.publish(e, true) // redelivered: counted once
		}
	}
	r.start()
	r.sameAsImport(want)
	assert.Equal(t, http.StatusNotFound, r.get("/api/v1/transfers/C0000012-0000-4000-8000-000000000000", nil), "not a transfer")

	r.restart()
	for _, e := range evs[:10] {
		r.publish(e, true) // after the restart, events of closed conversations count nothing
	}
	time.Sleep(200 * time.Millisecond)
	r.sameAsImport(want)

	// Closed conversations keep only their classification.
	kv, err := r.js.KeyValue(context.Background(), bus.BucketMI)
	require.NoError(t, err)
	var left []string
	assert.Eventually(t, func() bool {
		keys, err := kv.ListKeysFiltered(context.Background(), "m.>")
		require.NoError(t, err)
		left = nil
		for k := range keys.Keys() {
			left = append(left, k)
		}
		return len(left) == 0
	}, 20*time.Second, 50*time.Millisecond, "message keys of closed conversations are deleted")
	assert.Empty(t, left)
	// The figures are stored after the classifications they count, so
	// on a busy machine they may lag the key clean-up above a little.
	var figs struct {
		National mi.NationalMonth `json:"national"`
	}
	assert.Eventually(t, func() bool {
		e, err := kv.Get(context.Background(), "f.2026-06")
		if err != nil {
			return false
		}
		require.NoError(t, json.Unmarshal(e.Value(), &figs))
		return assert.ObjectsAreEqual(want.National[0], figs.National)
	}, 20*time.Second, 50*time.Millisecond, "the month's figures are kept in the bucket")
	assert.Equal(t, want.National[0], figs.National)
}

// clock is a settable clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

func TestLiveTransferIsInProgressUntilItsCutoff(t *testing.T) {
	start := time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)
	clk := &clock{t: start.Add(day)}
	r := newReporter(t, clk.now)
	s := &spineLog{}
	const conv = "D0000001-0000-4000-8000-000000000000"
	req := s.add(start, conv, "RCMR_IN010000UK05", reqASID, sendASID, "", "")
	s.add(start.Add(time.Minute), conv, "MCCI_IN010000UK13", sendASID, reqASID, req, "")
	x := s.add(start.Add(time.Hour), conv, "RCMR_IN030000UK06", sendASID, reqASID, "", "")
	evs, err := mi.ParseSpineCSV(strings.NewReader(s.csv()))
	require.NoError(t, err)
	for _, e := range evs {
		r.publish(e, false)
	}
	var got mi.Transfer
	require.Eventually(t, func() bool { return r.get("/api/v1/transfers/"+conv, &got) == http.StatusOK },
		20*time.Second, 20*time.Millisecond)
	assert.True(t, got.InProgress)
	assert.Equal(t, mi.StatusProcessFailure, got.Status, "in progress maps to transferred, not integrated")
	assert.Equal(t, mi.ReasonTransferredNotIntegrated, got.FailureReason)

	// The final acknowledgement arrives: integrated on time, at once.
	s2 := &spineLog{n: 10}
	s2.add(start.Add(2*day), conv, "MCCI_IN010000UK13", reqASID, sendASID, x, "")
	ack, err := mi.ParseSpineCSV(strings.NewReader(s2.csv()))
	require.NoError(t, err)
	r.publish(ack[0], false)
	require.Eventually(t, func() bool {
		return r.get("/api/v1/transfers/"+conv, &got) == http.StatusOK && got.Status == mi.StatusIntegratedOnTime
	}, 20*time.Second, 20*time.Millisecond)
	assert.False(t, got.InProgress)

	// A second conversation with no answer stays in progress, then closes
	// as "Request not acknowledged" once its cutoff has passed.
	const conv2 = "D0000002-0000-4000-8000-000000000000"
	s3 := &spineLog{n: 20}
	s3.add(start, conv2, "RCMR_IN010000UK05", reqASID, sendASID, "", "")
	only, err := mi.ParseSpineCSV(strings.NewReader(s3.csv()))
	require.NoError(t, err)
	r.publish(only[0], false)
	require.Eventually(t, func() bool { return r.get("/api/v1/transfers/"+conv2, &got) == http.StatusOK && got.InProgress },
		20*time.Second, 20*time.Millisecond)
	clk.set(start.Add(14*day + time.Second))
	require.Eventually(t, func() bool {
		return r.get("/api/v1/transfers/"+conv2, &got) == http.StatusOK && !got.InProgress
	}, 20*time.Second, 20*time.Millisecond)
	assert.Equal(t, mi.ReasonRequestNotAcknowledged, got.FailureReason)
}

func logOut() io.Writer {
	if os.Getenv("MI_TEST_LOG") != "" {
		return os.Stderr
	}
	return io.Discard
}
