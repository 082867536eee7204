// Package chaos is gp2gp's fault-injection and soak harness. It builds the
// five services and a nats-server, runs each as its own OS process on the
// loopback interface (JetStream on a file store with sync_interval:
// always, the production setting; the loopback Spine; a generated
// directory of four practices and one patient per transfer), runs the
// practices' clinical systems in its own process (libs/practicesim: small
// records and large ones whose document goes as COPC fragments), and
// drives transfers through them:
//
//   - ModeChaos starts a fixed number of transfers while SIGKILLing random
//     services and the broker at random moments and starting them again
//     (the broker on the same port and store), injects poison messages,
//     then restarts everything once more after the last transfer has
//     finished (JetStream redelivers acknowledged messages after a
//     restart);
//   - ModeSoak registers patients at a steady rate for a while, kills
//     nothing, and samples every process's memory and the services'
//     goroutines.
//
// Then it checks what happened, from the streams, the transfer records and
// the practices' own view, and prints a summary: every transfer reached
// INTEGRATED and COMPLETED and none is stuck, no EHR Request, extract,
// Continue, COPC or acknowledgement went on the wire twice, every wire
// message has its message event, every document arrived with the SHA-256
// it was sent with, the dead-letter stream holds exactly the poison,
// latency percentiles and peak memory per process.
package chaos

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/nhsengland/gp2gp/libs/bus"
	"github.com/nhsengland/gp2gp/libs/practicesim"
	"github.com/nhsengland/gp2gp/libs/transfer"
)

// ErrChecksFailed is returned by Run when the run completed but a check
// failed; the report says which.
var ErrChecksFailed = errors.New("chaos: checks failed")

// Run performs one run as cfg says, prints its report to cfg.Out and
// returns it. The error wraps ErrChecksFailed when a check failed; any
// other error means the run itself could not be carried out.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Seed == 0 {
		cfg.Seed = time.Now().UnixNano()
	}
	root := cfg.Root
	if root == "" {
		wd, err := os.Getwd()
		if err != nil {
			return nil, err
		}
		if root, err = findRoot(wd); err != nil {
			return nil, err
		}
	}
	dir, cleanup, err := workDir(cfg)
	if err != nil {
		return nil, err
	}
	r := &run{cfg: cfg, out: cfg.Out, dir: dir, rng: rand.New(rand.NewPCG(uint64(cfg.Seed), 0x9e3779b97f4a7c15))}
	r.logf("chaos: %s run, seed %d, work directory %s", cfg.Mode, cfg.Seed, dir)
	bin := filepath.Join(dir, "bin")
	r.logf("chaos: building the services and nats-server")
	start := time.Now()
	if err := build(ctx, root, bin); err != nil {
		return nil, err
	}
	r.logf("chaos: built in %s", time.Since(start).Round(time.Second))

	report, err := r.execute(ctx)
	if report != nil {
		report.Print(r.out)
	}
	switch {
	case err != nil:
		r.logf("chaos: run failed: %v; logs in %s", err, filepath.Join(dir, "logs"))
	case !report.Passed():
		r.logf("chaos: logs and store kept in %s", dir)
		err = ErrChecksFailed
	default:
		cleanup()
	}
	return report, err
}

// workDir is the run's directory and what removes it (nothing when it is
// the caller's, or kept).
func workDir(cfg Config) (string, func(), error) {
	if cfg.WorkDir != "" {
		if err := os.MkdirAll(cfg.WorkDir, 0o700); err != nil {
			return "", nil, err
		}
		abs, err := filepath.Abs(cfg.WorkDir)
		return abs, func() {}, err
	}
	dir, err := os.MkdirTemp("", "gp2gp-"+string(cfg.Mode)+"-")
	if err != nil {
		return "", nil, err
	}
	if cfg.Keep {
		return dir, func() {}, nil
	}
	return dir, func() { _ = os.RemoveAll(dir) }, nil
}

// run is one run in progress.
type run struct {
	cfg Config
	out io.Writer
	dir string
	rng *rand.Rand

	outMu sync.Mutex
	cl    *cluster
	w     *workload

	killsMu sync.Mutex
	kills   []kill

	// loadStart and loadEnd bound the registrations (a soak's load).
	loadStart, loadEnd time.Time
}

// kill is one injected fault.
type kill struct {
	At       time.Duration // since the load started
	Target   string
	Downtime time.Duration
	// Final marks the restart of everything after the transfers finished.
	Final bool
}

