package chaos

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Mode is what a run does.
type Mode string

// The modes.
const (
	// ModeChaos drives a fixed number of transfers while killing and
	// restarting random processes, the broker included.
	ModeChaos Mode = "chaos"
	// ModeSoak drives transfers at a steady rate for a while, killing
	// nothing, and watches memory and goroutines.
	ModeSoak Mode = "soak"
)

// Environment variables read by Load, each the default of the flag named
// after it (CHAOS_TRANSFERS: -transfers).
const (
	EnvTransfers      = "CHAOS_TRANSFERS"
	EnvKills          = "CHAOS_KILLS"
	EnvDuration       = "CHAOS_DURATION"
	EnvSeed           = "CHAOS_SEED"
	EnvLargeEvery     = "CHAOS_LARGE_EVERY"
	EnvRefuseEvery    = "CHAOS_REFUSE_EVERY"
	EnvTargets        = "CHAOS_TARGETS"
	EnvLargeSize      = "CHAOS_LARGE_SIZE"
	EnvPoison         = "CHAOS_POISON"
	EnvKeep           = "CHAOS_KEEP"
	EnvSoakDuration   = "SOAK_DURATION"
	EnvSoakRate       = "SOAK_RATE"
	EnvSplitThreshold = "CHAOS_SPLIT_THRESHOLD"
)

// Config configures a run. Defaults finish a chaos run in about two to
// three minutes, and a soak in about four, on a 2-core machine once the
// binaries are built.
type Config struct {
	Mode Mode
	// Transfers is how many transfers a chaos run starts. A soak starts
	// Rate × SoakDuration.
	Transfers int
	// Kills is how many SIGKILLs a chaos run injects (0 in a soak), each
	// at one of Targets (default: the broker and every service).
	Kills   int
	Targets []string
	// Duration caps the whole run once the processes are up: load, kills
	// and the wait for every transfer to finish. What is not finished by
	// then is stuck.
	Duration time.Duration
	// LoadWindow is how long a chaos run spreads its registrations over
	// (0: a third of Duration); the kills land in it and a sixth of
	// Duration after it.
	LoadWindow time.Duration
	// SoakDuration is how long a soak registers patients; Rate how many a
	// second.
	SoakDuration time.Duration
	Rate         float64
	// LargeEvery makes every LargeEvery-th transfer a large record (0:
	// none): one document of LargeSize bytes, over the split threshold,
	// so it travels as COPC fragments after the Continue.
	LargeEvery int
	LargeSize  int64
	// RefuseEvery makes every RefuseEvery-th transfer (counted from the
	// middle, so as not to be a large one when both are 5 or 10) one whose
	// record the sending practice's system cannot produce: the sender
	// refuses the request with 10, so the requesting side ends FAILED and
	// the sending side REQUEST_REJECTED, both with 10. 0: none.
	RefuseEvery int
	// SplitThreshold is the sender's GP2GP_SPLIT_THRESHOLD (0: its
	// default, 4,500,000).
	SplitThreshold int
	// Poison is how many poison messages are injected (registrations that
	// must be dead-lettered).
	Poison int
	// Seed seeds the choice of kill times, targets and downtimes (0: from
	// the clock). The report prints it, so a run can be repeated.
	Seed int64
	// Root is the repository root (the directory holding go.work); empty:
	// found from the working directory upwards.
	Root string
	// WorkDir holds the binaries, the broker's store and the logs; empty:
	// a temporary directory, removed after a run that passed unless Keep.
	WorkDir string
	Keep    bool
	// Out receives progress and the report (default standard output).
	Out io.Writer
}

// Defaults of the chaos and soak runs.
const (
	DefaultTransfers    = 60
	DefaultKills        = 12
	DefaultDuration     = 150 * time.Second
	DefaultSoakDuration = 3 * time.Minute
	DefaultSoakRate     = 10
	DefaultLargeEvery   = 5
	DefaultRefuseEvery  = 10
	DefaultLargeSize    = 4 << 20
	DefaultPoison       = 3
)

