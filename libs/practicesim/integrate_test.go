package practicesim_test

import (
	"crypto/sha256"
	"encoding/hex"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/nhsengland/gp2gp/libs/bus"
	"github.com/nhsengland/gp2gp/libs/practicesim"
	gp2gpv1 "github.com/nhsengland/gp2gp/proto/gp2gp/v1"
)

// recordReadyFor is a record of nhs's, ready at the new practice.
func recordReadyFor(conversationID, nhs string, extract *gp2gpv1.Content) *gp2gpv1.RecordReady {
	return &gp2gpv1.RecordReady{
		ConversationId:      conversationID,
		PracticeOds:         newODS,
		SendingPracticeOds:  previousODS,
		Patient:             &gp2gpv1.Patient{NhsNumber: nhs, GivenName: "Amelia", FamilyName: "Hartley"},
		EhrExtract:          extract,
		ReceivedAt:          timestamppb.New(fixedNow),
		RegistrationEventId: "EVENT-1",
	}
}

// integrating returns an integration policy that always answers b.
func integrating(b practicesim.IntegrationBehaviour) practicesim.Option {
	return practicesim.WithIntegration(func(*gp2gpv1.RecordReady) practicesim.IntegrationBehaviour { return b })
}

// storeObject puts data in the receiving practice's records object store
// and returns its reference.
func (f *fixture) storeObject(name string, data []byte) *gp2gpv1.ObjectRef {
	f.t.Helper()
	return f.storeObjectOf(newODS, name, data)
}

// storeObjectOf puts data in practice ods's records object store and
// returns its reference.
func (f *fixture) storeObjectOf(ods, name string, data []byte) *gp2gpv1.ObjectRef {
	f.t.Helper()
	require.NoError(f.t, bus.Ensure(f.ctx, f.js, bus.DevProfile, bus.Topology{ObjectStores: []bus.ObjectStoreSpec{bus.RecordsStore(ods)}}))
	store, err := f.js.ObjectStore(f.ctx, bus.RecordsBucket(ods))
	require.NoError(f.t, err)
	_, err = store.PutBytes(f.ctx, name, data)
	require.NoError(f.t, err)
	sum := sha256.Sum256(data)
	return &gp2gpv1.ObjectRef{Bucket: bus.RecordsBucket(ods), Name: name, Size: uint64(len(data)), Sha256: hex.EncodeToString(sum[:])}
}

func TestReportsIntegrationOutcome(t *testing.T) {
	// UNSPECIFIED stands for no policy at all: the default, INTEGRATED.
	for _, result := range []gp2gpv1.IntegrationResult{
		gp2gpv1.IntegrationResult_INTEGRATION_RESULT_UNSPECIFIED,
		gp2gpv1.IntegrationResult_INTEGRATION_RESULT_INTEGRATED,
		gp2gpv1.IntegrationResult_INTEGRATION_RESULT_INTEGRATED_AND_SUPPRESSED,
		gp2gpv1.IntegrationResult_INTEGRATION_RESULT_SUPPRESSED_AND_REACTIVATED,
		gp2gpv1.IntegrationResult_INTEGRATION_RESULT_FILED_AS_ATTACHMENT,
		gp2gpv1.IntegrationResult_INTEGRATION_RESULT_FAILED_TO_INTEGRATE,
		gp2gpv1.IntegrationResult_INTEGRATION_RESULT_ABA_WRONG_PATIENT,
		gp2gpv1.IntegrationResult_INTEGRATION_RESULT_WRONG_PATIENT,
	} {
		name, want := result.String(), result
		opts := []practicesim.Option{practicesim.WithClock(fixedClock)}
		if result == gp2gpv1.IntegrationResult_INTEGRATION_RESULT_UNSPECIFIED {
			name, want = "default", gp2gpv1.IntegrationResult_INTEGRATION_RESULT_INTEGRATED
		} else {
			opts = append(opts, integrating(practicesim.Integrate(result)))
		}
		t.Run(name, func(t *testing.T) {
			f := newFixture(t)
			p := f.start(newODS, opts...)
			data, sum := extractFor(t, patientNHS)
			ready := recordReadyFor(conv1, patientNHS, inline(data))
			ready.Issues = []gp2gpv1.RecordIssue{gp2gpv1.RecordIssue_RECORD_ISSUE_DEGRADED_ENTRIES}
			f.recordReady(ready, "")

			got, err := p.WaitOutcome(f.ctx, conv1)
			require.NoError(t, err)
			outcomes := f.outcomes()
			require.Len(t, outcomes, 1)
			o := outcomes[0]
			assert.Equal(t, conv1, o.GetConversationId())
			assert.Equal(t, newODS, o.GetPracticeOds())
			assert.Equal(t, want, o.GetResult())
			assert.NotEmpty(t, o.GetDetail())
			assert.True(t, fixedNow.Equal(o.GetDecidedAt().AsTime()))
			msg := f.messages(bus.StreamIntegrations)[0]
			assert.Equal(t, bus.IntegrationOutcomeSubject(newODS), msg.Subject)
			assert.Equal(t, conv1, bus.HeadersOf(msg.Header).ConversationID)
			assert.Equal(t, "integration-outcome."+newODS+"."+conv1, msg.Header.Get(bus.HeaderMsgID))

			assert.Equal(t, conv1, got.ConversationID)
			assert.Equal(t, patientNHS, got.NHSNumber)
			assert.Equal(t, previousODS, got.SendingODS)
			assert.Equal(t, len(data), got.ExtractBytes)
			assert.Equal(t, sum.Statements, got.Summary.Statements)
			assert.Equal(t, patientNHS, got.Summary.NHSNumber)
			assert.Equal(t, []gp2gpv1.RecordIssue{gp2gpv1.RecordIssue_RECORD_ISSUE_DEGRADED_ENTRIES}, got.Issues)
			assert.Empty(t, got.Problem)
			assert.False(t, got.AutoIntegrated)
			assert.True(t, got.Reported)
			assert.Equal(t, want, got.Result)
			assert.Equal(t, fixedNow, got.ReceivedAt)
			assert.Equal(t, fixedNow, got.ReportedAt)
			assert.Equal(t, []practicesim.ReceivedRecord{got}, p.Received())
		})
	}
}

