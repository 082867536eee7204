package gp2gpctl_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"

	"github.com/nhsengland/gp2gp/libs/bus"
	"github.com/nhsengland/gp2gp/libs/natsauth"
	"github.com/nhsengland/gp2gp/libs/natsauth/natsauthtest"
	"github.com/nhsengland/gp2gp/libs/natsembed/natstest"
	"github.com/nhsengland/gp2gp/libs/service"
	gp2gpv1 "github.com/nhsengland/gp2gp/proto/gp2gp/v1"
	"github.com/nhsengland/gp2gp/services/gp2gpctl"
	"github.com/nhsengland/gp2gp/services/gp2gpctl/internal/dlq"
)

const (
	dlqConvReg   = "AAAAAAAA-0000-4000-8000-00000000000A" // a registration: dead letter 1
	dlqConvAck   = "BBBBBBBB-0000-4000-8000-00000000000B" // an ack request: dead letter 2
	dlqConvLarge = "CCCCCCCC-0000-4000-8000-00000000000C" // a claim-checked registration: dead letter 3

	// dlqInlineLimit makes a few kilobytes a claim check.
	dlqInlineLimit = 4 << 10
)

var (
	dlqPractice = bus.Practice{ODS: "A12345", ASID: "200000000101"}
	dlqRegs     = bus.RequesterRegistrations("", []bus.Practice{dlqPractice})
	dlqAcks     = bus.AcknowledgerRequests("", []bus.Practice{dlqPractice})
)

// dlqHandled is a message a fixed handler processed.
type dlqHandled struct {
	stream, subject string
	header          nats.Header
	data            []byte
}

// dlqFixture runs durable consumers whose handler refuses every message
// (bus.Permanentf) until fixed, then records what it gets.
type dlqFixture struct {
	t     *testing.T
	ctx   context.Context
	url   string
	js    jetstream.JetStream
	bus   *bus.Bus
	fixed atomic.Bool

	mu  sync.Mutex
	got []dlqHandled
}

// newDLQFixture consumes specs on js (whose streams exist) until the test
// ends.
func newDLQFixture(t *testing.T, url string, js jetstream.JetStream, specs ...bus.ConsumerSpec) *dlqFixture {
	t.Helper()
	b, err := bus.New(js, bus.WithInlineLimit(dlqInlineLimit))
	require.NoError(t, err)
	f := &dlqFixture{t: t, ctx: natstest.Context(t, 2*time.Minute), url: url, js: js, bus: b}
	ctx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for _, spec := range specs {
		wg.Go(func() { assert.NoError(t, b.Consume(ctx, spec, f.handle, bus.WithShutdownTimeout(5*time.Second))) })
	}
	t.Cleanup(func() { stop(); wg.Wait() })
	return f
}

// newPlainDLQ is a fixture on an embedded server without authorization:
// registrations and ack requests, each with its consumer.
func newPlainDLQ(t *testing.T) *dlqFixture {
	t.Helper()
	srv := natstest.NewServer(t)
	js := srv.JetStream()
	ctx := natstest.Context(t, 30*time.Second)
	require.NoError(t, bus.Ensure(ctx, js, bus.DevProfile, bus.Topology{
		Streams:      dlqStreams(t, bus.StreamRegistrations, bus.StreamAcks, bus.StreamDeadLetter),
		ObjectStores: []bus.ObjectStoreSpec{bus.BodiesStore},
		Consumers:    []bus.ConsumerSpec{dlqRegs, dlqAcks},
	}))
	return newDLQFixture(t, srv.URL(), js, dlqRegs, dlqAcks)
}

func dlqStreams(t *testing.T, names ...string) []bus.StreamSpec {
	t.Helper()
	var out []bus.StreamSpec
	for _, s := range bus.Streams() {
		for _, n := range names {
			if s.Name == n {
				out = append(out, s)
			}
		}
	}
	require.Len(t, out, len(names))
	return out
}

