package mi_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nhsengland/gp2gp/libs/mi"
)

var (
	practiceA   = &mi.Practice{ODSCode: "A1", Name: "Riverside", SICBLODSCode: "00L", SICBLName: "North"}
	practiceA2  = &mi.Practice{ODSCode: "A1", Name: "Riverside Surgery", SICBLODSCode: "00L", SICBLName: "North"}
	practiceB   = &mi.Practice{ODSCode: "B2", Name: "Hilltop", SICBLODSCode: "00K", SICBLName: "South"}
	practiceC   = &mi.Practice{ODSCode: "C3", Name: "No SICBL"}
	practiceD   = &mi.Practice{ODSCode: "D4", Name: "Dale", SICBLODSCode: "00L", SICBLName: "North"}
	bst         = time.FixedZone("BST", 3600)
	generatedOn = time.Date(2026, 4, 16, 6, 0, 0, 0, time.UTC)
)

// xfer is a classified transfer with what the report reads; sla < 0 is null.
func xfer(id string, at time.Time, status mi.Status, reason mi.FailureReason, sla int64, p *mi.Practice) mi.Transfer {
	t := mi.Transfer{ConversationID: id, DateRequested: at.UTC(), Status: status, FailureReason: reason, RequestingPractice: p}
	if sla >= 0 {
		s := uint64(sla)
		t.SLADuration = &s
	}
	return t
}

func mar(d, h int) time.Time { return time.Date(2026, 3, d, h, 0, 0, 0, time.UTC) }

func reportTransfers() []mi.Transfer {
	const (
		onTime = mi.StatusIntegratedOnTime
		tech   = mi.StatusTechnicalFailure
		proc   = mi.StatusProcessFailure
		unclas = mi.StatusUnclassifiedFailure
	)
	return []mi.Transfer{
		xfer("d1", mar(5, 9), onTime, mi.ReasonNone, 10, practiceD),
		// A1 in March: 8 requested.
		xfer("a1", mar(2, 9), onTime, mi.ReasonNone, 259200, practiceA), // 3-day bound: within 3
		xfer("a2", mar(3, 9), onTime, mi.ReasonNone, 259201, practiceA), // 3–8 band
		// 23:30 BST on 31 March is 22:30Z: March.
		xfer("a3", time.Date(2026, 3, 31, 23, 30, 0, 0, bst), onTime, mi.ReasonNone, 100, practiceA),
		// 00:30 BST on 1 April is 23:30Z on 31 March: March, and A1's latest.
		xfer("a4", time.Date(2026, 4, 1, 0, 30, 0, 0, bst), tech, mi.ReasonRequestNotAcknowledged, -1, practiceA2),
		xfer("a5", mar(4, 9), proc, mi.ReasonIntegratedLate, 691201, practiceA),
		xfer("a6", mar(6, 9), proc, mi.ReasonTransferredNotIntegrated, -1, practiceA),
		xfer("a7", mar(7, 9), tech, mi.ReasonFinalError, 60, practiceA),
		xfer("a8", mar(8, 9), unclas, mi.ReasonAmbiguousCOPCs, -1, practiceA),
		// A1 in February: 3 requested.
		xfer("f1", time.Date(2026, 2, 10, 9, 0, 0, 0, time.UTC), onTime, mi.ReasonNone, 60, practiceA),
		xfer("f2", time.Date(2026, 2, 11, 9, 0, 0, 0, time.UTC), proc, mi.ReasonTransferredNotIntegrated, -1, practiceA),
		xfer("f3", time.Date(2026, 2, 28, 23, 59, 59, 0, time.UTC), tech, mi.ReasonCoreExtractNotSent, -1, practiceA),
		// B2: nothing received.
		xfer("b1", mar(9, 9), tech, mi.ReasonFatalSenderError, -1, practiceB),
		// National only: a practice in no SICBL, an unknown ASID, an
		// attributed practice without an ODS code.
		xfer("c1", mar(10, 9), onTime, mi.ReasonNone, 10, practiceC),
		xfer("u1", mar(11, 9), onTime, mi.ReasonNone, 10, nil),
		xfer("u2", time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC), onTime, mi.ReasonNone, 10, &mi.Practice{SICBLODSCode: "00L"}),
	}
}

