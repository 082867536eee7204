package sender_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/beevik/etree"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"

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

// The dev directory's practices: A12345 sends its patient's record to
// B86041, where PDS says the patient now is.
const (
	sendingODS, sendingASID       = "A12345", "200000000101"
	requestingODS, requestingASID = "B86041", "200000000102"
	nhsNumber                     = "9990001014"
)

// fixture runs the sender on an embedded JetStream; the test plays the
// sending practice's system and the requesting practice.
type fixture struct {
	t     *testing.T
	ctx   context.Context
	js    jetstream.JetStream
	bus   *bus.Bus
	store *transfer.Store
}

func newFixture(t *testing.T, configure ...func(*sender.Config)) *fixture {
	t.Helper()
	srv := natstest.NewServer(t)
	f := &fixture{t: t, ctx: natstest.Context(t, 60*time.Second), js: srv.JetStream()}
	var err error
	f.bus, err = bus.New(f.js)
	require.NoError(t, err)

	cfg := withDefaults(sender.Config{Config: stagetest.Config(t, srv.URL())})
	for _, c := range configure {
		c(&cfg)
	}
	stagetest.Start(t, f.ctx, f.js, bus.SenderTopology("", stagetest.Practices), func(ctx context.Context) error {
		return sender.Run(ctx, cfg, stage.WithStartOptions(service.WithLogOutput(io.Discard)))
	})
	f.store, err = transfer.NewStore(f.ctx, f.bus)
	require.NoError(t, err)
	return f
}

// put stores data as object name in bucket and returns its reference.
func (f *fixture) put(bucket, name string, data []byte) *gp2gpv1.ObjectRef {
	f.t.Helper()
	store, err := f.js.ObjectStore(f.ctx, bucket)
	require.NoError(f.t, err)
	_, err = store.PutBytes(f.ctx, name, data)
	require.NoError(f.t, err)
	sum := sha256.Sum256(data)
	return &gp2gpv1.ObjectRef{Bucket: bucket, Name: name, Size: uint64(len(data)), Sha256: hex.EncodeToString(sum[:])}
}

// request sends B86041's EHR Request for conv to A12345 and returns the
// record request the sender then publishes for A12345's system.
func (f *fixture) request(conv string) *gp2gpv1.RecordRequest {
	f.t.Helper()
	req := &hl7.Request{
		Wrapper:   hl7.Wrapper{MessageID: hl7.DeriveID(conv, "ehr-request"), CreationTime: time.Now().UTC(), ToASID: sendingASID, FromASID: requestingASID},
		RequestID: hl7.DeriveID(conv, "request"), NHSNumber: nhsNumber, RequestingODS: requestingODS, SendingODS: sendingODS,
	}
	payload, err := req.Encode()
	require.NoError(f.t, err)
	loop, err := spine.NewLoopback(f.bus)
	require.NoError(f.t, err)
	require.NoError(f.t, loop.Send(f.ctx, &spine.Outbound{
		Message: &ebxml.Message{
			Envelope: ebxml.Envelope{ConversationID: conv, MessageID: req.MessageID, Action: string(hl7.EHRRequest), Timestamp: time.Now().UTC()},
			Payload:  payload,
		},
		FromASID: requestingASID, ToASID: sendingASID,
	}))
	rr := &gp2gpv1.RecordRequest{}
	f.last(bus.StreamRecordRequests, bus.RecordRequestSubject(sendingODS), rr)
	require.Equal(f.t, conv, rr.GetConversationId())
	return rr
}

// answer is A12345's system supplying rec for rr.
func (f *fixture) answer(rr *gp2gpv1.RecordRequest, rec *gp2gpv1.Record) {
	f.t.Helper()
	_, err := f.bus.PublishProto(f.ctx, bus.Outgoing{
		Subject: bus.RecordResponseSubject(sendingODS), DedupeID: "record-response." + rr.GetRequestId(),
		Headers: bus.Headers{ConversationID: rr.GetConversationId()},
	}, &gp2gpv1.RecordResponse{RequestId: rr.GetRequestId(), ConversationId: rr.GetConversationId(),
		Result: &gp2gpv1.RecordResponse_Record{Record: rec}})
	require.NoError(f.t, err)
}

// last decodes into m the last message on subject of stream, waiting for
// one.
func (f *fixture) last(stream, subject string, m proto.Message) {
	f.t.Helper()
	msg := &bus.Msg{}
	f.lastMsg(stream, subject, msg)
	require.NoError(f.t, bus.Decode(msg, m))
}

// lastMsg sets msg to the last message on subject of stream, waiting for
// one.
func (f *fixture) lastMsg(stream, subject string, msg *bus.Msg) {
	f.t.Helper()
	s, err := f.js.Stream(f.ctx, stream)
	require.NoError(f.t, err)
	var raw *jetstream.RawStreamMsg
	require.Eventually(f.t, func() bool {
		raw, err = s.GetLastMsgForSubject(f.ctx, subject)
		return err == nil
	}, 30*time.Second, 20*time.Millisecond, "nothing on %s", subject)
	*msg = bus.Msg{Subject: raw.Subject, Data: raw.Data, Header: raw.Header}
	require.NoError(f.t, f.bus.Body(f.ctx, msg))
}

