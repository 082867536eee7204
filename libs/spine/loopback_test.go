package spine_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nhsengland/gp2gp/libs/bus"
	"github.com/nhsengland/gp2gp/libs/ebxml"
	"github.com/nhsengland/gp2gp/libs/spine"
)

func TestLoopbackPublishesOnTheRecipientsSubject(t *testing.T) {
	f := newFixture(t)
	l, err := spine.NewLoopback(f.bus, spine.WithServedASIDs(requesterASID, senderASID))
	require.NoError(t, err)
	for i, w := range wires(t) {
		t.Run(w.name, func(t *testing.T) {
			require.NoError(t, l.Send(f.ctx, w.outbound()))
			assert.Equal(t, uint64(i+1), f.count(), "one message per send")

			msg := f.last(bus.SpineInSubject(w.to, w.kind))
			assertHeaders(t, msg, w)
			got, err := spine.Read(msg)
			require.NoError(t, err)
			assertSameWire(t, w.msg, got)
		})
	}
}

func TestLoopbackSendingTwiceStoresOnce(t *testing.T) {
	f := newFixture(t)
	l, err := spine.NewLoopback(f.bus)
	require.NoError(t, err)
	w := extractWire(t, false)
	for range 3 {
		require.NoError(t, l.Send(f.ctx, w.outbound()))
	}
	assert.Equal(t, uint64(1), f.count())

	// The same message id to another practice is another delivery.
	other := w.outbound()
	other.ToASID = senderASID
	require.NoError(t, l.Send(f.ctx, other))
	assert.Equal(t, uint64(2), f.count())
}

func TestLoopbackCompletesTheEnvelopeLikeAnMHS(t *testing.T) {
	f := newFixture(t)
	now := time.Date(2026, 11, 22, 8, 0, 0, 123, time.UTC)
	l, err := spine.NewLoopback(f.bus, spine.WithClock(func() time.Time { return now }))
	require.NoError(t, err)
	w := continueWire(t)
	w.msg.Envelope = ebxml.Envelope{
		ConversationID: conversationID, MessageID: w.msg.Envelope.MessageID,
		Action: "urn:nhs:names:services:gp2gp/copc_in000001uk01",
	}
	require.NoError(t, l.Send(f.ctx, w.outbound()))

	msg := f.last(bus.SpineInSubject(senderASID, bus.KindContinue))
	assert.Equal(t, "COPC_IN000001UK01", msg.Headers().InteractionID)
	got, err := spine.Read(msg)
	require.NoError(t, err)
	assert.Equal(t, "COPC_IN000001UK01", got.Envelope.Action)
	assert.Equal(t, spine.LoopbackPartyPrefix+requesterASID, got.Envelope.From.ID)
	assert.Equal(t, spine.LoopbackPartyPrefix+senderASID, got.Envelope.To.ID)
	assert.Equal(t, spine.LoopbackCPAID, got.Envelope.CPAID)
	assert.Equal(t, ebxml.ServiceGP2GP, got.Envelope.Service)
	assert.Equal(t, now.Truncate(time.Second), got.Envelope.Timestamp)
	assert.True(t, got.Envelope.DuplicateElimination)
	assert.True(t, got.Envelope.AckRequested)
	assert.Empty(t, w.msg.Envelope.CPAID, "the caller's message is not changed")
}

func TestLoopbackRefusesWhatCannotBeDelivered(t *testing.T) {
	cases := []struct {
		name    string
		out     func(t *testing.T) *spine.Outbound
		wantErr error
		wantMsg string
	}{
		{"ASID not served", func(t *testing.T) *spine.Outbound {
			out := ackWire(t).outbound()
			out.ToASID = "200000000999"
			return out
		}, spine.ErrNotServed, "200000000999"},
		{"no outbound", func(*testing.T) *spine.Outbound { return nil }, spine.ErrInvalidOutbound, "no message"},
		{"no message", func(*testing.T) *spine.Outbound { return &spine.Outbound{ToASID: senderASID} }, spine.ErrInvalidOutbound, "no message"},
		{"no recipient ASID", func(t *testing.T) *spine.Outbound {
			out := ackWire(t).outbound()
			out.ToASID = ""
			return out
		}, spine.ErrInvalidOutbound, "recipient ASID"},
		{"recipient ASID with a wildcard", func(t *testing.T) *spine.Outbound {
			out := ackWire(t).outbound()
			out.ToASID = "2000.>"
			return out
		}, spine.ErrInvalidOutbound, "recipient ASID"},
		{"not a GP2GP interaction", func(t *testing.T) *spine.Outbound {
			out := ackWire(t).outbound()
			out.Message.Envelope.Action = "QUPA_IN000008UK02"
			out.Message.Payload = []byte(`<QUPA_IN000008UK02 xmlns="urn:hl7-org:v3"/>`)
			return out
		}, spine.ErrUnknownInteraction, "QUPA_IN000008UK02"},
		{"attachment without a filename", func(t *testing.T) *spine.Outbound {
			out := extractWire(t, false).outbound()
			out.Message.Attachments[1].Description.Filename = ""
			return out
		}, spine.ErrInvalidOutbound, "filename"},
		{"no party id and no sender ASID", func(t *testing.T) *spine.Outbound {
			out := ackWire(t).outbound()
			out.Message.Envelope.From.ID, out.FromASID = "", ""
			return out
		}, spine.ErrInvalidOutbound, "From party id"},
		{"message id with a line break", func(t *testing.T) *spine.Outbound {
			out := ackWire(t).outbound()
			out.Message.Envelope.MessageID = "1EF64E40\r\nNats-Msg-Id: x"
			return out
		}, spine.ErrInvalidOutbound, "MessageId"},
	}
	f := newFixture(t)
	l, err := spine.NewLoopback(f.bus, spine.WithServedASIDs(requesterASID, senderASID))
	require.NoError(t, err)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := l.Send(f.ctx, tc.out(t))
			require.Error(t, err)
			assert.True(t, bus.IsPermanent(err), "permanent: %v", err)
			require.ErrorIs(t, err, tc.wantErr)
			assert.Contains(t, err.Error(), tc.wantMsg)
		})
	}
	assert.Zero(t, f.count(), "nothing published")
}