func (f *dlqFixture) handle(_ context.Context, m *bus.Msg) error {
	if !f.fixed.Load() {
		return bus.Permanentf("cannot handle %s yet", m.Subject)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.got = append(f.got, dlqHandled{stream: m.Stream, subject: m.Subject, header: m.Header, data: m.Data})
	return nil
}

// handledFor returns what the fixed handler got of conversation conv.
func (f *dlqFixture) handledFor(conv string) []dlqHandled {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []dlqHandled
	for _, h := range f.got {
		if bus.HeadersOf(h.header).ConversationID == conv {
			out = append(out, h)
		}
	}
	return out
}

// depth is how many messages the dead-letter stream holds.
func (f *dlqFixture) depth() uint64 {
	f.t.Helper()
	s, err := f.js.Stream(f.ctx, bus.StreamDeadLetter)
	require.NoError(f.t, err)
	return s.CachedInfo().State.Msgs
}

// deadLetter publishes out (its body the proto m, or out.Data) and waits
// until its dead letter is in the stream, so that dead letters are
// numbered in the order published.
func (f *dlqFixture) deadLetter(out bus.Outgoing, m proto.Message) {
	f.t.Helper()
	before := f.depth()
	var err error
	if m != nil {
		_, err = f.bus.PublishProto(f.ctx, out, m)
	} else {
		_, err = f.bus.Publish(f.ctx, out)
	}
	require.NoError(f.t, err)
	require.Eventually(f.t, func() bool { return f.depth() == before+1 }, 10*time.Second, 10*time.Millisecond)
}

// dlqLargeName makes a registration a claim check.
var dlqLargeName = strings.Repeat("Ada", 2*dlqInlineLimit/3)

// seed dead-letters a registration (1), an ack request (2) and a
// registration too large to travel inline (3).
func (f *dlqFixture) seed() {
	f.t.Helper()
	reg := func(event, conv, given string) *gp2gpv1.RegistrationEvent {
		return &gp2gpv1.RegistrationEvent{
			EventId: event, ConversationId: conv, RequestingPracticeOds: dlqPractice.ODS, PreviousPracticeOds: "B86041",
			Patient: &gp2gpv1.Patient{NhsNumber: "9990001014", GivenName: given, FamilyName: "Thornbury"},
		}
	}
	f.deadLetter(bus.Outgoing{Subject: bus.RegistrationSubject(dlqPractice.ODS), DedupeID: "registration.A12345.evt-1",
		Headers: bus.Headers{ConversationID: dlqConvReg}}, reg("evt-1", dlqConvReg, "Ada"))
	f.deadLetter(bus.Outgoing{Subject: bus.AckSubject(dlqPractice.ASID), DedupeID: "ack.evt-2",
		Headers: bus.Headers{ConversationID: dlqConvAck}},
		&gp2gpv1.AckRequest{MessageId: "ACK-1", ConversationId: dlqConvAck, TypeCode: "AA", FromAsid: dlqPractice.ASID})
	f.deadLetter(bus.Outgoing{Subject: bus.RegistrationSubject(dlqPractice.ODS), DedupeID: "registration.A12345.evt-3",
		Headers: bus.Headers{ConversationID: dlqConvLarge}}, reg("evt-3", dlqConvLarge, dlqLargeName))
}

// settled waits until spec's consumer has nothing pending or unacknowledged.
func (f *dlqFixture) settled(spec bus.ConsumerSpec) {
	f.t.Helper()
	require.Eventually(f.t, func() bool {
		c, err := f.js.Consumer(f.ctx, spec.Stream, spec.Durable)
		if err != nil {
			return false
		}
		ci, err := c.Info(f.ctx)
		return err == nil && ci.NumPending == 0 && ci.NumAckPending == 0
	}, 10*time.Second, 10*time.Millisecond)
}

// stored is how many messages stream holds.
func (f *dlqFixture) stored(stream string) uint64 {
	f.t.Helper()
	s, err := f.js.Stream(f.ctx, stream)
	require.NoError(f.t, err)
	return s.CachedInfo().State.Msgs
}

// dlqRows parses list's text: the fields of each line between the header
// and the count.
func dlqRows(t *testing.T, out string) (rows [][]string, count string) {
	t.Helper()
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	require.GreaterOrEqual(t, len(lines), 2, out)
	assert.Equal(t, []string{"SEQ", "DEAD-LETTERED", "STREAM", "CONSUMER", "SUBJECT", "DELIVERIES", "CONVERSATION", "REASON"}, strings.Fields(lines[0]))
	for _, l := range lines[1 : len(lines)-1] {
		rows = append(rows, strings.Fields(l))
	}
	return rows, lines[len(lines)-1]
}

func TestDLQList(t *testing.T) {
	f := newPlainDLQ(t)
	f.seed()

	t.Run("text, oldest first, with the count", func(t *testing.T) {
		out, errOut, code := ctl(t, "dlq", "list", "-nats", f.url)
		require.Equal(t, gp2gpctl.ExitOK, code, errOut)
		rows, count := dlqRows(t, out)
		require.Len(t, rows, 3, out)
		regSubject := bus.RegistrationSubject(dlqPractice.ODS)
		for i, want := range [][]string{
			{"1", bus.StreamRegistrations, dlqRegs.Durable, regSubject, "1", dlqConvReg, "cannot", "handle", regSubject, "yet"},
			{"2", bus.StreamAcks, dlqAcks.Durable, bus.AckSubject(dlqPractice.ASID), "1", dlqConvAck},
			{"3", bus.StreamRegistrations, dlqRegs.Durable, regSubject, "1", dlqConvLarge},
		} {
			got := rows[i]
			_, err := time.Parse(time.RFC3339, got[1])
			assert.NoError(t, err, "time of %v", got)
			got = append(got[:1:1], got[2:]...)
			assert.Equal(t, want, got[:len(want)])
		}
		assert.Equal(t, "3 dead letters", count)
	})

	ids := func(t *testing.T, out string) []string {
		t.Helper()
		rows, _ := dlqRows(t, out)
		var got []string
		for _, r := range rows {
			got = append(got, r[0])
		}
		return got
	}
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"stream", []string{"-stream", bus.StreamAcks}, []string{"2"}},
		{"consumer", []string{"-consumer", dlqRegs.Durable}, []string{"1", "3"}},
		{"stream and consumer", []string{"-stream", bus.StreamRegistrations, "-consumer", dlqRegs.Durable}, []string{"1", "3"}},
		{"conversation, any case", []string{"-conversation", strings.ToLower(dlqConvLarge)}, []string{"3"}},
		{"nothing", []string{"-stream", bus.StreamAcks, "-consumer", dlqRegs.Durable}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errOut, code := ctl(t, append([]string{"dlq", "list", "-nats", f.url}, tt.args...)...)
			require.Equal(t, gp2gpctl.ExitOK, code, errOut)
			if tt.want == nil {
				assert.Empty(t, out)
				assert.Equal(t, "gp2gpctl dlq list: no dead letters match\n", errOut)
				return
			}
			assert.Empty(t, errOut)
			assert.Equal(t, tt.want, ids(t, out))
		})
	}

	t.Run("limit", func(t *testing.T) {
		out, errOut, code := ctl(t, "dlq", "list", "-limit", "2", "-nats", f.url)
		require.Equal(t, gp2gpctl.ExitOK, code, errOut)
		assert.Equal(t, []string{"1", "2"}, ids(t, out))
		assert.True(t, strings.HasSuffix(out, "\n3 dead letters, the oldest 2 shown; use -limit to see more\n"), out)
	})
	t.Run("JSON", func(t *testing.T) {
		out, errOut, code := ctl(t, "dlq", "list", "-json", "-nats", f.url, "-consumer", dlqRegs.Durable)
		require.Equal(t, gp2gpctl.ExitOK, code, errOut)
		var l dlq.Listing
		require.NoError(t, json.Unmarshal([]byte(out), &l), out)
		assert.Equal(t, 2, l.Matched)
		require.Len(t, l.DeadLetters, 2)
		first, large := l.DeadLetters[0], l.DeadLetters[1]
		assert.WithinDuration(t, time.Now(), first.At, time.Minute)
		first.At = time.Time{}
		assert.Equal(t, dlq.Entry{
			Seq: 1, Stream: bus.StreamRegistrations, Consumer: dlqRegs.Durable, Subject: bus.RegistrationSubject(dlqPractice.ODS),
			Sequence: 1, Deliveries: 1, Permanent: true, ConversationID: dlqConvReg,
			Reason: "cannot handle gp2gp.practice.A12345.registration yet", MsgID: "registration.A12345.evt-1", Size: first.Size,
		}, first)
		assert.Positive(t, first.Size)
		assert.True(t, large.ClaimCheck)
		assert.Greater(t, large.Size, dlqInlineLimit)
	})
	t.Run("JSON, nothing matches", func(t *testing.T) {
		out, errOut, code := ctl(t, "dlq", "list", "-json", "-nats", f.url, "-conversation", "DDDDDDDD-0000-4000-8000-00000000000D")
		require.Equal(t, gp2gpctl.ExitOK, code, errOut)
		assert.JSONEq(t, `{"matched":0,"dead_letters":[]}`, out)
	})
}

