package practicesim_test

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/nhsengland/gp2gp/libs/bus"
	"github.com/nhsengland/gp2gp/libs/hl7/ehr"
	"github.com/nhsengland/gp2gp/libs/practicesim"
	"github.com/nhsengland/gp2gp/libs/xmldoc"
	gp2gpv1 "github.com/nhsengland/gp2gp/proto/gp2gp/v1"
)

const (
	patientNHS = "9991043713" // Amelia Hartley
	otherNHS   = "9992738251" // Oliver Okafor
	conv1      = "6E2B8A0C-4F1D-4C55-9E3A-0B7D2C1F9A01"
	conv2      = "6E2B8A0C-4F1D-4C55-9E3A-0B7D2C1F9A02"
)

// summarize parses an extract and summarises it, failing the test if it
// is not readable XML holding an EhrExtract.
func summarize(t *testing.T, data []byte) ehr.Summary {
	t.Helper()
	doc, err := xmldoc.Parse(data, xmldoc.Limits{})
	require.NoError(t, err)
	s, err := ehr.Summarize(doc.Root())
	require.NoError(t, err)
	return s
}

func TestAnswersRecordRequestWithRecord(t *testing.T) {
	tests := []struct {
		name        string
		opts        []practicesim.Option
		json        bool
		attachments int
		nopat       int
		localCodes  int
	}{
		{name: "default record"},
		{name: "request as protobuf JSON", json: true},
		{name: "attachments, NOPAT and local codes", attachments: 3, nopat: 2, localCodes: 4,
			opts: []practicesim.Option{practicesim.WithAttachments(3), practicesim.WithNOPAT(2), practicesim.WithLocalCodes(4)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			p := f.start(previousODS, tt.opts...)
			req := recordRequest("REQ-1", conv1, patientNHS)
			if tt.json {
				data, err := protojson.Marshal(req)
				require.NoError(t, err)
				_, err = f.bus.Publish(f.ctx, bus.Outgoing{
					Subject: bus.RecordRequestSubject(previousODS), DedupeID: "record-request.REQ-1",
					Data: data, ContentType: bus.ContentTypeJSON,
				})
				require.NoError(t, err)
			} else {
				f.requestRecord(req, "")
			}

			eventually(t, func() bool { return len(f.responses()) == 1 })
			msg := f.messages(bus.StreamRecordResponses)[0]
			assert.Equal(t, bus.RecordResponseSubject(previousODS), msg.Subject)
			assert.Equal(t, conv1, bus.HeadersOf(msg.Header).ConversationID)
			assert.Equal(t, "record-response."+previousODS+".REQ-1", msg.Header.Get(bus.HeaderMsgID))

			resp := f.responses()[0]
			assert.Equal(t, "REQ-1", resp.GetRequestId())
			assert.Equal(t, conv1, resp.GetConversationId())
			require.NotNil(t, resp.GetRecord(), "a record, not a failure: %v", resp.GetFailure())
			data := resp.GetRecord().GetEhrExtract().GetInline()
			require.NotEmpty(t, data, "a small record travels inline")
			assert.InDelta(t, practicesim.DefaultRecordSize, len(data), 2000)

			s := summarize(t, data)
			assert.Equal(t, patientNHS, s.NHSNumber)
			assert.Equal(t, previousODS, s.AuthorODS)
			assert.Equal(t, newODS, s.DestinationODS)
			assert.NotEmpty(t, s.Statements)
			assert.Len(t, s.NOPAT, tt.nopat)
			assert.Len(t, s.Degrades, tt.localCodes)

			atts := resp.GetRecord().GetAttachments()
			require.Len(t, atts, tt.attachments)
			require.Len(t, s.Documents, tt.attachments)
			for i, a := range atts {
				assert.Equal(t, s.Documents[i].ID, a.GetDocumentId(), "the extract references each document")
				assert.Equal(t, s.Documents[i].Filename, a.GetFilename())
				assert.Equal(t, s.Documents[i].MediaType, a.GetContentType())
				assert.NotEmpty(t, a.GetContent().GetInline())
				assert.EqualValues(t, len(a.GetContent().GetInline()), a.GetSize())
				assert.False(t, a.GetAbsent())
			}

			got, err := p.WaitAnswer(f.ctx, conv1)
			require.NoError(t, err)
			assert.Equal(t, practicesim.AnswerRecord, got.Answer)
			assert.Equal(t, "REQ-1", got.RequestID)
			assert.Equal(t, patientNHS, got.NHSNumber)
			assert.Equal(t, newODS, got.RequestingODS)
			assert.Equal(t, len(data), got.ExtractBytes)
			assert.False(t, got.InObjectStore)
			assert.Equal(t, tt.attachments, got.Attachments)
			assert.Equal(t, 1, got.Responses)
			assert.Equal(t, []practicesim.AnsweredRequest{got}, p.Answered())
		})
	}
}