func TestBuildReport(t *testing.T) {
	transfers := reportTransfers()
	r := mi.BuildReport(transfers, generatedOn)

	assert.Equal(t, generatedOn, r.GeneratedOn)
	require.Len(t, r.Transfers, len(transfers))
	assert.Same(t, &transfers[0], &r.Transfers[0], "transfers as given")

	t.Run("national", func(t *testing.T) {
		want := []mi.NationalMonth{
			{
				Year: 2026, Month: 2, TransferCount: 3,
				IntegratedOnTime: cp(1, pct(33.33)),
				PaperFallback: mi.PaperFallback{
					TransferCount: 2, TransferPercentage: pct(66.67),
					TechnicalFailure:    cp(1, pct(33.33)),
					ProcessFailure:      mi.ProcessFailure{IntegratedLate: cp(0, pct(0)), TransferredNotIntegrated: cp(1, pct(33.33))},
					UnclassifiedFailure: cp(0, pct(0)),
				},
			},
			{
				// A1 8, B2 1, C3 1, D4 1, unknown 1.
				Year: 2026, Month: 3, TransferCount: 12,
				IntegratedOnTime: cp(6, pct(50)),
				PaperFallback: mi.PaperFallback{
					TransferCount: 6, TransferPercentage: pct(50),
					TechnicalFailure:    cp(3, pct(25)),
					ProcessFailure:      mi.ProcessFailure{IntegratedLate: cp(1, pct(8.33)), TransferredNotIntegrated: cp(1, pct(8.33))},
					UnclassifiedFailure: cp(1, pct(8.33)),
				},
			},
			{
				Year: 2026, Month: 4, TransferCount: 1,
				IntegratedOnTime: cp(1, pct(100)),
				PaperFallback: mi.PaperFallback{
					TransferCount: 0, TransferPercentage: pct(0),
					TechnicalFailure:    cp(0, pct(0)),
					ProcessFailure:      mi.ProcessFailure{IntegratedLate: cp(0, pct(0)), TransferredNotIntegrated: cp(0, pct(0))},
					UnclassifiedFailure: cp(0, pct(0)),
				},
			},
		}
		assert.Equal(t, want, r.National)
	})

	t.Run("practices", func(t *testing.T) {
		want := []mi.PracticeMetrics{
			{
				ODSCode: "A1", Name: "Riverside Surgery", SICBLODSCode: "00L", SICBLName: "North",
				Metrics: []mi.PracticeMonth{
					{Year: 2026, Month: 3, RequestedTransfers: mi.RequestedTransfers{
						RequestedCount: 8, ReceivedCount: 5, ReceivedPercentOfRequested: pct(62.5),
						IntegratedWithin3DaysCount: 2, IntegratedWithin3DaysPercentOfReceived: pct(40),
						IntegratedWithin8DaysCount: 1, IntegratedWithin8DaysPercentOfReceived: pct(20),
						NotIntegratedWithin8DaysTotal: 2, NotIntegratedWithin8DaysPercentOfReceived: pct(40),
						FailuresTotalCount: 3, FailuresTotalPercentOfRequested: pct(37.5),
					}},
					{Year: 2026, Month: 2, RequestedTransfers: mi.RequestedTransfers{
						RequestedCount: 3, ReceivedCount: 2, ReceivedPercentOfRequested: pct(66.7),
						IntegratedWithin3DaysCount: 1, IntegratedWithin3DaysPercentOfReceived: pct(50),
						IntegratedWithin8DaysCount: 0, IntegratedWithin8DaysPercentOfReceived: pct(0),
						NotIntegratedWithin8DaysTotal: 1, NotIntegratedWithin8DaysPercentOfReceived: pct(50),
						FailuresTotalCount: 1, FailuresTotalPercentOfRequested: pct(33.3),
					}},
				},
			},
			{
				ODSCode: "B2", Name: "Hilltop", SICBLODSCode: "00K", SICBLName: "South",
				Metrics: []mi.PracticeMonth{{Year: 2026, Month: 3, RequestedTransfers: mi.RequestedTransfers{
					RequestedCount: 1, ReceivedPercentOfRequested: pct(0),
					FailuresTotalCount: 1, FailuresTotalPercentOfRequested: pct(100),
				}}},
			},
			{
				ODSCode: "D4", Name: "Dale", SICBLODSCode: "00L", SICBLName: "North",
				Metrics: []mi.PracticeMonth{{Year: 2026, Month: 3, RequestedTransfers: mi.RequestedTransfers{
					RequestedCount: 1, ReceivedCount: 1, ReceivedPercentOfRequested: pct(100),
					IntegratedWithin3DaysCount: 1, IntegratedWithin3DaysPercentOfReceived: pct(100),
					IntegratedWithin8DaysPercentOfReceived: pct(0), NotIntegratedWithin8DaysPercentOfReceived: pct(0),
					FailuresTotalPercentOfRequested: pct(0),
				}}},
			},
		}
		assert.Equal(t, want, r.Practices)
		for _, p := range r.Practices {
			for _, m := range p.Metrics {
				rt := m.RequestedTransfers
				assert.Equal(t, rt.ReceivedCount, rt.IntegratedWithin3DaysCount+rt.IntegratedWithin8DaysCount+rt.NotIntegratedWithin8DaysTotal)
				assert.Equal(t, rt.RequestedCount, rt.ReceivedCount+rt.FailuresTotalCount)
			}
		}
	})

	t.Run("sicbls", func(t *testing.T) {
		assert.Equal(t, []mi.SICBL{
			{ODSCode: "00K", Name: "South", Practices: []string{"B2"}},
			{ODSCode: "00L", Name: "North", Practices: []string{"A1", "D4"}},
		}, r.SICBLs)
	})
}

