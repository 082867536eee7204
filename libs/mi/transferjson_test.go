package mi_test

import (
	"bytes"
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nhsengland/gp2gp/libs/mi"
)

// transferFields is the §1.7 record in camelCase, in order.
var transferFields = []string{
	"conversationId", "status", "failureReason", "slaDuration", "dateRequested", "dateCompleted",
	"senderErrorCodes", "finalErrorCodes", "intermediateErrorCodes",
	"requestingPracticeAsid", "requestingPracticeOdsCode", "requestingPracticeName",
	"requestingPracticeSicblOdsCode", "requestingPracticeSicblName",
	"sendingPracticeAsid", "sendingPracticeOdsCode", "sendingPracticeName",
	"sendingPracticeSicblOdsCode", "sendingPracticeSicblName",
	"requestingSupplier", "sendingSupplier", "lastSenderMessageTimestamp", "inProgress",
}

// keysInOrder returns the member names of a JSON object in document order.
func keysInOrder(t *testing.T, raw []byte) []string {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(raw))
	tok, err := dec.Token()
	require.NoError(t, err)
	require.Equal(t, json.Delim('{'), tok)
	var keys []string
	for dec.More() {
		k, err := dec.Token()
		require.NoError(t, err)
		keys = append(keys, k.(string))
		var skip json.RawMessage
		require.NoError(t, dec.Decode(&skip))
	}
	return keys
}