func TestIntegratesRecordFromObjectStore(t *testing.T) {
	f := newFixture(t)
	p := f.start(newODS)
	data, sum := extractFor(t, patientNHS)
	letter := []byte("Dear Dr Smith, ...")
	ready := recordReadyFor(conv1, patientNHS, &gp2gpv1.Content{Content: &gp2gpv1.Content_Object{
		Object: f.storeObject("received/"+conv1+"/extract.xml", data),
	}})
	ready.Attachments = []*gp2gpv1.Attachment{
		{DocumentId: "B32B68D2-F66F-4085-885B-7174F9119A83", Filename: "letter.txt", ContentType: "text/plain", Size: uint64(len(letter)),
			Content: &gp2gpv1.Content{Content: &gp2gpv1.Content_Object{Object: f.storeObject("received/"+conv1+"/letter.txt", letter)}}},
		{DocumentId: "767395D0-5271-41EA-9384-E83935108FD5", Filename: "note.txt", ContentType: "text/plain", Content: inline([]byte("note"))},
		{DocumentId: "0557F0E0-5271-41EA-9384-E83935108FD5", Filename: "scan.tif", ContentType: "image/tiff", Absent: true, AbsentReason: "file too large"},
	}
	ready.Issues = []gp2gpv1.RecordIssue{gp2gpv1.RecordIssue_RECORD_ISSUE_ATTACHMENTS_ABSENT}
	f.recordReady(ready, "")

	got, err := p.WaitOutcome(f.ctx, conv1)
	require.NoError(t, err)
	assert.Empty(t, got.Problem)
	assert.Equal(t, gp2gpv1.IntegrationResult_INTEGRATION_RESULT_INTEGRATED, got.Result)
	assert.Equal(t, len(data), got.ExtractBytes)
	assert.Equal(t, sum.Statements, got.Summary.Statements)
	assert.Equal(t, 3, got.Attachments)
	assert.Equal(t, 1, got.AbsentAttachments)
	require.Len(t, f.outcomes(), 1)
	assert.Equal(t, gp2gpv1.IntegrationResult_INTEGRATION_RESULT_INTEGRATED, f.outcomes()[0].GetResult())
}