func (r *run) logf(format string, args ...any) {
	r.outMu.Lock()
	defer r.outMu.Unlock()
	fmt.Fprintf(r.out, format+"\n", args...)
}

// transfers is how many transfers the run starts.
func (r *run) transfers() int {
	if r.cfg.Mode == ModeSoak {
		return max(1, int(r.cfg.Rate*r.cfg.SoakDuration.Seconds()))
	}
	return r.cfg.Transfers
}

// loadWindow is how long registrations are spread over.
func (r *run) loadWindow() time.Duration {
	if r.cfg.Mode == ModeSoak {
		return r.cfg.SoakDuration
	}
	if r.cfg.LoadWindow > 0 {
		return r.cfg.LoadWindow
	}
	// A third of the cap: kills land while transfers are at every stage,
	// and the rest of the cap is left for the last ones to finish.
	return r.cfg.Duration / 3
}

func (r *run) execute(ctx context.Context) (*Report, error) {
	n := r.transfers()
	r.w = newWorkload(n, r.cfg.LargeEvery, r.cfg.RefuseEvery, r.cfg.LargeSize, r.cfg.Poison)
	cl, err := newCluster(r.dir, filepath.Join(r.dir, "bin"), r.w, r.cfg.SplitThreshold)
	if err != nil {
		return nil, err
	}
	r.cl = cl
	defer cl.stop()
	if err := cl.startBroker(ctx); err != nil {
		return nil, err
	}
	for _, s := range Services {
		if err := cl.start(ctx, s); err != nil {
			return nil, err
		}
	}
	if err := cl.waitReady(ctx, time.Minute); err != nil {
		return nil, err
	}
	r.logf("chaos: NATS on %s, services ready; %d practices, %d transfers (%d large, %d to be refused), %d poison messages",
		cl.natsURL, len(r.w.practices), n, r.w.large(), r.w.refused(), len(r.w.poison))

	logFile, err := os.OpenFile(filepath.Join(r.dir, "logs", "harness.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	defer logFile.Close()
	logger := slog.New(slog.NewJSONHandler(logFile, nil)).With("service", "chaos")
	b, nc, err := dial(cl.natsURL, "gp2gp-chaos", logger)
	if err != nil {
		return nil, err
	}
	defer nc.Close()
	sims, err := r.w.newPractices(b, logger)
	if err != nil {
		return nil, err
	}
	for _, sim := range sims {
		if err := sim.Ensure(ctx); err != nil {
			return nil, err
		}
	}
	store, err := transfer.NewStore(ctx, b)
	if err != nil {
		return nil, err
	}

	runCtx, stopRun := context.WithCancel(ctx)
	defer stopRun()
	var bg sync.WaitGroup
	for _, sim := range sims {
		bg.Go(func() { runPractice(runCtx, sim, logger) })
	}
	sampler := newSampler(cl, r.cfg.Mode == ModeSoak)
	bg.Go(func() { sampler.run(runCtx) })
	defer func() {
		stopRun()
		bg.Wait()
	}()

	began := time.Now()
	deadline := began.Add(r.cfg.Duration)
	dctx, cancelDeadline := context.WithDeadline(ctx, deadline)
	defer cancelDeadline()

	var load sync.WaitGroup
	r.loadStart = began
	load.Go(func() {
		r.drive(dctx, sims, b)
		r.loadEnd = time.Now()
	})
	if r.cfg.Mode == ModeChaos && r.cfg.Kills > 0 {
		load.Go(func() { r.inject(dctx, began) })
	}
	mon := newMonitor(store, r.w)
	loadDone := make(chan struct{})
	go func() {
		load.Wait()
		close(loadDone)
	}()
	finished := mon.watch(dctx, loadDone, func(done, total int) {
		r.logf("chaos: %s: %d of %d transfers finished", time.Since(began).Round(time.Second), done, total)
	})
	<-loadDone
	elapsed := time.Since(began)
	if !finished {
		// Something is stuck: have every service write its goroutines'
		// stacks into its log before anything else happens to them.
		r.logf("chaos: transfers unfinished at the cap; SIGQUIT to every service for its goroutine dump (in its log)")
		var wg sync.WaitGroup
		for _, s := range Services {
			wg.Go(func() { r.cl.procs[s].Dump(10 * time.Second) })
		}
		wg.Wait()
	}
	if finished && r.cfg.Mode == ModeChaos && r.cfg.Kills > 0 {
		// Everything has finished: restart every process once more, as
		// a deployment's rollout or a node's reboot would, and give the
		// redeliveries that follow time to do any harm.
		r.aftershock(ctx, began)
		sleep(ctx, aftershockSettle)
	} else {
		// Let anything a handler does after the final state (an ack, a
		// lifecycle event) land before the streams are read.
		sleep(ctx, settle)
	}
	stopRun()
	bg.Wait()
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	r.logf("chaos: verifying")
	vctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	return r.verify(vctx, b, store, sims, mon, sampler, elapsed)
}

// How long the streams are left to settle before they are read.
const (
	settle           = 3 * time.Second
	aftershockSettle = 10 * time.Second
)

// drive registers the patients, spread evenly over the load window, and
// injects the poison messages among them.
func (r *run) drive(ctx context.Context, sims map[string]*practicesim.Practice, b *bus.Bus) {
	window := r.loadWindow()
	n := len(r.w.transfers)
	var wg sync.WaitGroup
	poisonAt := map[int][]poison{}
	for i, p := range r.w.poison {
		at := (i + 1) * n / (len(r.w.poison) + 1)
		poisonAt[at] = append(poisonAt[at], p)
	}
	start := time.Now()
	for i, t := range r.w.transfers {
		due := start.Add(time.Duration(int64(window) * int64(i) / int64(n)))
		sleep(ctx, time.Until(due))
		if ctx.Err() != nil {
			break
		}
		wg.Go(func() { _ = register(ctx, sims[t.To], t) })
		for _, p := range poisonAt[i] {
			wg.Go(func() { _ = p.inject(ctx, b) })
		}
	}
	wg.Wait()
}

// inject kills random processes at random moments of the load window and
// a little after it, one at a time, and starts each again after a short
// random downtime.
func (r *run) inject(ctx context.Context, began time.Time) {
	span := r.loadWindow() + r.cfg.Duration/6
	at := make([]time.Duration, r.cfg.Kills)
	for i := range at {
		at[i] = 2*time.Second + time.Duration(r.rng.Int64N(int64(span)))
	}
	slices.Sort(at)
	names := r.cfg.Targets
	if len(names) == 0 {
		names = targets()
	}
	for _, due := range at {
		sleep(ctx, time.Until(began.Add(due)))
		if ctx.Err() != nil {
			return
		}
		target := names[r.rng.IntN(len(names))]
		down := 200*time.Millisecond + time.Duration(r.rng.Int64N(int64(2800*time.Millisecond)))
		r.killAndRestart(ctx, began, target, down, false)
	}
}

// killAndRestart SIGKILLs target, waits down, and starts it again.
func (r *run) killAndRestart(ctx context.Context, began time.Time, target string, down time.Duration, final bool) {
	p := r.cl.procs[target]
	at := time.Since(began)
	p.Kill()
	r.killsMu.Lock()
	r.kills = append(r.kills, kill{At: at, Target: target, Downtime: down, Final: final})
	r.killsMu.Unlock()
	if !final {
		r.logf("chaos: %s: killed %s (SIGKILL); starting it again in %s", at.Round(100*time.Millisecond), target, down.Round(10*time.Millisecond))
	}
	sleep(ctx, down)
	for ctx.Err() == nil {
		err := r.cl.start(context.WithoutCancel(ctx), target)
		if err == nil {
			break
		}
		r.logf("chaos: restart %s: %v; trying again", target, err)
		p.Kill()
		sleep(ctx, time.Second)
	}
}

// aftershock kills the broker and every service at once, then starts
// them all again.
func (r *run) aftershock(ctx context.Context, began time.Time) {
	r.logf("chaos: every transfer finished; killing and restarting the broker and every service once more")
	var wg sync.WaitGroup
	for _, name := range targets() {
		wg.Go(func() { r.cl.procs[name].Kill() })
	}
	wg.Wait()
	at := time.Since(began)
	if err := r.cl.startBroker(ctx); err != nil {
		r.logf("chaos: restart nats: %v", err)
	}
	for _, s := range Services {
		if err := r.cl.start(ctx, s); err != nil {
			r.logf("chaos: restart %s: %v", s, err)
		}
	}
	r.killsMu.Lock()
	for _, name := range targets() {
		r.kills = append(r.kills, kill{At: at, Target: name, Final: true})
	}
	r.killsMu.Unlock()
	if err := r.cl.waitReady(ctx, time.Minute); err != nil {
		r.logf("chaos: after the final restart: %v", err)
	}
}
