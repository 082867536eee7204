package mi_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/nhsengland/gp2gp/libs/mi"
)

func slaPtr(s uint64) *uint64 { return &s }

func TestCountsOf(t *testing.T) {
	tests := []struct {
		name   string
		status mi.Status
		reason mi.FailureReason
		sla    *uint64
		want   mi.Counts
	}{
		{"on time within 3 days", mi.StatusIntegratedOnTime, mi.ReasonNone, slaPtr(60), mi.Counts{Requested: 1, Within3Days: 1}},
		{"on time at exactly 3 days", mi.StatusIntegratedOnTime, mi.ReasonNone, slaPtr(259200), mi.Counts{Requested: 1, Within3Days: 1}},
		{"on time a second over 3 days", mi.StatusIntegratedOnTime, mi.ReasonNone, slaPtr(259201), mi.Counts{Requested: 1, Within8Days: 1}},
		{"on time at exactly 8 days", mi.StatusIntegratedOnTime, mi.ReasonNone, slaPtr(691200), mi.Counts{Requested: 1, Within8Days: 1}},
		{"integrated late", mi.StatusProcessFailure, mi.ReasonIntegratedLate, slaPtr(691201), mi.Counts{Requested: 1, IntegratedLate: 1}},
		{"transferred, not integrated", mi.StatusProcessFailure, mi.ReasonTransferredNotIntegrated, nil, mi.Counts{Requested: 1, TransferredNotIntegrated: 1}},
		{"technical failure", mi.StatusTechnicalFailure, mi.ReasonFinalError, slaPtr(5), mi.Counts{Requested: 1, TechnicalFailure: 1}},
		{"technical failure, no ack", mi.StatusTechnicalFailure, mi.ReasonRequestNotAcknowledged, nil, mi.Counts{Requested: 1, TechnicalFailure: 1}},
		{"unclassified failure", mi.StatusUnclassifiedFailure, mi.ReasonAmbiguousCOPCs, nil, mi.Counts{Requested: 1, UnclassifiedFailure: 1}},
		{"unclassified with error", mi.StatusUnclassifiedFailure, mi.ReasonTransferredNotIntegratedWithError, nil, mi.Counts{Requested: 1, UnclassifiedFailure: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := mi.CountsOf(mi.Transfer{Status: tt.status, FailureReason: tt.reason, SLADuration: tt.sla})
			assert.Equal(t, tt.want, c)
			assert.Equal(t, c.Requested, c.Received()+c.Failures(), "every transfer is received or failed")
			assert.Equal(t, c.Received(), c.Within3Days+c.Within8Days+c.NotWithin8Days(), "band identity")
		})
	}
}

// TestCountsOfClassified runs the SLA boundaries through the classifier:
// the 3-day bound (259 200 s) is in the within-3 band, the 8-day bound
// (691 200 s) on time, one second more late.
func TestCountsOfClassified(t *testing.T) {
	tests := []struct {
		sla  time.Duration
		want mi.Counts
	}{
		{259200 * time.Second, mi.Counts{Requested: 1, Within3Days: 1}},
		{259201 * time.Second, mi.Counts{Requested: 1, Within8Days: 1}},
		{691200 * time.Second, mi.Counts{Requested: 1, Within8Days: 1}},
		{691201 * time.Second, mi.Counts{Requested: 1, IntegratedLate: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.sla.String(), func(t *testing.T) {
			c := newConv()
			c.ack(c.request(), time.Minute, nil)
			c.ack(c.extract(time.Hour), time.Hour+tt.sla, nil)
			assert.Equal(t, tt.want, mi.CountsOf(classifyOne(t, c, 14*day)))
		})
	}
}

func TestCountsArithmetic(t *testing.T) {
	a := mi.Counts{Requested: 10, Within3Days: 3, Within8Days: 2, IntegratedLate: 1, TransferredNotIntegrated: 1, TechnicalFailure: 2, UnclassifiedFailure: 1}
	b := mi.Counts{Requested: 4, Within3Days: 1, Within8Days: 1, IntegratedLate: 1, TransferredNotIntegrated: 0, TechnicalFailure: 1, UnclassifiedFailure: 0}
	sum := a.Add(b)
	assert.Equal(t, mi.Counts{Requested: 14, Within3Days: 4, Within8Days: 3, IntegratedLate: 2, TransferredNotIntegrated: 1, TechnicalFailure: 3, UnclassifiedFailure: 1}, sum)
	assert.Equal(t, a, sum.Sub(b))
	assert.Equal(t, mi.Counts{}, a.Sub(a))
	assert.Equal(t, 5, a.IntegratedOnTime())
	assert.Equal(t, 7, a.Received())
	assert.Equal(t, 2, a.NotWithin8Days())
	assert.Equal(t, 3, a.Failures())
	assert.Equal(t, 5, a.PaperFallback())
}
