package practicesim_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"

	"github.com/nhsengland/gp2gp/libs/bus"
	"github.com/nhsengland/gp2gp/libs/practicesim"
	gp2gpv1 "github.com/nhsengland/gp2gp/proto/gp2gp/v1"
)

// streamed reads object ref back from the object store as a stream and
// returns its size, lower-case hex SHA-256 and first bytes.
func (f *fixture) streamed(ref *gp2gpv1.ObjectRef) (size int64, sum string, head []byte) {
	f.t.Helper()
	store, err := f.js.ObjectStore(f.ctx, ref.GetBucket())
	require.NoError(f.t, err)
	obj, err := store.Get(f.ctx, ref.GetName())
	require.NoError(f.t, err)
	defer obj.Close()
	h := sha256.New()
	first := &prefixWriter{max: 64}
	n, err := io.Copy(io.MultiWriter(h, first), obj)
	require.NoError(f.t, err)
	return n, hex.EncodeToString(h.Sum(nil)), first.b
}

// prefixWriter keeps the first max bytes written to it.
type prefixWriter struct {
	b   []byte
	max int
}

func (w *prefixWriter) Write(p []byte) (int, error) {
	if room := w.max - len(w.b); room > 0 {
		w.b = append(w.b, p[:min(room, len(p))]...)
	}
	return len(p), nil
}

// checkDocuments checks that the record's attachments are the documents
// the extract references, in order, each intact inline or in the object
// store, and that the practice lists them as sent. It returns how many
// travelled inline and how many through the object store.
func checkDocuments(t *testing.T, f *fixture, rec *gp2gpv1.Record, extract []byte, answered practicesim.AnsweredRequest) (inline, stored int) {
	t.Helper()
	atts := rec.GetAttachments()
	s := summarize(t, extract)
	require.Len(t, s.Documents, len(atts), "the extract references every document")
	require.Len(t, answered.Documents, len(atts))
	assert.Equal(t, len(atts), answered.Attachments)
	ids := map[string]bool{}
	for i, a := range atts {
		assert.Equal(t, s.Documents[i].ID, a.GetDocumentId())
		assert.Equal(t, s.Documents[i].Filename, a.GetFilename())
		assert.Equal(t, s.Documents[i].MediaType, a.GetContentType())
		assert.False(t, ids[a.GetDocumentId()], "document ids are distinct")
		ids[a.GetDocumentId()] = true

		var size int64
		var sum string
		if ref := a.GetContent().GetObject(); ref != nil {
			stored++
			assert.Equal(t, bus.RecordsBucket(previousODS), ref.GetBucket())
			assert.Contains(t, ref.GetName(), a.GetDocumentId())
			size, sum, _ = f.streamed(ref)
			assert.EqualValues(t, size, ref.GetSize())
			assert.Equal(t, sum, ref.GetSha256())
		} else {
			inline++
			data := a.GetContent().GetInline()
			require.NotEmpty(t, data)
			h := sha256.Sum256(data)
			size, sum = int64(len(data)), hex.EncodeToString(h[:])
		}
		assert.EqualValues(t, size, a.GetSize())
		assert.Equal(t, practicesim.Document{
			ID: a.GetDocumentId(), Filename: a.GetFilename(), ContentType: a.GetContentType(),
			Size: size, SHA256: sum, InObjectStore: a.GetContent().GetObject() != nil,
		}, answered.Documents[i])
	}
	return inline, stored
}

// extractOf returns the extract of rec, inline or from the object store.
func (f *fixture) extractOf(rec *gp2gpv1.Record) []byte {
	f.t.Helper()
	if ref := rec.GetEhrExtract().GetObject(); ref != nil {
		store, err := f.js.ObjectStore(f.ctx, ref.GetBucket())
		require.NoError(f.t, err)
		data, err := store.GetBytes(f.ctx, ref.GetName())
		require.NoError(f.t, err)
		return data
	}
	return rec.GetEhrExtract().GetInline()
}

