package devstack_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/trace"

	"github.com/nhsengland/gp2gp/libs/directory"
	"github.com/nhsengland/gp2gp/libs/hl7"
	"github.com/nhsengland/gp2gp/libs/hl7/ehr"
	"github.com/nhsengland/gp2gp/libs/practicesim"
	"github.com/nhsengland/gp2gp/libs/spectest"
	"github.com/nhsengland/gp2gp/libs/transfer"
	gp2gpv1 "github.com/nhsengland/gp2gp/proto/gp2gp/v1"
)

// The happy path: registration to the sender seeing the final AA, with
// every message on the wire once and valid against the schemas.
func TestHappyPath(t *testing.T) {
	h := newHarness(t)
	h.start()
	conv := h.register()

	snd := h.waitState(transfer.Sending, conv, transfer.Completed)
	req := h.waitState(transfer.Requesting, conv, transfer.Integrated)
	assert.Equal(t, oldODS, snd.Practice.ODS)
	assert.Equal(t, newODS, snd.Peer.ODS)
	assert.Equal(t, req.RequestID, snd.RequestID)
	assert.Equal(t, snd.ExtractID, req.ExtractID)
	require.NotNil(t, req.Record)
	assert.Equal(t, "INTEGRATION_RESULT_INTEGRATED", req.Record.Outcome)

	wire := h.wire(conv)
	assert.Equal(t, 1, count(wire, hl7.EHRRequest))
	assert.Equal(t, 1, count(wire, hl7.EHRExtractUK06))
	ackMsgs := acks(wire)
	require.Len(t, ackMsgs, 2, "the request's AA and the final AA")
	for _, a := range ackMsgs {
		assert.Equal(t, hl7.AckAccept, a.AckType)
	}
	record, err := h.practice[newODS].WaitRecord(h.ctx, conv)
	require.NoError(t, err)
	assert.Positive(t, record.ExtractBytes)

	if _, ok := spectest.Lookup(); ok {
		for _, m := range wire {
			schema := map[hl7.Interaction]string{
				hl7.EHRRequest: spectest.SchemaRequest, hl7.EHRExtractUK06: spectest.SchemaUK06,
				hl7.EHRExtractUK07: spectest.SchemaUK07, hl7.ApplicationAck: spectest.SchemaAck, hl7.CommonContentCOPC: spectest.SchemaCOPC,
			}[m.Interaction]
			require.NoError(t, spectest.Validate(t, schema, m.Payload), "%s %s", m.Interaction, m.ID)
		}
	}
}

// Record-ready carries an extract of up to 256 KiB inline, a larger one
// by reference to the records object store; the practice's system
// integrates both.
func TestRecordReadyInlinesSmallExtractsAndReferencesLargeOnes(t *testing.T) {
	for _, tc := range []struct {
		name   string
		size   int
		inline bool
	}{
		{"small", 30_000, true},
		{"large", 600_000, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			readies := make(chan *gp2gpv1.RecordReady, 1)
			h := newHarness(t, withRecordSize(tc.size), withIntegrationFunc(func(r *gp2gpv1.RecordReady) practicesim.IntegrationBehaviour {
				select {
				case readies <- r:
				default: // a repeated hand-over
				}
				return practicesim.IntegrationBehaviour{}
			}))
			h.start()
			conv := h.register()
			h.waitState(transfer.Requesting, conv, transfer.Integrated)
			ready := <-readies
			if tc.inline {
				assert.Greater(t, len(ready.GetEhrExtract().GetInline()), tc.size/2)
				assert.Nil(t, ready.GetEhrExtract().GetObject())
			} else {
				assert.Nil(t, ready.GetEhrExtract().GetInline())
				ref := ready.GetEhrExtract().GetObject()
				require.NotNil(t, ref)
				assert.Equal(t, conv+"/extract.xml", ref.GetName())
				assert.Greater(t, ref.GetSize(), uint64(256<<10))
			}
			record, err := h.practice[newODS].WaitRecord(h.ctx, conv)
			require.NoError(t, err)
			assert.Greater(t, record.ExtractBytes, tc.size/2)
		})
	}
}

