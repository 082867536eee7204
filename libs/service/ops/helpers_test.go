package ops_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"

	"github.com/nhsengland/gp2gp/libs/bus"
	"github.com/nhsengland/gp2gp/libs/natsembed/natstest"
	"github.com/nhsengland/gp2gp/libs/service/ops"
	"github.com/nhsengland/gp2gp/libs/transfer"
)

var (
	newPractice = transfer.Practice{ODS: "A12345", ASID: "200000000101"}
	oldPractice = transfer.Practice{ODS: "B86041", ASID: "200000000102"}
	// t0 is when the test transfers start.
	t0 = time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
)

// Conversation ids of the fixture's transfers.
const (
	convDone   = "11111111-0000-4000-8000-000000000001" // both sides, integrated and completed
	convFailed = "22222222-0000-4000-8000-000000000002" // both sides, rejected by the sender with 06
	convStuck  = "33333333-0000-4000-8000-000000000003" // requesting only, REQUEST_SENT for days
	convOther  = "44444444-0000-4000-8000-000000000004" // requesting only, another pair of practices, just registered
)

// clock is a settable time source shared by the store and the reader.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

type fixture struct {
	t     *testing.T
	ctx   context.Context
	srv   *natstest.Server
	nc    *nats.Conn
	js    jetstream.JetStream
	kv    jetstream.KeyValue
	store *transfer.Store
	clock *clock
}

func streamSpec(t *testing.T, name string) bus.StreamSpec {
	t.Helper()
	for _, s := range bus.Streams() {
		if s.Name == name {
			return s
		}
	}
	t.Fatalf("no stream %s", name)
	return bus.StreamSpec{}
}

// newFixture starts JetStream with the lifecycle and dead-letter streams
// and the transfers bucket.
func newFixture(t *testing.T) *fixture {
	t.Helper()
	srv := natstest.NewServer(t)
	nc := srv.Connect()
	js, err := jetstream.New(nc)
	require.NoError(t, err)
	ctx := natstest.Context(t, 60*time.Second)
	require.NoError(t, bus.Ensure(ctx, js, bus.DevProfile, bus.Topology{
		Streams:   []bus.StreamSpec{streamSpec(t, bus.StreamLifecycle), streamSpec(t, bus.StreamDeadLetter)},
		KeyValues: []bus.KeyValueSpec{bus.TransfersBucket},
	}))
	b, err := bus.New(js)
	require.NoError(t, err)
	c := &clock{now: t0}
	store, err := transfer.NewStore(ctx, b, transfer.WithClock(c.Now))
	require.NoError(t, err)
	kv, err := js.KeyValue(ctx, bus.BucketTransfers)
	require.NoError(t, err)
	return &fixture{t: t, ctx: ctx, srv: srv, nc: nc, js: js, kv: kv, store: store, clock: c}
}

func (f *fixture) reader() *ops.KVTransferReader {
	f.t.Helper()
	r, err := ops.NewKVTransferReader(f.kv, f.store, ops.WithClock(f.clock.Now))
	require.NoError(f.t, err)
	return r
}

// at sets the clock to t0+d.
func (f *fixture) at(d time.Duration) { f.clock.Set(t0.Add(d)) }

func (f *fixture) create(side transfer.Side, conv string, practice, peer transfer.Practice, msgs ...transfer.Message) {
	f.t.Helper()
	t := transfer.New(side, conv, practice)
	t.Peer = peer
	for _, m := range msgs {
		m.At = f.clock.Now()
		t.RecordMessage(m)
	}
	_, err := f.store.Create(f.ctx, t)
	require.NoError(f.t, err)
}

// step records msgs (at the clock's time) and moves side to state.
func (f *fixture) step(side transfer.Side, conv string, to transfer.State, r transfer.Reason, msgs ...transfer.Message) {
	f.t.Helper()
	_, err := f.store.Update(f.ctx, side, conv, func(t *transfer.Transfer) error {
		for _, m := range msgs {
			m.At = f.clock.Now()
			t.RecordMessage(m)
		}
		return t.Transition(to, r)
	})
	require.NoError(f.t, err)
}

// Wire messages of the fixture's transfers.
func request(conv string, dir transfer.Direction) transfer.Message {
	return transfer.Message{ID: "A0000000-0000-4000-8000-" + conv[len(conv)-12:], Interaction: "RCMR_IN010000UK05", Direction: dir, Role: transfer.RoleEHRRequest, Size: 2048}
}

