package mi_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nhsengland/gp2gp/libs/mi"
)

func pct(v float64) *float64 { return &v }

func cp(n int, p *float64) mi.CountPercent {
	return mi.CountPercent{TransferCount: n, TransferPercentage: p}
}

func TestNationalOf(t *testing.T) {
	tests := []struct {
		name string
		c    mi.Counts
		want mi.NationalMonth
	}{
		{
			// 699/800 = 87.375 %, 101/800 = 12.625 %, … : halves round up.
			name: "2 places, halves up",
			c:    mi.Counts{Requested: 800, Within3Days: 600, Within8Days: 99, IntegratedLate: 1, TransferredNotIntegrated: 3, TechnicalFailure: 95, UnclassifiedFailure: 2},
			want: mi.NationalMonth{
				Year: 2026, Month: 3, TransferCount: 800,
				IntegratedOnTime: cp(699, pct(87.38)),
				PaperFallback: mi.PaperFallback{
					TransferCount: 101, TransferPercentage: pct(12.63),
					TechnicalFailure: cp(95, pct(11.88)),
					ProcessFailure: mi.ProcessFailure{
						IntegratedLate:           cp(1, pct(0.13)),
						TransferredNotIntegrated: cp(3, pct(0.38)),
					},
					UnclassifiedFailure: cp(2, pct(0.25)),
				},
			},
		},
		{
			name: "thirds",
			c:    mi.Counts{Requested: 3, Within8Days: 1, TechnicalFailure: 2},
			want: mi.NationalMonth{
				Year: 2026, Month: 3, TransferCount: 3,
				IntegratedOnTime: cp(1, pct(33.33)),
				PaperFallback: mi.PaperFallback{
					TransferCount: 2, TransferPercentage: pct(66.67),
					TechnicalFailure:    cp(2, pct(66.67)),
					ProcessFailure:      mi.ProcessFailure{IntegratedLate: cp(0, pct(0)), TransferredNotIntegrated: cp(0, pct(0))},
					UnclassifiedFailure: cp(0, pct(0)),
				},
			},
		},
		{
			name: "no transfers: null percentages",
			c:    mi.Counts{},
			want: mi.NationalMonth{Year: 2026, Month: 3},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, mi.NationalOf(march, tt.c))
		})
	}
}

func TestNationalOfJSON(t *testing.T) {
	raw, err := json.Marshal(mi.NationalOf(march, mi.Counts{}))
	require.NoError(t, err)
	assert.JSONEq(t, `{"year":2026,"month":3,"transferCount":0,
		"integratedOnTime":{"transferCount":0,"transferPercentage":null},
		"paperFallback":{"transferCount":0,"transferPercentage":null,
			"technicalFailure":{"transferCount":0,"transferPercentage":null},
			"processFailure":{"integratedLate":{"transferCount":0,"transferPercentage":null},
				"transferredNotIntegrated":{"transferCount":0,"transferPercentage":null}},
			"unclassifiedFailure":{"transferCount":0,"transferPercentage":null}}}`, string(raw))
}

func TestRequestedTransfersOf(t *testing.T) {
	tests := []struct {
		name string
		c    mi.Counts
		want mi.RequestedTransfers
	}{
		{
			// 15/16 = 93.75 % and 1/16 = 6.25 %: 1 place, halves up.
			name: "1 place, halves up",
			c:    mi.Counts{Requested: 16, Within3Days: 9, Within8Days: 3, IntegratedLate: 1, TransferredNotIntegrated: 2, TechnicalFailure: 1},
			want: mi.RequestedTransfers{
				RequestedCount: 16, ReceivedCount: 15, ReceivedPercentOfRequested: pct(93.8),
				IntegratedWithin3DaysCount: 9, IntegratedWithin3DaysPercentOfReceived: pct(60),
				IntegratedWithin8DaysCount: 3, IntegratedWithin8DaysPercentOfReceived: pct(20),
				NotIntegratedWithin8DaysTotal: 3, NotIntegratedWithin8DaysPercentOfReceived: pct(20),
				FailuresTotalCount: 1, FailuresTotalPercentOfRequested: pct(6.3),
			},
		},
		{
			name: "thirds",
			c:    mi.Counts{Requested: 3, Within3Days: 1, TransferredNotIntegrated: 1, UnclassifiedFailure: 1},
			want: mi.RequestedTransfers{
				RequestedCount: 3, ReceivedCount: 2, ReceivedPercentOfRequested: pct(66.7),
				IntegratedWithin3DaysCount: 1, IntegratedWithin3DaysPercentOfReceived: pct(50),
				IntegratedWithin8DaysCount: 0, IntegratedWithin8DaysPercentOfReceived: pct(0),
				NotIntegratedWithin8DaysTotal: 1, NotIntegratedWithin8DaysPercentOfReceived: pct(50),
				FailuresTotalCount: 1, FailuresTotalPercentOfRequested: pct(33.3),
			},
		},
		{
			name: "none received: null percentages of received",
			c:    mi.Counts{Requested: 1, TechnicalFailure: 1},
			want: mi.RequestedTransfers{
				RequestedCount: 1, ReceivedPercentOfRequested: pct(0),
				FailuresTotalCount: 1, FailuresTotalPercentOfRequested: pct(100),
			},
		},
		{
			name: "none requested: all null",
			c:    mi.Counts{},
			want: mi.RequestedTransfers{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := mi.RequestedTransfersOf(tt.c)
			assert.Equal(t, tt.want, got)
			assert.Equal(t, got.ReceivedCount,
				got.IntegratedWithin3DaysCount+got.IntegratedWithin8DaysCount+got.NotIntegratedWithin8DaysTotal)
		})
	}
}
