package transfer_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nhsengland/gp2gp/libs/transfer"
)

// record builds a side in state, with the messages named by role.
func record(side transfer.Side, state transfer.State, code string, roles ...string) *transfer.Transfer {
	t := transfer.New(side, "C0FFEE00-0000-4000-8000-000000000001", transfer.Practice{ODS: "A12345", ASID: "200000000101"})
	t.State = state
	t.History = append(t.History, transfer.Change{Seq: 2, To: state, Reason: transfer.Reason{Code: code}})
	t.Peer = transfer.Practice{ODS: "B86041", ASID: "200000000102"}
	t.RequestID = "REQ-1"
	for i, r := range roles {
		dir := transfer.Outbound
		if (side == transfer.Sending) == (r == transfer.RoleEHRRequest || r == transfer.RoleFinalAck) {
			dir = transfer.Inbound
		}
		t.RecordMessage(transfer.Message{ID: string(rune('A' + i)), Role: r, Direction: dir})
	}
	return t
}

func TestPlanResend(t *testing.T) {
	cases := []struct {
		name   string
		t      *transfer.Transfer
		action transfer.ResendAction
		why    string
	}{
		{"request awaiting the extract", record(transfer.Requesting, transfer.RequestSent, "", transfer.RoleEHRRequest), transfer.ResendRequest, ""},
		{"request acknowledged, extract awaited", record(transfer.Requesting, transfer.RequestAcknowledged, "", transfer.RoleEHRRequest), transfer.ResendRequest, ""},
		{"integrated", record(transfer.Requesting, transfer.Integrated, "", transfer.RoleEHRRequest, transfer.RoleFinalAck), transfer.ResendFinalAck, ""},
		{"rejected with 15", record(transfer.Requesting, transfer.Rejected, "15", transfer.RoleEHRRequest, transfer.RoleFinalAck), transfer.ResendFinalAck, ""},
		{"rejected, ack not yet sent", record(transfer.Requesting, transfer.Rejected, "15", transfer.RoleEHRRequest), "", "final acknowledgement is not sent yet"},
		{"requesting failed", record(transfer.Requesting, transfer.Failed, "", transfer.RoleEHRRequest), "", "register the patient again"},
		{"not yet requested", record(transfer.Requesting, transfer.Registered, ""), "", "not sent yet"},
		{"with the practice", record(transfer.Requesting, transfer.ReadyToIntegrate, "", transfer.RoleEHRRequest), "", "nothing is waiting on the other practice"},
		{"sending failed after 8 days", record(transfer.Sending, transfer.Failed, "99", transfer.RoleEHRRequest, transfer.RoleEHRExtract), transfer.ResendExtract, ""},
		{"sending refused with 10", record(transfer.Sending, transfer.RequestRejected, "10", transfer.RoleEHRRequest), transfer.ResendExtract, ""},
		{"sending refused with 06", record(transfer.Sending, transfer.RequestRejected, "06", transfer.RoleEHRRequest), transfer.ResendExtract, ""},
		{"sending refused with 18", record(transfer.Sending, transfer.RequestRejected, "18", transfer.RoleEHRRequest), "", "refused as malformed (18)"},
		{"extract awaiting its ack", record(transfer.Sending, transfer.ExtractSent, "", transfer.RoleEHRRequest, transfer.RoleEHRExtract), "", "final acknowledgement awaited"},
		{"completed", record(transfer.Sending, transfer.Completed, "", transfer.RoleEHRRequest, transfer.RoleEHRExtract), "", "acknowledged the extract"},
		{"record being prepared", record(transfer.Sending, transfer.RecordRequested, "", transfer.RoleEHRRequest), "", "still being prepared"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := transfer.PlanResend(c.t)
			if c.why != "" {
				require.ErrorIs(t, err, transfer.ErrNotResendable)
				assert.Contains(t, err.Error(), c.why)
				assert.Empty(t, got)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, c.action, got)
		})
	}

	unreadable := record(transfer.Sending, transfer.RequestRejected, "10")
	unreadable.Peer = transfer.Practice{}
	_, err := transfer.PlanResend(unreadable)
	assert.ErrorIs(t, err, transfer.ErrNotResendable, "a request with no requester to answer")
}

func TestReopenOnlyFromFinishedStatesToTheRetryState(t *testing.T) {
	snd := record(transfer.Sending, transfer.Failed, "99")
	require.NoError(t, snd.Reopen(transfer.RecordRequested, transfer.Reason{Detail: "resend"}))
	assert.Equal(t, transfer.RecordRequested, snd.State)
	assert.Equal(t, transfer.Failed, snd.LastChange().From)
	assert.False(t, snd.Terminal())

	rej := record(transfer.Sending, transfer.RequestRejected, "10")
	require.NoError(t, rej.Reopen(transfer.RecordRequested, transfer.Reason{}))

	req := record(transfer.Requesting, transfer.Failed, "")
	require.NoError(t, req.Reopen(transfer.ExtractReceived, transfer.Reason{}))
	assert.Equal(t, transfer.ExtractReceived, req.State)

	for _, c := range []struct {
		t  *transfer.Transfer
		to transfer.State
	}{
		{record(transfer.Sending, transfer.Completed, ""), transfer.RecordRequested},
		{record(transfer.Sending, transfer.Failed, "99"), transfer.ExtractSent},
		{record(transfer.Requesting, transfer.Integrated, ""), transfer.ExtractReceived},
		{record(transfer.Requesting, transfer.Rejected, "15"), transfer.ExtractReceived},
		{record(transfer.Requesting, transfer.RequestSent, ""), transfer.ExtractReceived},
	} {
		before := c.t.State
		err := c.t.Reopen(c.to, transfer.Reason{})
		var te *transfer.TransitionError
		require.ErrorAs(t, err, &te, "%s %s → %s", c.t.Side, before, c.to)
		assert.Equal(t, before, c.t.State, "nothing changed")
	}
}

func TestAttemptCountsFreshExtractsDone(t *testing.T) {
	snd := record(transfer.Sending, transfer.Failed, "99")
	assert.Equal(t, 0, snd.Attempt())
	snd.Resends = append(snd.Resends,
		transfer.Resend{CommandID: "1", Action: transfer.ResendExtract},
		transfer.Resend{CommandID: "2", Refused: "not now"},
		transfer.Resend{CommandID: "3", Action: transfer.ResendExtract})
	assert.Equal(t, 2, snd.Attempt())
	r, ok := snd.FindResend("2")
	require.True(t, ok)
	assert.Equal(t, "not now", r.Refused)
	_, ok = snd.FindResend("4")
	assert.False(t, ok)
}
