package mi

import (
	"math"
	"testing"
	"time"
)

// FuzzCutoffLimit checks what conversation relies on to drop the events
// after the cutoff: that e.Sub(start) > cutoff is e.After(start.Add(cutoff))
// for any cutoff above 0 and below the longest Duration, with or without
// monotonic clock readings.
func FuzzCutoffLimit(f *testing.F) {
	f.Add(int64(0), int64(0), int64(86400), int64(5), int64(14*24*time.Hour))
	f.Add(int64(math.MinInt64), int64(0), int64(math.MaxInt64), int64(5), int64(1000))
	f.Fuzz(func(t *testing.T, s1, n1, s2, n2, d int64) {
		if d <= 0 || d == math.MaxInt64 {
			return
		}
		cutoff := time.Duration(d)
		now := time.Now()
		for _, pair := range [][2]time.Time{
			{time.Unix(s1, n1), time.Unix(s2, n2)},
			{now.Add(time.Duration(n1)), now.Add(time.Duration(n2))}, // monotonic
			{now.Add(time.Duration(n1)), time.Unix(s2, n2)},
		} {
			start, e := pair[0], pair[1]
			if (e.Sub(start) > cutoff) != e.After(start.Add(cutoff)) {
				t.Fatalf("start %v, event %v, cutoff %v: Sub %v", start, e, cutoff, e.Sub(start))
			}
		}
	})
}