func TestAnswersWithManyDocuments(t *testing.T) {
	tests := []struct {
		name            string
		opts            []practicesim.Option
		documents       int
		extractInStore  bool
		someInStore     bool
		someInline      bool
		wantInlineCount int // when not -1, exactly this many inline
	}{
		{name: "150 documents, all inline", documents: 150,
			opts:       []practicesim.Option{practicesim.WithAttachments(150)},
			someInline: true, wantInlineCount: 150},
		{name: "150 documents beside an extract near the inline limit", documents: 150,
			opts:       []practicesim.Option{practicesim.WithAttachments(150), practicesim.WithRecordSize(490_000)},
			someInline: true, someInStore: true, wantInlineCount: -1},
		{name: "the most documents, the extract in the object store", documents: practicesim.MaxAttachments,
			opts:           []practicesim.Option{practicesim.WithAttachments(practicesim.MaxAttachments)},
			extractInStore: true, someInline: true, wantInlineCount: -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			p := f.start(previousODS, tt.opts...)
			f.requestRecord(recordRequest("REQ-DOCS", conv1, patientNHS), "")

			answered, err := p.WaitAnswer(f.ctx, conv1)
			require.NoError(t, err)
			msgs := f.messages(bus.StreamRecordResponses)
			require.Len(t, msgs, 1)
			assert.Empty(t, msgs[0].Header.Get(bus.HeaderBodyObject), "the response travels inside its message")
			assert.LessOrEqual(t, len(msgs[0].Data), practicesim.InlineLimit+64<<10)
			resp := f.responses()[0]
			rec := resp.GetRecord()
			require.NotNil(t, rec, "a record, not a failure: %v", resp.GetFailure())
			assert.Equal(t, tt.extractInStore, rec.GetEhrExtract().GetObject() != nil)
			assert.Equal(t, tt.extractInStore, answered.InObjectStore)
			require.Len(t, rec.GetAttachments(), tt.documents)

			inline, stored := checkDocuments(t, f, rec, f.extractOf(rec), answered)
			assert.Equal(t, tt.someInline, inline > 0, "inline documents: %d", inline)
			assert.Equal(t, tt.someInStore, stored > 0, "documents in the object store: %d", stored)
			if tt.wantInlineCount >= 0 {
				assert.Equal(t, tt.wantInlineCount, inline)
			}
		})
	}
}

func TestLargeDocumentIsStreamedThroughObjectStore(t *testing.T) {
	const size = 20 << 20
	f := newFixture(t)
	var asked atomic.Int32
	p := f.start(previousODS, practicesim.WithAttachments(2), practicesim.WithLargeAttachments(size),
		practicesim.WithRecords(func(string) practicesim.RecordBehaviour {
			asked.Add(1)
			return practicesim.SendRecord()
		}))
	f.requestRecord(recordRequest("REQ-BIG", conv1, patientNHS), "")

	answered, err := p.WaitAnswer(f.ctx, conv1)
	require.NoError(t, err)
	rec := f.responses()[0].GetRecord()
	require.NotNil(t, rec)
	require.Len(t, rec.GetAttachments(), 3)
	inline, stored := checkDocuments(t, f, rec, f.extractOf(rec), answered)
	assert.Equal(t, 2, inline)
	assert.Equal(t, 1, stored)

	big := rec.GetAttachments()[2]
	assert.Equal(t, "application/pdf", big.GetContentType())
	assert.Equal(t, "Scanned correspondence 1.pdf", big.GetFilename())
	ref := big.GetContent().GetObject()
	require.NotNil(t, ref, "a large document travels by reference")
	assert.Contains(t, ref.GetName(), "REQ-BIG", "the object is named after the request")
	gotSize, sum, head := f.streamed(ref)
	assert.EqualValues(t, size, gotSize)
	assert.EqualValues(t, size, ref.GetSize())
	assert.Equal(t, sum, ref.GetSha256(), "the reference carries the SHA-256 of the bytes stored")
	assert.Equal(t, sum, answered.Documents[2].SHA256)
	assert.True(t, bytes.HasPrefix(head, []byte("%PDF-1.7\n")), "%q", head)

	// Asked again (a redelivery): the object is reused, not written again.
	store, err := f.js.ObjectStore(f.ctx, bus.RecordsBucket(previousODS))
	require.NoError(t, err)
	before, err := store.GetInfo(f.ctx, ref.GetName())
	require.NoError(t, err)
	f.requestRecord(recordRequest("REQ-BIG", conv1, patientNHS), ".redelivery")
	eventually(t, func() bool { return asked.Load() == 2 })
	eventually(t, f.settled(bus.PracticeRecordRequests(previousODS)))
	after, err := store.GetInfo(f.ctx, ref.GetName())
	require.NoError(t, err)
	assert.Equal(t, before.NUID, after.NUID, "the object was not rewritten")
	assert.Equal(t, before.ModTime, after.ModTime)
	assert.Len(t, f.responses(), 1)
	again, err := p.WaitAnswer(f.ctx, conv1)
	require.NoError(t, err)
	assert.Equal(t, answered.Documents, again.Documents)
}

