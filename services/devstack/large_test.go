package devstack_test

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"hash"
	"io"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nhsengland/gp2gp/libs/hl7"
	"github.com/nhsengland/gp2gp/libs/hl7/ehr"
	"github.com/nhsengland/gp2gp/libs/practicesim"
	"github.com/nhsengland/gp2gp/libs/spectest"
	"github.com/nhsengland/gp2gp/libs/transfer"
	"github.com/nhsengland/gp2gp/libs/xmldoc"
	gp2gpv1 "github.com/nhsengland/gp2gp/proto/gp2gp/v1"
)

// largeWait bounds the steps of a large transfer: under the race detector
// moving megabytes through the broker is slow.
const largeWait = 2 * time.Minute

// The sender lays a large record out as the protocol says, waits for the
// Continue, then sends every document after the extract: whole ones in
// one COPC, large ones as a fragment index and fragments that reassemble
// to the document, byte for byte. (No receiver runs: the test plays the
// requesting system.)
func TestSenderSendsDocumentsAfterTheContinue(t *testing.T) {
	const big = 9_000_000 // three fragments of 3,375,000 bytes
	h := newHarness(t, withDocuments(120, big))
	h.start("requester", "sender", "acknowledger")
	conv := h.register()
	snd := h.waitStateWithin(transfer.Sending, conv, transfer.ExtractSent, largeWait)
	answer, err := h.practice[oldODS].WaitAnswer(h.ctx, conv)
	require.NoError(t, err)
	require.Len(t, answer.Documents, 121)

	wire := h.wire(conv)
	var extract *wireMessage
	for i := range wire {
		if wire[i].Interaction.IsExtract() {
			extract = &wire[i]
		}
	}
	require.NotNil(t, extract)
	env := extract.Env
	assert.Len(t, env.Attachments, 98, "as many inline as the MHS allows")
	require.Len(t, env.External, 23, "the rest announced as mid:")
	var large int
	for _, e := range env.External {
		if e.Description.LargeAttachment {
			large++
			assert.EqualValues(t, big, e.Description.Length)
		}
	}
	assert.Equal(t, 1, large)
	assert.Zero(t, count(wire, hl7.CommonContentCOPC), "nothing before the Continue")
	_, acked := snd.MessageByRole(transfer.RoleRequestAck, transfer.Outbound)
	assert.False(t, acked, "the request's AA waits for the documents")

	cont := &hl7.COPC{
		Wrapper: hl7.Wrapper{MessageID: hl7.NewID(), CreationTime: h.clock.Now(), ToASID: oldASID, FromASID: newASID},
		Kind:    hl7.KindContinue, Recipients: []string{oldODS}, From: newODS, AcknowledgedID: extract.ID,
	}
	payload, err := cont.Encode()
	require.NoError(t, err)
	h.inject(conv, cont.MessageID, hl7.CommonContentCOPC, newASID, oldASID, payload)
	snd = h.waitStateWithin(transfer.Sending, conv, transfer.AttachmentsSent, largeWait)

	// Reassemble what went on the wire.
	byID := map[string]*wireMessage{}
	wire = h.wire(conv)
	for i := range wire {
		byID[wire[i].ID] = &wire[i]
	}
	sums := map[string]string{}
	for _, d := range answer.Documents {
		sums[d.ID] = d.SHA256
	}
	copcs, compressed := 0, 0
	for _, e := range env.External {
		m := byID[hl7.NormalizeID(e.MessageID)]
		require.NotNil(t, m, "the COPC %s announced by the extract", e.MessageID)
		require.Equal(t, hl7.CommonContentCOPC, m.Interaction)
		copcs++
		sum := sha256.New()
		if e.Description.LargeAttachment {
			assert.Empty(t, m.Env.Attachments, "a fragment index carries no fragment")
			require.Len(t, m.Env.External, 3)
			for _, f := range m.Env.External {
				frag := byID[hl7.NormalizeID(f.MessageID)]
				require.NotNil(t, frag, "fragment %s", f.MessageID)
				copcs++
				require.Len(t, frag.Env.Attachments, 1)
				write(t, sum, frag.Env.Attachments[0].Data)
			}
		} else {
			require.Len(t, m.Env.Attachments, 1)
			a := m.Env.Attachments[0]
			data := a.Data
			if a.Description.Compressed { // text documents travel gzipped
				zr, err := gzip.NewReader(bytes.NewReader(data))
				require.NoError(t, err)
				data, err = io.ReadAll(zr)
				require.NoError(t, err)
				compressed++
			}
			write(t, sum, data)
		}
		id := hl7.NormalizeID(e.DocumentID[1:])
		assert.Equal(t, sums[id], hex.EncodeToString(sum.Sum(nil)), "document %s arrives whole", id)
	}
	assert.Equal(t, 26, copcs, "22 whole, one index and three fragments")
	assert.Positive(t, compressed, "text documents travel compressed")
	assert.Equal(t, 27, count(h.wire(conv), hl7.CommonContentCOPC), "and the Continue: each sent once")

	// Then the request's acceptance, and the timeline tells it all.
	require.Eventually(t, func() bool {
		return count(h.wire(conv), hl7.ApplicationAck) == 1
	}, 15*time.Second, 20*time.Millisecond)
	sent := 0
	for _, m := range h.get(transfer.Sending, conv).Messages {
		if m.Role == transfer.RoleCOPC {
			sent++
		}
	}
	assert.Equal(t, 26, sent)
}

