package mi

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestAppendJSONStringMatchesEncodingJSON(t *testing.T) {
	for _, s := range []string{
		"", "plain", `quote " backslash \`, "<script>&amp;</script>", "\x00\x01\x1f\x7f",
		"\b\f\n\r\t", "line\u2028para\u2029", "bad \xff utf8 \xe2\x82", "ünïcødé €", "\U0001F600",
	} {
		want, err := json.Marshal(s)
		require.NoError(t, err)
		assert.Equal(t, string(want), string(appendJSONString(nil, s)), "%q", s)
	}
}

func FuzzAppendJSONString(f *testing.F) {
	f.Add("a\"b\\c<d>\u2028\xff")
	f.Fuzz(func(t *testing.T, s string) {
		want, err := json.Marshal(s)
		require.NoError(t, err)
		require.Equal(t, string(want), string(appendJSONString(nil, s)))
	})
}

// TestTransferJSONMatchesEncodingJSON checks the hand-written encoder
// against encoding/json marshalling the decoding shape.
func TestTransferJSONMatchesEncodingJSON(t *testing.T) {
	sla := uint64(42)
	at := time.Date(2026, 3, 2, 10, 0, 0, 123000000, time.UTC)
	tr := Transfer{
		ConversationID: "c<1>", Status: StatusTechnicalFailure, FailureReason: ReasonFinalError, SLADuration: &sla,
		DateRequested: at, DateCompleted: &at, SenderErrorCodes: []*int{nil, Code(6)}, FinalErrorCodes: []*int{Code(11)},
		IntermediateErrorCodes: []int{}, RequestingPracticeASID: "1", SendingPracticeASID: "2",
		RequestingPractice: &Practice{ODSCode: "A1", Name: "N&M", SICBLODSCode: "00L", SICBLName: "S"},
		RequestingSupplier: "EMIS", SendingSupplier: "TPP", LastSenderMessageTimestamp: &at,
	}
	got, err := json.Marshal(tr)
	require.NoError(t, err)
	str := func(s string) *string { return &s }
	reason := string(tr.FailureReason)
	want, err := json.Marshal(transferJSON{
		ConversationID: tr.ConversationID, Status: tr.Status, FailureReason: &reason, SLADuration: &sla,
		DateRequested: at, DateCompleted: &at, SenderErrorCodes: tr.SenderErrorCodes, FinalErrorCodes: tr.FinalErrorCodes,
		IntermediateErrorCodes: tr.IntermediateErrorCodes, RequestingPracticeASID: "1",
		RequestingPracticeODSCode: str("A1"), RequestingPracticeName: str("N&M"),
		RequestingPracticeSICBLODSCode: str("00L"), RequestingPracticeSICBLName: str("S"),
		SendingPracticeASID: "2", RequestingSupplier: "EMIS", SendingSupplier: "TPP", LastSenderMessageTimestamp: &at,
	})
	require.NoError(t, err)
	assert.Equal(t, string(want), string(got))
}

func TestAppendRFC3339NanoUTC(t *testing.T) {
	for _, tm := range []time.Time{
		time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC), time.Date(2026, 12, 31, 23, 59, 59, 999999999, time.UTC),
		time.Date(1, 1, 1, 0, 0, 0, 1, time.UTC), time.Date(9999, 6, 7, 8, 9, 10, 120000000, time.UTC),
		time.Date(2024, 2, 29, 1, 2, 3, 4000, time.UTC), {},
	} {
		assert.Equal(t, tm.Format(time.RFC3339Nano), string(appendRFC3339NanoUTC(nil, tm)))
	}
}

func FuzzAppendRFC3339NanoUTC(f *testing.F) {
	f.Add(int64(1774000000), int64(123456789))
	f.Fuzz(func(t *testing.T, sec, nsec int64) {
		tm := time.Unix(sec%(250000*365*86400), nsec).UTC()
		if y := tm.Year(); y < 0 || y > 9999 {
			return
		}
		require.Equal(t, tm.Format(time.RFC3339Nano), string(appendRFC3339NanoUTC(nil, tm)))
	})
}