func TestLargeRecordTravelsThroughObjectStore(t *testing.T) {
	f := newFixture(t)
	size := practicesim.InlineLimit + 64<<10
	p := f.start(previousODS, practicesim.WithRecordSize(size))
	f.requestRecord(recordRequest("REQ-LARGE", conv1, patientNHS), "")

	eventually(t, func() bool { return len(f.responses()) == 1 })
	rec := f.responses()[0].GetRecord()
	require.NotNil(t, rec)
	assert.Nil(t, rec.GetEhrExtract().GetInline())
	ref := rec.GetEhrExtract().GetObject()
	require.NotNil(t, ref, "a large record travels by reference")
	assert.Equal(t, bus.RecordsBucket(previousODS), ref.GetBucket(), "in the practice's own records store")
	assert.Contains(t, ref.GetName(), "REQ-LARGE", "the object is named after the request")

	store, err := f.js.ObjectStore(f.ctx, ref.GetBucket())
	require.NoError(t, err)
	data, err := store.GetBytes(f.ctx, ref.GetName())
	require.NoError(t, err)
	assert.EqualValues(t, len(data), ref.GetSize())
	assert.GreaterOrEqual(t, len(data), practicesim.InlineLimit)
	sum := sha256.Sum256(data)
	assert.Equal(t, hex.EncodeToString(sum[:]), ref.GetSha256())
	s := summarize(t, data)
	assert.Equal(t, patientNHS, s.NHSNumber)

	got, err := p.WaitAnswer(f.ctx, conv1)
	require.NoError(t, err)
	assert.True(t, got.InObjectStore)
	assert.Equal(t, len(data), got.ExtractBytes)

	// Asked again (the sender republishing): the same object, one response.
	f.requestRecord(recordRequest("REQ-LARGE", conv1, patientNHS), ".again")
	eventually(t, f.settled(bus.PracticeRecordRequests(previousODS)))
	assert.Len(t, f.responses(), 1)
	again, err := store.GetBytes(f.ctx, ref.GetName())
	require.NoError(t, err)
	assert.Equal(t, data, again)
}