// waitState waits until the sending side of conv is in one of states.
func (f *fixture) waitState(conv string, states ...transfer.State) *transfer.Transfer {
	f.t.Helper()
	var t *transfer.Transfer
	require.Eventually(f.t, func() bool {
		var err error
		t, err = f.store.Get(f.ctx, transfer.Sending, conv)
		if err != nil {
			return false
		}
		for _, s := range states {
			if t.State == s {
				return true
			}
		}
		return false
	}, 30*time.Second, 20*time.Millisecond, "%s never reached %v", conv, states)
	return t
}

// extract is an EhrExtract of the patient's, as A12345's system would
// supply it.
func extract(t *testing.T) []byte {
	t.Helper()
	el, _, err := ehr.Generate(ehr.WithSeed(7), ehr.WithPatient(nhsNumber), ehr.WithPractices(sendingODS, requestingODS))
	require.NoError(t, err)
	data, err := etree.NewDocumentWithRoot(el).WriteToBytes()
	require.NoError(t, err)
	return data
}

func object(ref *gp2gpv1.ObjectRef) *gp2gpv1.Content {
	return &gp2gpv1.Content{Content: &gp2gpv1.Content_Object{Object: ref}}
}

func inline(data []byte) *gp2gpv1.Content {
	return &gp2gpv1.Content{Content: &gp2gpv1.Content_Inline{Inline: data}}
}

// The sender sends a practice's records from that practice's own records
// store and no other: a reference its system gives to another practice's
// store, or to the claim-check store of bus bodies, is refused, as any
// record its system cannot supply, with 10 (the extract could not be
// produced); nothing is read from there and no extract goes.
func TestRecordContentOnlyFromTheSendingPracticesRecordsStore(t *testing.T) {
	own, other, bodies := bus.RecordsBucket(sendingODS), bus.RecordsBucket(requestingODS), bus.BucketBodies
	const docID = "6D2E1F0A-3B4C-4D5E-8F70-1A2B3C4D5E6F"
	letter := []byte("Dear Dr Okafor, Ada was seen in clinic today.")
	for _, tc := range []struct {
		name   string
		record func(f *fixture, ehrExtract []byte) *gp2gpv1.Record
		bucket string // the bucket refused; "" when the record is sent
	}{
		{
			name: "content in the practice's own store is sent",
			record: func(f *fixture, x []byte) *gp2gpv1.Record {
				return &gp2gpv1.Record{EhrExtract: object(f.put(own, "practice/A12345/extract.xml", x)),
					Attachments: []*gp2gpv1.Attachment{{DocumentId: docID, Filename: "letter.txt", ContentType: "text/plain",
						Content: object(f.put(own, "practice/A12345/letter.txt", letter))}}}
			},
		},
		{
			name: "content in another practice's store",
			record: func(f *fixture, x []byte) *gp2gpv1.Record {
				return &gp2gpv1.Record{EhrExtract: object(f.put(other, "practice/B86041/extract.xml", x))}
			},
			bucket: other,
		},
		{
			name: "content in the bus bodies' store",
			record: func(f *fixture, x []byte) *gp2gpv1.Record {
				return &gp2gpv1.Record{EhrExtract: object(f.put(bodies, "body/extract.xml", x))}
			},
			bucket: bodies,
		},
		{
			name: "document in another practice's store",
			record: func(f *fixture, x []byte) *gp2gpv1.Record {
				return &gp2gpv1.Record{EhrExtract: inline(x),
					Attachments: []*gp2gpv1.Attachment{{DocumentId: docID, Filename: "letter.txt", ContentType: "text/plain",
						Content: object(f.put(other, "practice/B86041/letter.txt", letter))}}}
			},
			bucket: other,
		},
		{
			name: "document in the bus bodies' store",
			record: func(f *fixture, x []byte) *gp2gpv1.Record {
				return &gp2gpv1.Record{EhrExtract: inline(x),
					Attachments: []*gp2gpv1.Attachment{{DocumentId: docID, Filename: "letter.txt", ContentType: "text/plain",
						Content: object(f.put(bodies, "body/letter.txt", letter))}}}
			},
			bucket: bodies,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			conv := "7A1B2C3D-4E5F-4A6B-9C7D-8E9F0A1B2C3D"
			rr := f.request(conv)
			f.answer(rr, tc.record(f, extract(t)))

			snd := f.waitState(conv, transfer.ExtractSent, transfer.RequestRejected)
			spineIn, err := f.js.Stream(f.ctx, bus.StreamSpineIn)
			require.NoError(t, err)
			_, err = spineIn.GetLastMsgForSubject(f.ctx, bus.SpineInSubject(requestingASID, bus.KindEHRExtract))
			if tc.bucket == "" {
				assert.Equal(t, transfer.ExtractSent, snd.State, snd.LastChange().Reason.Detail)
				require.NoError(t, err, "the extract went")
				return
			}

			require.Equal(t, transfer.RequestRejected, snd.State)
			reason := snd.LastChange().Reason
			assert.Equal(t, string(hl7.ReasonExtractGenerationFailed), reason.Code)
			assert.Contains(t, reason.Detail, `bucket "`+tc.bucket+`"`, "the refusal names the bucket given")
			assert.Contains(t, reason.Detail, own, "and the one records are read from")
			assert.True(t, errors.Is(err, jetstream.ErrMsgNotFound), "no extract went: %v", err)

			nack := &gp2gpv1.AckRequest{}
			f.last(bus.StreamAcks, bus.AckSubject(sendingASID), nack)
			assert.Equal(t, conv, nack.GetConversationId())
			assert.Equal(t, string(hl7.ReasonExtractGenerationFailed), nack.GetReasonCode())
			assert.Equal(t, string(hl7.NackType(hl7.ReasonExtractGenerationFailed)), nack.GetTypeCode())
			assert.Equal(t, hl7.DeriveID(conv, "ehr-request"), nack.GetMessageRef(), "the EHR Request is refused")
			assert.Equal(t, requestingASID, nack.GetToAsid())
		})
	}
}

