package receiver_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nhsengland/gp2gp/libs/bus"
	"github.com/nhsengland/gp2gp/libs/ebxml"
	"github.com/nhsengland/gp2gp/libs/hl7"
	"github.com/nhsengland/gp2gp/libs/hl7/ehr"
	"github.com/nhsengland/gp2gp/libs/natsembed/natstest"
	"github.com/nhsengland/gp2gp/libs/service"
	"github.com/nhsengland/gp2gp/libs/spine"
	"github.com/nhsengland/gp2gp/libs/stage"
	"github.com/nhsengland/gp2gp/libs/stage/stagetest"
	"github.com/nhsengland/gp2gp/libs/transfer"
	gp2gpv1 "github.com/nhsengland/gp2gp/proto/gp2gp/v1"
	"github.com/nhsengland/gp2gp/services/receiver"
)

// The dev directory's practices: the record moves from A12345 to B86041,
// whose receiver it is.
const (
	sendingODS, sendingASID       = "A12345", "200000000101"
	requestingODS, requestingASID = "B86041", "200000000102"
	nhsNumber                     = "9990001014"
)

// fixture runs the receiver on an embedded JetStream.
type fixture struct {
	t   *testing.T
	ctx context.Context
	js  jetstream.JetStream
	bus *bus.Bus
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	srv := natstest.NewServer(t)
	f := &fixture{t: t, ctx: natstest.Context(t, 60*time.Second), js: srv.JetStream()}
	var err error
	f.bus, err = bus.New(f.js)
	require.NoError(t, err)

	cfg := receiver.Config{Config: stagetest.Config(t, srv.URL())}
	stagetest.Start(t, f.ctx, f.js, bus.ReceiverTopology("", stagetest.Practices), func(ctx context.Context) error {
		return receiver.Run(ctx, cfg, stage.WithStartOptions(service.WithLogOutput(io.Discard)))
	})
	return f
}

// requestSent records that B86041 asked A12345 for nhsNumber's record on
// conv, as the requester would have.
func (f *fixture) requestSent(conv, requestID string) {
	f.t.Helper()
	store, err := transfer.NewStore(f.ctx, f.bus)
	require.NoError(f.t, err)
	t := transfer.New(transfer.Requesting, conv, transfer.Practice{ODS: requestingODS, ASID: requestingASID})
	t.NHSNumber = nhsNumber
	_, err = store.Create(f.ctx, t)
	if !errors.Is(err, transfer.ErrEventsPending) {
		require.NoError(f.t, err)
	}
	f.recordRequest(store, conv, requestID)
}

// recordRequest records in conv's REGISTERED transfer that its request
// went, as the requester does after sending it.
func (f *fixture) recordRequest(store *transfer.Store, conv, requestID string) {
	f.t.Helper()
	_, err := store.Update(f.ctx, transfer.Requesting, conv, func(t *transfer.Transfer) error {
		t.Peer = transfer.Practice{ODS: sendingODS, ASID: sendingASID}
		t.RequestID = requestID
		t.RecordMessage(transfer.Message{ID: hl7.DeriveID(conv, "ehr-request"), Interaction: string(hl7.EHRRequest),
			Direction: transfer.Outbound, At: time.Now(), Role: transfer.RoleEHRRequest})
		return t.Transition(transfer.RequestSent, transfer.Reason{Detail: "EHR Request sent"})
	})
	if !errors.Is(err, transfer.ErrEventsPending) {
		require.NoError(f.t, err)
	}
}