func TestAnswersRecordRequestWithFailure(t *testing.T) {
	tests := []struct {
		name   string
		nhs    string
		opts   []practicesim.Option
		reason gp2gpv1.RecordFailureReason
		detail string
	}{
		{
			name: "patient not at practice", nhs: patientNHS,
			opts: []practicesim.Option{practicesim.WithRecords(func(string) practicesim.RecordBehaviour {
				return practicesim.FailRecord(gp2gpv1.RecordFailureReason_RECORD_FAILURE_REASON_PATIENT_NOT_AT_PRACTICE)
			})},
			reason: gp2gpv1.RecordFailureReason_RECORD_FAILURE_REASON_PATIENT_NOT_AT_PRACTICE,
			detail: "simulated failure",
		},
		{
			name: "GP2GP disabled", nhs: patientNHS,
			opts: []practicesim.Option{practicesim.WithRecords(func(string) practicesim.RecordBehaviour {
				return practicesim.FailRecord(gp2gpv1.RecordFailureReason_RECORD_FAILURE_REASON_GP2GP_DISABLED)
			})},
			reason: gp2gpv1.RecordFailureReason_RECORD_FAILURE_REASON_GP2GP_DISABLED,
			detail: "simulated failure",
		},
		{
			name: "generation failed, by policy", nhs: patientNHS,
			opts: []practicesim.Option{practicesim.WithRecords(func(string) practicesim.RecordBehaviour {
				return practicesim.RecordBehaviour{Failure: gp2gpv1.RecordFailureReason_RECORD_FAILURE_REASON_GENERATION_FAILED, Detail: "record locked by another user"}
			})},
			reason: gp2gpv1.RecordFailureReason_RECORD_FAILURE_REASON_GENERATION_FAILED,
			detail: "record locked by another user",
		},
		{
			name: "generation failed, for real", nhs: patientNHS,
			opts:   []practicesim.Option{practicesim.WithRecordSize(5000), practicesim.WithNOPAT(100_000)},
			reason: gp2gpv1.RecordFailureReason_RECORD_FAILURE_REASON_GENERATION_FAILED,
			detail: "generate record",
		},
		{
			name: "malformed NHS number", nhs: "9991043714",
			opts: []practicesim.Option{practicesim.WithRecords(func(string) practicesim.RecordBehaviour {
				panic("the policy is not asked about a malformed NHS number")
			})},
			reason: gp2gpv1.RecordFailureReason_RECORD_FAILURE_REASON_PATIENT_NOT_AT_PRACTICE,
			detail: "no patient has NHS number",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			p := f.start(previousODS, tt.opts...)
			f.requestRecord(recordRequest("REQ-F", conv1, tt.nhs), "")

			eventually(t, func() bool { return len(f.responses()) == 1 })
			resp := f.responses()[0]
			assert.Equal(t, "REQ-F", resp.GetRequestId())
			assert.Equal(t, conv1, resp.GetConversationId())
			assert.Nil(t, resp.GetRecord())
			require.NotNil(t, resp.GetFailure())
			assert.Equal(t, tt.reason, resp.GetFailure().GetReason())
			assert.Contains(t, resp.GetFailure().GetDetail(), tt.detail)

			got, err := p.WaitAnswer(f.ctx, conv1)
			require.NoError(t, err)
			assert.Equal(t, practicesim.AnswerFailure, got.Answer)
			assert.Equal(t, tt.reason, got.Failure)
			assert.Equal(t, 1, got.Responses)
		})
	}
}

func TestNeverAnswersWhenTold(t *testing.T) {
	f := newFixture(t)
	p := f.start(previousODS, practicesim.WithRecords(func(nhs string) practicesim.RecordBehaviour {
		if nhs == patientNHS {
			return practicesim.NeverAnswer()
		}
		return practicesim.SendRecord()
	}))
	f.requestRecord(recordRequest("REQ-SILENT", conv1, patientNHS), "")
	f.requestRecord(recordRequest("REQ-OTHER", conv2, otherNHS), "")

	silent, err := p.WaitAnswer(f.ctx, conv1)
	require.NoError(t, err)
	assert.Equal(t, practicesim.AnswerNone, silent.Answer)
	assert.Zero(t, silent.Responses)
	_, err = p.WaitAnswer(f.ctx, conv2)
	require.NoError(t, err)
	eventually(t, f.settled(bus.PracticeRecordRequests(previousODS)))
	resps := f.responses()
	require.Len(t, resps, 1, "only the other patient's request is answered")
	assert.Equal(t, "REQ-OTHER", resps[0].GetRequestId())
}

func TestAnswersAfterDelay(t *testing.T) {
	f := newFixture(t)
	const delay = 700 * time.Millisecond
	p := f.start(previousODS, practicesim.WithRecords(func(string) practicesim.RecordBehaviour {
		return practicesim.SendRecord().After(delay)
	}))
	f.requestRecord(recordRequest("REQ-LATE", conv1, patientNHS), "")

	_, err := p.WaitAnswer(f.ctx, conv1)
	require.NoError(t, err)
	requests, responses := f.messages(bus.StreamRecordRequests), f.messages(bus.StreamRecordResponses)
	require.Len(t, requests, 1)
	require.Len(t, responses, 1)
	assert.GreaterOrEqual(t, responses[0].Time.Sub(requests[0].Time), delay)
}