func TestDLQListEmpty(t *testing.T) {
	srv := natstest.NewServer(t)
	require.NoError(t, bus.Ensure(natstest.Context(t, 10*time.Second), srv.JetStream(), bus.DevProfile,
		bus.Topology{Streams: dlqStreams(t, bus.StreamDeadLetter)}))
	start := time.Now()
	out, errOut, code := ctl(t, "dlq", "list", "-nats", srv.URL())
	assert.Equal(t, gp2gpctl.ExitOK, code)
	assert.Empty(t, out)
	assert.Equal(t, "gp2gpctl dlq list: no dead letters match\n", errOut)
	assert.Less(t, time.Since(start), 5*time.Second)
}

func TestDLQShow(t *testing.T) {
	f := newPlainDLQ(t)
	f.seed()

	t.Run("text: headers and the body as protojson", func(t *testing.T) {
		out, errOut, code := ctl(t, "dlq", "show", "1", "-nats", f.url)
		require.Equal(t, gp2gpctl.ExitOK, code, errOut)
		inOrder(t, out,
			"dead letter 1 in GP2GP_DLQ (gp2gp.dlq.GP2GP_REGISTRATIONS.requester-registrations, stored ",
			"reason", "cannot handle gp2gp.practice.A12345.registration yet",
			"failure", "permanent",
			"from", "GP2GP_REGISTRATIONS sequence 1, consumer requester-registrations",
			"subject", "gp2gp.practice.A12345.registration",
			"deliveries", "1",
			"conversation", dlqConvReg,
			"msg id", "registration.A12345.evt-1",
			"\nheaders\n",
			"  Content-Type: application/protobuf\n",
			"  Gp2gp-Conversation-Id: "+dlqConvReg+"\n",
			"  Gp2gp-Dlq-Consumer: requester-registrations\n",
			"  Gp2gp-Dlq-Reason: cannot handle gp2gp.practice.A12345.registration yet\n",
			"\nbody: gp2gp.v1.RegistrationEvent (application/protobuf, ",
			`"eventId": "evt-1"`, `"nhsNumber": "9990001014"`)
	})
	t.Run("JSON", func(t *testing.T) {
		out, errOut, code := ctl(t, "dlq", "show", "-json", "2", "-nats", f.url)
		require.Equal(t, gp2gpctl.ExitOK, code, errOut)
		var l dlq.Letter
		require.NoError(t, json.Unmarshal([]byte(out), &l), out)
		assert.Equal(t, uint64(2), l.Seq)
		assert.Equal(t, bus.StreamAcks, l.Stream)
		assert.Equal(t, bus.DeadLetterSubject(bus.StreamAcks, dlqAcks.Durable), l.DLQSubject)
		assert.Equal(t, []string{"true"}, l.Headers[bus.HeaderDeadLetterPermanent])
		assert.Equal(t, []string{dlqConvAck}, l.Headers[bus.HeaderConversationID])
		assert.Equal(t, dlq.FormProtoJSON, l.Body.Form)
		assert.Equal(t, "gp2gp.v1.AckRequest", l.Body.Type)
		assert.Equal(t, bus.ContentTypeProtobuf, l.Body.ContentType)
		assert.JSONEq(t, `{"messageId":"ACK-1","conversationId":"`+dlqConvAck+`","typeCode":"AA","fromAsid":"200000000101"}`, string(l.Body.JSON))
		assert.Positive(t, l.Body.Size)
	})
	t.Run("a claim check", func(t *testing.T) {
		out, errOut, code := ctl(t, "dlq", "show", "3", "-nats", f.url)
		require.Equal(t, gp2gpctl.ExitOK, code, errOut)
		inOrder(t, out, "  "+bus.HeaderBodyObject+": ", "  "+bus.HeaderBodySize+": ",
			"body: ", " bytes in object store gp2gp_bodies as ", "replay sends the claim check as it is")
		out, errOut, code = ctl(t, "dlq", "show", "3", "-json", "-nats", f.url)
		require.Equal(t, gp2gpctl.ExitOK, code, errOut)
		var l dlq.Letter
		require.NoError(t, json.Unmarshal([]byte(out), &l), out)
		assert.Equal(t, dlq.FormClaimCheck, l.Body.Form)
		assert.NotEmpty(t, l.Body.Object)
		assert.Greater(t, l.Body.Size, dlqInlineLimit)
	})
	t.Run("JSON and XML text as it is, anything else base64", func(t *testing.T) {
		f.deadLetter(bus.Outgoing{Subject: bus.AckSubject(dlqPractice.ASID), DedupeID: "ack.json",
			ContentType: bus.ContentTypeJSON, Data: []byte(`{"messageId": "ACK-JSON"}`)}, nil)
		f.deadLetter(bus.Outgoing{Subject: bus.AckSubject(dlqPractice.ASID), DedupeID: "ack.binary",
			ContentType: "application/octet-stream", Data: []byte{0, 1, 2, 0xff}}, nil)
		out, errOut, code := ctl(t, "dlq", "show", "4", "-nats", f.url)
		require.Equal(t, gp2gpctl.ExitOK, code, errOut)
		assert.True(t, strings.HasSuffix(out, "\nbody: application/json, 25 bytes\n{\"messageId\": \"ACK-JSON\"}\n"), out)
		out, errOut, code = ctl(t, "dlq", "show", "5", "-nats", f.url)
		require.Equal(t, gp2gpctl.ExitOK, code, errOut)
		assert.True(t, strings.HasSuffix(out, "\nbody: application/octet-stream, 4 bytes, as base64\nAAEC/w==\n"), out)
	})
	t.Run("not there", func(t *testing.T) {
		out, errOut, code := ctl(t, "dlq", "show", "99", "-nats", f.url)
		assert.Equal(t, gp2gpctl.ExitFailure, code)
		assert.Empty(t, out)
		assert.Equal(t, "gp2gpctl dlq show: no dead letter 99 in GP2GP_DLQ\n", errOut)
	})
}

