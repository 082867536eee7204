package chaos

import (
	"fmt"
	"io"
	"math"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/nhsengland/gp2gp/services/chaos/internal/proc"
)

// Report is what a run found.
type Report struct {
	Mode Mode
	Seed int64
	// Elapsed is from the first registration to the last transfer
	// finished (or the cap).
	Elapsed time.Duration

	// Transfers planned, of which Large; Started (registered), Completed
	// (INTEGRATED and COMPLETED), Failed (terminal otherwise), Stuck (not
	// terminal at the cap) and NotStarted (never registered).
	Transfers, Large, Started, Completed, Failed, Stuck, NotStarted int
	// Refused counts the transfers refused as scripted (RefuseEvery), of
	// ToRefuse planned.
	Refused, ToRefuse int
	// Reasons counts the failed transfers by their states and reason
	// codes.
	Reasons map[string]int
	// Kills counts the SIGKILLs injected during the load by target;
	// FinalRestarts the processes killed and started again once every
	// transfer had finished.
	Kills         map[string]int
	KillCount     int
	FinalRestarts int

	Latency    Latency
	Throughput float64 // completed transfers per second of Elapsed
	// Rate and SoakDuration are a soak's offered load.
	Rate         float64
	SoakDuration time.Duration

	// Documents verified (SHA-256 equal to the sent) and their bytes;
	// ExtractBytes the extracts received.
	Documents     int
	DocumentBytes int64
	ExtractBytes  int64

	// What the wire carried: messages in GP2GP_SPINE_IN and events in
	// GP2GP_MESSAGES, and by kind.
	WireMessages, MessageEvents                int
	Requests, Extracts, Continues, COPCs, Acks int

	DeadLetters, Poison int

	Processes []ProcessStats
	Flatness  []Flatness
	Checks    []Check
}

// Latency summarises the transfers' times from registration to both
// sides finished.
type Latency struct {
	N             int
	P50, P99, Max time.Duration
}

// ProcessStats is one process over the run.
type ProcessStats struct {
	Name    string
	Starts  int
	PeakKiB int64
	Exits   []proc.Exit
}

// Check is one pass/fail verdict, with what failed.
type Check struct {
	Name    string
	Failed  bool
	Details []string
	more    int
}

func (c *Check) fail(detail string) {
	c.Failed = true
	c.Details = append(c.Details, detail)
}

func (c *Check) truncate() {
	if len(c.Details) > maxDetails {
		c.more = len(c.Details) - maxDetails
		c.Details = c.Details[:maxDetails]
	}
}

// Passed reports whether every check passed.
func (r *Report) Passed() bool {
	return !slices.ContainsFunc(r.Checks, func(c Check) bool { return c.Failed })
}

func (r *Report) countWire(c *conversationWire) {
	r.Requests += c.count("ehr-request")
	r.Extracts += c.count("ehr-extract")
	r.Continues += c.count("continue")
	r.COPCs += c.count("copc")
	r.Acks += c.count("ack")
}

func percentiles(d []time.Duration) Latency {
	if len(d) == 0 {
		return Latency{}
	}
	slices.Sort(d)
	at := func(p float64) time.Duration {
		return d[min(len(d)-1, int(math.Ceil(p*float64(len(d))))-1)]
	}
	return Latency{N: len(d), P50: at(0.50), P99: at(0.99), Max: d[len(d)-1]}
}

// Print writes the summary table and the checks.
func (r *Report) Print(w io.Writer) {
	fmt.Fprintf(w, "\n%s summary (seed %d)\n\n", r.Mode, r.Seed)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	row := func(k, format string, args ...any) { fmt.Fprintf(tw, "  %s\t%s\n", k, fmt.Sprintf(format, args...)) }
	row("transfers", "%d planned (%d large, %d to be refused), %d started, %d completed, %d refused, %d failed, %d stuck, %d not started",
		r.Transfers, r.Large, r.ToRefuse, r.Started, r.Completed, r.Refused, r.Failed, r.Stuck, r.NotStarted)
	if r.ToRefuse > 0 {
		row("refused", "%d of the %d scripted (the record cannot be produced): requesting FAILED %s, sending REQUEST_REJECTED %s",
			r.Refused, r.ToRefuse, refusalCode, refusalCode)
	}
	if len(r.Reasons) == 0 {
		row("failures", "none unexpected")
	}
	for _, why := range sortedCounts(r.Reasons) {
		row("failures", "%d × %s", r.Reasons[why], why)
	}
	if r.Mode == ModeChaos {
		var parts []string
		for _, t := range targets() {
			parts = append(parts, fmt.Sprintf("%s %d", t, r.Kills[t]))
		}
		row("kills", "%d: %s", r.KillCount, strings.Join(parts, ", "))
		if r.FinalRestarts > 0 {
			row("final restart", "%d processes killed and restarted after the last transfer finished", r.FinalRestarts)
		}
	}
	if r.Mode == ModeSoak {
		row("offered", "%.1f registrations/s for %s", r.Rate, r.SoakDuration)
	}
	row("elapsed", "%s (%.1f transfers/s completed)", r.Elapsed.Round(100*time.Millisecond), r.Throughput)
	row("latency", "registration to both sides finished: p50 %s, p99 %s, max %s (%d transfers)",
		r.Latency.P50.Round(time.Millisecond), r.Latency.P99.Round(time.Millisecond), r.Latency.Max.Round(time.Millisecond), r.Latency.N)
	row("bytes verified", "%d documents, %s (SHA-256 equal to the sent); extracts %s", r.Documents, size(r.DocumentBytes), size(r.ExtractBytes))
	row("wire", "%d messages: %d EHR Requests, %d extracts, %d Continues, %d COPCs, %d acks; %d message events",
		r.WireMessages, r.Requests, r.Extracts, r.Continues, r.COPCs, r.Acks, r.MessageEvents)
	row("dead letters", "%d (poison injected: %d)", r.DeadLetters, r.Poison)
	for _, p := range r.Processes {
		row("peak RSS "+p.Name, "%s over %d starts", size(p.PeakKiB<<10), p.Starts)
	}
	for _, f := range r.Flatness {
		row("soak "+f.Name, "%s", f.String())
	}
	tw.Flush()
	fmt.Fprintln(w)
	for _, c := range r.Checks {
		verdict := "PASS"
		if c.Failed {
			verdict = "FAIL"
		}
		fmt.Fprintf(w, "  %s  %s\n", verdict, c.Name)
		for _, d := range c.Details {
			fmt.Fprintf(w, "          %s\n", d)
		}
		if c.more > 0 {
			fmt.Fprintf(w, "          … and %d more\n", c.more)
		}
	}
	if r.Passed() {
		fmt.Fprintf(w, "\n%s: every check passed\n", r.Mode)
	} else {
		fmt.Fprintf(w, "\n%s: CHECKS FAILED\n", r.Mode)
	}
}

func sortedCounts(m map[string]int) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return m[keys[i]] > m[keys[j]] || m[keys[i]] == m[keys[j]] && keys[i] < keys[j] })
	return keys
}

func size(b int64) string {
	switch {
	case b >= 1<<30:
		return fmt.Sprintf("%.2f GiB", float64(b)/(1<<30))
	case b >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20))
	case b >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(b)/(1<<10))
	}
	return fmt.Sprintf("%d B", b)
}