// sendExtract delivers A12345's EHR Extract of size bytes, with
// attachments, for conv to B86041 through the loopback Spine.
func (f *fixture) sendExtract(conv, requestID string, size int, attachments ...ebxml.Attachment) {
	f.t.Helper()
	id := hl7.DeriveID(conv, "ehr-extract")
	content, _, err := ehr.Generate(ehr.WithSeed(7), ehr.WithPatient(nhsNumber), ehr.WithPractices(sendingODS, requestingODS),
		ehr.WithTargetSize(size), ehr.WithExtractID(id), ehr.WithRequestID(requestID))
	require.NoError(f.t, err)
	ex := &hl7.Extract{
		Wrapper:   hl7.Wrapper{MessageID: id, CreationTime: time.Now().UTC(), ToASID: requestingASID, FromASID: sendingASID},
		ExtractID: id, RequestID: requestID, NHSNumber: nhsNumber, SendingODS: sendingODS, RequestingODS: requestingODS,
		Content: content,
	}
	payload, err := ex.Encode()
	require.NoError(f.t, err)
	loop, err := spine.NewLoopback(f.bus)
	require.NoError(f.t, err)
	require.NoError(f.t, loop.Send(f.ctx, &spine.Outbound{
		Message: &ebxml.Message{
			Envelope: ebxml.Envelope{ConversationID: conv, MessageID: id, Action: string(ex.Interaction), Timestamp: time.Now().UTC()},
			Payload:  payload, Attachments: attachments,
		},
		FromASID: sendingASID, ToASID: requestingASID,
	}))
}

// recordReady waits for the record B86041's system is handed for conv.
func (f *fixture) recordReady(conv string) *gp2gpv1.RecordReady {
	f.t.Helper()
	s, err := f.js.Stream(f.ctx, bus.StreamRecordsReady)
	require.NoError(f.t, err)
	var raw *jetstream.RawStreamMsg
	require.Eventually(f.t, func() bool {
		raw, err = s.GetLastMsgForSubject(f.ctx, bus.RecordReadySubject(requestingODS))
		return err == nil
	}, 30*time.Second, 20*time.Millisecond, "no record ready for %s", requestingODS)
	msg := &bus.Msg{Subject: raw.Subject, Data: raw.Data, Header: raw.Header}
	require.NoError(f.t, f.bus.Body(f.ctx, msg))
	ready := &gp2gpv1.RecordReady{}
	require.NoError(f.t, bus.Decode(msg, ready))
	require.Equal(f.t, conv, ready.GetConversationId())
	return ready
}

// object reads what ref names, checking that it is in the requesting
// practice's records store and in no other practice's.
func (f *fixture) object(ref *gp2gpv1.ObjectRef) []byte {
	f.t.Helper()
	require.NotNil(f.t, ref)
	require.Equal(f.t, bus.RecordsBucket(requestingODS), ref.GetBucket(), "%s is in the requesting practice's records store", ref.GetName())
	store, err := f.js.ObjectStore(f.ctx, ref.GetBucket())
	require.NoError(f.t, err)
	data, err := store.GetBytes(f.ctx, ref.GetName())
	require.NoError(f.t, err)
	other, err := f.js.ObjectStore(f.ctx, bus.RecordsBucket(sendingODS))
	require.NoError(f.t, err)
	_, err = other.GetInfo(f.ctx, ref.GetName())
	require.ErrorIs(f.t, err, jetstream.ErrObjectNotFound, "nothing received is kept in the sending practice's store")
	return data
}