func TestDLQReplay(t *testing.T) {
	f := newPlainDLQ(t)
	f.seed()
	f.fixed.Store(true) // the cause is fixed

	t.Run("dry run", func(t *testing.T) {
		out, errOut, code := ctl(t, "dlq", "replay", "-dry-run", "-all", "-nats", f.url)
		require.Equal(t, gp2gpctl.ExitOK, code, errOut)
		inOrder(t, out,
			"dead letter 1: would replay onto gp2gp.practice.A12345.registration for requester-registrations (GP2GP_REGISTRATIONS), conversation "+dlqConvReg+"\n",
			"dead letter 2: would replay onto gp2gp.ack.200000000101 for acknowledger-requests (GP2GP_ACKS)",
			"dead letter 3: would replay",
			"dry run: 3 of 3 dead letters would be replayed; nothing was done\n")
		assert.Equal(t, uint64(3), f.depth())
		assert.Equal(t, uint64(2), f.stored(bus.StreamRegistrations))
	})

	t.Run("one, exactly once", func(t *testing.T) {
		out, errOut, code := ctl(t, "dlq", "replay", "1", "-nats", f.url)
		require.Equal(t, gp2gpctl.ExitOK, code, errOut)
		assert.Equal(t, "dead letter 1: replayed onto gp2gp.practice.A12345.registration for requester-registrations (GP2GP_REGISTRATIONS), conversation "+
			dlqConvReg+": GP2GP_REGISTRATIONS sequence 3; removed from GP2GP_DLQ\n1 of 1 dead letters replayed\n", out)
		require.Eventually(t, func() bool { return len(f.handledFor(dlqConvReg)) == 1 }, 10*time.Second, 10*time.Millisecond)
		got := f.handledFor(dlqConvReg)[0]
		assert.Equal(t, bus.RegistrationSubject(dlqPractice.ODS), got.subject)
		assert.Equal(t, "dlq-replay.1", got.header.Get(bus.HeaderMsgID))
		assert.Equal(t, bus.ContentTypeProtobuf, got.header.Get(bus.HeaderContentType))
		for k := range got.header {
			assert.False(t, strings.HasPrefix(k, "Gp2gp-Dlq-"), "header %s replayed", k)
		}
		var ev gp2gpv1.RegistrationEvent
		require.NoError(t, proto.Unmarshal(got.data, &ev))
		assert.Equal(t, "evt-1", ev.GetEventId())
		assert.Equal(t, uint64(2), f.depth())

		// Again: reported, and nothing more delivered.
		out, errOut, code = ctl(t, "dlq", "replay", "1", "-nats", f.url)
		assert.Equal(t, gp2gpctl.ExitFailure, code)
		assert.Equal(t, "gp2gpctl dlq replay: dead letter 1: already replayed, or not in GP2GP_DLQ\n", errOut)
		assert.Contains(t, out, "dead letter 1: already replayed, or not in GP2GP_DLQ\n")
		f.settled(dlqRegs)
		assert.Len(t, f.handledFor(dlqConvReg), 1)
		assert.Equal(t, uint64(3), f.stored(bus.StreamRegistrations))
	})

	t.Run("a replay whose delete failed is not stored twice", func(t *testing.T) {
		// An earlier replay of dead letter 2 published it, then could not
		// remove it from the dead-letter stream.
		dls, err := f.js.Stream(f.ctx, bus.StreamDeadLetter)
		require.NoError(t, err)
		m, err := dls.GetMsg(f.ctx, 2)
		require.NoError(t, err)
		h := nats.Header{}
		for k, v := range m.Header {
			if !strings.HasPrefix(k, "Gp2gp-Dlq-") && !strings.HasPrefix(k, "Nats-") {
				h[k] = v
			}
		}
		h.Set(bus.HeaderMsgID, dlq.ReplayMsgID(2))
		_, err = f.js.PublishMsg(f.ctx, &nats.Msg{Subject: bus.AckSubject(dlqPractice.ASID), Header: h, Data: m.Data})
		require.NoError(t, err)
		require.Eventually(t, func() bool { return len(f.handledFor(dlqConvAck)) == 1 }, 10*time.Second, 10*time.Millisecond)
		acks := f.stored(bus.StreamAcks)

		out, errOut, code := ctl(t, "dlq", "replay", "2", "-json", "-nats", f.url)
		require.Equal(t, gp2gpctl.ExitOK, code, errOut)
		var r dlq.Replays
		require.NoError(t, json.Unmarshal([]byte(out), &r), out)
		require.Len(t, r.Results, 1)
		assert.Equal(t, dlq.ReplayResult{
			Seq: 2, Outcome: dlq.OutcomeAlreadyReplayed, Subject: bus.AckSubject(dlqPractice.ASID), Stream: bus.StreamAcks,
			Consumer: dlqAcks.Durable, ConversationID: dlqConvAck, MsgID: "dlq-replay.2", StoredIn: bus.StreamAcks, StoredSeq: acks,
		}, r.Results[0])
		f.settled(dlqAcks)
		assert.Len(t, f.handledFor(dlqConvAck), 1)
		assert.Equal(t, acks, f.stored(bus.StreamAcks))
		assert.Equal(t, uint64(1), f.depth())
	})

	t.Run("a claim check", func(t *testing.T) {
		out, errOut, code := ctl(t, "dlq", "replay", "3", "-nats", f.url)
		require.Equal(t, gp2gpctl.ExitOK, code, errOut)
		assert.Contains(t, out, "dead letter 3: replayed onto gp2gp.practice.A12345.registration")
		require.Eventually(t, func() bool { return len(f.handledFor(dlqConvLarge)) == 1 }, 10*time.Second, 10*time.Millisecond)
		got := f.handledFor(dlqConvLarge)[0]
		var ev gp2gpv1.RegistrationEvent
		require.NoError(t, proto.Unmarshal(got.data, &ev))
		assert.Equal(t, dlqLargeName, ev.GetPatient().GetGivenName())
		assert.NotEmpty(t, got.header.Get(bus.HeaderBodyObject), "the claim check travelled as it was")
		assert.Equal(t, uint64(0), f.depth())
	})
}