func TestBuildReportLatestTransferNamesThePractice(t *testing.T) {
	moved := &mi.Practice{ODSCode: "A1", Name: "Riverside", SICBLODSCode: "01M", SICBLName: "Moved"}
	r := mi.BuildReport([]mi.Transfer{
		xfer("new", mar(20, 9), mi.StatusIntegratedOnTime, mi.ReasonNone, 10, moved),
		xfer("old", mar(2, 9), mi.StatusIntegratedOnTime, mi.ReasonNone, 10, practiceA),
	}, generatedOn)
	require.Len(t, r.Practices, 1)
	assert.Equal(t, "01M", r.Practices[0].SICBLODSCode)
	assert.Equal(t, []mi.SICBL{{ODSCode: "01M", Name: "Moved", Practices: []string{"A1"}}}, r.SICBLs)
}

func TestBuildReportEmpty(t *testing.T) {
	r := mi.BuildReport([]mi.Transfer{}, generatedOn)
	raw, err := json.Marshal(r)
	require.NoError(t, err)
	assert.JSONEq(t, `{"generatedOn":"2026-04-16T06:00:00Z","transfers":[],"national":[],"practices":[],"sicbls":[]}`, string(raw))
}

func TestReportWriteJSON(t *testing.T) {
	for name, transfers := range map[string][]mi.Transfer{
		"figures": reportTransfers(),
		"empty":   {},
		"nil":     nil,
		// enough transfers to flush the buffer several times
		"many": func() []mi.Transfer {
			var out []mi.Transfer
			for range 200 {
				out = append(out, reportTransfers()...)
			}
			return out
		}(),
	} {
		t.Run(name, func(t *testing.T) {
			r := mi.BuildReport(transfers, generatedOn)
			want, err := json.Marshal(r)
			require.NoError(t, err)
			var got bytes.Buffer
			require.NoError(t, r.WriteJSON(&got))
			assert.Equal(t, string(want)+"\n", got.String())
		})
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestReportWriteJSONErrors(t *testing.T) {
	for _, copies := range []int{1, 1000} { // one goroutine, several
		var transfers []mi.Transfer
		for range copies {
			transfers = append(transfers, reportTransfers()...)
		}
		r := mi.BuildReport(transfers, generatedOn)
		assert.ErrorContains(t, r.WriteJSON(failingWriter{}), "disk full")
		assert.ErrorContains(t, r.WriteJSON(&limitedWriter{left: 5000}), "disk full")
		r.Transfers[len(r.Transfers)-1].DateRequested = time.Date(12000, 1, 1, 0, 0, 0, 0, time.UTC)
		assert.ErrorContains(t, r.WriteJSON(&bytes.Buffer{}), "u2")
	}
}

// limitedWriter fails once it has taken left bytes.
type limitedWriter struct{ left int }

func (w *limitedWriter) Write(p []byte) (int, error) {
	if len(p) > w.left {
		return 0, errors.New("disk full")
	}
	w.left -= len(p)
	return len(p), nil
}