// Every span of one transfer, across every stage and the practices'
// systems, belongs to one trace.
func TestOneTracePerTransfer(t *testing.T) {
	h := newHarness(t)
	h.start()
	conv := h.register()
	h.waitState(transfer.Sending, conv, transfer.Completed)
	h.waitState(transfer.Requesting, conv, transfer.Integrated)
	require.NoError(t, h.tracer.ForceFlush(h.ctx))

	traces := map[trace.TraceID]int{}
	services := map[string]bool{}
	for _, s := range h.spans.GetSpans() {
		traces[s.SpanContext.TraceID()]++
		for _, a := range s.Resource.Attributes() {
			if a.Key == "service.name" {
				services[a.Value.AsString()] = true
			}
		}
	}
	assert.Len(t, traces, 1, "spans of the transfer fall into %d traces", len(traces))
	assert.Greater(t, len(h.spans.GetSpans()), 20)
}

// The sending practice refuses the request: the reason code travels on the
// wire and ends both sides.
func TestSenderRefusals(t *testing.T) {
	cases := []struct {
		name    string
		opts    []harnessOption
		code    hl7.ReasonCode
		advance time.Duration
	}{
		{name: "06 patient not at the practice", code: hl7.ReasonPatientNotAtSurgery,
			opts: []harnessOption{withRecords(fail(gp2gpv1.RecordFailureReason_RECORD_FAILURE_REASON_PATIENT_NOT_AT_PRACTICE))}},
		{name: "07 GP2GP disabled", code: hl7.ReasonGP2GPDisabled,
			opts: []harnessOption{withRecords(fail(gp2gpv1.RecordFailureReason_RECORD_FAILURE_REASON_GP2GP_DISABLED))}},
		{name: "10 record not produced", code: hl7.ReasonExtractGenerationFailed,
			opts: []harnessOption{withRecords(fail(gp2gpv1.RecordFailureReason_RECORD_FAILURE_REASON_GENERATION_FAILED))}},
		{name: "10 practice system never answers", code: hl7.ReasonExtractGenerationFailed, advance: 11 * time.Minute,
			opts: []harnessOption{withRecords(func(string) practicesim.RecordBehaviour { return practicesim.NeverAnswer() })}},
		{name: "19 PDS says the requester is not the practice", code: hl7.ReasonNotCurrentProvider,
			opts: []harnessOption{withDirectory(func(d *directory.FileData) { d.Patients[0].CurrentODS = "C81007" })}},
		{name: "06 PDS does not know the patient", code: hl7.ReasonPatientNotAtSurgery,
			opts: []harnessOption{withDirectory(func(d *directory.FileData) { d.Patients = d.Patients[1:] })}},
		{name: "20 PDS unavailable through every retry", code: hl7.ReasonSpineError, opts: []harnessOption{withPDSDown()}},
		{name: "99 Spine refuses the extract", code: hl7.ReasonUnexpectedCondition,
			opts: []harnessOption{withRefusingWire(hl7.EHRExtractUK06, newASID)}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, tc.opts...)
			h.start()
			conv := h.register()
			if tc.advance > 0 {
				h.waitState(transfer.Sending, conv, transfer.RecordRequested)
				h.clock.Advance(tc.advance)
			}
			snd := h.waitState(transfer.Sending, conv, transfer.RequestRejected)
			assert.Equal(t, string(tc.code), snd.LastChange().Reason.Code)
			req := h.waitState(transfer.Requesting, conv, transfer.Failed)
			assert.Equal(t, string(tc.code), req.LastChange().Reason.Code)

			wire := h.wire(conv)
			assert.Zero(t, count(wire, hl7.EHRExtractUK06))
			ackMsgs := acks(wire)
			require.Len(t, ackMsgs, 1)
			assert.Equal(t, tc.code, ackMsgs[0].Reason)
			assert.Equal(t, hl7.NackType(tc.code), ackMsgs[0].AckType)
			assert.Equal(t, hl7.DeriveID(conv, "ehr-request"), ackMsgs[0].Ref)
		})
	}
}

