package sender_test

import (
	"context"
	"io"
	"testing"
	"time"

	"github.com/beevik/etree"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"

	"github.com/nhsengland/gp2gp/libs/bus"
	"github.com/nhsengland/gp2gp/libs/ebxml"
	"github.com/nhsengland/gp2gp/libs/hl7"
	"github.com/nhsengland/gp2gp/libs/hl7/ehr"
	"github.com/nhsengland/gp2gp/libs/largemsg"
	"github.com/nhsengland/gp2gp/libs/natsembed/natstest"
	"github.com/nhsengland/gp2gp/libs/service"
	"github.com/nhsengland/gp2gp/libs/spine"
	"github.com/nhsengland/gp2gp/libs/stage"
	"github.com/nhsengland/gp2gp/libs/stage/stagetest"
	"github.com/nhsengland/gp2gp/libs/transfer"
	gp2gpv1 "github.com/nhsengland/gp2gp/proto/gp2gp/v1"
	"github.com/nhsengland/gp2gp/services/sender"
)

// A Continue whose handler sent every COPC and recorded ATTACHMENTS_SENT,
// but could not ask for the request's acceptance (the publish of the
// AckRequest failed), is redelivered: the redelivery must ask for it, not
// ignore the Continue as a duplicate. Found by the chaos harness
// (services/chaos): a transfer completed with no AA of its EHR Request on
// the wire after the broker stalled at that moment.
func TestContinueRedeliveredAfterTheCOPCsStillAcceptsTheRequest(t *testing.T) {
	const (
		fromODS, fromASID = "A12345", "200000000101"
		toODS, toASID     = "B86041", "200000000102"
		nhs               = "9990001014"
		conv              = "5C0E1A2B-3D4E-4F50-8617-28394A5B6C7D"
	)
	srv := natstest.NewServer(t)
	ctx := natstest.Context(t, 60*time.Second)
	js := srv.JetStream()
	b, err := bus.New(js)
	require.NoError(t, err)
	cfg := withDefaults(sender.Config{Config: stagetest.Config(t, srv.URL())})
	cfg.SplitThreshold = 8192
	topo := bus.SenderTopology("", stagetest.Practices)
	stagetest.Start(t, ctx, js, topo, func(ctx context.Context) error {
		return sender.Run(ctx, cfg, stage.WithStartOptions(service.WithLogOutput(io.Discard)))
	})
	store, err := transfer.NewStore(ctx, b)
	require.NoError(t, err)
	loop, err := spine.NewLoopback(b)
	require.NoError(t, err)
	send := func(id string, in hl7.Interaction, payload []byte) {
		require.NoError(t, loop.Send(ctx, &spine.Outbound{
			Message: &ebxml.Message{
				Envelope: ebxml.Envelope{ConversationID: conv, MessageID: id, Action: string(in), Timestamp: time.Now().UTC()},
				Payload:  payload,
			},
			FromASID: toASID, ToASID: fromASID,
		}))
	}
	last := func(stream, subject string) *bus.Msg {
		s, err := js.Stream(ctx, stream)
		require.NoError(t, err)
		var raw *jetstream.RawStreamMsg
		require.Eventually(t, func() bool {
			raw, err = s.GetLastMsgForSubject(ctx, subject)
			return err == nil
		}, 30*time.Second, 20*time.Millisecond, "nothing on %s", subject)
		msg := &bus.Msg{Subject: raw.Subject, Data: raw.Data, Header: raw.Header}
		require.NoError(t, b.Body(ctx, msg))
		return msg
	}
	waitState := func(want transfer.State) {
		require.Eventually(t, func() bool {
			tr, err := store.Get(ctx, transfer.Sending, conv)
			return err == nil && tr.State == want
		}, 30*time.Second, 20*time.Millisecond, "never %s", want)
	}

	// The EHR Request, and the practice's record: an extract and a
	// document too large to go inline.
	req := &hl7.Request{
		Wrapper:   hl7.Wrapper{MessageID: hl7.DeriveID(conv, "ehr-request"), CreationTime: time.Now().UTC(), ToASID: fromASID, FromASID: toASID},
		RequestID: hl7.DeriveID(conv, "request"), NHSNumber: nhs, RequestingODS: toODS, SendingODS: fromODS,
	}
	payload, err := req.Encode()
	require.NoError(t, err)
	send(req.MessageID, hl7.EHRRequest, payload)
	var rr gp2gpv1.RecordRequest
	require.NoError(t, bus.Decode(last(bus.StreamRecordRequests, bus.RecordRequestSubject(fromODS)), &rr))
	el, _, err := ehr.Generate(ehr.WithSeed(7), ehr.WithPatient(nhs), ehr.WithPractices(fromODS, toODS))
	require.NoError(t, err)
	ex, err := etree.NewDocumentWithRoot(el).WriteToBytes()
	require.NoError(t, err)
	scan := make([]byte, 12_000)
	for i := range scan {
		scan[i] = byte(i * 7 % 251)
	}
	inline := func(data []byte) *gp2gpv1.Content {
		return &gp2gpv1.Content{Content: &gp2gpv1.Content_Inline{Inline: data}}
	}
	_, err = b.PublishProto(ctx, bus.Outgoing{
		Subject: bus.RecordResponseSubject(fromODS), DedupeID: "record-response." + rr.GetRequestId(),
		Headers: bus.Headers{ConversationID: conv},
	}, &gp2gpv1.RecordResponse{RequestId: rr.GetRequestId(), ConversationId: conv, Result: &gp2gpv1.RecordResponse_Record{Record: &gp2gpv1.Record{
		EhrExtract:  inline(ex),
		Attachments: []*gp2gpv1.Attachment{{DocumentId: "0A1B2C3D-4E5F-4061-8273-8495A6B7C8D9", Filename: "scan.pdf", ContentType: "application/pdf", Content: inline(scan)}},
	}}})
	require.NoError(t, err)
	waitState(transfer.ExtractSent)

	// The acknowledgement requests cannot be stored while the Continue is
	// handled: the COPCs go, the acceptance of the request fails.
	require.NoError(t, js.DeleteStream(ctx, bus.StreamAcks))
	core := last(bus.StreamSpineIn, bus.SpineInSubject(toASID, bus.KindEHRExtract))
	env, err := spine.Read(core)
	require.NoError(t, err)
	contID := hl7.DeriveID(conv, "continue")
	c, err := largemsg.Continue(env, contID, time.Now().UTC())
	require.NoError(t, err)
	c.ToASID, c.FromASID = fromASID, toASID
	payload, err = c.Encode()
	require.NoError(t, err)
	send(contID, hl7.CommonContentCOPC, payload)
	waitState(transfer.AttachmentsSent)
	requests := topo.Consumers[0]
	require.Equal(t, "sender-requests", requests.Durable)
	require.Eventually(t, func() bool {
		ci, err := js.Consumer(ctx, requests.Stream, requests.Durable)
		// The EHR Request, the Continue, and the Continue again.
		return err == nil && ci.CachedInfo().Delivered.Consumer >= 3
	}, 30*time.Second, 20*time.Millisecond, "the Continue was not redelivered")

	// The stream is back; the redelivered Continue asks for the AA.
	require.NoError(t, bus.Ensure(ctx, js, bus.DevProfile, bus.Topology{Streams: topo.Streams}))
	var ack gp2gpv1.AckRequest
	require.NoError(t, bus.Decode(last(bus.StreamAcks, bus.AckSubject(fromASID)), &ack))
	require.Equal(t, gp2gpv1.AckPurpose_ACK_PURPOSE_REQUEST, ack.GetPurpose())
	require.Equal(t, string(hl7.AckAccept), ack.GetTypeCode())
	require.True(t, hl7.SameID(req.MessageID, ack.GetMessageRef()), "the AA acknowledges the EHR Request")
}