func TestDLQReplayAllOfAStream(t *testing.T) {
	f := newPlainDLQ(t)
	f.seed()
	f.fixed.Store(true)

	out, errOut, code := ctl(t, "dlq", "replay", "-all", "-stream", bus.StreamAcks, "-nats", f.url)
	require.Equal(t, gp2gpctl.ExitOK, code, errOut)
	assert.Equal(t, "dead letter 2: replayed onto gp2gp.ack.200000000101 for acknowledger-requests (GP2GP_ACKS), conversation "+
		dlqConvAck+": GP2GP_ACKS sequence 2; removed from GP2GP_DLQ\n1 of 1 dead letters replayed\n", out)
	require.Eventually(t, func() bool { return len(f.handledFor(dlqConvAck)) == 1 }, 10*time.Second, 10*time.Millisecond)
	f.settled(dlqRegs)
	f.settled(dlqAcks)
	assert.Empty(t, f.handledFor(dlqConvReg))
	assert.Empty(t, f.handledFor(dlqConvLarge))

	list, errOut, code := ctl(t, "dlq", "list", "-nats", f.url)
	require.Equal(t, gp2gpctl.ExitOK, code, errOut)
	rows, count := dlqRows(t, list)
	assert.Equal(t, "2 dead letters", count)
	for _, r := range rows {
		assert.Equal(t, bus.StreamRegistrations, r[2])
	}

	// Nothing of that stream left: not a failure.
	out, errOut, code = ctl(t, "dlq", "replay", "-all", "-stream", bus.StreamAcks, "-nats", f.url)
	assert.Equal(t, gp2gpctl.ExitOK, code)
	assert.Empty(t, out)
	assert.Equal(t, "gp2gpctl dlq replay: no dead letters match\n", errOut)
}

