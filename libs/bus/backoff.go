package bus

import (
	"fmt"
	"math/rand/v2"
	"time"
)

// Backoff computes redelivery delays that double from Min up to Max.
type Backoff struct {
	Min, Max time.Duration
	// Jitter spreads each delay by up to ±Jitter of itself (0 to 1), so
	// that messages failing together do not retry together.
	Jitter float64
}

// DefaultBackoff: 1s, 2s, 4s … capped at 5 minutes, ±20%.
var DefaultBackoff = Backoff{Min: time.Second, Max: 5 * time.Minute, Jitter: 0.2}

// Delay is the wait before delivery attempt+1, after attempt deliveries
// (attempt ≥ 1).
func (b Backoff) Delay(attempt uint64) time.Duration {
	d := b.Min
	for i := uint64(1); i < attempt && d < b.Max; i++ {
		d *= 2
	}
	if d > b.Max {
		d = b.Max
	}
	if b.Jitter > 0 && d > 0 {
		spread := float64(d) * b.Jitter
		d += time.Duration((rand.Float64()*2 - 1) * spread)
	}
	return d
}

func (b Backoff) validate() error {
	if b.Min <= 0 || b.Max < b.Min || b.Jitter < 0 || b.Jitter > 1 {
		return fmt.Errorf("backoff %+v: need 0 < Min ≤ Max and 0 ≤ Jitter ≤ 1", b)
	}
	return nil
}
