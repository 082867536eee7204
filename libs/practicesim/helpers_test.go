package practicesim_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/nhsengland/gp2gp/libs/bus"
	"github.com/nhsengland/gp2gp/libs/hl7/ehr"
	"github.com/nhsengland/gp2gp/libs/natsembed/natstest"
	"github.com/nhsengland/gp2gp/libs/practicesim"
	gp2gpv1 "github.com/nhsengland/gp2gp/proto/gp2gp/v1"
)

// The two practices of the tests: the previous practice holds the record
// and sends it; the new practice registers the patient and integrates it.
const (
	previousODS = "B86041"
	newODS      = "A12345"
)

// fixedNow is the clock of practices that need one.
var fixedNow = time.Date(2025, time.November, 3, 9, 15, 0, 0, time.UTC)

func fixedClock() time.Time { return fixedNow }

// fixture is one embedded JetStream with a bus on it.
type fixture struct {
	t   *testing.T
	js  jetstream.JetStream
	bus *bus.Bus
	ctx context.Context
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	srv := natstest.NewServer(t)
	js := srv.JetStream()
	b, err := bus.New(js)
	require.NoError(t, err)
	return &fixture{t: t, js: js, bus: b, ctx: natstest.Context(t, 60*time.Second)}
}

// tWriter sends log lines to the test log.
type tWriter struct{ t *testing.T }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// start runs a practice until the test ends, and checks that it then stops
// cleanly. Its topology exists when start returns.
func (f *fixture) start(ods string, opts ...practicesim.Option) *practicesim.Practice {
	f.t.Helper()
	logger := slog.New(bus.NewLogHandler(slog.NewTextHandler(tWriter{f.t}, nil)))
	opts = append([]practicesim.Option{practicesim.WithLogger(logger)}, opts...)
	p, err := practicesim.New(f.bus, practicesim.Config{ODS: ods, ASID: "200000000101"}, opts...)
	require.NoError(f.t, err)
	require.NoError(f.t, p.Ensure(f.ctx))
	ctx, cancel := context.WithCancel(f.ctx)
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	f.t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			f.t.Errorf("Run: %v", err)
		}
	})
	return p
}

// publish publishes m as the gp2gp service would, with dedupe id id.
func (f *fixture) publish(subject, id, conversationID string, m proto.Message) {
	f.t.Helper()
	_, err := f.bus.PublishProto(f.ctx, bus.Outgoing{
		Subject: subject, DedupeID: id, Headers: bus.Headers{ConversationID: conversationID},
	}, m)
	require.NoError(f.t, err)
}

// requestRecord publishes req as the sender does.
func (f *fixture) requestRecord(req *gp2gpv1.RecordRequest, dedupeSuffix string) {
	f.t.Helper()
	f.publish(bus.RecordRequestSubject(previousODS), "record-request."+req.GetRequestId()+dedupeSuffix, req.GetConversationId(), req)
}

// recordReady publishes ready as the receiver does.
func (f *fixture) recordReady(ready *gp2gpv1.RecordReady, dedupeSuffix string) {
	f.t.Helper()
	f.publish(bus.RecordReadySubject(newODS), "record-ready."+ready.GetConversationId()+dedupeSuffix, ready.GetConversationId(), ready)
}

// messages returns the messages of stream, oldest first.
func (f *fixture) messages(stream string) []*jetstream.RawStreamMsg {
	f.t.Helper()
	s, err := f.js.Stream(f.ctx, stream)
	require.NoError(f.t, err)
	info, err := s.Info(f.ctx)
	require.NoError(f.t, err)
	var out []*jetstream.RawStreamMsg
	if info.State.Msgs == 0 {
		return nil
	}
	for seq := info.State.FirstSeq; seq <= info.State.LastSeq; seq++ {
		m, err := s.GetMsg(f.ctx, seq)
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			continue
		}
		require.NoError(f.t, err)
		out = append(out, m)
	}
	return out
}

// responses returns the record responses published, decoded.
func (f *fixture) responses() []*gp2gpv1.RecordResponse {
	f.t.Helper()
	var out []*gp2gpv1.RecordResponse
	for _, m := range f.messages(bus.StreamRecordResponses) {
		r := &gp2gpv1.RecordResponse{}
		require.NoError(f.t, proto.Unmarshal(m.Data, r))
		out = append(out, r)
	}
	return out
}

// outcomes returns the integration outcomes published, decoded.
func (f *fixture) outcomes() []*gp2gpv1.IntegrationOutcome {
	f.t.Helper()
	var out []*gp2gpv1.IntegrationOutcome
	for _, m := range f.messages(bus.StreamIntegrations) {
		o := &gp2gpv1.IntegrationOutcome{}
		require.NoError(f.t, proto.Unmarshal(m.Data, o))
		out = append(out, o)
	}
	return out
}

// settled reports whether the consumer has been delivered every message
// and none awaits an ack or a redelivery.
func (f *fixture) settled(spec bus.ConsumerSpec) func() bool {
	return func() bool {
		c, err := f.js.Consumer(f.ctx, spec.Stream, spec.Durable)
		if err != nil {
			return false
		}
		info, err := c.Info(f.ctx)
		return err == nil && info.NumPending == 0 && info.NumAckPending == 0
	}
}

// eventually is require.Eventually with the tests' bounds.
func eventually(t *testing.T, cond func() bool, msgAndArgs ...any) {
	t.Helper()
	require.Eventually(t, cond, 20*time.Second, 10*time.Millisecond, msgAndArgs...)
}

// recordRequest is a request for nhs's record from the new practice.
func recordRequest(requestID, conversationID, nhs string) *gp2gpv1.RecordRequest {
	return &gp2gpv1.RecordRequest{
		RequestId:             requestID,
		ConversationId:        conversationID,
		NhsNumber:             nhs,
		PracticeOds:           previousODS,
		RequestingPracticeOds: newODS,
		RequestedAt:           timestamppb.New(fixedNow),
		RespondBy:             timestamppb.New(fixedNow.Add(time.Hour)),
	}
}

// extractFor generates an extract of nhs's record as the previous practice
// would send it, and the generator's summary of it.
func extractFor(t *testing.T, nhs string) ([]byte, ehr.Summary) {
	t.Helper()
	el, sum, err := ehr.Generate(ehr.WithSeed(7), ehr.WithPatient(nhs), ehr.WithPractices(previousODS, newODS))
	require.NoError(t, err)
	doc := etree.NewDocumentWithRoot(el)
	data, err := doc.WriteToBytes()
	require.NoError(t, err)
	return data, sum
}

// inline is content carried in the message.
func inline(data []byte) *gp2gpv1.Content {
	return &gp2gpv1.Content{Content: &gp2gpv1.Content_Inline{Inline: data}}
}
