package mi

import (
	"math"
	"time"
)

// The monthly figures, in the JSON shapes of NHS England's
// nationalMetrics.json and practiceMetrics.json (v12, §2.2 and §2.3).
// Percentages are pointers: null when the denominator is 0.

// CountPercent is a count and its percentage of the month's transfers.
type CountPercent struct {
	TransferCount      int      `json:"transferCount"`
	TransferPercentage *float64 `json:"transferPercentage"`
}

// ProcessFailure splits the process failures of a month.
type ProcessFailure struct {
	IntegratedLate           CountPercent `json:"integratedLate"`
	TransferredNotIntegrated CountPercent `json:"transferredNotIntegrated"`
}

// PaperFallback is every transfer of a month not integrated on time.
type PaperFallback struct {
	TransferCount       int            `json:"transferCount"`
	TransferPercentage  *float64       `json:"transferPercentage"`
	TechnicalFailure    CountPercent   `json:"technicalFailure"`
	ProcessFailure      ProcessFailure `json:"processFailure"`
	UnclassifiedFailure CountPercent   `json:"unclassifiedFailure"`
}

// NationalMonth is the national figures of one month (§2.2). Percentages
// are of TransferCount, rounded to 2 decimal places.
type NationalMonth struct {
	Year             int           `json:"year"`
	Month            int           `json:"month"`
	TransferCount    int           `json:"transferCount"`
	IntegratedOnTime CountPercent  `json:"integratedOnTime"`
	PaperFallback    PaperFallback `json:"paperFallback"`
}

// RequestedTransfers is one practice's figures for one month (§2.3).
// Percentages are rounded to 1 decimal place.
type RequestedTransfers struct {
	RequestedCount                            int      `json:"requestedCount"`
	ReceivedCount                             int      `json:"receivedCount"`
	ReceivedPercentOfRequested                *float64 `json:"receivedPercentOfRequested"`
	IntegratedWithin3DaysCount                int      `json:"integratedWithin3DaysCount"`
	IntegratedWithin3DaysPercentOfReceived    *float64 `json:"integratedWithin3DaysPercentOfReceived"`
	IntegratedWithin8DaysCount                int      `json:"integratedWithin8DaysCount"`
	IntegratedWithin8DaysPercentOfReceived    *float64 `json:"integratedWithin8DaysPercentOfReceived"`
	NotIntegratedWithin8DaysTotal             int      `json:"notIntegratedWithin8DaysTotal"`
	NotIntegratedWithin8DaysPercentOfReceived *float64 `json:"notIntegratedWithin8DaysPercentOfReceived"`
	FailuresTotalCount                        int      `json:"failuresTotalCount"`
	FailuresTotalPercentOfRequested           *float64 `json:"failuresTotalPercentOfRequested"`
}

// PracticeMonth is a practice's figures for one month.
type PracticeMonth struct {
	Year               int                `json:"year"`
	Month              int                `json:"month"`
	RequestedTransfers RequestedTransfers `json:"requestedTransfers"`
}

// PracticeMetrics is one requesting practice with its months, most recent
// first. Name and Sub-ICB location come from its latest transfer.
type PracticeMetrics struct {
	ODSCode      string          `json:"odsCode"`
	Name         string          `json:"name"`
	SICBLODSCode string          `json:"sicblOdsCode"`
	SICBLName    string          `json:"sicblName"`
	Metrics      []PracticeMonth `json:"metrics"`
}

// SICBL is a Sub-ICB location and the ODS codes of its practices that
// have figures.
type SICBL struct {
	ODSCode   string   `json:"odsCode"`
	Name      string   `json:"name"`
	Practices []string `json:"practices"`
}

// Report is the whole of an MI run: every classified transfer, the
// national figures per month and the practice figures per month.
type Report struct {
	GeneratedOn time.Time         `json:"generatedOn"`
	Transfers   []Transfer        `json:"transfers"`
	National    []NationalMonth   `json:"national"`
	Practices   []PracticeMetrics `json:"practices"`
	SICBLs      []SICBL           `json:"sicbls"`
}

// NationalOf is the national figures of month m from its counts (§2.2).
func NationalOf(m Month, c Counts) NationalMonth {
	total := c.Requested
	pct := func(n int) CountPercent {
		return CountPercent{TransferCount: n, TransferPercentage: percent(n, total, 2)}
	}
	return NationalMonth{
		Year: m.Year, Month: int(m.Month), TransferCount: total,
		IntegratedOnTime: pct(c.IntegratedOnTime()),
		PaperFallback: PaperFallback{
			TransferCount: c.PaperFallback(), TransferPercentage: percent(c.PaperFallback(), total, 2),
			TechnicalFailure: pct(c.TechnicalFailure),
			ProcessFailure: ProcessFailure{
				IntegratedLate:           pct(c.IntegratedLate),
				TransferredNotIntegrated: pct(c.TransferredNotIntegrated),
			},
			UnclassifiedFailure: pct(c.UnclassifiedFailure),
		},
	}
}

// RequestedTransfersOf is a practice's figures for a month from its counts
// (§2.3).
func RequestedTransfersOf(c Counts) RequestedTransfers {
	received := c.Received()
	return RequestedTransfers{
		RequestedCount:                            c.Requested,
		ReceivedCount:                             received,
		ReceivedPercentOfRequested:                percent(received, c.Requested, 1),
		IntegratedWithin3DaysCount:                c.Within3Days,
		IntegratedWithin3DaysPercentOfReceived:    percent(c.Within3Days, received, 1),
		IntegratedWithin8DaysCount:                c.Within8Days,
		IntegratedWithin8DaysPercentOfReceived:    percent(c.Within8Days, received, 1),
		NotIntegratedWithin8DaysTotal:             c.NotWithin8Days(),
		NotIntegratedWithin8DaysPercentOfReceived: percent(c.NotWithin8Days(), received, 1),
		FailuresTotalCount:                        c.Failures(),
		FailuresTotalPercentOfRequested:           percent(c.Failures(), c.Requested, 1),
	}
}

// percent is n/of × 100 rounded half away from zero to places decimals,
// or nil when of is 0.
func percent(n, of, places int) *float64 {
	if of == 0 {
		return nil
	}
	scale := math.Pow(10, float64(places))
	// Work in integers where possible so 0.5 boundaries round exactly:
	// n*100*scale/of, rounded half up (all operands are non-negative).
	num := int64(n) * 100 * int64(scale)
	q, r := num/int64(of), num%int64(of)
	if 2*r >= int64(of) {
		q++
	}
	v := float64(q) / scale
	return &v
}