func TestAnswersTwiceWhenTold(t *testing.T) {
	f := newFixture(t)
	p := f.start(previousODS, practicesim.WithRecords(func(string) practicesim.RecordBehaviour {
		return practicesim.FailRecord(gp2gpv1.RecordFailureReason_RECORD_FAILURE_REASON_GP2GP_DISABLED).Twice()
	}))
	f.requestRecord(recordRequest("REQ-TWICE", conv1, patientNHS), "")

	eventually(t, func() bool { return len(f.responses()) == 2 })
	msgs := f.messages(bus.StreamRecordResponses)
	assert.Equal(t, msgs[0].Data, msgs[1].Data, "the same answer twice")
	assert.NotEqual(t, msgs[0].Header.Get(bus.HeaderMsgID), msgs[1].Header.Get(bus.HeaderMsgID))
	got, err := p.WaitAnswer(f.ctx, conv1)
	require.NoError(t, err)
	assert.Equal(t, 2, got.Responses)
}

func TestRedeliveredRequestIsAnsweredOnce(t *testing.T) {
	for _, size := range []int{practicesim.DefaultRecordSize, practicesim.InlineLimit + 1} {
		t.Run(fmt.Sprintf("%d bytes", size), func(t *testing.T) {
			f := newFixture(t)
			var asked atomic.Int32
			p := f.start(previousODS, practicesim.WithRecordSize(size), practicesim.WithRecords(func(string) practicesim.RecordBehaviour {
				asked.Add(1)
				return practicesim.SendRecord()
			}))
			// The same request delivered twice: two messages in the stream.
			f.requestRecord(recordRequest("REQ-DUP", conv1, patientNHS), "")
			f.requestRecord(recordRequest("REQ-DUP", conv1, patientNHS), ".redelivery")

			eventually(t, func() bool { return asked.Load() == 2 })
			eventually(t, f.settled(bus.PracticeRecordRequests(previousODS)))
			require.Len(t, f.messages(bus.StreamRecordRequests), 2)
			assert.Len(t, f.responses(), 1, "one response for one request id")
			assert.Len(t, p.Answered(), 1)
		})
	}
}

func TestUnanswerableRequestIsDeadLettered(t *testing.T) {
	tests := []struct {
		name   string
		req    *gp2gpv1.RecordRequest
		policy func(string) practicesim.RecordBehaviour
		reason string
	}{
		{name: "addressed to another practice", req: func() *gp2gpv1.RecordRequest {
			r := recordRequest("REQ-X", conv1, patientNHS)
			r.PracticeOds = "Y01234"
			return r
		}(), reason: "is for practice Y01234"},
		{name: "no request id", req: recordRequest("", conv1, patientNHS), reason: "without a request id"},
		{name: "no conversation id", req: recordRequest("REQ-X", "", patientNHS), reason: "without a conversation id"},
		{name: "contradictory behaviour", req: recordRequest("REQ-X", conv1, patientNHS),
			policy: func(string) practicesim.RecordBehaviour { return practicesim.NeverAnswer().Twice() },
			reason: "invalid behaviour"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			var opts []practicesim.Option
			if tt.policy != nil {
				opts = append(opts, practicesim.WithRecords(tt.policy))
			}
			f.start(previousODS, opts...)
			f.publish(bus.RecordRequestSubject(previousODS), "record-request.bad", conv1, tt.req)

			eventually(t, func() bool { return len(f.messages(bus.StreamDeadLetter)) == 1 })
			dl, ok := bus.DeadLetterOf(&bus.Msg{Header: f.messages(bus.StreamDeadLetter)[0].Header})
			require.True(t, ok)
			assert.True(t, dl.Permanent)
			assert.Contains(t, dl.Reason, tt.reason)
			assert.Empty(t, f.responses())
		})
	}
}

func TestSameRequestGivesSameRecordBytes(t *testing.T) {
	// Two instances of the practice, each on its own server.
	answer := func(nhs string) []byte {
		f := newFixture(t)
		f.start(previousODS, practicesim.WithAttachments(2), practicesim.WithNOPAT(1))
		f.requestRecord(recordRequest("REQ-SAME", conv1, nhs), "")
		eventually(t, func() bool { return len(f.responses()) == 1 })
		r := f.responses()[0]
		require.NotNil(t, r.GetRecord())
		data, err := proto.MarshalOptions{Deterministic: true}.Marshal(r)
		require.NoError(t, err)
		return data
	}
	first, second := answer(patientNHS), answer(patientNHS)
	assert.Equal(t, first, second, "the same request gives the same response, byte for byte")
	assert.NotEqual(t, first, answer(otherNHS), "another patient has another record")
}