func TestDLQReplayTwoEngineersAtOnce(t *testing.T) {
	f := newPlainDLQ(t)
	f.seed()
	f.fixed.Store(true)
	regs := f.stored(bus.StreamRegistrations)

	codes := make([]int, 2)
	var wg sync.WaitGroup
	for i := range codes {
		wg.Go(func() { _, _, codes[i] = ctl(t, "dlq", "replay", "1", "-nats", f.url) })
	}
	wg.Wait()
	assert.Contains(t, codes, gp2gpctl.ExitOK)
	for _, c := range codes {
		assert.Contains(t, []int{gp2gpctl.ExitOK, gp2gpctl.ExitFailure}, c, "ok, or already replayed")
	}
	require.Eventually(t, func() bool { return len(f.handledFor(dlqConvReg)) == 1 }, 10*time.Second, 10*time.Millisecond)
	f.settled(dlqRegs)
	assert.Len(t, f.handledFor(dlqConvReg), 1)
	assert.Equal(t, regs+1, f.stored(bus.StreamRegistrations))
	assert.Equal(t, uint64(2), f.depth())
}

// dlqSecureServer is an embedded server with gp2gp's permission set, TLS
// and verify_and_map, serving dlqPractice, with one operator, "oncall".
type dlqSecureServer struct {
	srv *natsauthtest.Server
}

func startDLQSecureServer(t *testing.T) *dlqSecureServer {
	t.Helper()
	users, err := natsauth.Spec{Practices: []bus.Practice{dlqPractice}, Operators: []string{"oncall"}}.Users()
	require.NoError(t, err)
	return &dlqSecureServer{srv: natsauthtest.Start(t, users, nil)}
}

// certificate writes a client certificate for cn.
func (s *dlqSecureServer) certificate(t *testing.T, cn string) natsauth.Files {
	t.Helper()
	return s.srv.ClientFiles(t, cn)
}

// connect connects as the user of files' certificate, failing the test
// on any permissions violation the server reports to it.
func (s *dlqSecureServer) connect(t *testing.T, files natsauth.Files) *nats.Conn {
	t.Helper()
	cfg := service.NATSConfig{URL: s.srv.URL(), TLSCAFile: files.CA, TLSCertFile: files.Cert, TLSKeyFile: files.Key}
	opts, err := cfg.ClientOptions("")
	require.NoError(t, err)
	opts = append(opts, nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
		t.Errorf("NATS error for %s: %v", files.Cert, err)
	}))
	nc, err := nats.Connect(s.srv.URL(), opts...)
	require.NoError(t, err)
	t.Cleanup(nc.Close)
	return nc
}

