package directory

import (
	"math"
	"time"
)

// The default weightings of the requester's timeout formula (the NIA
// adaptor's TIMEOUT_EHR_EXTRACT_WEIGHTING and TIMEOUT_COPC_WEIGHTING).
const (
	// DefaultExtractWeighting is the default A of ExtractTimeout.
	DefaultExtractWeighting = 1.0
	// DefaultCOPCWeighting is the default B of ExtractTimeout.
	DefaultCOPCWeighting = 1.0
)

// ExtractTimeout is the requester's overall timeout for a transfer:
//
//	a × uk06.PersistDuration + b × copcParts × copc.PersistDuration
//
// where uk06 is the sending practice's endpoint for RCMR_IN030000UK06, copc
// its endpoint for COPC_IN000001UK01 and copcParts the number of COPC
// parts (attachments and fragments) of the transfer. Pass
// DefaultExtractWeighting and DefaultCOPCWeighting for a and b unless
// configured otherwise. Negative or NaN weightings and a negative part
// count count as zero; a result beyond time.Duration saturates at its
// maximum. The result is rounded to the nanosecond.
func ExtractTimeout(uk06 Endpoint, copc Endpoint, copcParts int, a, b float64) time.Duration {
	a, b = nonNegative(a), nonNegative(b)
	parts := float64(max(copcParts, 0))
	total := a*float64(uk06.PersistDuration) + b*parts*float64(copc.PersistDuration)
	if total >= math.MaxInt64 || math.IsInf(total, 1) {
		return math.MaxInt64
	}
	if total <= 0 || math.IsNaN(total) {
		return 0
	}
	return time.Duration(math.Round(total))
}

// nonNegative maps negative and NaN weightings to zero.
func nonNegative(f float64) float64 {
	if f > 0 {
		return f
	}
	return 0
}