func fail(reason gp2gpv1.RecordFailureReason) func(string) practicesim.RecordBehaviour {
	return func(string) practicesim.RecordBehaviour { return practicesim.FailRecord(reason) }
}

// A request that cannot be processed is refused with 18.
func TestMalformedRequestIsRefusedWith18(t *testing.T) {
	h := newHarness(t)
	h.start("sender", "acknowledger")
	const conv = "5F1E0C2B-7A6D-4E3F-9B8C-1D2E3F4A5B6C"
	req := &hl7.Request{
		Wrapper:   hl7.Wrapper{MessageID: "6A7B8C9D-0000-4000-8000-000000000018", CreationTime: h.clock.Now(), ToASID: oldASID, FromASID: newASID},
		RequestID: "7B8C9D0E-0000-4000-8000-000000000018", NHSNumber: "9990001014", RequestingODS: newODS, SendingODS: oldODS,
	}
	payload, err := req.Encode()
	require.NoError(t, err)
	broken := []byte(stringsReplace(string(payload), `extension="9990001014"`, `extension=""`))
	h.inject(conv, req.MessageID, hl7.EHRRequest, newASID, oldASID, broken)

	snd := h.waitState(transfer.Sending, conv, transfer.RequestRejected)
	assert.Equal(t, "18", snd.LastChange().Reason.Code)
	assert.Contains(t, snd.LastChange().Reason.Detail, "missing NHS number")
	require.Eventually(t, func() bool { return len(acks(h.wire(conv))) == 1 }, 10*time.Second, 10*time.Millisecond)
	nack := acks(h.wire(conv))[0]
	assert.Equal(t, hl7.AckReject, nack.AckType)
	assert.Equal(t, hl7.ReasonRequestMalformed, nack.Reason)
	assert.Equal(t, req.MessageID, nack.Ref)
}

// What the requesting practice does with the record decides the final
// acknowledgement, and the sender's outcome.
func TestIntegrationOutcomes(t *testing.T) {
	cases := []struct {
		result gp2gpv1.IntegrationResult
		code   hl7.ReasonCode
	}{
		{gp2gpv1.IntegrationResult_INTEGRATION_RESULT_INTEGRATED_AND_SUPPRESSED, ""},
		{gp2gpv1.IntegrationResult_INTEGRATION_RESULT_FAILED_TO_INTEGRATE, hl7.ReasonIntegrationFailed},
		{gp2gpv1.IntegrationResult_INTEGRATION_RESULT_SUPPRESSED_AND_REACTIVATED, hl7.ReasonABASuppressed},
		{gp2gpv1.IntegrationResult_INTEGRATION_RESULT_ABA_WRONG_PATIENT, hl7.ReasonABAWrongPatient},
		{gp2gpv1.IntegrationResult_INTEGRATION_RESULT_FILED_AS_ATTACHMENT, hl7.ReasonABAFiledAsAttachment},
		{gp2gpv1.IntegrationResult_INTEGRATION_RESULT_WRONG_PATIENT, hl7.ReasonWrongPatient},
	}
	for _, tc := range cases {
		t.Run(tc.result.String(), func(t *testing.T) {
			h := newHarness(t, withIntegration(practicesim.Integrate(tc.result)))
			h.start()
			conv := h.register()
			if tc.code == "" {
				h.waitState(transfer.Requesting, conv, transfer.Integrated)
				h.waitState(transfer.Sending, conv, transfer.Completed)
				return
			}
			req := h.waitState(transfer.Requesting, conv, transfer.Rejected)
			assert.Equal(t, string(tc.code), req.LastChange().Reason.Code)
			snd := h.waitState(transfer.Sending, conv, transfer.Failed)
			assert.Equal(t, string(tc.code), snd.LastChange().Reason.Code)
			all := acks(h.wire(conv))
			require.Len(t, all, 2, "the request's AA and the final NACK")
			final := ackOf(all, hl7.DeriveID(conv, "ehr-extract"))
			require.NotNil(t, final)
			assert.Equal(t, tc.code, final.Reason)
			assert.Equal(t, hl7.NackType(tc.code), final.AckType)
		})
	}
}

