package mireport

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"sync"
	"testing"
	"time"
)

// BenchmarkMIReport measures "mi report" on a synthetic month of national
// volume (§4: 250 000 conversations, about 2 million Spine rows in 30
// plain CSV day files, written once per run to a temporary directory)
// against a baseline that only reads every record of the same files with
// encoding/csv. scripts/bench.sh prints their ratio; each also reports
// rows/s and peak memory.
//
// The two do not use the same number of cores. The baseline reads on one
// goroutine. The import (Build, then WriteJSON) uses every core
// (GOMAXPROCS): one goroutine reads and parses the day files, a part
// ahead; the calling one assembles conversations; a classifier per core
// classifies each day once its cutoff has passed; the report is counted
// in two halves and its transfers encoded by a worker per core. The
// ratio compares wall-clock times: on a machine of two cores or more it
// credits the import with its parallelism. cpu-s/op gives each one's
// total CPU time (user and system), for a comparison without it.
//
// Besides ns/op and rows/s, each reports:
//
//   - cpu-s/op: the process's CPU time per run, from /proc/self/stat;
//   - peak-heap-MB: the largest Go heap (live and not yet swept objects),
//     sampled every 5 ms;
//   - peak-rss-MB: the process's resident-set high-water mark (VmHWM),
//     reset through /proc/self/clear_refs after returning freed memory to
//     the OS before the run, so it is this run's peak; 0 where /proc is
//     not available.
//
// Run with -benchtime 1x: one iteration reads about 500 MB.
func BenchmarkMIReport(b *testing.B) {
	start := time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)
	dir := b.TempDir()
	gen := time.Now()
	res, err := synth{start: start, days: 30, conversations: 250_000, practices: 6_500, seed: 1}.write(dir)
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("synthetic month: %d rows, %.0f MB in 30 files, written in %v", res.rows, float64(res.bytes)/1e6, time.Since(gen).Round(time.Millisecond))
	files, err := filepath.Glob(filepath.Join(dir, "v3", "*", "*", "*", "*.csv"))
	if err != nil || len(files) != 30 {
		b.Fatalf("day files: %d, %v", len(files), err)
	}
	cfg := Config{SpineDir: dir, MetadataFile: res.metadata, Start: start, End: start.AddDate(0, 0, 29), Cutoff: DefaultCutoff}

	b.Run("baseline", func(b *testing.B) {
		measure(b, res, func() error {
			rows := 0
			for _, f := range files {
				n, err := readCSV(f)
				if err != nil {
					return err
				}
				rows += n
			}
			if rows != res.rows+len(files) { // headers are records too
				return errors.New("baseline read " + strconv.Itoa(rows) + " records")
			}
			return nil
		})
	})
	b.Run("gp2gp", func(b *testing.B) {
		measure(b, res, func() error {
			r, err := Build(context.Background(), cfg, start, func(string) {})
			if err != nil {
				return err
			}
			if len(r.Transfers) < 240_000 {
				return errors.New("only " + strconv.Itoa(len(r.Transfers)) + " transfers")
			}
			return r.WriteJSON(io.Discard)
		})
	})
}

// readCSV reads every record of a CSV file, the plainest way that keeps
// up: a buffered file, encoding/csv reusing its record.
func readCSV(path string) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	cr := csv.NewReader(bufio.NewReaderSize(f, 256<<10))
	cr.ReuseRecord = true
	n, size := 0, 0
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return n, err
		}
		n++
		for _, field := range rec {
			size += len(field)
		}
	}
	if size == 0 {
		return n, errors.New("empty")
	}
	return n, nil
}

// measure runs run b.N times and reports rows/s and peak memory.
func measure(b *testing.B, res synthResult, run func() error) {
	b.SetBytes(res.bytes)
	runtime.GC()
	debug.FreeOSMemory()
	resetPeakRSS()
	stop := samplePeakHeap()
	cpu := cpuTime()
	b.ResetTimer()
	for range b.N {
		if err := run(); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	cpu = cpuTime() - cpu
	peakHeap := stop()
	b.ReportMetric(float64(res.rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
	b.ReportMetric(float64(peakHeap)/(1<<20), "peak-heap-MB")
	b.ReportMetric(float64(peakRSS())/(1<<20), "peak-rss-MB")
	b.ReportMetric(cpu.Seconds()/float64(b.N), "cpu-s/op")
}

// cpuTime returns the user and system CPU time of the process so far, from
// /proc/self/stat (in clock ticks, taken as 1/100 s); 0 where it cannot
// be read.
func cpuTime() time.Duration {
	data, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		return 0
	}
	// The command name, field 2, is in parentheses and may hold spaces.
	i := bytes.LastIndexByte(data, ')')
	if i < 0 {
		return 0
	}
	fields := bytes.Fields(data[i+1:])
	if len(fields) < 13 {
		return 0
	}
	utime, err1 := strconv.ParseInt(string(fields[11]), 10, 64) // field 14
	stime, err2 := strconv.ParseInt(string(fields[12]), 10, 64) // field 15
	if err1 != nil || err2 != nil {
		return 0
	}
	return time.Duration(utime+stime) * 10 * time.Millisecond
}

// samplePeakHeap samples the heap's object bytes every 5 ms until the
// returned function is called, which returns the largest value seen.
func samplePeakHeap() func() uint64 {
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	read := func() uint64 {
		metrics.Read(sample)
		return sample[0].Value.Uint64()
	}
	var (
		wg   sync.WaitGroup
		peak uint64
		done = make(chan struct{})
	)
	wg.Go(func() {
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		for {
			peak = max(peak, read())
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	})
	return func() uint64 {
		close(done)
		wg.Wait()
		return max(peak, read())
	}
}

// resetPeakRSS resets the kernel's resident-set high-water mark of this
// process (Linux; elsewhere it does nothing).
func resetPeakRSS() { _ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) }

// peakRSS returns VmHWM in bytes, or 0 when it cannot be read.
func peakRSS() uint64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for line := range bytes.Lines(data) {
		if v, ok := bytes.CutPrefix(line, []byte("VmHWM:")); ok {
			kb, err := strconv.ParseUint(string(bytes.TrimSpace(bytes.TrimSuffix(bytes.TrimSpace(v), []byte("kB")))), 10, 64)
			if err != nil {
				return 0
			}
			return kb << 10
		}
	}
	return 0
}
