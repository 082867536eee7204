package transfer_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nhsengland/gp2gp/libs/transfer"
	gp2gpv1 "github.com/nhsengland/gp2gp/proto/gp2gp/v1"
)

var sides = []transfer.Side{transfer.Requesting, transfer.Sending}

func TestTransitions(t *testing.T) {
	cases := []struct {
		side     transfer.Side
		from, to transfer.State
		allowed  bool
	}{
		{transfer.Requesting, transfer.Registered, transfer.RequestSent, true},
		{transfer.Requesting, transfer.RequestSent, transfer.ExtractReceived, true},
		{transfer.Requesting, transfer.RequestSent, transfer.RequestAcknowledged, true},
		{transfer.Requesting, transfer.ExtractReceived, transfer.ContinueSent, true},
		{transfer.Requesting, transfer.ContinueSent, transfer.ReadyToIntegrate, true},
		{transfer.Requesting, transfer.ReadyToIntegrate, transfer.Integrated, true},
		{transfer.Requesting, transfer.ReadyToIntegrate, transfer.Rejected, true},
		{transfer.Requesting, transfer.RequestSent, transfer.Failed, true},
		{transfer.Requesting, transfer.Registered, transfer.Integrated, false},
		{transfer.Requesting, transfer.ExtractReceived, transfer.RequestSent, false},
		{transfer.Requesting, transfer.Integrated, transfer.Rejected, false},
		{transfer.Requesting, transfer.ReadyToIntegrate, transfer.Failed, false},
		{transfer.Requesting, transfer.RequestSent, transfer.ExtractSent, false}, // a sending state
		{transfer.Sending, transfer.RequestReceived, transfer.RecordRequested, true},
		{transfer.Sending, transfer.RequestReceived, transfer.RequestRejected, true},
		{transfer.Sending, transfer.RecordRequested, transfer.ExtractSent, true},
		{transfer.Sending, transfer.ExtractSent, transfer.Completed, true},
		{transfer.Sending, transfer.ExtractSent, transfer.ContinueReceived, true},
		{transfer.Sending, transfer.AttachmentsSent, transfer.Failed, true},
		{transfer.Sending, transfer.RequestReceived, transfer.ExtractSent, false},
		{transfer.Sending, transfer.Completed, transfer.Failed, false},
		{transfer.Sending, transfer.RequestRejected, transfer.RecordRequested, false},
	}
	for _, tc := range cases {
		t.Run(string(tc.side)+" "+string(tc.from)+"→"+string(tc.to), func(t *testing.T) {
			assert.Equal(t, tc.allowed, tc.side.Allows(tc.from, tc.to))
			tr := &transfer.Transfer{Side: tc.side, State: tc.from, History: []transfer.Change{{Seq: 1, To: tc.from}}}
			err := tr.Transition(tc.to, transfer.Reason{})
			if tc.allowed {
				require.NoError(t, err)
				assert.Equal(t, tc.to, tr.State)
				assert.Equal(t, transfer.Change{Seq: 2, From: tc.from, To: tc.to}, tr.LastChange())
				return
			}
			require.ErrorIs(t, err, transfer.ErrIllegalTransition)
			var te *transfer.TransitionError
			require.ErrorAs(t, err, &te)
			assert.Equal(t, tc.from, tr.State, "a rejected transition changes nothing")
			assert.Len(t, tr.History, 1)
		})
	}
}

func TestTransitionToCurrentStateIsANoOp(t *testing.T) {
	tr := transfer.New(transfer.Requesting, "abc", transfer.Practice{})
	require.NoError(t, tr.Transition(transfer.RequestSent, transfer.Reason{}))
	require.NoError(t, tr.Transition(transfer.RequestSent, transfer.Reason{}))
	assert.Len(t, tr.History, 2)
}

func TestEveryStateIsReachableAndEveryPathEnds(t *testing.T) {
	for _, side := range sides {
		t.Run(string(side), func(t *testing.T) {
			reached := map[transfer.State]bool{side.InitialState(): true}
			queue := []transfer.State{side.InitialState()}
			for len(queue) > 0 {
				st := queue[0]
				queue = queue[1:]
				for _, next := range side.States() {
					if side.Allows(st, next) && !reached[next] {
						reached[next] = true
						queue = append(queue, next)
					}
				}
			}
			for _, st := range side.States() {
				assert.True(t, reached[st], "%s unreachable", st)
				if side.Terminal(st) {
					continue
				}
				// Some terminal state is reachable from every non-terminal one.
				var canEnd func(transfer.State, map[transfer.State]bool) bool
				canEnd = func(s transfer.State, seen map[transfer.State]bool) bool {
					if side.Terminal(s) {
						return true
					}
					seen[s] = true
					for _, n := range side.States() {
						if side.Allows(s, n) && !seen[n] && canEnd(n, seen) {
							return true
						}
					}
					return false
				}
				assert.True(t, canEnd(st, map[transfer.State]bool{}), "%s cannot end", st)
			}
		})
	}
}

func TestStatesMatchTheLifecycleContract(t *testing.T) {
	covered := map[gp2gpv1.TransferState]bool{}
	for _, side := range sides {
		for _, st := range side.States() {
			ps := transfer.ProtoState(st)
			require.NotEqual(t, gp2gpv1.TransferState_TRANSFER_STATE_UNSPECIFIED, ps, "%s has no proto enum value", st)
			covered[ps] = true
		}
	}
	for v, name := range gp2gpv1.TransferState_name {
		if v == 0 {
			continue
		}
		assert.True(t, covered[gp2gpv1.TransferState(v)], "proto state %s has no Go state", name)
	}
	assert.Equal(t, gp2gpv1.TransferState_TRANSFER_STATE_UNSPECIFIED, transfer.ProtoState("NOT_A_STATE"))
}

func TestRecordMessageIgnoresCaseAndDuplicates(t *testing.T) {
	tr := transfer.New(transfer.Sending, "abc", transfer.Practice{})
	assert.True(t, tr.RecordMessage(transfer.Message{ID: "a1b2", Interaction: "RCMR_IN030000UK06", Direction: transfer.Outbound}))
	assert.False(t, tr.RecordMessage(transfer.Message{ID: "A1B2", Interaction: "RCMR_IN030000UK06", Direction: transfer.Outbound}))
	m, ok := tr.FindMessage("a1B2")
	require.True(t, ok)
	assert.Equal(t, "A1B2", m.ID)
}