// DefaultConfig is the default configuration of mode.
func DefaultConfig(mode Mode) Config {
	c := Config{
		Mode: mode, Transfers: DefaultTransfers, Kills: DefaultKills, Duration: DefaultDuration,
		SoakDuration: DefaultSoakDuration, Rate: DefaultSoakRate, LargeEvery: DefaultLargeEvery,
		RefuseEvery: DefaultRefuseEvery,
		LargeSize:   DefaultLargeSize, Poison: DefaultPoison, Out: os.Stdout,
	}
	if mode == ModeSoak {
		c.Kills = 0
		// One record in twenty large: a 1 MiB document sent as a fragment
		// index and three fragments (the split threshold lowered to
		// 500,000), so the large path runs throughout at a volume this
		// machine's synced store sustains alongside the small records.
		c.LargeEvery, c.LargeSize, c.SplitThreshold = 20, 1<<20, 500_000
		c.RefuseEvery = 0
		c.Duration = c.SoakDuration + soakDrain
	}
	return c
}

// soakDrain is how long a soak may take, after its load, for the last
// transfers to finish.
const soakDrain = 90 * time.Second

// Validate reports a configuration that cannot run.
func (c Config) Validate() error {
	var errs []error
	switch c.Mode {
	case ModeChaos:
		if c.Transfers < 1 {
			errs = append(errs, fmt.Errorf("transfers %d: want at least 1", c.Transfers))
		}
		if c.Kills < 0 {
			errs = append(errs, fmt.Errorf("kills %d: negative", c.Kills))
		}
	case ModeSoak:
		if c.SoakDuration <= 0 || c.Rate <= 0 {
			errs = append(errs, fmt.Errorf("soak duration %s and rate %g: both must be positive", c.SoakDuration, c.Rate))
		}
	default:
		errs = append(errs, fmt.Errorf("mode %q: want chaos or soak", c.Mode))
	}
	if c.LoadWindow < 0 || c.LoadWindow >= c.Duration {
		errs = append(errs, fmt.Errorf("load window %s: want 0 (a third of the duration) or less than the duration %s", c.LoadWindow, c.Duration))
	}
	if c.Duration <= 0 {
		errs = append(errs, fmt.Errorf("duration %s: must be positive", c.Duration))
	}
	for _, t := range c.Targets {
		if !slices.Contains(targets(), t) {
			errs = append(errs, fmt.Errorf("target %q: want some of %s", t, strings.Join(targets(), ", ")))
		}
	}
	if c.RefuseEvery < 0 {
		errs = append(errs, fmt.Errorf("refuse every %d: negative", c.RefuseEvery))
	}
	if c.LargeEvery < 0 || c.LargeSize < 1 || c.LargeSize > 1<<30 {
		errs = append(errs, fmt.Errorf("large every %d, size %d: want every ≥ 0 and a size of 1 byte to 1 GiB", c.LargeEvery, c.LargeSize))
	}
	if c.Poison < 0 || c.Poison > 100 {
		errs = append(errs, fmt.Errorf("poison %d: want 0 to 100", c.Poison))
	}
	if c.SplitThreshold < 0 {
		errs = append(errs, fmt.Errorf("split threshold %d: negative", c.SplitThreshold))
	}
	if c.Out == nil {
		errs = append(errs, errors.New("no output"))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("chaos: invalid configuration: %w", err)
	}
	return nil
}

