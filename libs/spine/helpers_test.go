package spine_test

import (
	"bytes"
	"context"
	"strings"
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
	"github.com/nhsengland/gp2gp/libs/spine"
)

// Two practices served by one deployment: the requester (new practice)
// and the sender (previous practice).
const (
	requesterODS  = "A12345"
	requesterASID = "200000000101"
	senderODS     = "B86041"
	senderASID    = "200000000102"

	conversationID = "9F1C2B4A-0000-4000-8000-000000000001"
)

var (
	practices = []bus.Practice{{ODS: requesterODS, ASID: requesterASID}, {ODS: senderODS, ASID: senderASID}}
	created   = time.Date(2026, 11, 21, 9, 30, 0, 0, time.UTC)
)

// fixture is an embedded JetStream with the spine-in stream and the bodies
// object store (the acknowledger's topology has both).
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
	ctx := natstest.Context(t, 60*time.Second)
	require.NoError(t, bus.Ensure(ctx, js, bus.DevProfile, bus.AcknowledgerTopology("", practices)))
	b, err := bus.New(js)
	require.NoError(t, err)
	return &fixture{t: t, js: js, bus: b, ctx: ctx}
}

// newBareFixture has no streams: every publish fails.
func newBareFixture(t *testing.T) *fixture {
	t.Helper()
	js := natstest.NewServer(t).JetStream()
	b, err := bus.New(js)
	require.NoError(t, err)
	return &fixture{t: t, js: js, bus: b, ctx: natstest.Context(t, 60*time.Second)}
}

// count is how many messages the spine-in stream holds.
func (f *fixture) count() uint64 {
	f.t.Helper()
	s, err := f.js.Stream(f.ctx, bus.StreamSpineIn)
	require.NoError(f.t, err)
	info, err := s.Info(f.ctx)
	require.NoError(f.t, err)
	return info.State.Msgs
}

// last returns the last message on subject, as a handler would get it.
func (f *fixture) last(subject string) *bus.Msg {
	f.t.Helper()
	s, err := f.js.Stream(f.ctx, bus.StreamSpineIn)
	require.NoError(f.t, err)
	raw, err := s.GetLastMsgForSubject(f.ctx, subject)
	require.NoError(f.t, err, "nothing on %s", subject)
	return &bus.Msg{Subject: raw.Subject, Data: raw.Data, Header: raw.Header, Stream: bus.StreamSpineIn, Sequence: raw.Sequence}
}

// wire is a GP2GP message as a stage would send it.
type wire struct {
	name  string
	msg   *ebxml.Message
	from  string // sender ASID
	to    string // recipient ASID
	toODS string
	kind  bus.SpineKind
}

func (w wire) outbound() *spine.Outbound {
	return &spine.Outbound{Message: w.msg, FromASID: w.from, ToASID: w.to, ToODS: w.toODS}
}

func hl7Wrapper(id, to, from string) hl7.Wrapper {
	return hl7.Wrapper{MessageID: id, CreationTime: created, ToASID: to, FromASID: from}
}

// mhsEnvelope fills in what an MHS adaptor writes into the envelope of a
// message it sends: party ids, CPA id, timestamp, forward-reliable flags.
func mhsEnvelope(e *ebxml.Envelope) {
	e.From = ebxml.PartyID{ID: "YGM24-820388", Type: ebxml.PartyTypeServiceInstance}
	e.To = ebxml.PartyID{ID: "B86041-822103", Type: ebxml.PartyTypeServiceInstance}
	e.CPAID = "S2036482A2160104"
	e.Service = ebxml.ServiceGP2GP
	e.Timestamp = created
	e.DuplicateElimination, e.AckRequested = true, true
}

func message(t testing.TB, in hl7.Interaction, messageID string, payload []byte, err error) *ebxml.Message {
	t.Helper()
	require.NoError(t, err)
	m := &ebxml.Message{
		Envelope: ebxml.Envelope{ConversationID: conversationID, Action: string(in), MessageID: messageID},
		Payload:  payload,
	}
	mhsEnvelope(&m.Envelope)
	return m
}