func TestReceivingPracticeVerifiesDocuments(t *testing.T) {
	f := newFixture(t)
	previous := f.start(previousODS, practicesim.WithAttachments(2), practicesim.WithLargeAttachments(1<<20, 300<<10))
	receiving := f.start(newODS, integrating(practicesim.Integrate(gp2gpv1.IntegrationResult_INTEGRATION_RESULT_INTEGRATED)))
	f.requestRecord(recordRequest("REQ-VERIFY", conv1, patientNHS), "")
	answered, err := previous.WaitAnswer(f.ctx, conv1)
	require.NoError(t, err)
	sent := f.responses()[0].GetRecord()
	require.NotNil(t, sent)
	require.Len(t, sent.GetAttachments(), 4)
	bigRef := sent.GetAttachments()[2].GetContent().GetObject()
	require.NotNil(t, bigRef)

	sending, err := f.js.ObjectStore(f.ctx, bus.RecordsBucket(previousODS))
	require.NoError(t, err)
	original, err := sending.GetBytes(f.ctx, bigRef.GetName())
	require.NoError(t, err)

	// The receiver keeps what it receives in the receiving practice's
	// records store, the only one that practice's system reads.
	store, err := f.js.ObjectStore(f.ctx, bus.RecordsBucket(newODS))
	require.NoError(t, err)
	// copyOf stores data as the receiver's copy of the object ref names
	// and returns ref, pointing at the copy.
	copyOf := func(ref *gp2gpv1.ObjectRef, name string, data []byte) *gp2gpv1.ObjectRef {
		_, err := store.PutBytes(f.ctx, name, data)
		require.NoError(t, err)
		ref = proto.Clone(ref).(*gp2gpv1.ObjectRef)
		ref.Bucket, ref.Name = bus.RecordsBucket(newODS), name
		return ref
	}
	// copyAs stores data as the receiver's copy of the large document and
	// returns the reference the sender gave, pointing at the copy.
	copyAs := func(name string, data []byte) *gp2gpv1.ObjectRef { return copyOf(bigRef, name, data) }
	// received is the receiver's copy of an object the sender referenced.
	received := func(ref *gp2gpv1.ObjectRef) *gp2gpv1.ObjectRef {
		data, err := sending.GetBytes(f.ctx, ref.GetName())
		require.NoError(t, err)
		return copyOf(ref, "received/"+ref.GetName(), data)
	}
	flipped := bytes.Clone(original)
	flipped[len(flipped)/2] ^= 0xff

	tests := []struct {
		name    string
		big     func(a *gp2gpv1.Attachment) // changes the large document's attachment
		result  gp2gpv1.IntegrationResult
		problem string
	}{
		{name: "intact", big: func(a *gp2gpv1.Attachment) {
			a.Content = &gp2gpv1.Content{Content: &gp2gpv1.Content_Object{Object: copyAs("received/intact", original)}}
		}, result: gp2gpv1.IntegrationResult_INTEGRATION_RESULT_INTEGRATED},
		{name: "same size, one byte altered", big: func(a *gp2gpv1.Attachment) {
			a.Content = &gp2gpv1.Content{Content: &gp2gpv1.Content_Object{Object: copyAs("received/altered", flipped)}}
		}, result: gp2gpv1.IntegrationResult_INTEGRATION_RESULT_FAILED_TO_INTEGRATE, problem: "its reference says " + bigRef.GetSha256()},
		{name: "truncated", big: func(a *gp2gpv1.Attachment) {
			a.Content = &gp2gpv1.Content{Content: &gp2gpv1.Content_Object{Object: copyAs("received/truncated", original[:len(original)-1])}}
		}, result: gp2gpv1.IntegrationResult_INTEGRATION_RESULT_FAILED_TO_INTEGRATE,
			problem: fmt.Sprintf("has %d bytes, its reference says %d", len(original)-1, len(original))},
		{name: "reference without size or digest, attachment size disagrees", big: func(a *gp2gpv1.Attachment) {
			ref := copyAs("received/short", original[:1000])
			ref.Size, ref.Sha256 = 0, ""
			a.Content = &gp2gpv1.Content{Content: &gp2gpv1.Content_Object{Object: ref}}
		}, result: gp2gpv1.IntegrationResult_INTEGRATION_RESULT_FAILED_TO_INTEGRATE,
			problem: fmt.Sprintf("has 1000 bytes, the record says %d", len(original))},
		{name: "missing", big: func(a *gp2gpv1.Attachment) {
			ref := proto.Clone(bigRef).(*gp2gpv1.ObjectRef)
			ref.Bucket, ref.Name = bus.RecordsBucket(newODS), "received/nowhere"
			a.Content = &gp2gpv1.Content{Content: &gp2gpv1.Content_Object{Object: ref}}
		}, result: gp2gpv1.IntegrationResult_INTEGRATION_RESULT_FAILED_TO_INTEGRATE, problem: "does not exist"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conv := fmt.Sprintf("6E2B8A0C-4F1D-4C55-9E3A-0B7D2C1F9B%02d", i)
			ready := recordReadyFor(conv, patientNHS, sent.GetEhrExtract())
			for _, a := range sent.GetAttachments() {
				a = proto.Clone(a).(*gp2gpv1.Attachment)
				if ref := a.GetContent().GetObject(); ref != nil {
					a.Content = &gp2gpv1.Content{Content: &gp2gpv1.Content_Object{Object: received(ref)}}
				}
				ready.Attachments = append(ready.Attachments, a)
			}
			tt.big(ready.Attachments[2])
			ready.Attachments = append(ready.Attachments, &gp2gpv1.Attachment{
				DocumentId: "0557F0E0-5271-41EA-9384-E83935108FD5", Filename: "scan.tif", ContentType: "image/tiff",
				Absent: true, AbsentReason: "file too large",
			})
			f.recordReady(ready, "")

			got, err := receiving.WaitOutcome(f.ctx, conv)
			require.NoError(t, err)
			assert.Equal(t, tt.result, got.Result)
			require.Len(t, f.outcomes(), i+1)
			assert.Equal(t, tt.result, f.outcomes()[i].GetResult())
			if tt.problem != "" {
				assert.Contains(t, got.Problem, tt.problem)
				assert.Contains(t, got.Problem, sent.GetAttachments()[2].GetDocumentId(), "the problem names the document")
				assert.Len(t, got.Documents, 2, "the documents read before the one that failed")
				return
			}
			assert.Empty(t, got.Problem)
			assert.Equal(t, 5, got.Attachments)
			assert.Equal(t, 1, got.AbsentAttachments)
			require.Len(t, got.Documents, 5)
			for j, want := range answered.Documents {
				assert.Equal(t, want, got.Documents[j], "document %d is received as it was sent", j)
			}
			assert.Equal(t, practicesim.Document{
				ID: "0557F0E0-5271-41EA-9384-E83935108FD5", Filename: "scan.tif", ContentType: "image/tiff",
				Absent: true, AbsentReason: "file too large",
			}, got.Documents[4])
			assert.True(t, strings.HasPrefix(got.Documents[3].Filename, "Radiology image"), got.Documents[3].Filename)
		})
	}
}
