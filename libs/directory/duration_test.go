package directory_test

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nhsengland/gp2gp/libs/directory"
)

func TestParseISODuration(t *testing.T) {
	valid := []struct {
		in   string
		want time.Duration
	}{
		{"PT4H10M", 4*time.Hour + 10*time.Minute},
		{"P1D", 24 * time.Hour},
		{"PT30S", 30 * time.Second},
		{"PT2H", 2 * time.Hour},
		{"PT1M", time.Minute},
		{"P1DT2H3M4S", 26*time.Hour + 3*time.Minute + 4*time.Second},
		{"P2DT30M", 48*time.Hour + 30*time.Minute},
		{"PT0S", 0},
		{"P0D", 0},
		{"PT0.5S", 500 * time.Millisecond},
		{"PT1,25S", 1250 * time.Millisecond},
		{"PT1.000000001S", time.Second + time.Nanosecond},
		{"PT90M", 90 * time.Minute},
		{"PT36H", 36 * time.Hour},
		{"PT0004H", 4 * time.Hour},
		{"P106751D", 106751 * 24 * time.Hour},
	}
	for _, tc := range valid {
		t.Run(tc.in, func(t *testing.T) {
			got, err := directory.ParseISODuration(tc.in)
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}

	invalid := []struct {
		in, reason string
	}{
		{"", "empty"},
		{"P", "no components after P"},
		{"PT", "no hours, minutes or seconds after T"},
		{"P1DT", "no hours, minutes or seconds after T"},
		{"4H", "does not start with P"},
		{"T4H", "does not start with P"},
		{"pt4h", "does not start with P"},
		{"PT4h", `unexpected 'h'`},
		{"-PT4H", "signed durations are not supported"},
		{"+PT4H", "signed durations are not supported"},
		{"P1Y", "years are not supported"},
		{"P1M", "months are not supported"},
		{"P1Y2M3DT4H", "years are not supported"},
		{"P2W", "weeks are not supported"},
		{"PT1D", "days must come before T"},
		{"P4H", "H must come after T"},
		{"P30S", "S must come after T"},
		{"PTH", "H has no number before it"},
		{"PT4", `number "4" has no designator after it`},
		{"P1", `number "1" has no designator after it`},
		{"PT10M4H", "H is out of order or repeated"},
		{"PT1H1H", "H is out of order or repeated"},
		{"P1D1D", "D is out of order or repeated"},
		{"PT1HT1M", "repeats T"},
		{"PT1.5H", "only seconds may have a fraction"},
		{"PT1.5M", "only seconds may have a fraction"},
		{"PT1.S", "fraction of S has no digits"},
		{"PT.5S", "S has no number before it"},
		{"PT0.0000000001S", "more than 9 fractional digits"},
		{"PT1S ", `unexpected ' '`},
		{" PT1S", "does not start with P"},
		{"PT1X", `unexpected 'X'`},
		{"P99999999999999999999D", "out of range"},
		{"P106752D", "out of range"},
		{"PT2562047H47M16.854775808S", "out of range"},
	}
	for _, tc := range invalid {
		t.Run("invalid "+tc.in, func(t *testing.T) {
			got, err := directory.ParseISODuration(tc.in)
			require.ErrorIs(t, err, directory.ErrInvalidDuration)
			assert.Contains(t, err.Error(), tc.reason)
			assert.Contains(t, err.Error(), `"`+tc.in+`"`, "the error quotes the input")
			assert.Zero(t, got)
		})
	}

	t.Run("largest duration", func(t *testing.T) {
		got, err := directory.ParseISODuration("PT2562047H47M16.854775807S")
		require.NoError(t, err)
		assert.Equal(t, time.Duration(math.MaxInt64), got)
	})
}

func TestExtractTimeout(t *testing.T) {
	pd := func(d time.Duration) directory.Endpoint { return directory.Endpoint{PersistDuration: d} }
	const h4m10 = 4*time.Hour + 10*time.Minute
	tests := []struct {
		name       string
		uk06, copc time.Duration
		parts      int
		a, b       float64
		want       time.Duration
	}{
		{"defaults, no attachments", h4m10, h4m10, 0, 1, 1, h4m10},
		{"defaults, one part", h4m10, h4m10, 1, 1, 1, 2 * h4m10},
		{"defaults, three parts", h4m10, h4m10, 3, directory.DefaultExtractWeighting, directory.DefaultCOPCWeighting, 4 * h4m10},
		{"different persist durations", 2 * time.Hour, 30 * time.Minute, 4, 1, 1, 4 * time.Hour},
		{"weighted", time.Hour, 10 * time.Minute, 3, 2, 0.5, 2*time.Hour + 15*time.Minute},
		{"fractional weighting rounds to the nanosecond", 3 * time.Nanosecond, 0, 0, 0.5, 1, 2 * time.Nanosecond},
		{"zero B ignores parts", time.Hour, time.Hour, 100, 1, 0, time.Hour},
		{"unknown persist durations give zero", 0, 0, 5, 1, 1, 0},
		{"negative parts count as zero", time.Hour, time.Hour, -3, 1, 1, time.Hour},
		{"negative weighting counts as zero", time.Hour, time.Hour, 2, -1, 1, 2 * time.Hour},
		{"NaN weighting counts as zero", time.Hour, time.Hour, 2, 1, math.NaN(), time.Hour},
		{"overflow saturates", 24 * time.Hour, 24 * time.Hour, math.MaxInt32, 1, 1e9, math.MaxInt64},
		{"infinite weighting saturates", time.Hour, 0, 0, math.Inf(1), 1, math.MaxInt64},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, directory.ExtractTimeout(pd(tc.uk06), pd(tc.copc), tc.parts, tc.a, tc.b))
		})
	}
}