// What follows the Continue is kept in the sending practice's records
// store and sent from there: here a document the practice's system
// supplied inline but too large to go with the extract (the split
// threshold is small enough for that, and makes the extract a skeleton).
func TestDocumentsAfterTheContinueAreKeptInTheSendingPracticesRecordsStore(t *testing.T) {
	f := newFixture(t, func(c *sender.Config) { c.SplitThreshold = 8192 })
	conv := "2B3C4D5E-6F70-4A1B-8C2D-3E4F5A6B7C8D"
	scan := make([]byte, 12_000)
	for i := range scan {
		scan[i] = byte(i * 7 % 251)
	}
	const docID = "0A1B2C3D-4E5F-4061-8273-8495A6B7C8D9"
	rr := f.request(conv)
	f.answer(rr, &gp2gpv1.Record{EhrExtract: inline(extract(t)), Attachments: []*gp2gpv1.Attachment{
		{DocumentId: docID, Filename: "scan.pdf", ContentType: "application/pdf", Content: inline(scan)}}})

	snd := f.waitState(conv, transfer.ExtractSent, transfer.RequestRejected)
	require.Equal(t, transfer.ExtractSent, snd.State, snd.LastChange().Reason.Detail)
	own, err := f.js.ObjectStore(f.ctx, bus.RecordsBucket(sendingODS))
	require.NoError(t, err)
	other, err := f.js.ObjectStore(f.ctx, bus.RecordsBucket(requestingODS))
	require.NoError(t, err)
	require.Len(t, snd.Documents, 2, "the skeleton's original and the scan")
	external := 0
	for _, d := range snd.Documents {
		if d.Inline {
			continue
		}
		external++
		kept, err := own.GetBytes(f.ctx, d.Object)
		require.NoError(t, err, "%s kept in %s", d.Filename, bus.RecordsBucket(sendingODS))
		assert.EqualValues(t, d.Size, len(kept))
		if d.ID == docID {
			assert.Equal(t, scan, kept)
		}
		_, err = other.GetInfo(f.ctx, d.Object)
		require.ErrorIs(t, err, jetstream.ErrObjectNotFound)
	}
	require.Positive(t, external, "a document follows the Continue")

	// The requesting practice asks for the rest: the COPCs go, read from
	// the sending practice's store (a document not there would fail the
	// transfer instead).
	core := &bus.Msg{}
	f.lastMsg(bus.StreamSpineIn, bus.SpineInSubject(requestingASID, bus.KindEHRExtract), core)
	env, err := spine.Read(core)
	require.NoError(t, err)
	id := hl7.DeriveID(conv, "continue")
	c, err := largemsg.Continue(env, id, time.Now().UTC())
	require.NoError(t, err)
	c.ToASID, c.FromASID = sendingASID, requestingASID
	payload, err := c.Encode()
	require.NoError(t, err)
	loop, err := spine.NewLoopback(f.bus)
	require.NoError(t, err)
	require.NoError(t, loop.Send(f.ctx, &spine.Outbound{
		Message: &ebxml.Message{
			Envelope: ebxml.Envelope{ConversationID: conv, MessageID: id, Action: string(hl7.CommonContentCOPC), Timestamp: time.Now().UTC()},
			Payload:  payload,
		},
		FromASID: requestingASID, ToASID: sendingASID,
	}))
	snd = f.waitState(conv, transfer.AttachmentsSent, transfer.Failed)
	require.Equal(t, transfer.AttachmentsSent, snd.State, snd.LastChange().Reason.Detail)
	assert.Zero(t, snd.CountDocuments(func(d transfer.Document) bool { return !d.Done }), "every document sent")
}
