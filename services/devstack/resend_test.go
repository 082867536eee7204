package devstack_test

import (
	"bytes"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nhsengland/gp2gp/libs/hl7"
	"github.com/nhsengland/gp2gp/libs/practicesim"
	"github.com/nhsengland/gp2gp/libs/transfer"
	gp2gpv1 "github.com/nhsengland/gp2gp/proto/gp2gp/v1"
	"github.com/nhsengland/gp2gp/services/gp2gpctl"
)

// ctl runs gp2gpctl against the harness's NATS and returns its exit code
// and output (stdout then stderr).
func (h *harness) ctl(args ...string) (int, string) {
	h.t.Helper()
	var out, errOut bytes.Buffer
	args = append(args, "-nats", h.srv.URL())
	code := gp2gpctl.Run(h.ctx, args, &out, &errOut)
	return code, out.String() + errOut.String()
}

// The EHR Request is lost on its way: the requester's operator re-sends it
// (same ids) and the transfer completes.
func TestResendTheLostEHRRequest(t *testing.T) {
	h := newHarness(t, withLossyWire())
	h.start()
	h.lose(hl7.EHRRequest, oldASID, 1)
	conv := h.register()
	h.waitState(transfer.Requesting, conv, transfer.RequestSent)
	require.Len(t, h.lost(), 1)
	_, err := h.store.Get(h.ctx, transfer.Sending, conv)
	require.ErrorIs(t, err, transfer.ErrNotFound, "the previous practice never heard of it")

	code, out := h.ctl("resend", conv, "-reason", "request lost", "-by", "oncall")
	require.Equal(t, gp2gpctl.ExitOK, code, out)
	assert.Contains(t, out, "asked the requester serving B86041 to re-send the EHR Request")
	assert.Contains(t, out, "done at")

	h.waitState(transfer.Requesting, conv, transfer.Integrated)
	h.waitState(transfer.Sending, conv, transfer.Completed)
	wire := h.wire(conv)
	require.Equal(t, 1, count(wire, hl7.EHRRequest), "only the resent request reached the wire")
	var req wireMessage
	for _, m := range wire {
		if m.Interaction == hl7.EHRRequest {
			req = m
		}
	}
	assert.True(t, hl7.SameID(h.lost()[0], req.ID), "the request went again with its own id")
	rq := h.get(transfer.Requesting, conv)
	require.Len(t, rq.Resends, 1)
	assert.Equal(t, transfer.ResendRequest, rq.Resends[0].Action)
	assert.Equal(t, "oncall", rq.Resends[0].By)
	assert.Equal(t, "request lost", rq.Resends[0].Why)

	code, out = h.ctl("status", conv)
	require.Equal(t, gp2gpctl.ExitOK, code, out)
	assert.Contains(t, out, "resend asked by oncall: re-send the EHR Request")
}

// The final acknowledgement is lost: the sending side waits; the
// requester's operator re-sends it and the sending side completes.
func TestResendTheLostFinalAck(t *testing.T) {
	h := newHarness(t, withLossyWire())
	h.start()
	h.lose(hl7.ApplicationAck, oldASID, 1) // the final ack goes to the previous practice
	conv := h.register()
	h.waitState(transfer.Requesting, conv, transfer.Integrated)
	time.Sleep(200 * time.Millisecond) // a negative check: nothing arrives
	require.Equal(t, transfer.ExtractSent, h.get(transfer.Sending, conv).State)

	code, out := h.ctl("resend", conv)
	require.Equal(t, gp2gpctl.ExitOK, code, out)
	assert.Contains(t, out, "re-send the final acknowledgement")
	snd := h.waitState(transfer.Sending, conv, transfer.Completed)
	final, ok := snd.MessageByRole(transfer.RoleFinalAck, transfer.Inbound)
	require.True(t, ok)
	assert.True(t, hl7.SameID(h.lost()[0], final.ID), "the final ack went again with its own id")
	assert.Len(t, acks(h.wire(conv)), 2, "the request's AA and the final AA, once each")
}