func write(t *testing.T, h hash.Hash, data []byte) {
	t.Helper()
	_, err := h.Write(data)
	require.NoError(t, err)
}

// An extract over the split threshold travels as a skeleton: the payload is
// a skeleton extract, and the whole original message travels gzipped as a
// document marked as the skeleton's.
func TestSenderSendsASkeletonForALargeExtract(t *testing.T) {
	h := newHarness(t, withSplitThreshold(100_000), withRecordSize(300_000))
	h.start("requester", "sender", "acknowledger")
	conv := h.register()
	h.waitStateWithin(transfer.Sending, conv, transfer.ExtractSent, largeWait)
	var extract *wireMessage
	for _, m := range h.wire(conv) {
		if m.Interaction.IsExtract() {
			extract = &m
		}
	}
	require.NotNil(t, extract)
	assert.Less(t, len(extract.Payload), 100_000)
	ex, err := hl7.DecodeExtract(extract.Payload)
	require.NoError(t, err)
	sum, err := ehr.Summarize(ex.Content)
	require.NoError(t, err)
	assert.True(t, sum.Skeleton)
	require.Len(t, sum.Documents, 1)

	env := extract.Env
	var skel []byte
	for _, a := range env.Attachments {
		if a.Description.Skeleton() {
			assert.True(t, a.Description.Compressed)
			assert.Equal(t, "_"+sum.Documents[0].ID, a.DocumentID)
			skel = a.Data
		}
	}
	require.NotNil(t, skel, "the compressed original travels inline: it is small once gzipped")
	zr, err := gzip.NewReader(bytes.NewReader(skel))
	require.NoError(t, err)
	original, err := io.ReadAll(zr)
	require.NoError(t, err)
	assert.True(t, bytes.HasPrefix(original, []byte("<RCMR_IN030000UK06")) || bytes.Contains(original[:200], []byte("RCMR_IN030000UK06")))
	full, err := hl7.DecodeExtract(original)
	require.NoError(t, err)
	assert.Equal(t, ex.ExtractID, full.ExtractID)
	fullSum, err := ehr.Summarize(full.Content)
	require.NoError(t, err)
	assert.False(t, fullSum.Skeleton)
	assert.Greater(t, len(original), 300_000)
	if _, ok := spectest.Lookup(); ok {
		require.NoError(t, spectest.Validate(t, spectest.SchemaUK06, extract.Payload))
	}
}

