package chaos

import (
	"fmt"
)

// flatCriterion is how a soak decides that a process's memory and
// goroutines stay flat.
const flatCriterion = "after a warm-up of a sixth of the soak, the mean of the last third of the samples " +
	"at most 1.25 × that of the first third + 16 MiB RSS, + 10 goroutines"

// Flatness compares the first and the last third of one process's samples
// over the soak's load.
type Flatness struct {
	Name string
	// Samples in the compared window.
	Samples int
	// Mean RSS (KiB) and goroutines (-1: not measured) of the first and
	// last thirds; Max the highest RSS sample.
	FirstRSS, LastRSS, MaxRSS int64
	FirstG, LastG             float64
	Flat                      bool
}

func (f Flatness) String() string {
	verdict := "flat"
	switch {
	case f.Name == Broker && !f.Flat:
		verdict = "grows with its streams (not judged)"
	case !f.Flat:
		verdict = "GROWING"
	}
	s := fmt.Sprintf("RSS %s → %s (max %s)", size(f.FirstRSS<<10), size(f.LastRSS<<10), size(f.MaxRSS<<10))
	if f.FirstG >= 0 {
		s += fmt.Sprintf(", goroutines %.0f → %.0f", f.FirstG, f.LastG)
	}
	return fmt.Sprintf("%s: %s over %d samples", verdict, s, f.Samples)
}

// flatness judges every process over the soak's load window, after its
// warm-up.
func (r *run) flatness(smp *sampler) []Flatness {
	warm := r.loadStart.Add(r.cfg.SoakDuration / 6)
	var out []Flatness
	for _, name := range targets() {
		pts := smp.window(name, warm, r.loadEnd)
		f := Flatness{Name: name, Samples: len(pts), FirstG: -1, LastG: -1, Flat: true}
		third := len(pts) / 3
		if third == 0 {
			out = append(out, f)
			continue
		}
		first, last := pts[:third], pts[len(pts)-third:]
		f.FirstRSS, f.LastRSS = meanRSS(first), meanRSS(last)
		for _, p := range pts {
			f.MaxRSS = max(f.MaxRSS, p.RSSKiB)
		}
		f.FirstG, f.LastG = meanGoroutines(first), meanGoroutines(last)
		f.Flat = float64(f.LastRSS) <= 1.25*float64(f.FirstRSS)+16<<10
		if f.FirstG >= 0 && f.LastG >= 0 {
			f.Flat = f.Flat && f.LastG <= 1.25*f.FirstG+10
		}
		out = append(out, f)
	}
	return out
}

func meanRSS(pts []point) int64 {
	var sum int64
	for _, p := range pts {
		sum += p.RSSKiB
	}
	return sum / int64(len(pts))
}

// meanGoroutines is the mean of the samples that have a goroutine count;
// -1 when none has.
func meanGoroutines(pts []point) float64 {
	var sum, n float64
	for _, p := range pts {
		if p.Goroutines >= 0 {
			sum += float64(p.Goroutines)
			n++
		}
	}
	if n == 0 {
		return -1
	}
	return sum / n
}