// The auto-integration policy acknowledges a clean record itself.
func TestAutoIntegration(t *testing.T) {
	h := newHarness(t, withAutoIntegration())
	h.start()
	conv := h.register()
	req := h.waitState(transfer.Requesting, conv, transfer.Integrated)
	require.NotNil(t, req.Record)
	assert.True(t, req.Record.AutoIntegrated)
	h.waitState(transfer.Sending, conv, transfer.Completed)
	rec, err := h.practice[newODS].WaitRecord(h.ctx, conv)
	require.NoError(t, err)
	assert.True(t, rec.AutoIntegrated, "the practice is told it was integrated automatically")
}

// A returning patient: the record comes back to a practice that sent it
// before (A-B-A). The practice is told, the record is not integrated
// automatically, and the practice's decision (here: stored suppressed)
// becomes the final acknowledgement 15.
func TestReturningPatient(t *testing.T) {
	h := newHarness(t, withAutoIntegration(), withIntegration(practicesim.Integrate(gp2gpv1.IntegrationResult_INTEGRATION_RESULT_SUPPRESSED_AND_REACTIVATED)))
	h.start()
	pt := practicesim.Patients()[0]
	// A → B: auto-integrated, and A remembers it sent the record.
	conv1 := h.register()
	h.waitState(transfer.Sending, conv1, transfer.Completed)
	h.waitState(transfer.Requesting, conv1, transfer.Integrated)

	// B → A: PDS now says the patient is back at A.
	h.pds.move(pt.NHSNumber, oldODS)
	conv2, err := h.practice[oldODS].Register(h.ctx, pt.Registration(newODS))
	require.NoError(t, err)
	req := h.waitState(transfer.Requesting, conv2, transfer.Rejected)
	require.NotNil(t, req.Record)
	assert.Contains(t, req.Record.Issues, gp2gpv1.RecordIssue_RECORD_ISSUE_RETURNING_PATIENT.String())
	assert.False(t, req.Record.AutoIntegrated)
	assert.Equal(t, "15", req.LastChange().Reason.Code)
	rec, err := h.practice[oldODS].WaitRecord(h.ctx, conv2)
	require.NoError(t, err)
	assert.Contains(t, rec.Issues, gp2gpv1.RecordIssue_RECORD_ISSUE_RETURNING_PATIENT)
	snd := h.waitState(transfer.Sending, conv2, transfer.Failed)
	assert.Equal(t, "15", snd.LastChange().Reason.Code)
}

// ackOf is the acknowledgement of message id among msgs, or nil.
func ackOf(msgs []wireMessage, id string) *wireMessage {
	for i := range msgs {
		if msgs[i].Ref == id {
			return &msgs[i]
		}
	}
	return nil
}

func stringsReplace(s, old, new string) string {
	for i := 0; i+len(old) <= len(s); i++ {
		if s[i:i+len(old)] == old {
			return s[:i] + new + s[i+len(old):]
		}
	}
	panic("not found: " + old)
}

// extractPayload is an EHR Extract the old practice could have sent for
// conv.
func (h *harness) extractPayload(conv, messageID string) []byte {
	h.t.Helper()
	content, _, err := ehr.Generate(ehr.WithSeed(5), ehr.WithPatient(practicesim.Patients()[0].NHSNumber), ehr.WithPractices(oldODS, newODS))
	require.NoError(h.t, err)
	ex := &hl7.Extract{
		Wrapper:   hl7.Wrapper{MessageID: messageID, CreationTime: h.clock.Now(), ToASID: newASID, FromASID: oldASID},
		RequestID: hl7.DeriveID(conv, "ehr-request-id"), NHSNumber: practicesim.Patients()[0].NHSNumber,
		SendingODS: oldODS, RequestingODS: newODS, Content: content,
	}
	data, err := ex.Encode()
	require.NoError(h.t, err)
	return data
}