func TestLoopbackPublishFailureIsRetryable(t *testing.T) {
	f := newBareFixture(t) // no GP2GP_SPINE_IN stream
	l, err := spine.NewLoopback(f.bus)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(f.ctx, 5*time.Second)
	defer cancel()
	err = l.Send(ctx, ackWire(t).outbound())
	require.Error(t, err)
	assert.False(t, bus.IsPermanent(err), "retryable: %v", err)
}

func TestNewLoopbackValidatesItsOptions(t *testing.T) {
	f := newBareFixture(t)
	cases := map[string]struct {
		b    *bus.Bus
		opts []spine.LoopbackOption
	}{
		"nil bus":           {nil, nil},
		"nil served":        {f.bus, []spine.LoopbackOption{spine.WithServed(nil)}},
		"no served ASIDs":   {f.bus, []spine.LoopbackOption{spine.WithServedASIDs()}},
		"a served non-ASID": {f.bus, []spine.LoopbackOption{spine.WithServedASIDs("200000000101", "a.b")}},
		"nil clock":         {f.bus, []spine.LoopbackOption{spine.WithClock(nil)}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := spine.NewLoopback(tc.b, tc.opts...)
			require.Error(t, err)
		})
	}
}

func TestReadRefusesMalformedBodiesPermanently(t *testing.T) {
	good, err := ackWire(t).msg.InboundJSON()
	require.NoError(t, err)
	cases := []struct {
		name string
		msg  *bus.Msg
	}{
		{"no message", nil},
		{"not JSON", &bus.Msg{Data: []byte("<RCMR_IN030000UK06/>")}},
		{"truncated JSON", &bus.Msg{Data: good[:len(good)/2]}},
		{"no ebXML", &bus.Msg{Data: []byte(`{"payload":"<a/>"}`)}},
		{"ebXML with a DOCTYPE", &bus.Msg{Data: []byte(`{"ebXML":"<!DOCTYPE x [<!ENTITY e \"e\">]><Envelope/>","payload":"<a/>"}`)}},
		{"protobuf", &bus.Msg{Data: good, Header: nats.Header{bus.HeaderContentType: {bus.ContentTypeProtobuf}}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := spine.Read(tc.msg)
			require.Error(t, err)
			assert.True(t, bus.IsPermanent(err), "permanent: %v", err)
		})
	}
}

// A message over the bus's inline limit travels through the object store;
// a consumer's handler reads it like any other.
func TestLoopbackLargeMessageReachesTheConsumer(t *testing.T) {
	f := newFixture(t)
	spec := bus.ReceiverExtracts("", practices)
	require.NoError(t, bus.Ensure(f.ctx, f.js, bus.DevProfile, bus.Topology{
		ObjectStores: []bus.ObjectStoreSpec{bus.BodiesStore}, Consumers: []bus.ConsumerSpec{spec},
	}))
	l, err := spine.NewLoopback(f.bus)
	require.NoError(t, err)
	w := extractWire(t, false)
	big := binary(1500 << 10)
	w.msg.Attachments[0].Data = big
	w.msg.Attachments[0].Description.Length = int64(len(big))
	require.NoError(t, l.Send(f.ctx, w.outbound()))

	var (
		mu  sync.Mutex
		got *ebxml.Message
	)
	ctx, cancel := context.WithCancel(f.ctx)
	done := make(chan error, 1)
	go func() {
		done <- f.bus.Consume(ctx, spec, func(_ context.Context, msg *bus.Msg) error {
			m, err := spine.Read(msg)
			if err != nil {
				return err
			}
			mu.Lock()
			defer mu.Unlock()
			got = m
			return nil
		})
	}()
	require.Eventually(t, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return got != nil
	}, 20*time.Second, 10*time.Millisecond)
	cancel()
	require.NoError(t, <-done)
	mu.Lock()
	defer mu.Unlock()
	assertSameWire(t, w.msg, got)
}
