package mi

import "time"

// WithinThreeDays is the inclusive bound of the fastest integration band
// (§2.3): 3 days (259 200 s).
const WithinThreeDays = 3 * 24 * time.Hour

// Counts tallies classified transfers into the categories every monthly
// figure (§2.2, §2.3) is derived from. Counts of disjoint sets of transfers
// add up, so national, practice and Sub-ICB figures are all sums of the
// Counts of single transfers; percentages are computed from the sums.
type Counts struct {
	// Requested is every transfer, whatever its status.
	Requested int `json:"requested"`
	// Within3Days is Integrated on time with SLA ≤ 3 days.
	Within3Days int `json:"within3Days"`
	// Within8Days is Integrated on time with 3 days < SLA ≤ 8 days (a band,
	// not cumulative).
	Within8Days int `json:"within8Days"`
	// IntegratedLate is Process failure / Integrated late.
	IntegratedLate int `json:"integratedLate"`
	// TransferredNotIntegrated is Process failure / Transferred, not
	// integrated.
	TransferredNotIntegrated int `json:"transferredNotIntegrated"`
	// TechnicalFailure is status Technical failure.
	TechnicalFailure int `json:"technicalFailure"`
	// UnclassifiedFailure is status Unclassified failure.
	UnclassifiedFailure int `json:"unclassifiedFailure"`
}

// CountsOf is the contribution of one transfer.
func CountsOf(t Transfer) Counts { return countsOf(&t) }

func countsOf(t *Transfer) Counts {
	c := Counts{Requested: 1}
	switch t.Status {
	case StatusIntegratedOnTime:
		if t.SLADuration != nil && *t.SLADuration <= uint64(WithinThreeDays/time.Second) {
			c.Within3Days = 1
		} else {
			c.Within8Days = 1
		}
	case StatusProcessFailure:
		if t.FailureReason == ReasonIntegratedLate {
			c.IntegratedLate = 1
		} else {
			c.TransferredNotIntegrated = 1
		}
	case StatusTechnicalFailure:
		c.TechnicalFailure = 1
	case StatusUnclassifiedFailure:
		c.UnclassifiedFailure = 1
	}
	return c
}

// Add returns c + o.
func (c Counts) Add(o Counts) Counts {
	return Counts{
		Requested:                c.Requested + o.Requested,
		Within3Days:              c.Within3Days + o.Within3Days,
		Within8Days:              c.Within8Days + o.Within8Days,
		IntegratedLate:           c.IntegratedLate + o.IntegratedLate,
		TransferredNotIntegrated: c.TransferredNotIntegrated + o.TransferredNotIntegrated,
		TechnicalFailure:         c.TechnicalFailure + o.TechnicalFailure,
		UnclassifiedFailure:      c.UnclassifiedFailure + o.UnclassifiedFailure,
	}
}

// Sub returns c - o: taking back a contribution added earlier.
func (c Counts) Sub(o Counts) Counts {
	return Counts{
		Requested:                c.Requested - o.Requested,
		Within3Days:              c.Within3Days - o.Within3Days,
		Within8Days:              c.Within8Days - o.Within8Days,
		IntegratedLate:           c.IntegratedLate - o.IntegratedLate,
		TransferredNotIntegrated: c.TransferredNotIntegrated - o.TransferredNotIntegrated,
		TechnicalFailure:         c.TechnicalFailure - o.TechnicalFailure,
		UnclassifiedFailure:      c.UnclassifiedFailure - o.UnclassifiedFailure,
	}
}

// IntegratedOnTime is Within3Days + Within8Days.
func (c Counts) IntegratedOnTime() int { return c.Within3Days + c.Within8Days }

// Received is the transfers that reached the requesting practice: on time,
// late, and transferred but not integrated (§2.3).
func (c Counts) Received() int {
	return c.IntegratedOnTime() + c.IntegratedLate + c.TransferredNotIntegrated
}

// NotWithin8Days is integrated late plus transferred, not integrated: the
// paper copy requested (§2.3).
func (c Counts) NotWithin8Days() int { return c.IntegratedLate + c.TransferredNotIntegrated }

// Failures is technical plus unclassified failures (§2.3).
func (c Counts) Failures() int { return c.TechnicalFailure + c.UnclassifiedFailure }

// PaperFallback is every transfer not integrated on time (§2.2).
func (c Counts) PaperFallback() int { return c.Requested - c.IntegratedOnTime() }