// Everything the receiver keeps of a transfer is in the requesting
// practice's records store, and every reference it hands that practice's
// system names that store: a vendor's credentials reach its own
// practices' stores only.
func TestRecordReadyReferencesTheRequestingPracticesRecordsStore(t *testing.T) {
	letter := bytes.Repeat([]byte("Dear Dr Hartley, thank you for seeing Ada. "), 40)
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, err := zw.Write(letter)
	require.NoError(t, err)
	require.NoError(t, zw.Close())
	const docID = "8F0C3A52-6B1E-4D7A-9C2F-5E4B3A291D07"

	for _, tc := range []struct {
		name       string
		size       int
		attachment ebxml.Attachment
	}{
		{
			// Over record-ready's 256 KiB: the extract goes by reference.
			name: "extract and document stored as received",
			size: 300_000,
			attachment: ebxml.Attachment{ContentType: "text/plain", Base64: true, DocumentID: "_" + docID, Data: letter,
				Description: ebxml.Description{Filename: "letter.txt", ContentType: "text/plain", Length: int64(len(letter)), HasLength: true}},
		},
		{
			// A compressed document (as EMIS sends them) goes through
			// reassembly, which unzips it into the store.
			name: "document reassembled",
			size: 30_000,
			attachment: ebxml.Attachment{ContentType: "text/plain", Base64: true, DocumentID: "_" + docID, Data: gz.Bytes(),
				Description: ebxml.Description{Filename: "letter.txt", ContentType: "text/plain", Compressed: true,
					Length: int64(gz.Len()), HasLength: true}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			conv := "3C1D2B4A-5E6F-4A7B-8C9D-0E1F2A3B4C5D"
			requestID := hl7.DeriveID(conv, "request")
			f.requestSent(conv, requestID)
			f.sendExtract(conv, requestID, tc.size, tc.attachment)

			ready := f.recordReady(conv)
			if ref := ready.GetEhrExtract().GetObject(); ref != nil {
				ex, err := hl7.DecodeExtract(f.object(ref))
				require.NoError(t, err)
				assert.Equal(t, nhsNumber, ex.NHSNumber)
			} else {
				assert.Less(t, tc.size, 256<<10, "only an extract of up to 256 KiB travels inline")
			}
			require.Len(t, ready.GetAttachments(), 1)
			doc := ready.GetAttachments()[0]
			assert.Equal(t, docID, doc.GetDocumentId())
			assert.Equal(t, letter, f.object(doc.GetContent().GetObject()))

			// The record's summary is kept beside it.
			store, err := f.js.ObjectStore(f.ctx, bus.RecordsBucket(requestingODS))
			require.NoError(t, err)
			_, err = store.GetInfo(f.ctx, conv+"/summary.json")
			require.NoError(t, err)
			sum := sha256.Sum256(letter)
			if want := doc.GetContent().GetObject().GetSha256(); want != "" {
				assert.Equal(t, hex.EncodeToString(sum[:]), want)
			}
		})
	}
}

// An extract that overtakes the record of its request (the requester sends
// the request, then records it) is tried again until the request is
// recorded, then taken.
func TestAnExtractBeforeItsRequestIsRecordedIsTakenOnceItIs(t *testing.T) {
	f := newFixture(t)
	const conv = "3B0C6A8E-2B49-4C1F-9E51-6F0D7A2C9B14"
	requestID := hl7.DeriveID(conv, "ehr-request")
	store, err := transfer.NewStore(f.ctx, f.bus)
	require.NoError(t, err)
	registered := transfer.New(transfer.Requesting, conv, transfer.Practice{ODS: requestingODS, ASID: requestingASID})
	registered.NHSNumber = nhsNumber
	_, err = store.Create(f.ctx, registered)
	require.NoError(t, err)

	f.sendExtract(conv, requestID, 5_000)
	// The receiver meets REGISTERED and waits: the extract was delivered
	// and not acknowledged, and nothing is taken yet.
	spec := bus.ReceiverExtracts("", stagetest.Practices)
	cons, err := f.js.Consumer(f.ctx, spec.Stream, spec.Durable)
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		info, err := cons.Info(f.ctx)
		return err == nil && info.Delivered.Consumer >= 1 && info.AckFloor.Consumer == 0
	}, 10*time.Second, 10*time.Millisecond)
	tr, err := store.Get(f.ctx, transfer.Requesting, conv)
	require.NoError(t, err)
	require.Equal(t, transfer.Registered, tr.State)

	f.recordRequest(store, conv, requestID)
	ready := f.recordReady(conv)
	assert.Equal(t, nhsNumber, ready.GetPatient().GetNhsNumber())
	tr, err = store.Get(f.ctx, transfer.Requesting, conv)
	require.NoError(t, err)
	assert.Equal(t, transfer.ReadyToIntegrate, tr.State)
}