func TestDLQAsOperator(t *testing.T) {
	s := startDLQSecureServer(t)
	// The acknowledger, with its own permissions, ensures its topology
	// (the dead-letter stream and bodies store among it) and dead-letters
	// what it is sent.
	nc := s.connect(t, s.certificate(t, natsauth.ServiceCommonName("acknowledger", "")))
	js, err := jetstream.New(nc)
	require.NoError(t, err)
	ps := []bus.Practice{dlqPractice}
	require.NoError(t, bus.Ensure(natstest.Context(t, 30*time.Second), js, bus.DevProfile, bus.AcknowledgerTopology("", ps)))
	spineAcks := bus.AcknowledgerAcks("", ps)
	f := newDLQFixture(t, s.srv.URL(), js, spineAcks)
	subject := bus.SpineInSubject(dlqPractice.ASID, bus.KindAck)
	envelope := func(conv, payload string) []byte {
		return fmt.Appendf(nil, `{"conversationId":%q,"payload":%q}`, conv, payload)
	}
	f.deadLetter(bus.Outgoing{Subject: subject, DedupeID: "spine.ack-1", ContentType: bus.ContentTypeJSON,
		Headers: bus.Headers{ConversationID: dlqConvAck}, Data: envelope(dlqConvAck, "<MCCI_IN010000UK13/>")}, nil)
	large := envelope(dlqConvLarge, strings.Repeat("<x/>", dlqInlineLimit))
	f.deadLetter(bus.Outgoing{Subject: subject, DedupeID: "spine.ack-2", ContentType: bus.ContentTypeJSON,
		Headers: bus.Headers{ConversationID: dlqConvLarge}, Data: large}, nil)
	f.fixed.Store(true)

	// gp2gpctl, as the operator.
	op := s.certificate(t, natsauth.CommonName("operator-oncall"))
	t.Setenv(service.EnvNATSTLSCA, op.CA)
	t.Setenv(service.EnvNATSTLSCert, op.Cert)
	t.Setenv(service.EnvNATSTLSKey, op.Key)
	run := func(args ...string) string {
		t.Helper()
		out, errOut, code := ctl(t, append(append([]string{"dlq"}, args...), "-nats", s.srv.URL())...)
		require.Equal(t, gp2gpctl.ExitOK, code, "%v: %s", args, errOut)
		assert.NotContains(t, errOut, "NATS reported")
		assert.NotContains(t, strings.ToLower(errOut), "permission")
		return out
	}

	rows, count := dlqRows(t, run("list"))
	assert.Equal(t, "2 dead letters", count)
	require.Len(t, rows, 2)
	assert.Equal(t, []string{"1", bus.StreamSpineIn, spineAcks.Durable, subject}, append(rows[0][:1:1], rows[0][2:5]...))
	run("list", "-stream", bus.StreamSpineIn, "-conversation", dlqConvLarge)

	var l dlq.Letter
	require.NoError(t, json.Unmarshal([]byte(run("show", "1", "-json")), &l))
	assert.Equal(t, dlq.FormText, l.Body.Form)
	assert.Equal(t, string(envelope(dlqConvAck, "<MCCI_IN010000UK13/>")), l.Body.Text)
	require.NoError(t, json.Unmarshal([]byte(run("show", "2", "-json")), &l))
	assert.Equal(t, dlq.FormClaimCheck, l.Body.Form)

	assert.Contains(t, run("replay", "-dry-run", "-all"), "2 of 2 dead letters would be replayed")
	assert.Contains(t, run("replay", "1"), "dead letter 1: replayed onto "+subject)
	assert.Contains(t, run("replay", "-all", "-stream", bus.StreamSpineIn), "dead letter 2: replayed onto "+subject)
	require.Eventually(t, func() bool {
		return len(f.handledFor(dlqConvAck)) == 1 && len(f.handledFor(dlqConvLarge)) == 1
	}, 10*time.Second, 10*time.Millisecond)
	assert.Equal(t, large, f.handledFor(dlqConvLarge)[0].data)
	assert.Equal(t, uint64(0), f.depth())
	_, errOut, code := ctl(t, "dlq", "list", "-nats", s.srv.URL())
	assert.Equal(t, gp2gpctl.ExitOK, code, errOut)
	assert.Equal(t, "gp2gpctl dlq list: no dead letters match\n", errOut)
}