func TestTransferJSON(t *testing.T) {
	c := newConv()
	c.ack(c.request(), time.Minute, nil)
	c.ack(c.extract(time.Hour), 2*time.Hour, nil)
	integrated := classifyOne(t, c, 0)
	integrated.RequestingPractice = &mi.Practice{ODSCode: "A12345", Name: "Riverside", SICBLODSCode: "00L", SICBLName: "North"}

	d := newConv()
	d.request()
	unacked := classifyOne(t, d, 0)
	unacked.SendingPractice = &mi.Practice{ODSCode: "B86041", Name: "Hill <&> \"Top\""} // no SICBL

	t.Run("fields", func(t *testing.T) {
		raw, err := json.Marshal(integrated)
		require.NoError(t, err)
		assert.Equal(t, transferFields, keysInOrder(t, raw))
		var m map[string]any
		require.NoError(t, json.Unmarshal(raw, &m))
		assert.Equal(t, "conv-1", m["conversationId"])
		assert.Equal(t, "Integrated on time", m["status"])
		assert.Nil(t, m["failureReason"])
		assert.InDelta(t, 3600, m["slaDuration"], 0)
		assert.Equal(t, "2026-03-02T10:00:00Z", m["dateRequested"])
		assert.Equal(t, "2026-03-02T12:00:00Z", m["dateCompleted"])
		assert.Equal(t, []any{nil}, m["senderErrorCodes"])
		assert.Equal(t, []any{nil}, m["finalErrorCodes"])
		assert.Equal(t, []any{}, m["intermediateErrorCodes"])
		assert.Equal(t, requester, m["requestingPracticeAsid"])
		assert.Equal(t, "A12345", m["requestingPracticeOdsCode"])
		assert.Equal(t, "Riverside", m["requestingPracticeName"])
		assert.Equal(t, "00L", m["requestingPracticeSicblOdsCode"])
		assert.Equal(t, "North", m["requestingPracticeSicblName"])
		assert.Equal(t, sender, m["sendingPracticeAsid"])
		for _, k := range []string{"sendingPracticeOdsCode", "sendingPracticeName", "sendingPracticeSicblOdsCode", "sendingPracticeSicblName"} {
			assert.Contains(t, m, k)
			assert.Nil(t, m[k], "%s: not attributed", k)
		}
		assert.Equal(t, "sys-"+requester, m["requestingSupplier"])
		assert.Equal(t, "sys-"+sender, m["sendingSupplier"])
		assert.Equal(t, "2026-03-02T11:00:00Z", m["lastSenderMessageTimestamp"])
		assert.Equal(t, false, m["inProgress"])
	})

	t.Run("nulls", func(t *testing.T) {
		raw, err := json.Marshal(unacked)
		require.NoError(t, err)
		var m map[string]any
		require.NoError(t, json.Unmarshal(raw, &m))
		assert.Equal(t, "Request not acknowledged", m["failureReason"])
		assert.Nil(t, m["slaDuration"])
		assert.Nil(t, m["dateCompleted"])
		assert.Nil(t, m["lastSenderMessageTimestamp"])
		assert.Equal(t, []any{}, m["senderErrorCodes"])
		assert.Equal(t, "B86041", m["sendingPracticeOdsCode"])
		assert.Equal(t, `Hill <&> "Top"`, m["sendingPracticeName"])
		assert.Nil(t, m["sendingPracticeSicblOdsCode"], "practice in no SICBL")
		assert.Nil(t, m["sendingPracticeSicblName"])
		assert.Nil(t, m["requestingPracticeOdsCode"])
	})

	t.Run("round trip", func(t *testing.T) {
		sla := uint64(691201)
		late := time.Date(2026, 3, 12, 1, 2, 3, 456789000, time.UTC)
		full := mi.Transfer{
			ConversationID: "c\u2028\"x\"\n", Status: mi.StatusProcessFailure, FailureReason: mi.ReasonIntegratedLate,
			SLADuration: &sla, DateRequested: t0, DateCompleted: &late,
			SenderErrorCodes: []*int{nil, mi.Code(7)}, FinalErrorCodes: []*int{mi.Code(12), nil}, IntermediateErrorCodes: []int{29, 31},
			RequestingPracticeASID: requester, SendingPracticeASID: sender,
			RequestingPractice: &mi.Practice{ODSCode: "A1", Name: "", SICBLODSCode: "", SICBLName: ""},
			SendingPractice:    &mi.Practice{ODSCode: "B2", Name: "b", SICBLODSCode: "", SICBLName: "orphan name"},
			RequestingSupplier: "EMIS", SendingSupplier: "TPP", LastSenderMessageTimestamp: &late, InProgress: true,
		}
		for name, tr := range map[string]mi.Transfer{
			"integrated": integrated, "unacked": unacked, "full": full, "zero": {},
			"empty lists": {SenderErrorCodes: []*int{}, FinalErrorCodes: []*int{}, IntermediateErrorCodes: []int{}},
		} {
			raw, err := json.Marshal(tr)
			require.NoError(t, err, name)
			var back mi.Transfer
			require.NoError(t, json.Unmarshal(raw, &back), name)
			assert.Equal(t, tr, back, name)
			again, err := json.Marshal(back)
			require.NoError(t, err)
			assert.JSONEq(t, string(raw), string(again), name)
		}
	})

	t.Run("times are written in UTC", func(t *testing.T) {
		bst := time.FixedZone("BST", 3600)
		tr := mi.Transfer{DateRequested: time.Date(2026, 4, 1, 0, 30, 0, 0, bst)}
		raw, err := json.Marshal(tr)
		require.NoError(t, err)
		var back mi.Transfer
		require.NoError(t, json.Unmarshal(raw, &back))
		assert.Contains(t, string(raw), `"dateRequested":"2026-03-31T23:30:00Z"`)
		assert.True(t, tr.DateRequested.Equal(back.DateRequested))
	})

	t.Run("errors", func(t *testing.T) {
		_, err := json.Marshal(mi.Transfer{DateRequested: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)})
		assert.ErrorContains(t, err, "dateRequested")
		var back mi.Transfer
		assert.Error(t, json.Unmarshal([]byte(`{"slaDuration":-1}`), &back))
		assert.Error(t, json.Unmarshal([]byte(`{"dateRequested":"yesterday"}`), &back))
	})
}

func TestTransferJSONInAList(t *testing.T) {
	c := newConv()
	c.ack(c.request(), time.Minute, nil)
	in := slices.Repeat(mi.Classify(c.evs, 0), 3)
	raw, err := json.Marshal(in)
	require.NoError(t, err)
	var out []mi.Transfer
	require.NoError(t, json.Unmarshal(raw, &out))
	assert.Equal(t, in, out)
}
