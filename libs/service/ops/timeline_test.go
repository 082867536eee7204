package ops_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nhsengland/gp2gp/libs/service/ops"
	"github.com/nhsengland/gp2gp/libs/transfer"
)

// line is an expected timeline entry: offset from t0, side, kind, what,
// reason code.
type line struct {
	at   time.Duration
	side transfer.Side
	kind ops.EntryKind
	what string
	code string
}

func lines(entries []ops.Entry) []line {
	out := make([]line, 0, len(entries))
	for _, e := range entries {
		out = append(out, line{e.At.Sub(t0), e.Side, e.Kind, e.What, e.ReasonCode})
	}
	return out
}

func TestTimelineOfStoredTransfers(t *testing.T) {
	f := newFixture(t)
	f.seed()
	const (
		R   = transfer.Requesting
		S   = transfer.Sending
		st  = ops.EntryState
		msg = ops.EntryMessage
		day = 24 * time.Hour
		sec = time.Second
	)
	tests := []struct {
		name string
		conv string
		want []line
	}{
		{"both sides, completed", convDone, []line{
			{5 * day, R, st, "started REGISTERED", ""},
			{5*day + 1*sec, R, msg, "sent EHR Request (RCMR_IN010000UK05)", ""},
			{5*day + 1*sec, R, st, "REGISTERED → REQUEST_SENT", ""},
			{5*day + 2*sec, S, st, "started REQUEST_RECEIVED", ""},
			{5*day + 2*sec, S, msg, "received EHR Request (RCMR_IN010000UK05)", ""},
			{5*day + 3*sec, S, st, "REQUEST_RECEIVED → RECORD_REQUESTED", ""},
			{5*day + 4*sec, S, msg, "sent EHR Extract (RCMR_IN030000UK06)", ""},
			{5*day + 4*sec, S, st, "RECORD_REQUESTED → EXTRACT_SENT", ""},
			{5*day + 5*sec, R, msg, "received EHR Extract (RCMR_IN030000UK06)", ""},
			{5*day + 5*sec, R, st, "REQUEST_SENT → EXTRACT_RECEIVED", ""},
			{5*day + 6*sec, R, st, "EXTRACT_RECEIVED → READY_TO_INTEGRATE", ""},
			{5*day + 7*sec, R, msg, "sent final acknowledgement AA (MCCI_IN010000UK13)", ""},
			{5*day + 7*sec, R, st, "READY_TO_INTEGRATE → INTEGRATED (final)", ""},
			{5*day + 8*sec, S, msg, "received final acknowledgement AA (MCCI_IN010000UK13)", ""},
			{5*day + 8*sec, S, st, "EXTRACT_SENT → COMPLETED (final)", ""},
		}},
		{"both sides, rejected with a reason", convFailed, []line{
			{8 * day, R, st, "started REGISTERED", ""},
			{8 * day, R, msg, "sent EHR Request (RCMR_IN010000UK05)", ""},
			{8 * day, R, st, "REGISTERED → REQUEST_SENT", ""},
			{8*day + 1*sec, S, st, "started REQUEST_RECEIVED", ""},
			{8*day + 1*sec, S, msg, "received EHR Request (RCMR_IN010000UK05)", ""},
			{8*day + 2*sec, S, msg, "sent request acknowledgement AR (MCCI_IN010000UK13)", "06"},
			{8*day + 2*sec, S, st, "REQUEST_RECEIVED → REQUEST_REJECTED (final)", "06"},
			{8*day + 3*sec, R, msg, "received request acknowledgement AR (MCCI_IN010000UK13)", "06"},
			{8*day + 3*sec, R, st, "REQUEST_SENT → FAILED (final)", "06"},
		}},
		{"one side only", convStuck, []line{
			{0, R, st, "started REGISTERED", ""},
			{1 * sec, R, msg, "sent EHR Request (RCMR_IN010000UK05)", ""},
			{1 * sec, R, st, "REGISTERED → REQUEST_SENT", ""},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var records []*transfer.Transfer
			for _, side := range []transfer.Side{R, S} {
				rec, err := f.store.Get(f.ctx, side, tt.conv)
				if err == nil {
					records = append(records, rec)
				}
			}
			assert.Equal(t, tt.want, lines(ops.Timeline(records...)))
		})
	}
}