// The EHR Extract is lost: the requester gives up after its timeout and
// the sender after 8 days. The sender's operator re-sends: the practice is
// asked for the record again, a fresh extract (new ids) goes on the same
// conversation, and both sides finish well.
func TestResendAFreshExtractAfterBothSidesFailed(t *testing.T) {
	h := newHarness(t, withLossyWire())
	h.start()
	h.lose(hl7.EHRExtractUK06, newASID, 1)
	conv := h.register()
	h.waitState(transfer.Sending, conv, transfer.ExtractSent)
	h.waitState(transfer.Requesting, conv, transfer.RequestAcknowledged)

	h.clock.Advance(4*time.Hour + 11*time.Minute)
	h.waitState(transfer.Requesting, conv, transfer.Failed)
	code, out := h.ctl("resend", conv)
	require.Equal(t, gp2gpctl.ExitFailure, code, "nothing to re-send yet: %s", out)
	assert.Contains(t, out, "a finished conversation cannot be requested again")
	assert.Contains(t, out, "its final acknowledgement awaited")

	h.clock.Advance(8 * 24 * time.Hour)
	h.waitState(transfer.Sending, conv, transfer.Failed)
	code, out = h.ctl("resend", conv, "-reason", "extract lost in transit")
	require.Equal(t, gp2gpctl.ExitOK, code, out)
	assert.Contains(t, out, "asked the sender serving A12345 to fetch the record again and send a fresh EHR Extract")

	rq := h.waitState(transfer.Requesting, conv, transfer.Integrated)
	snd := h.waitState(transfer.Sending, conv, transfer.Completed)
	wire := h.wire(conv)
	require.Equal(t, 1, count(wire, hl7.EHRExtractUK06), "the fresh extract")
	assert.False(t, hl7.SameID(h.lost()[0], snd.ExtractID), "the fresh extract has new ids")
	assert.Len(t, acks(wire), 2, "the request's AA once, and the final AA")
	assert.Len(t, h.practice[oldODS].Answered(), 2, "the practice was asked for the record again")
	assert.Contains(t, states(rq), "FAILED→EXTRACT_RECEIVED")
	assert.Contains(t, states(snd), "FAILED→RECORD_REQUESTED")
	require.Len(t, snd.Resends, 1)
	assert.Equal(t, transfer.ResendExtract, snd.Resends[0].Action)
}

// The practice's system could not produce the record (10); once it can,
// the sender's operator re-sends and the transfer completes on the same
// conversation, without a second answer to the request.
func TestResendAfterTheRecordCouldNotBeProduced(t *testing.T) {
	var calls atomic.Int32
	h := newHarness(t, withRecords(func(string) practicesim.RecordBehaviour {
		if calls.Add(1) == 1 {
			return practicesim.FailRecord(gp2gpv1.RecordFailureReason_RECORD_FAILURE_REASON_GENERATION_FAILED)
		}
		return practicesim.SendRecord()
	}))
	h.start()
	conv := h.register()
	h.waitState(transfer.Sending, conv, transfer.RequestRejected)
	h.waitState(transfer.Requesting, conv, transfer.Failed)

	code, out := h.ctl("resend", conv, "-side", "sending")
	require.Equal(t, gp2gpctl.ExitOK, code, out)
	h.waitState(transfer.Requesting, conv, transfer.Integrated)
	h.waitState(transfer.Sending, conv, transfer.Completed)
	wire := acks(h.wire(conv))
	require.Len(t, wire, 2, "the request's NACK and the final AA")
	assert.Equal(t, hl7.ReasonCode("10"), wire[0].Reason)
}

// What cannot be re-sent is refused with why; a resend asked while the
// stage is down waits for it (exit 3) and is done when it starts.
func TestResendRefusedOrQueued(t *testing.T) {
	h := newHarness(t)
	h.start("requester", "sender", "acknowledger") // the receiver is down
	conv := h.register()
	h.waitState(transfer.Requesting, conv, transfer.RequestAcknowledged)
	h.waitState(transfer.Sending, conv, transfer.ExtractSent)

	code, out := h.ctl("resend", "5A6D0E5C-9C8B-4C1D-8C32-000000000000")
	assert.Equal(t, gp2gpctl.ExitFailure, code)
	assert.Contains(t, out, "no transfer with conversation id")

	code, out = h.ctl("resend", conv, "-side", "sending")
	assert.Equal(t, gp2gpctl.ExitFailure, code)
	assert.Contains(t, out, "refused: nothing can be re-sent: sending transfer "+conv+" is EXTRACT_SENT")

	h.stop("requester")
	code, out = h.ctl("resend", conv, "-wait", "300ms")
	assert.Equal(t, gp2gpctl.ExitPending, code, out)
	assert.Contains(t, out, "is the requester serving B86041 running?")
	h.start("requester")
	require.Eventually(t, func() bool { return len(h.get(transfer.Requesting, conv).Resends) == 1 }, 10*time.Second, 20*time.Millisecond)
	assert.Equal(t, transfer.ResendRequest, h.get(transfer.Requesting, conv).Resends[0].Action)

	h.start("receiver")
	h.waitState(transfer.Requesting, conv, transfer.Integrated)
	h.waitState(transfer.Sending, conv, transfer.Completed)
	assert.Equal(t, 1, count(h.wire(conv), hl7.EHRRequest), "the duplicate request was stored once")
}

// states lists a record's changes as FROM→TO.
func states(t *transfer.Transfer) []string {
	var out []string
	for _, c := range t.History {
		out = append(out, string(c.From)+"→"+string(c.To))
	}
	return out
}