func extract(conv string, dir transfer.Direction) transfer.Message {
	return transfer.Message{ID: "B0000000-0000-4000-8000-" + conv[len(conv)-12:], Interaction: "RCMR_IN030000UK06", Direction: dir, Role: transfer.RoleEHRExtract, Size: 30000}
}

func ack(conv, role, ackType, code string, ref transfer.Message, dir transfer.Direction) transfer.Message {
	return transfer.Message{ID: "C0000000-0000-4000-8000-" + conv[len(conv)-12:], Interaction: "MCCI_IN010000UK13", Direction: dir,
		Role: role, AckType: ackType, Code: code, Ref: ref.ID}
}

// seed writes the fixture's four transfers, leaving the clock at t0+10d.
//
//	convStuck   requesting  t0        REGISTERED → t0+1s REQUEST_SENT (nothing since)
//	convDone    requesting  t0+5d     … INTEGRATED at t0+5d+7s
//	            sending     t0+5d+2s  … COMPLETED at t0+5d+8s
//	convFailed  requesting  t0+8d     … FAILED (06) at t0+8d+3s
//	            sending     t0+8d+1s  … REQUEST_REJECTED (06) at t0+8d+2s
//	convOther   requesting  t0+9d     REGISTERED, practice C81001 (no peer yet)
func (f *fixture) seed() {
	f.t.Helper()
	const (
		R = transfer.Requesting
		S = transfer.Sending
	)
	in, out := transfer.Inbound, transfer.Outbound
	none := transfer.Reason{}

	f.at(0)
	f.create(R, convStuck, newPractice, oldPractice)
	f.at(time.Second)
	f.step(R, convStuck, transfer.RequestSent, none, request(convStuck, out))

	day := 24 * time.Hour
	f.at(5 * day)
	f.create(R, convDone, newPractice, transfer.Practice{})
	f.at(5*day + time.Second)
	_, err := f.store.Update(f.ctx, R, convDone, func(t *transfer.Transfer) error {
		t.Peer = oldPractice
		t.NHSNumber = "9442964410"
		t.Registration = &transfer.Registration{EventID: "EV-1", RegisteredAt: t0.Add(5*day - time.Hour),
			GivenName: "Janet", FamilyName: "Smithson", BirthDate: "1970-03-04", Gender: "female"}
		m := request(convDone, out)
		m.At = f.clock.Now()
		t.RecordMessage(m)
		return t.Transition(transfer.RequestSent, none)
	})
	require.NoError(f.t, err)
	f.at(5*day + 2*time.Second)
	f.create(S, convDone, oldPractice, newPractice, request(convDone, in))
	f.at(5*day + 3*time.Second)
	f.step(S, convDone, transfer.RecordRequested, none)
	f.at(5*day + 4*time.Second)
	f.step(S, convDone, transfer.ExtractSent, none, extract(convDone, out))
	f.at(5*day + 5*time.Second)
	f.step(R, convDone, transfer.ExtractReceived, none, extract(convDone, in))
	f.at(5*day + 6*time.Second)
	f.step(R, convDone, transfer.ReadyToIntegrate, none)
	f.at(5*day + 7*time.Second)
	f.step(R, convDone, transfer.Integrated, none, ack(convDone, transfer.RoleFinalAck, "AA", "", extract(convDone, out), out))
	f.at(5*day + 8*time.Second)
	f.step(S, convDone, transfer.Completed, none, ack(convDone, transfer.RoleFinalAck, "AA", "", extract(convDone, out), in))

	notHere := transfer.Reason{Code: "06", Detail: "patient not at surgery"}
	f.at(8 * day)
	f.create(R, convFailed, newPractice, oldPractice)
	f.step(R, convFailed, transfer.RequestSent, none, request(convFailed, out))
	f.at(8*day + time.Second)
	f.create(S, convFailed, oldPractice, newPractice, request(convFailed, in))
	f.at(8*day + 2*time.Second)
	f.step(S, convFailed, transfer.RequestRejected, notHere, ack(convFailed, transfer.RoleRequestAck, "AR", "06", request(convFailed, out), out))
	f.at(8*day + 3*time.Second)
	f.step(R, convFailed, transfer.Failed, notHere, ack(convFailed, transfer.RoleRequestAck, "AR", "06", request(convFailed, out), in))

	f.at(9 * day)
	f.create(R, convOther, transfer.Practice{ODS: "C81001", ASID: "200000000103"}, transfer.Practice{})

	f.at(10 * day)
}