// A record with 150 small documents and a 9 MB one goes end to end: the
// receiver asks for the rest with a Continue, reassembles the fragments and
// hands over every document, byte for byte.
func TestLargeRecordEndToEnd(t *testing.T) {
	if raceEnabled {
		t.Skip("150 documents and 9 MB through the broker take minutes under -race on 2 cores: run without it (make test does, as a heavy test)")
	}
	h := newHarness(t, withDocuments(150, 9_000_000))
	h.start()
	conv := h.register()
	h.waitStateWithin(transfer.Sending, conv, transfer.Completed, largeWait)
	req := h.waitStateWithin(transfer.Requesting, conv, transfer.Integrated, largeWait)
	assert.Equal(t, "INTEGRATION_RESULT_INTEGRATED", req.Record.Outcome)

	answer, err := h.practice[oldODS].WaitAnswer(h.ctx, conv)
	require.NoError(t, err)
	record, err := h.practice[newODS].WaitRecord(h.ctx, conv)
	require.NoError(t, err)
	assertSameDocuments(t, answer.Documents, record.Documents)

	wire := h.wire(conv)
	assert.Equal(t, 1, count(wire, hl7.EHRExtractUK06))
	assert.Equal(t, 1+56, count(wire, hl7.CommonContentCOPC), "one Continue, 52 whole documents, an index and 3 fragments")
	ackMsgs := acks(wire)
	assert.Len(t, ackMsgs, 2+56, "the request's AA, the final AA and one AA per COPC")
	for _, a := range ackMsgs {
		assert.Equal(t, hl7.AckAccept, a.AckType)
	}
}

func assertSameDocuments(t *testing.T, sent, received []practicesim.Document) {
	t.Helper()
	want := map[string]practicesim.Document{}
	for _, d := range sent {
		want[d.ID] = d
	}
	require.Len(t, received, len(sent))
	for _, d := range received {
		w, ok := want[d.ID]
		if assert.True(t, ok, "document %s was sent", d.ID) {
			assert.Equal(t, w.Size, d.Size, "document %s", d.ID)
			assert.Equal(t, w.SHA256, d.SHA256, "document %s", d.ID)
		}
	}
}

// A 100 MB document travels as 32 fragments and arrives byte for byte.
func TestHundredMegabyteDocument(t *testing.T) {
	if raceEnabled {
		t.Skip("moves ~500 MB through the broker: run without -race (make test does, as a heavy test)")
	}
	h := newHarness(t, withDocuments(2, 100<<20))
	h.start()
	conv := h.register()
	h.waitStateWithin(transfer.Requesting, conv, transfer.Integrated, 5*time.Minute)
	h.waitStateWithin(transfer.Sending, conv, transfer.Completed, largeWait)
	answer, err := h.practice[oldODS].WaitAnswer(h.ctx, conv)
	require.NoError(t, err)
	record, err := h.practice[newODS].WaitRecord(h.ctx, conv)
	require.NoError(t, err)
	assertSameDocuments(t, answer.Documents, record.Documents)
	snd := h.get(transfer.Sending, conv)
	fragments := 0
	for _, m := range snd.Messages {
		if m.Role == transfer.RoleCOPC && m.Fragment > 0 {
			fragments++
		}
	}
	assert.Equal(t, 32, fragments, "100 MiB in 3,375,000-byte fragments")
}

// An extract over the split threshold travels as a skeleton and arrives
// as it was sent: with its compressed original inline (the default
// threshold, a 5 MB record), and in fragments (a small threshold).
func TestSkeletonEndToEnd(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts []harnessOption
	}{
		{"inline original", []harnessOption{withRecordSize(5_000_000)}},
		{"fragmented original", []harnessOption{withSplitThreshold(20_000), withRecordSize(1_500_000), withDocuments(3)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, tc.opts...)
			h.start()
			conv := h.register()
			h.waitStateWithin(transfer.Requesting, conv, transfer.Integrated, 2*time.Minute)
			h.waitStateWithin(transfer.Sending, conv, transfer.Completed, largeWait)

			// The practice's EhrExtract, as it supplied it and as the
			// new practice got it.
			sent := h.suppliedExtract(conv)
			got, err := h.records.GetBytes(h.ctx, hl7.NormalizeID(conv)+"/extract.xml")
			require.NoError(t, err)
			ex, err := hl7.DecodeExtract(got)
			require.NoError(t, err)
			sum, err := ehr.Summarize(ex.Content)
			require.NoError(t, err)
			assert.False(t, sum.Skeleton, "the original, not the skeleton")
			// The sender gives the EhrExtract the id of its message and
			// the request's id; the rest arrives byte for byte.
			gotEx := serialize(t, ex.Content)
			sentDoc, err := xmldoc.Parse(sent, xmldoc.Limits{MaxBytes: 64 << 20})
			require.NoError(t, err)
			sentID := xmldoc.Attr(xmldoc.Child(sentDoc.Root(), "id"), "root")
			sent = bytes.Replace(sent, []byte(`<id root="`+sentID+`"/>`), []byte(`<id root="`+ex.ExtractID+`"/>`), 1)
			priorID := xmldoc.Attr(xmldoc.Path(sentDoc.Root(), "inFulfillmentOf", "priorEhrRequest", "id"), "root")
			sent = bytes.Replace(sent, []byte(`<id root="`+priorID+`"/></priorEhrRequest>`), []byte(`<id root="`+ex.RequestID+`"/></priorEhrRequest>`), 1)
			assert.Equal(t, len(sent), len(gotEx))
			assert.Equal(t, digest(t, sent), digest(t, gotEx), "the EhrExtract arrives byte for byte")
			var wire []wireMessage
			for _, m := range h.wire(conv) {
				if m.Interaction.IsExtract() {
					wire = append(wire, m)
				}
			}
			require.Len(t, wire, 1)
			assert.Less(t, len(wire[0].Payload), len(got)/2, "what travelled was a skeleton")
		})
	}
}