func TestTimelineEntryContent(t *testing.T) {
	f := newFixture(t)
	f.seed()
	req, err := f.store.Get(f.ctx, transfer.Requesting, convFailed)
	require.NoError(t, err)
	entries := ops.Timeline(req)
	require.Len(t, entries, 5)

	failed := entries[4]
	assert.Equal(t, "06", failed.ReasonCode)
	assert.Equal(t, "patient not at surgery", failed.Detail)
	require.NotNil(t, failed.Change)
	assert.Equal(t, transfer.RequestSent, failed.Change.From)
	assert.Equal(t, transfer.Failed, failed.Change.To)
	assert.Nil(t, failed.Message)

	nack := entries[3]
	require.NotNil(t, nack.Message)
	assert.Nil(t, nack.Change)
	assert.Equal(t, "id C0000000-0000-4000-8000-000000000002; acknowledges A0000000-0000-4000-8000-000000000002", nack.Detail)
	assert.Equal(t, transfer.Inbound, nack.Message.Direction)

	sent := entries[1]
	assert.Equal(t, "id A0000000-0000-4000-8000-000000000002; 2048 bytes", sent.Detail)
	assert.Contains(t, sent.String(), "2026-11-10T09:00:00Z requesting message sent EHR Request")
}

func TestTimelineEdgeCases(t *testing.T) {
	at := t0.Add(time.Hour)
	rec := transfer.New(transfer.Sending, "55555555-0000-4000-8000-000000000005", oldPractice)
	rec.History[0].At = at
	rec.RecordMessage(transfer.Message{ID: "m1", Direction: transfer.Inbound, At: at.Add(-time.Minute), Role: "something-new"})
	rec.RecordMessage(transfer.Message{ID: "m2", Direction: transfer.Outbound, At: at})

	tests := []struct {
		name    string
		records []*transfer.Transfer
		want    []string
	}{
		{"no records", nil, []string{}},
		{"nil records are skipped", []*transfer.Transfer{nil, nil}, []string{}},
		{"earlier message first, creation before a message at the same instant, unknown roles named as written",
			[]*transfer.Transfer{nil, rec},
			[]string{"received something-new", "started REQUEST_RECEIVED", "sent message"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := []string{}
			for _, e := range ops.Timeline(tt.records...) {
				got = append(got, e.What)
			}
			assert.Equal(t, tt.want, got)
		})
	}
}

// The documents of a large message show in the timeline: how the extract
// laid them out, and each COPC with its document, fragment and size.
func TestTimelineShowsDocumentsAndFragments(t *testing.T) {
	tr := transfer.New(transfer.Sending, "CONV-LARGE", transfer.Practice{ODS: "A12345"})
	tr.Documents = []transfer.Document{
		{ID: "DOC-1", Filename: "letter.txt", Size: 100, Inline: true},
		{ID: "DOC-2", Filename: "scan.tif", Size: 7_000_000, MessageID: "M2", Fragments: []string{"F1", "F2", "F3"}},
		{ID: "DOC-3", Filename: "photo.jpg", Size: 4_000_000, MessageID: "M3"},
	}
	at := t0
	msg := func(m transfer.Message) {
		at = at.Add(time.Second)
		m.At, m.Direction = at, transfer.Outbound
		tr.Messages = append(tr.Messages, m)
	}
	msg(transfer.Message{ID: "EX", Role: transfer.RoleEHRExtract, Interaction: "RCMR_IN030000UK06", Size: 30_000})
	msg(transfer.Message{ID: "M2", Role: transfer.RoleCOPC, Document: "DOC-2", Fragments: 3, Size: 7_000_000})
	msg(transfer.Message{ID: "F3", Role: transfer.RoleCOPC, Document: "DOC-2", Fragment: 3, Fragments: 3, Size: 250_000})
	msg(transfer.Message{ID: "M3", Role: transfer.RoleCOPC, Document: "DOC-3", Size: 4_000_000})
	var whats, details []string
	for _, e := range ops.Timeline(tr) {
		if e.Kind == ops.EntryMessage {
			whats, details = append(whats, e.What), append(details, e.Detail)
		}
	}
	assert.Equal(t, []string{
		"sent EHR Extract (RCMR_IN030000UK06): 1 documents inline, 2 after the Continue (1 of them in 3 fragments)",
		"sent COPC: fragment index of scan.tif (DOC-2) (3 fragments)",
		"sent COPC: fragment 3 of 3 of scan.tif (DOC-2)",
		"sent COPC: document photo.jpg (DOC-3)",
	}, whats)
	assert.Equal(t, "id F3; 250000 bytes", details[2])
}