// binary holds every byte value, including CR, LF and NUL.
func binary(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + i/256)
	}
	return b
}

func requestWire(t testing.TB) wire {
	const id = "DFE22ED3-946B-4A2D-A827-5397C7673599"
	r := &hl7.Request{
		Wrapper:   hl7Wrapper(id, senderASID, requesterASID),
		RequestID: "BBBBA01A-A9D1-A411-F824-9F7A00A33757", NHSNumber: "9442964410",
		RequestingODS: requesterODS, SendingODS: senderODS,
	}
	data, err := r.Encode()
	return wire{"ehr request", message(t, hl7.EHRRequest, id, data, err), requesterASID, senderASID, senderODS, bus.KindEHRRequest}
}

// extractWire is an EHR Extract with a binary and a text attachment inline
// and one announced for a later COPC (mid:).
func extractWire(t testing.TB, nopat bool) wire {
	t.Helper()
	opts := []ehr.Option{ehr.WithSeed(11), ehr.WithEncounters(2)}
	id, in, name := "76C25210-5271-41EA-9384-E83935108FD5", hl7.EHRExtractUK06, "ehr extract UK06"
	if nopat {
		opts = append(opts, ehr.WithNOPAT(2))
		id, in, name = "76C25210-5271-41EA-9384-E83935108FD7", hl7.EHRExtractUK07, "ehr extract UK07"
	}
	content, _, err := ehr.Generate(opts...)
	require.NoError(t, err)
	e := &hl7.Extract{
		Wrapper:   hl7Wrapper(id, requesterASID, senderASID),
		RequestID: "BBBBA01A-A9D1-A411-F824-9F7A00A33757", NHSNumber: "9442964410",
		SendingODS: senderODS, RequestingODS: requesterODS, Content: content,
	}
	data, err := e.Encode()
	m := message(t, in, id, data, err)
	scan, note := binary(700), []byte("Seen today.\r\nBP 120/80 — fine\n")
	m.Attachments = []ebxml.Attachment{
		{
			ContentType: "image/tiff", Base64: true, DocumentID: "_0557F0E0-A231-41ED-808B-AC162D1F16F0",
			Description: ebxml.Description{Filename: "scan 1.tif", ContentType: "image/tiff", OriginalBase64: true, Length: int64(len(scan)), HasLength: true},
			Data:        scan,
		},
		{
			ContentType: "text/plain", DocumentID: "_0557F0E1-A231-41ED-808B-AC162D1F16F0",
			Description: ebxml.Description{Filename: "note.txt", ContentType: "text/plain", Length: int64(len(note)), HasLength: true},
			Data:        note,
		},
	}
	m.External = []ebxml.ExternalAttachment{{
		DocumentID: "_0557F0E4-A231-41ED-808B-AC162D1F16F0", MessageID: "0635CDC0-A231-41ED-808B-AC162D1F16F0",
		Description: ebxml.Description{Filename: "photo.jpg", ContentType: "image/jpeg", Compressed: true, LargeAttachment: true, Length: 14404686, HasLength: true},
	}}
	return wire{name, m, senderASID, requesterASID, requesterODS, bus.KindEHRExtract}
}

func ackWire(t testing.TB) wire {
	const id = "1EF64E40-526E-41EA-9384-E83935108FD5"
	a := &hl7.Ack{Wrapper: hl7Wrapper(id, requesterASID, senderASID), Type: hl7.AckAccept, MessageRef: "DFE22ED3-946B-4A2D-A827-5397C7673599"}
	data, err := a.Encode()
	return wire{"application ack", message(t, hl7.ApplicationAck, id, data, err), senderASID, requesterASID, requesterODS, bus.KindAck}
}

