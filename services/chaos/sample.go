package chaos

import (
	"bufio"
	"context"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// point is one sample of a process.
type point struct {
	At time.Time
	// RSSKiB is the resident set (VmRSS).
	RSSKiB int64
	// Goroutines and HeapBytes come from the service's /metrics (go_
	// goroutine_count, go_memory_heap_objects_bytes); -1 when not read
	// (the broker, or a scrape that failed).
	Goroutines int64
	HeapBytes  int64
}

// sampler reads every process's memory each second, which keeps each
// one's peak across restarts, and, when series is set, keeps a series of
// samples every seriesEvery with the services' goroutines.
type sampler struct {
	cl     *cluster
	series bool
	client *http.Client

	mu     sync.Mutex
	points map[string][]point
}

const seriesEvery = 5 * time.Second

func newSampler(cl *cluster, series bool) *sampler {
	return &sampler{cl: cl, series: series, client: &http.Client{Timeout: 2 * time.Second}, points: map[string][]point{}}
}

func (s *sampler) run(ctx context.Context) {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	last := time.Time{}
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-tick.C:
			keep := s.series && now.Sub(last) >= seriesEvery
			if keep {
				last = now
			}
			for _, name := range targets() {
				m, ok := s.cl.procs[name].Sample()
				if !ok || !keep {
					continue
				}
				p := point{At: now, RSSKiB: m.RSSKiB, Goroutines: -1, HeapBytes: -1}
				if addr, ok := s.cl.ops[name]; ok {
					p.Goroutines, p.HeapBytes = s.scrape(ctx, addr)
				}
				s.mu.Lock()
				s.points[name] = append(s.points[name], p)
				s.mu.Unlock()
			}
		}
	}
}

// scrape reads go_goroutine_count and go_memory_heap_objects_bytes from
// a service's /metrics; -1 for what it could not read.
func (s *sampler) scrape(ctx context.Context, addr string) (goroutines, heap int64) {
	goroutines, heap = -1, -1
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/metrics", nil)
	if err != nil {
		return
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Fields(line)
		if len(fields) < 2 {
			continue
		}
		name, _, _ := strings.Cut(fields[0], "{")
		switch name {
		case "go_goroutine_count":
			goroutines = parseGauge(fields[len(fields)-1])
		case "go_memory_heap_objects_bytes":
			heap = parseGauge(fields[len(fields)-1])
		}
	}
	return
}

func parseGauge(v string) int64 {
	f, err := strconv.ParseFloat(v, 64)
	if err != nil {
		return -1
	}
	return int64(f)
}

// series returns the samples of name taken within [from, to].
func (s *sampler) window(name string, from, to time.Time) []point {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []point
	for _, p := range s.points[name] {
		if !p.At.Before(from) && !p.At.After(to) {
			out = append(out, p)
		}
	}
	return out
}