// A record small enough for one message whose text documents travel
// compressed: no Continue, and the documents arrive as they were.
func TestSmallRecordWithCompressedDocuments(t *testing.T) {
	h := newHarness(t, withDocuments(6))
	h.start()
	conv := h.register()
	h.waitStateWithin(transfer.Requesting, conv, transfer.Integrated, largeWait)
	h.waitState(transfer.Sending, conv, transfer.Completed)
	answer, err := h.practice[oldODS].WaitAnswer(h.ctx, conv)
	require.NoError(t, err)
	record, err := h.practice[newODS].WaitRecord(h.ctx, conv)
	require.NoError(t, err)
	assertSameDocuments(t, answer.Documents, record.Documents)
	wire := h.wire(conv)
	assert.Zero(t, count(wire, hl7.CommonContentCOPC), "no Continue, no COPC")
	var compressed int
	for _, m := range wire {
		if m.Interaction.IsExtract() {
			for _, a := range m.Env.Attachments {
				if a.Description.Compressed {
					compressed++
				}
			}
		}
	}
	assert.Positive(t, compressed)
}

// Documents the previous practice cannot supply travel as placeholders
// (AbsentAttachment<id>.txt), in a small record and a large one; the new
// practice gets them flagged absent with the reason, the record flagged
// with absent attachments, and every other document whole.
func TestAbsentDocumentsTravelAsPlaceholders(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts []harnessOption
	}{
		{"small record", []harnessOption{withDocuments(4), withAbsentDocuments(2)}},
		{"large record", []harnessOption{withDocuments(4, 5_000_000), withAbsentDocuments(2)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			readies := make(chan *gp2gpv1.RecordReady, 1)
			h := newHarness(t, append(tc.opts, withIntegrationFunc(func(r *gp2gpv1.RecordReady) practicesim.IntegrationBehaviour {
				select {
				case readies <- r:
				default:
				}
				return practicesim.IntegrationBehaviour{}
			}))...)
			h.start()
			conv := h.register()
			req := h.waitStateWithin(transfer.Requesting, conv, transfer.Integrated, largeWait)
			assert.Contains(t, req.Record.Issues, "RECORD_ISSUE_ATTACHMENTS_ABSENT")
			ready := <-readies
			absent := 0
			for _, a := range ready.GetAttachments() {
				if a.GetAbsent() {
					absent++
					assert.Contains(t, a.GetAbsentReason(), "placeholder")
					assert.Contains(t, a.GetFilename(), "AbsentAttachment")
				}
			}
			assert.Equal(t, 2, absent)
			answer, err := h.practice[oldODS].WaitAnswer(h.ctx, conv)
			require.NoError(t, err)
			record, err := h.practice[newODS].WaitRecord(h.ctx, conv)
			require.NoError(t, err)
			var sentWhole []practicesim.Document
			for _, d := range answer.Documents {
				if !d.Absent {
					sentWhole = append(sentWhole, d)
				}
			}
			var gotWhole []practicesim.Document
			for _, d := range record.Documents {
				if !d.Absent {
					gotWhole = append(gotWhole, d)
				}
			}
			assertSameDocuments(t, sentWhole, gotWhole)
		})
	}
}