func continueWire(t testing.TB) wire {
	const id = "DE304CA0-F984-41ED-808B-AC162D1F16F0"
	c := &hl7.COPC{
		Wrapper: hl7Wrapper(id, senderASID, requesterASID), Kind: hl7.KindContinue,
		Recipients: []string{senderODS}, From: requesterODS, AcknowledgedID: "76C25210-5271-41EA-9384-E83935108FD5",
	}
	data, err := c.Encode()
	return wire{"continue", message(t, hl7.CommonContentCOPC, id, data, err), requesterASID, senderASID, senderODS, bus.KindContinue}
}

func attachmentWire(t testing.TB) wire {
	const id = "0635CDC0-A231-41ED-808B-AC162D1F16F0"
	c := &hl7.COPC{
		Wrapper: hl7Wrapper(id, requesterASID, senderASID), Kind: hl7.KindAttachment,
		Recipients: []string{requesterODS}, From: senderODS, Reference: hl7.FileReference("photo.jpg"),
	}
	data, err := c.Encode()
	m := message(t, hl7.CommonContentCOPC, id, data, err)
	photo := binary(2048)
	m.Attachments = []ebxml.Attachment{{
		ContentType: "image/jpeg", Base64: true, DocumentID: "_0557F0E4-A231-41ED-808B-AC162D1F16F0",
		Description: ebxml.Description{Filename: "photo.jpg", ContentType: "image/jpeg", Length: int64(len(photo)), HasLength: true},
		Data:        photo,
	}}
	return wire{"attachment COPC", m, senderASID, requesterASID, requesterODS, bus.KindCOPC}
}

// wires is one message of every kind.
func wires(t testing.TB) []wire {
	t.Helper()
	return []wire{requestWire(t), extractWire(t, false), extractWire(t, true), ackWire(t), continueWire(t), attachmentWire(t)}
}

// assertSameWire checks that got, read back from the bus, is the message
// want that was sent.
func assertSameWire(t *testing.T, want, got *ebxml.Message) {
	t.Helper()
	gotEnv := got.Envelope
	gotEnv.Manifest = nil
	wantEnv := want.Envelope
	wantEnv.Manifest = nil
	assert.Equal(t, wantEnv, gotEnv, "envelope")
	assert.True(t, bytes.Equal(want.Payload, got.Payload), "payload differs:\n%.300s\n%.300s", want.Payload, got.Payload)
	require.Len(t, got.Attachments, len(want.Attachments), "attachments")
	for i, w := range want.Attachments {
		g := got.Attachments[i]
		assert.Equal(t, w.ContentType, g.ContentType, "attachment %d content type", i)
		assert.Equal(t, w.Base64, g.Base64, "attachment %d base64", i)
		assert.Equal(t, w.DocumentID, g.DocumentID, "attachment %d document id", i)
		assert.Equal(t, w.Description, g.Description, "attachment %d description", i)
		assert.True(t, bytes.Equal(w.Data, g.Data), "attachment %d data differs", i)
	}
	require.Len(t, got.External, len(want.External), "external attachments")
	for i, w := range want.External {
		g := got.External[i]
		assert.Equal(t, w.DocumentID, g.DocumentID, "external %d document id", i)
		assert.Equal(t, w.MessageID, g.MessageID, "external %d message id", i)
		assert.Equal(t, w.Description, g.Description, "external %d description", i)
	}
}

// assertHeaders checks the headers of a spine-in message.
func assertHeaders(t *testing.T, msg *bus.Msg, w wire) {
	t.Helper()
	env := w.msg.Envelope
	assert.Equal(t, "spine."+env.MessageID+"."+w.to, msg.Header.Get(bus.HeaderMsgID))
	assert.Equal(t, bus.Headers{ConversationID: env.ConversationID, InteractionID: env.Action, MessageID: env.MessageID}, msg.Headers())
	assert.Equal(t, "application/json", msg.Header.Get(bus.HeaderContentType))
}

// replaceOnce replaces the first old in s, which must be there.
func replaceOnce(t testing.TB, s, old, new string) string {
	t.Helper()
	require.Contains(t, s, old)
	return strings.Replace(s, old, new, 1)
}
