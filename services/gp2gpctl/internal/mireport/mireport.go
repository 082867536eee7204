// Package mireport is gp2gpctl's "mi report" command: it imports NHS Spine
// GP2GP message logs (one CSV per UTC day, as the spine-exporter writes
// them), classifies the transfers requested in a window of days the way
// NHS England's MI pipeline does, attributes them to practices and Sub-ICB
// locations with ODS metadata, and prints the per-transfer records and the
// national and practice figures as one JSON document (mi.Report).
package mireport

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/nhsengland/gp2gp/libs/mi"
	"github.com/nhsengland/gp2gp/services/gp2gpctl/internal/cli"
)

// ErrUsage: the command line is wrong. What is wrong has been written to
// stderr already.
var ErrUsage = cli.ErrUsage

// DefaultCutoff is the cutoff of NHS England's dashboard figures (§1.2).
const DefaultCutoff = 14

// Config is what one report is built from.
type Config struct {
	// SpineDir holds the day files, YYYY-MM-DD_spine_messages.csv or
	// .csv.gz, at any depth.
	SpineDir string
	// MetadataFile is the ODS metadata (see mi.Metadata for its format).
	MetadataFile string
	// Start and End are the first and last UTC days (inclusive) whose
	// requests are reported; only their dates count.
	Start, End time.Time
	// Cutoff is in days: each conversation keeps the messages of Cutoff
	// days after its first; 0 means no cutoff. The files of the Cutoff
	// days after End are read too.
	Cutoff int
}

// Run runs "gp2gpctl mi report --spine-csv DIR --ods-metadata FILE
// --start YYYY-MM-DD --end YYYY-MM-DD [--cutoff DAYS]" with args after
// "report", writing the report to stdout and warnings to stderr.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	warn := func(msg string) { fmt.Fprintf(stderr, "gp2gpctl mi report: warning: %s\n", msg) }
	r, err := Build(ctx, cfg, time.Now().UTC(), warn)
	if err != nil {
		return err
	}
	return r.WriteJSON(stdout)
}

func parseFlags(args []string, stderr io.Writer) (Config, error) {
	fs := flag.NewFlagSet("mi report", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg Config
	fs.StringVar(&cfg.SpineDir, "spine-csv", "", "directory of Spine message-log CSVs, YYYY-MM-DD_spine_messages.csv[.gz] (searched recursively)")
	fs.StringVar(&cfg.MetadataFile, "ods-metadata", "", "ODS metadata JSON: practices with their ASIDs, Sub-ICB locations with their practices")
	date := func(dst *time.Time) func(string) error {
		return func(s string) error {
			d, err := time.Parse(dateLayout, s)
			if err != nil {
				return errors.New("want YYYY-MM-DD")
			}
			*dst = d
			return nil
		}
	}
	fs.Func("start", "first UTC day of requests to report, YYYY-MM-DD", date(&cfg.Start))
	fs.Func("end", "last UTC day of requests to report, YYYY-MM-DD (inclusive)", date(&cfg.End))
	fs.IntVar(&cfg.Cutoff, "cutoff", DefaultCutoff, "days of messages kept after a conversation's first; 0: no cutoff")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return Config{}, err
		}
		return Config{}, ErrUsage
	}
	var problem string
	switch {
	case fs.NArg() > 0:
		problem = fmt.Sprintf("unexpected argument %q", fs.Arg(0))
	case cfg.SpineDir == "":
		problem = "--spine-csv is required"
	case cfg.MetadataFile == "":
		problem = "--ods-metadata is required"
	case cfg.Start.IsZero() || cfg.End.IsZero():
		problem = "--start and --end are required"
	case cfg.End.Before(cfg.Start):
		problem = "--end is before --start"
	case cfg.Cutoff < 0:
		problem = "--cutoff must be 0 or more"
	}
	if problem != "" {
		fmt.Fprintf(stderr, "gp2gpctl mi report: %s (gp2gpctl help shows the usage)\n", problem)
		return Config{}, ErrUsage
	}
	return cfg, nil
}

// Build reads the metadata and the day files of cfg and returns the
// report, generated on generatedOn. Warnings (a missing overflow day,
// metadata oddities) go to warn.
func Build(ctx context.Context, cfg Config, generatedOn time.Time, warn func(string)) (mi.Report, error) {
	md, err := loadMetadata(cfg.MetadataFile)
	if err != nil {
		return mi.Report{}, err
	}
	for _, w := range md.Warnings() {
		warn(w)
	}
	start := cfg.Start.UTC().Truncate(24 * time.Hour)
	end := cfg.End.UTC().Truncate(24 * time.Hour)
	window := int(end.Sub(start)/(24*time.Hour)) + 1
	days := window + cfg.Cutoff
	dayName := func(i int) string { return start.AddDate(0, 0, i).Format(dateLayout) }
	first, last := dayName(0), dayName(days-1)
	files, err := findDayFiles(cfg.SpineDir, func(day string) bool { return day >= first && day <= last })
	if err != nil {
		return mi.Report{}, err
	}
	for i := range window {
		if _, ok := files[dayName(i)]; !ok {
			return mi.Report{}, fmt.Errorf("no Spine log for %s in %s (want %s_spine_messages.csv or .csv.gz)", dayName(i), cfg.SpineDir, dayName(i))
		}
	}

	var missing []string // overflow days
	for i := window; i < days; i++ {
		if _, ok := files[dayName(i)]; !ok {
			missing = append(missing, dayName(i))
		}
	}
	if len(missing) > 0 {
		warn(fmt.Sprintf("no Spine log for overflow day(s) %s: conversations requested from %s on are classified with less than the %d-day cutoff",
			strings.Join(missing, ", "), max(first, addDays(missing[0], -cfg.Cutoff)), cfg.Cutoff))
	}

	var toRead []dayFile
	for i := range days {
		if path, ok := files[dayName(i)]; ok {
			toRead = append(toRead, dayFile{day: i, path: path})
		}
	}
	// One goroutine parses the files, a few parts ahead; this one
	// assembles conversations; the classifiers classify the days they
	// complete.
	imp := newImporter(importerConfig{
		start: start, window: window, cutoffDays: cfg.Cutoff,
		workers: runtime.GOMAXPROCS(0), lookup: md.Lookup(),
	})
	defer imp.close()
	pf := prefetch(ctx, toRead)
	defer pf.stop()
	next := 0
	for i := range days {
		if next < len(toRead) && toRead[next].day == i {
			for first := true; ; first = false {
				p, ok := pf.next()
				if !ok { // only when ctx is done
					return mi.Report{}, ctx.Err()
				}
				if p.err != nil {
					return mi.Report{}, p.err
				}
				if first {
					imp.startDay(i, p.b, p.size)
				}
				imp.addBatch(i, p.b)
				pf.release(p.b)
				if p.last {
					break
				}
			}
			next++
		}
		imp.endOfDay(i)
	}
	if w := imp.lateRowsWarning(); w != "" {
		warn(w)
	}
	transfers := imp.finish()
	return mi.BuildReport(transfers, generatedOn), nil
}

// addDays returns the date n days after the YYYY-MM-DD date day.
func addDays(day string, n int) string {
	d, _ := time.Parse(dateLayout, day)
	return d.AddDate(0, 0, n).Format(dateLayout)
}

func loadMetadata(path string) (*mi.Metadata, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	md, err := mi.LoadMetadata(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return md, nil
}