func TestDLQUsage(t *testing.T) {
	f := newPlainDLQ(t)
	for _, args := range [][]string{
		{},
		{"purge"},
		{"list", "extra"},
		{"list", "-limit", "0"},
		{"list", "-stream", "GP2GP.*"},
		{"list", "-consumer", "a b"},
		{"list", "-frobnicate"},
		{"show"},
		{"show", "1", "2"},
		{"show", "first"},
		{"show", "0"},
		{"replay"},
		{"replay", "1", "-all"},
		{"replay", "-stream", bus.StreamAcks, "1"},
		{"replay", "-consumer", dlqAcks.Durable},
		{"replay", "-1"},
		{"replay", "one"},
	} {
		out, errOut, code := ctl(t, append(append([]string{"dlq"}, args...), "-nats", f.url)...)
		assert.Equal(t, gp2gpctl.ExitUsage, code, args)
		assert.Empty(t, out, args)
		assert.NotEmpty(t, errOut, args)
	}
	_, errOut, code := ctl(t, "dlq")
	assert.Equal(t, gp2gpctl.ExitUsage, code)
	assert.Contains(t, errOut, "gp2gpctl dlq: the dlq commands are list, show and replay")

	out, _, code := ctl(t, "help")
	assert.Equal(t, gp2gpctl.ExitOK, code)
	for _, s := range []string{"gp2gpctl dlq list", "gp2gpctl dlq show SEQ", "gp2gpctl dlq replay (SEQ... | -all",
		"EVERY consumer", "handlers are idempotent", "dlq-replay.<SEQ>"} {
		assert.Contains(t, out, s)
	}
	_, _, code = ctl(t, "dlq", "list", "-h")
	assert.Equal(t, gp2gpctl.ExitOK, code)
}

func TestDLQConnectionProblems(t *testing.T) {
	t.Run("no server", func(t *testing.T) {
		for _, cmd := range [][]string{{"list"}, {"show", "1"}, {"replay", "1"}} {
			out, errOut, code := ctl(t, append(append([]string{"dlq"}, cmd...), "-nats", "nats://alice:s3cret@127.0.0.1:1")...)
			assert.Equal(t, gp2gpctl.ExitFailure, code)
			assert.Empty(t, out)
			assert.Equal(t, "gp2gpctl dlq "+cmd[0]+": cannot connect to NATS at nats://alice:xxxxx@127.0.0.1:1: nats: no servers available for connection\n", errOut)
		}
	})
	t.Run("no dead-letter stream", func(t *testing.T) {
		srv := natstest.NewServer(t)
		_, errOut, code := ctl(t, "dlq", "list", "-nats", srv.URL())
		assert.Equal(t, gp2gpctl.ExitFailure, code)
		assert.Equal(t, "gp2gpctl dlq list: NATS at "+srv.URL()+" has no GP2GP_DLQ stream: no gp2gp service has run there\n", errOut)
	})
	t.Run("replay of a sequence that was never there", func(t *testing.T) {
		f := newPlainDLQ(t)
		out, errOut, code := ctl(t, "dlq", "replay", "7", "8", "-nats", f.url)
		assert.Equal(t, gp2gpctl.ExitFailure, code)
		assert.Equal(t, "gp2gpctl dlq replay: dead letter 7: already replayed, or not in GP2GP_DLQ\n"+
			"gp2gpctl dlq replay: dead letter 8: already replayed, or not in GP2GP_DLQ\n", errOut)
		assert.True(t, strings.HasSuffix(out, "0 of 2 dead letters replayed, 2 not found\n"), out)
	})
}

func TestDLQReplayRefusesWhatIsNotADeadLetter(t *testing.T) {
	f := newPlainDLQ(t)
	// Published onto the dead-letter stream by something other than the
	// consume runner: no original subject, or a dead-letter one.
	_, err := f.js.Publish(f.ctx, bus.DeadLetterSubject("SOMEWHERE", "someone"), []byte("?"))
	require.NoError(t, err)
	_, err = f.js.PublishMsg(f.ctx, &nats.Msg{Subject: bus.DeadLetterSubject(bus.StreamAcks, dlqAcks.Durable), Data: []byte("?"),
		Header: nats.Header{bus.HeaderDeadLetterStream: {bus.StreamAcks}, bus.HeaderDeadLetterSubject: {bus.DeadLetterSubject("X", "y")}}})
	require.NoError(t, err)

	out, errOut, code := ctl(t, "dlq", "list", "-nats", f.url)
	require.Equal(t, gp2gpctl.ExitOK, code, errOut)
	rows, _ := dlqRows(t, out)
	require.Len(t, rows, 2)
	assert.Equal(t, []string{"1", "SOMEWHERE", "someone", "?", "0", "?"}, append(rows[0][:1:1], rows[0][2:]...))

	out, errOut, code = ctl(t, "dlq", "replay", "-all", "-nats", f.url)
	assert.Equal(t, gp2gpctl.ExitFailure, code)
	assert.Equal(t, "gp2gpctl dlq replay: dead letter 1: names no original subject (Gp2gp-Dlq-Subject): not a dead letter the consume runner wrote\n"+
		"gp2gpctl dlq replay: dead letter 2: its original subject gp2gp.dlq.X.y is a dead-letter subject: replaying it would only dead-letter it again\n", errOut)
	assert.True(t, strings.HasSuffix(out, "0 of 2 dead letters replayed, 2 failed\n"), out)
	assert.Equal(t, uint64(2), f.depth())
}