// The receiver's refusals: a malformed extract (21), an extract nobody
// asked for (09), a second extract for a transfer (12).
func TestReceiverRefusals(t *testing.T) {
	t.Run("21 malformed extract", func(t *testing.T) {
		h := newHarness(t)
		h.start("requester", "receiver", "acknowledger") // no sender: the real extract never comes
		conv := h.register()
		h.waitState(transfer.Requesting, conv, transfer.RequestSent)
		bad := []byte(stringsReplace(string(h.extractPayload(conv, "3C2B1A09-0000-4000-8000-000000000021")), "<EhrExtract", "<EhrExtrakt"))
		bad = []byte(stringsReplace(string(bad), "</EhrExtract>", "</EhrExtrakt>"))
		h.inject(conv, "3C2B1A09-0000-4000-8000-000000000021", hl7.EHRExtractUK06, oldASID, newASID, bad)

		req := h.waitState(transfer.Requesting, conv, transfer.Rejected)
		assert.Equal(t, "21", req.LastChange().Reason.Code)
		require.Eventually(t, func() bool { return ackOf(acks(h.wire(conv)), "3C2B1A09-0000-4000-8000-000000000021") != nil }, 10*time.Second, 10*time.Millisecond)
		nack := ackOf(acks(h.wire(conv)), "3C2B1A09-0000-4000-8000-000000000021")
		assert.Equal(t, hl7.ReasonExtractMalformed, nack.Reason)
		assert.Equal(t, hl7.AckReject, nack.AckType)
	})
	t.Run("09 extract without a request", func(t *testing.T) {
		h := newHarness(t)
		h.start("receiver", "acknowledger")
		const conv = "9B8A7C6D-0000-4000-8000-000000000009"
		h.inject(conv, "9B8A7C6D-0000-4000-8000-0000000000E9", hl7.EHRExtractUK06, oldASID, newASID, h.extractPayload(conv, "9B8A7C6D-0000-4000-8000-0000000000E9"))
		require.Eventually(t, func() bool { return len(acks(h.wire(conv))) == 1 }, 10*time.Second, 10*time.Millisecond)
		nack := acks(h.wire(conv))[0]
		assert.Equal(t, hl7.ReasonUnexpectedExtract, nack.Reason)
		assert.Equal(t, "9B8A7C6D-0000-4000-8000-0000000000E9", nack.Ref)
		assert.Equal(t, "gp2gp.spine.in."+oldASID+".ack", nack.Subject, "the NACK goes back to the sender")
		_, err := h.store.Get(h.ctx, transfer.Requesting, conv)
		require.ErrorIs(t, err, transfer.ErrNotFound, "no transfer is created for it")
	})
	t.Run("12 second extract", func(t *testing.T) {
		h := newHarness(t)
		h.start()
		conv := h.register()
		h.waitState(transfer.Sending, conv, transfer.Completed)
		second := "4D5E6F70-0000-4000-8000-000000000012"
		h.inject(conv, second, hl7.EHRExtractUK06, oldASID, newASID, h.extractPayload(conv, second))
		require.Eventually(t, func() bool { return ackOf(acks(h.wire(conv)), second) != nil }, 10*time.Second, 10*time.Millisecond)
		assert.Equal(t, hl7.ReasonDuplicateExtract, ackOf(acks(h.wire(conv)), second).Reason)
		assert.Equal(t, transfer.Integrated, h.get(transfer.Requesting, conv).State, "the transfer is not touched")
		assert.Equal(t, 1, count(h.wire(conv), hl7.EHRRequest))
	})
}

// The sender refuses a request from a practice PDS does not know about
// when SDS has nothing for it: reason 24, and the requester cannot even
// send when SDS does not know the previous practice.
func TestSDSWithoutAnEntry(t *testing.T) {
	h := newHarness(t, withDirectory(func(d *directory.FileData) {
		d.Practices[0].GP2GPEnabled = false // the old practice has no GP2GP service in SDS
	}))
	h.start()
	conv := h.register()
	req := h.waitState(transfer.Requesting, conv, transfer.Failed)
	assert.Equal(t, "24", req.LastChange().Reason.Code)
	assert.Empty(t, h.wire(conv), "nothing was sent")
}