func TestRecordFailingChecksIsReportedAsSuch(t *testing.T) {
	good, _ := extractFor(t, patientNHS)
	tests := []struct {
		name    string
		ready   func(f *fixture) *gp2gpv1.RecordReady
		result  gp2gpv1.IntegrationResult
		problem string
	}{
		{
			name: "not XML",
			ready: func(*fixture) *gp2gpv1.RecordReady {
				return recordReadyFor(conv1, patientNHS, inline([]byte("<EhrExtract><id></EhrExtract>")))
			},
			result:  gp2gpv1.IntegrationResult_INTEGRATION_RESULT_FAILED_TO_INTEGRATE,
			problem: "not readable XML",
		},
		{
			name: "no EhrExtract",
			ready: func(*fixture) *gp2gpv1.RecordReady {
				return recordReadyFor(conv1, patientNHS, inline([]byte("<letter/>")))
			},
			result:  gp2gpv1.IntegrationResult_INTEGRATION_RESULT_FAILED_TO_INTEGRATE,
			problem: "no EhrExtract",
		},
		{
			name:    "no extract",
			ready:   func(*fixture) *gp2gpv1.RecordReady { return recordReadyFor(conv1, patientNHS, nil) },
			result:  gp2gpv1.IntegrationResult_INTEGRATION_RESULT_FAILED_TO_INTEGRATE,
			problem: "no content",
		},
		{
			name: "object missing",
			ready: func(*fixture) *gp2gpv1.RecordReady {
				return recordReadyFor(conv1, patientNHS, &gp2gpv1.Content{Content: &gp2gpv1.Content_Object{
					Object: &gp2gpv1.ObjectRef{Bucket: bus.RecordsBucket(newODS), Name: "nowhere"}}})
			},
			result:  gp2gpv1.IntegrationResult_INTEGRATION_RESULT_FAILED_TO_INTEGRATE,
			problem: "does not exist",
		},
		{
			// There, and intact, but in a store this practice's system
			// has no access to.
			name: "object in another practice's records store",
			ready: func(f *fixture) *gp2gpv1.RecordReady {
				ref := f.storeObjectOf(previousODS, "extract.xml", good)
				return recordReadyFor(conv1, patientNHS, &gp2gpv1.Content{Content: &gp2gpv1.Content_Object{Object: ref}})
			},
			result:  gp2gpv1.IntegrationResult_INTEGRATION_RESULT_FAILED_TO_INTEGRATE,
			problem: "is not in the practice's records store " + bus.RecordsBucket(newODS),
		},
		{
			name: "object altered",
			ready: func(f *fixture) *gp2gpv1.RecordReady {
				ref := f.storeObject("extract.xml", good)
				ref.Sha256 = hex.EncodeToString(make([]byte, 32))
				return recordReadyFor(conv1, patientNHS, &gp2gpv1.Content{Content: &gp2gpv1.Content_Object{Object: ref}})
			},
			result:  gp2gpv1.IntegrationResult_INTEGRATION_RESULT_FAILED_TO_INTEGRATE,
			problem: "SHA-256",
		},
		{
			name: "document truncated",
			ready: func(*fixture) *gp2gpv1.RecordReady {
				r := recordReadyFor(conv1, patientNHS, inline(good))
				r.Attachments = []*gp2gpv1.Attachment{{DocumentId: "B32B68D2-F66F-4085-885B-7174F9119A83", Filename: "a.pdf", Size: 100, Content: inline([]byte("%PDF"))}}
				return r
			},
			result:  gp2gpv1.IntegrationResult_INTEGRATION_RESULT_FAILED_TO_INTEGRATE,
			problem: "has 4 bytes, the record says 100",
		},
		{
			name:    "another patient's record",
			ready:   func(*fixture) *gp2gpv1.RecordReady { return recordReadyFor(conv1, otherNHS, inline(good)) },
			result:  gp2gpv1.IntegrationResult_INTEGRATION_RESULT_WRONG_PATIENT,
			problem: "registered patient is " + otherNHS,
		},
		{
			name: "another patient's record, returning patient",
			ready: func(*fixture) *gp2gpv1.RecordReady {
				r := recordReadyFor(conv1, otherNHS, inline(good))
				r.Issues = []gp2gpv1.RecordIssue{gp2gpv1.RecordIssue_RECORD_ISSUE_RETURNING_PATIENT}
				return r
			},
			result:  gp2gpv1.IntegrationResult_INTEGRATION_RESULT_ABA_WRONG_PATIENT,
			problem: "registered patient is " + otherNHS,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			// The policy would integrate; the checks decide otherwise.
			p := f.start(newODS, integrating(practicesim.Integrate(gp2gpv1.IntegrationResult_INTEGRATION_RESULT_INTEGRATED)))
			f.recordReady(tt.ready(f), "")

			got, err := p.WaitOutcome(f.ctx, conv1)
			require.NoError(t, err)
			assert.Equal(t, tt.result, got.Result)
			assert.Contains(t, got.Problem, tt.problem)
			outcomes := f.outcomes()
			require.Len(t, outcomes, 1)
			assert.Equal(t, tt.result, outcomes[0].GetResult())
			assert.Equal(t, got.Problem, outcomes[0].GetDetail())
		})
	}
}