// Load reads the configuration of a run from args (the command line
// without the program name: [chaos|soak] [flags]), with defaults from the
// environment through lookup. It returns flag.ErrHelp for -h.
func Load(args []string, lookup func(string) (string, bool), usage io.Writer) (Config, error) {
	mode := ModeChaos
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		mode, args = Mode(args[0]), args[1:]
	}
	c := DefaultConfig(mode)
	var errs []error
	env := func(name string, parse func(string) error) {
		if v, ok := lookup(name); ok && strings.TrimSpace(v) != "" {
			if err := parse(strings.TrimSpace(v)); err != nil {
				errs = append(errs, fmt.Errorf("%s=%q: %w", name, v, err))
			}
		}
	}
	env(EnvTransfers, intInto(&c.Transfers))
	env(EnvKills, intInto(&c.Kills))
	env(EnvDuration, durationInto(&c.Duration))
	env(EnvSoakDuration, durationInto(&c.SoakDuration))
	env(EnvSoakRate, func(v string) (err error) { c.Rate, err = strconv.ParseFloat(v, 64); return err })
	env(EnvSeed, func(v string) (err error) { c.Seed, err = strconv.ParseInt(v, 10, 64); return err })
	env(EnvLargeEvery, intInto(&c.LargeEvery))
	env(EnvRefuseEvery, intInto(&c.RefuseEvery))
	env(EnvTargets, func(v string) error { c.Targets = splitList(v); return nil })
	env(EnvLargeSize, func(v string) (err error) { c.LargeSize, err = strconv.ParseInt(v, 10, 64); return err })
	env(EnvPoison, intInto(&c.Poison))
	env(EnvSplitThreshold, intInto(&c.SplitThreshold))
	env(EnvKeep, func(v string) (err error) { c.Keep, err = strconv.ParseBool(v); return err })
	if err := errors.Join(errs...); err != nil {
		return Config{}, fmt.Errorf("chaos: %w", err)
	}

	fs := flag.NewFlagSet("chaos "+string(mode), flag.ContinueOnError)
	fs.SetOutput(usage)
	fs.IntVar(&c.Transfers, "transfers", c.Transfers, "chaos: transfers to start ("+EnvTransfers+")")
	fs.IntVar(&c.Kills, "kills", c.Kills, "chaos: SIGKILLs to inject ("+EnvKills+")")
	fs.Func("targets", "chaos: comma-separated processes to kill, default all: "+strings.Join(targets(), ",")+" ("+EnvTargets+")",
		func(v string) error { c.Targets = splitList(v); return nil })
	fs.DurationVar(&c.Duration, "duration", c.Duration, "cap on the run once everything is up; unfinished transfers are stuck ("+EnvDuration+")")
	fs.DurationVar(&c.SoakDuration, "soak-duration", c.SoakDuration, "soak: how long to register patients ("+EnvSoakDuration+")")
	fs.Float64Var(&c.Rate, "rate", c.Rate, "soak: registrations per second ("+EnvSoakRate+")")
	fs.IntVar(&c.LargeEvery, "large-every", c.LargeEvery, "every n-th transfer is a large record, 0 none ("+EnvLargeEvery+")")
	fs.IntVar(&c.RefuseEvery, "refuse-every", c.RefuseEvery, "every n-th transfer's record cannot be produced: refused with 10, 0 none ("+EnvRefuseEvery+")")
	fs.Int64Var(&c.LargeSize, "large-size", c.LargeSize, "bytes of a large record's document ("+EnvLargeSize+")")
	fs.IntVar(&c.SplitThreshold, "split-threshold", c.SplitThreshold, "the sender's GP2GP_SPLIT_THRESHOLD, 0 its default ("+EnvSplitThreshold+")")
	fs.IntVar(&c.Poison, "poison", c.Poison, "poison registrations to inject ("+EnvPoison+")")
	fs.Int64Var(&c.Seed, "seed", c.Seed, "random seed, 0 from the clock ("+EnvSeed+")")
	fs.StringVar(&c.WorkDir, "workdir", c.WorkDir, "directory for binaries, store and logs (default a temporary one)")
	fs.BoolVar(&c.Keep, "keep", c.Keep, "keep the work directory after a run that passed ("+EnvKeep+")")
	fs.StringVar(&c.Root, "root", c.Root, "repository root (default: the directory of go.work above the working directory)")
	if err := fs.Parse(args); err != nil {
		return Config{}, err
	}
	if fs.NArg() > 0 {
		return Config{}, fmt.Errorf("chaos: unexpected arguments %q", fs.Args())
	}
	if mode == ModeSoak {
		c.Kills = 0 // a soak measures a steady state
	}
	durationSet := false
	fs.Visit(func(f *flag.Flag) { durationSet = durationSet || f.Name == "duration" })
	if _, ok := lookup(EnvDuration); mode == ModeSoak && !durationSet && !ok {
		// A soak's cap follows its length: the load, then time to finish.
		c.Duration = c.SoakDuration + soakDrain
	}
	return c, c.Validate()
}

func splitList(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

func intInto(p *int) func(string) error {
	return func(v string) (err error) { *p, err = strconv.Atoi(v); return err }
}

func durationInto(p *time.Duration) func(string) error {
	return func(v string) (err error) { *p, err = time.ParseDuration(v); return err }
}