// Both durable timeouts fire after every process involved — the stages and
// the broker — has stopped and started again.
func TestDurableTimeoutsSurviveRestarts(t *testing.T) {
	t.Run("requester: no extract within the persist duration", func(t *testing.T) {
		h := newHarness(t)
		h.start("requester") // no sender: the request goes unanswered
		conv := h.register()
		req := h.waitState(transfer.Requesting, conv, transfer.RequestSent)
		due := req.Deadlines["extract"]
		assert.Equal(t, h.clock.Now().Add(4*time.Hour+10*time.Minute), due, "A × persist duration of RCMR_IN030000UK06 from SDS (PT4H10M)")

		h.stop("requester")
		h.srv.Restart()
		h.clock.Advance(4*time.Hour + 11*time.Minute)
		h.start("requester")
		req = h.waitState(transfer.Requesting, conv, transfer.Failed)
		assert.Contains(t, req.LastChange().Reason.Detail, "no EHR Extract arrived")
	})
	t.Run("sender: no final acknowledgement within 8 days", func(t *testing.T) {
		h := newHarness(t, withIntegration(practicesim.NeverReport()))
		h.start()
		conv := h.register()
		h.waitState(transfer.Requesting, conv, transfer.ReadyToIntegrate)
		snd := h.waitState(transfer.Sending, conv, transfer.ExtractSent)
		assert.Equal(t, snd.LastChange().At.Add(8*24*time.Hour), snd.Deadlines["final-ack"])

		h.stop(stages...)
		h.srv.Restart()
		h.clock.Advance(7 * 24 * time.Hour)
		h.start(stages...)
		h.clock.Advance(24*time.Hour + time.Minute)
		snd = h.waitState(transfer.Sending, conv, transfer.Failed)
		assert.Equal(t, "99", snd.LastChange().Reason.Code)
		assert.Len(t, acks(h.wire(conv)), 1, "nothing is sent when the 8 days pass: only the request's AA is on the wire")
	})
}

// A stage stopped in the middle of a transfer finishes it when started
// again, and redelivered messages have no second effect: one request, one
// extract, one acknowledgement of each kind on the wire.
func TestStageRestartMidTransferAndRedeliveries(t *testing.T) {
	h := newHarness(t)
	h.start("requester", "sender", "acknowledger") // the receiver is down
	pt := practicesim.Patients()[0]
	req := pt.Registration(oldODS)
	req.EventID = "E7E7E7E7-0000-4000-8000-000000000001"
	conv, err := h.practice[newODS].Register(h.ctx, req)
	require.NoError(t, err)
	h.waitState(transfer.Sending, conv, transfer.ExtractSent)

	// The vendor publishes the same registration again, long after the
	// bus's dedupe window (a new conversation id is not given).
	again := req
	again.ConversationID = conv
	_, err = h.practice[newODS].Register(h.ctx, again)
	require.NoError(t, err)

	h.stop("sender", "acknowledger")
	h.start("receiver", "sender", "acknowledger")
	h.waitState(transfer.Requesting, conv, transfer.Integrated)
	h.waitState(transfer.Sending, conv, transfer.Completed)

	// The broker restarts: JetStream may redeliver what was acknowledged.
	h.srv.Restart()
	h.stop(stages...)
	h.start(stages...)
	time.Sleep(500 * time.Millisecond) // give any redelivery a chance to show (a negative check)

	wire := h.wire(conv)
	assert.Equal(t, 1, count(wire, hl7.EHRRequest), "one EHR Request")
	assert.Equal(t, 1, count(wire, hl7.EHRExtractUK06), "one EHR Extract")
	assert.Len(t, acks(wire), 2, "one request AA and one final AA")
	assert.Len(t, h.practice[oldODS].Answered(), 1, "the practice was asked for the record once")
}