func TestReportsNothingWhenTold(t *testing.T) {
	tests := []struct {
		name   string
		policy practicesim.IntegrationBehaviour
		auto   bool
		asks   int32
	}{
		{name: "auto-integrated", auto: true, asks: 0},
		{name: "never report", policy: practicesim.NeverReport(), asks: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			var asked atomic.Int32
			p := f.start(newODS, practicesim.WithIntegration(func(*gp2gpv1.RecordReady) practicesim.IntegrationBehaviour {
				asked.Add(1)
				return tt.policy
			}))
			data, _ := extractFor(t, patientNHS)
			ready := recordReadyFor(conv1, patientNHS, inline(data))
			ready.AutoIntegrated = tt.auto
			f.recordReady(ready, "")

			got, err := p.WaitRecord(f.ctx, conv1)
			require.NoError(t, err)
			assert.Equal(t, tt.auto, got.AutoIntegrated)
			eventually(t, f.settled(bus.PracticeRecordsReady(newODS)))
			assert.Empty(t, f.outcomes())
			assert.Equal(t, tt.asks, asked.Load())
			assert.False(t, p.Received()[0].Reported)
		})
	}
}

func TestReportsAfterDelay(t *testing.T) {
	f := newFixture(t)
	const delay = 700 * time.Millisecond
	p := f.start(newODS, integrating(practicesim.Integrate(gp2gpv1.IntegrationResult_INTEGRATION_RESULT_FILED_AS_ATTACHMENT).After(delay)))
	data, _ := extractFor(t, patientNHS)
	f.recordReady(recordReadyFor(conv1, patientNHS, inline(data)), "")

	_, err := p.WaitRecord(f.ctx, conv1)
	require.NoError(t, err)
	got, err := p.WaitOutcome(f.ctx, conv1)
	require.NoError(t, err)
	assert.Equal(t, gp2gpv1.IntegrationResult_INTEGRATION_RESULT_FILED_AS_ATTACHMENT, got.Result)
	readies, outcomes := f.messages(bus.StreamRecordsReady), f.messages(bus.StreamIntegrations)
	require.Len(t, readies, 1)
	require.Len(t, outcomes, 1)
	assert.GreaterOrEqual(t, outcomes[0].Time.Sub(readies[0].Time), delay)
	assert.Len(t, p.Received(), 1, "a record waiting to be reported is received once")
}

func TestRedeliveredRecordIsReportedOnce(t *testing.T) {
	f := newFixture(t)
	var asked atomic.Int32
	p := f.start(newODS, practicesim.WithIntegration(func(*gp2gpv1.RecordReady) practicesim.IntegrationBehaviour {
		asked.Add(1)
		return practicesim.IntegrationBehaviour{}
	}))
	data, _ := extractFor(t, patientNHS)
	f.recordReady(recordReadyFor(conv1, patientNHS, inline(data)), "")
	f.recordReady(recordReadyFor(conv1, patientNHS, inline(data)), ".redelivery")

	eventually(t, func() bool { return asked.Load() == 2 })
	eventually(t, f.settled(bus.PracticeRecordsReady(newODS)))
	assert.Len(t, f.outcomes(), 1, "one outcome per conversation")
	assert.Len(t, p.Received(), 1)
}

func TestUnusableRecordReadyIsDeadLettered(t *testing.T) {
	data, _ := extractFor(t, patientNHS)
	tests := []struct {
		name   string
		ready  *gp2gpv1.RecordReady
		policy practicesim.IntegrationBehaviour
		reason string
	}{
		{name: "for another practice", ready: func() *gp2gpv1.RecordReady {
			r := recordReadyFor(conv1, patientNHS, inline(data))
			r.PracticeOds = "Y01234"
			return r
		}(), reason: "is for practice Y01234"},
		{name: "no conversation id", ready: recordReadyFor("", patientNHS, inline(data)), reason: "without a conversation id"},
		{name: "contradictory behaviour", ready: recordReadyFor(conv1, patientNHS, inline(data)),
			policy: practicesim.NeverReport().After(time.Second), reason: "invalid behaviour"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			f.start(newODS, integrating(tt.policy))
			f.publish(bus.RecordReadySubject(newODS), "record-ready.bad", conv1, tt.ready)

			eventually(t, func() bool { return len(f.messages(bus.StreamDeadLetter)) == 1 })
			dl, ok := bus.DeadLetterOf(&bus.Msg{Header: f.messages(bus.StreamDeadLetter)[0].Header})
			require.True(t, ok)
			assert.True(t, dl.Permanent)
			assert.Contains(t, dl.Reason, tt.reason)
			assert.Empty(t, f.outcomes())
		})
	}
}
