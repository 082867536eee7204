package ops_test

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nhsengland/gp2gp/libs/bus"
	"github.com/nhsengland/gp2gp/libs/natsembed/natstest"
	"github.com/nhsengland/gp2gp/libs/service/ops"
	"github.com/nhsengland/gp2gp/libs/transfer"
)

// exposition is Prometheus text parsed back.
type exposition struct {
	types   map[string]string // family → type
	help    map[string]string
	samples []sample
}

type sample struct {
	name   string
	labels map[string]string
	value  float64
}

var (
	metricNamePattern = regexp.MustCompile(`^[a-zA-Z_:][a-zA-Z0-9_:]*$`)
	labelNamePattern  = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)
)

// parseExposition reads the text format strictly enough to catch what
// Prometheus would refuse: malformed names, labels or values, samples
// before their # TYPE, a family split in two.
func parseExposition(t *testing.T, text string) exposition {
	t.Helper()
	e := exposition{types: map[string]string{}, help: map[string]string{}}
	current := ""
	done := map[string]bool{}
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		line := sc.Text()
		require.NotEmpty(t, line, "empty line")
		if rest, ok := strings.CutPrefix(line, "# HELP "); ok {
			name, help, _ := strings.Cut(rest, " ")
			e.help[name] = help
			continue
		}
		if rest, ok := strings.CutPrefix(line, "# TYPE "); ok {
			name, typ, _ := strings.Cut(rest, " ")
			require.Regexp(t, metricNamePattern, name)
			require.Contains(t, []string{"counter", "gauge", "histogram", "summary", "untyped"}, typ)
			require.False(t, done[name], "family %s appears twice", name)
			if current != "" {
				done[current] = true
			}
			current = name
			e.types[name] = typ
			continue
		}
		s := parseSample(t, line)
		family := s.name
		switch e.types[current] {
		case "histogram":
			family = strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(s.name, "_bucket"), "_sum"), "_count")
		case "summary":
			family = strings.TrimSuffix(strings.TrimSuffix(s.name, "_sum"), "_count")
		}
		require.Equal(t, current, family, "sample %q outside its family", line)
		e.samples = append(e.samples, s)
	}
	return e
}

func parseSample(t *testing.T, line string) sample {
	t.Helper()
	s := sample{labels: map[string]string{}}
	i := strings.IndexAny(line, "{ ")
	require.Positive(t, i, line)
	s.name = line[:i]
	require.Regexp(t, metricNamePattern, s.name)
	rest := line[i:]
	if rest[0] == '{' {
		rest = rest[1:]
		for rest[0] != '}' {
			eq := strings.IndexByte(rest, '=')
			require.Positive(t, eq, line)
			name := rest[:eq]
			require.Regexp(t, labelNamePattern, name, line)
			require.Equal(t, byte('"'), rest[eq+1], line)
			rest = rest[eq+2:]
			var v strings.Builder
			for rest[0] != '"' {
				if rest[0] == '\\' {
					switch rest[1] {
					case '\\', '"':
						v.WriteByte(rest[1])
					case 'n':
						v.WriteByte('\n')
					default:
						t.Fatalf("bad escape in %q", line)
					}
					rest = rest[2:]
					continue
				}
				v.WriteByte(rest[0])
				rest = rest[1:]
			}
			_, dup := s.labels[name]
			require.False(t, dup, "label %s twice in %q", name, line)
			s.labels[name] = v.String()
			rest = rest[1:]
			if rest[0] == ',' {
				rest = rest[1:]
			}
		}
		rest = rest[1:]
	}
	require.True(t, strings.HasPrefix(rest, " "), line)
	v, err := strconv.ParseFloat(strings.TrimPrefix(rest[1:], "+"), 64)
	require.NoError(t, err, line)
	s.value = v
	return s
}

// value finds the one sample named name with exactly labels.
func (e exposition) value(t *testing.T, name string, labels map[string]string) float64 {
	t.Helper()
	var found []float64
	for _, s := range e.samples {
		if s.name == name && assert.ObjectsAreEqual(labels, s.labels) {
			found = append(found, s.value)
		}
	}
	require.Len(t, found, 1, "sample %s%v", name, labels)
	return found[0]
}

func (e exposition) has(name string) bool {
	for _, s := range e.samples {
		if s.name == name {
			return true
		}
	}
	return false
}

func scrape(t *testing.T, mp *ops.MeterProvider) exposition {
	t.Helper()
	var buf bytes.Buffer
	require.NoError(t, mp.WritePrometheus(context.Background(), &buf))
	return parseExposition(t, buf.String())
}

func newMeterProvider(t *testing.T) *ops.MeterProvider {
	t.Helper()
	mp, err := ops.NewMeterProvider(context.Background(), "requester", "")
	require.NoError(t, err)
	t.Cleanup(func() { _ = mp.Shutdown(context.Background()) })
	return mp
}

func TestInstrumentsExposition(t *testing.T) {
	ctx := context.Background()
	mp := newMeterProvider(t)
	ins, err := ops.NewInstruments(mp.Meter(ops.ScopeName))
	require.NoError(t, err)

	srv := natstest.NewServer(t)
	js := srv.JetStream()
	require.NoError(t, bus.Ensure(ctx, js, bus.DevProfile, bus.Topology{Streams: []bus.StreamSpec{streamSpec(t, bus.StreamDeadLetter)}}))
	for i := range 3 {
		_, err := js.Publish(ctx, bus.DeadLetterSubject(bus.StreamSpineIn, "sender-requests"), []byte{byte(i)})
		require.NoError(t, err)
	}
	_, err = ops.ObserveDeadLetters(mp.Meter(ops.ScopeName), js)
	require.NoError(t, err)

	for range 3 {
		ins.TransferStarted(ctx, transfer.Requesting)
	}
	ins.TransferStarted(ctx, transfer.Sending)
	ins.TransferFinished(ctx, transfer.Requesting, transfer.Integrated, "")
	ins.TransferFinished(ctx, transfer.Requesting, transfer.Failed, "not-a-code")
	ins.TransferFinished(ctx, transfer.Sending, transfer.RequestRejected, "06")
	ins.StageLatency(ctx, "request-to-extract", 2*time.Millisecond)
	ins.StageLatency(ctx, "request-to-extract", 72*time.Hour) // on a boundary: counted in it
	ins.StageLatency(ctx, "request-to-extract", 11*24*time.Hour)
	ins.StageLatency(ctx, "integration", time.Minute)
	ins.MessageSent(ctx, "RCMR_IN010000UK05")
	ins.MessageSent(ctx, "RCMR_IN010000UK05")
	ins.MessageSent(ctx, `<script>"`)
	ins.MessageReceived(ctx, "MCCI_IN010000UK13")

	e := scrape(t, mp)

	assert.Equal(t, map[string]string{
		"target_info":                    "gauge",
		"gp2gp_transfers_started_total":  "counter",
		"gp2gp_transfers_finished_total": "counter",
		"gp2gp_stage_duration_seconds":   "histogram",
		"gp2gp_messages_sent_total":      "counter",
		"gp2gp_messages_received_total":  "counter",
		"gp2gp_dlq_messages":             "gauge",
	}, e.types)
	assert.Equal(t, "Transfer sides created", e.help["gp2gp_transfers_started_total"])
	assert.Equal(t, 1.0, e.value(t, "target_info", map[string]string{"service_name": "requester", "service_namespace": "gp2gp"}))

	tests := []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"gp2gp_transfers_started_total", map[string]string{"side": "requesting"}, 3},
		{"gp2gp_transfers_started_total", map[string]string{"side": "sending"}, 1},
		{"gp2gp_transfers_finished_total", map[string]string{"side": "requesting", "state": "INTEGRATED", "outcome": "completed", "reason_code": ""}, 1},
		{"gp2gp_transfers_finished_total", map[string]string{"side": "requesting", "state": "FAILED", "outcome": "failed", "reason_code": "other"}, 1},
		{"gp2gp_transfers_finished_total", map[string]string{"side": "sending", "state": "REQUEST_REJECTED", "outcome": "failed", "reason_code": "06"}, 1},
		{"gp2gp_messages_sent_total", map[string]string{"interaction": "RCMR_IN010000UK05"}, 2},
		{"gp2gp_messages_sent_total", map[string]string{"interaction": "other"}, 1},
		{"gp2gp_messages_received_total", map[string]string{"interaction": "MCCI_IN010000UK13"}, 1},
		{"gp2gp_dlq_messages", map[string]string{"stream": "GP2GP_DLQ"}, 3},
		{"gp2gp_stage_duration_seconds_bucket", map[string]string{"stage": "request-to-extract", "le": "0.001"}, 0},
		{"gp2gp_stage_duration_seconds_bucket", map[string]string{"stage": "request-to-extract", "le": "0.005"}, 1},
		{"gp2gp_stage_duration_seconds_bucket", map[string]string{"stage": "request-to-extract", "le": "172800"}, 1},
		{"gp2gp_stage_duration_seconds_bucket", map[string]string{"stage": "request-to-extract", "le": "259200"}, 2},
		{"gp2gp_stage_duration_seconds_bucket", map[string]string{"stage": "request-to-extract", "le": "864000"}, 2},
		{"gp2gp_stage_duration_seconds_bucket", map[string]string{"stage": "request-to-extract", "le": "+Inf"}, 3},
		{"gp2gp_stage_duration_seconds_count", map[string]string{"stage": "request-to-extract"}, 3},
		{"gp2gp_stage_duration_seconds_sum", map[string]string{"stage": "request-to-extract"}, 0.002 + 259200 + 950400},
		{"gp2gp_stage_duration_seconds_bucket", map[string]string{"stage": "integration", "le": "30"}, 0},
		{"gp2gp_stage_duration_seconds_bucket", map[string]string{"stage": "integration", "le": "60"}, 1},
		{"gp2gp_stage_duration_seconds_count", map[string]string{"stage": "integration"}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name+labelString(tt.labels), func(t *testing.T) {
			assert.InDelta(t, tt.want, e.value(t, tt.name, tt.labels), 1e-9)
		})
	}

	t.Run("histogram buckets are the documented boundaries, cumulative", func(t *testing.T) {
		var les []float64
		last := -1.0
		for _, s := range e.samples {
			if s.name != "gp2gp_stage_duration_seconds_bucket" || s.labels["stage"] != "request-to-extract" {
				continue
			}
			le, err := strconv.ParseFloat(strings.TrimPrefix(s.labels["le"], "+"), 64)
			require.NoError(t, err)
			les = append(les, le)
			assert.GreaterOrEqual(t, s.value, last)
			last = s.value
		}
		require.Len(t, les, len(ops.StageBuckets)+1)
		assert.Equal(t, ops.StageBuckets, les[:len(ops.StageBuckets)])
		assert.Equal(t, 0.001, les[0])
		assert.Equal(t, 10*86400.0, les[len(les)-2])
	})
}

func labelString(m map[string]string) string {
	var parts []string
	for k, v := range m {
		parts = append(parts, k+"="+v)
	}
	return "{" + strings.Join(parts, ",") + "}"
}

func TestDeadLetterGaugeWithoutStream(t *testing.T) {
	ctx := context.Background()
	mp := newMeterProvider(t)
	ins, err := ops.NewInstruments(mp.Meter(ops.ScopeName))
	require.NoError(t, err)
	srv := natstest.NewServer(t)
	js := srv.JetStream()
	_, err = ops.ObserveDeadLetters(mp.Meter(ops.ScopeName), js)
	require.NoError(t, err)
	ins.TransferStarted(ctx, transfer.Sending)

	var buf bytes.Buffer
	err = mp.WritePrometheus(ctx, &buf)
	require.ErrorIs(t, err, ops.ErrPartialMetrics)
	e := parseExposition(t, buf.String())
	assert.Equal(t, 1.0, e.value(t, "gp2gp_transfers_started_total", map[string]string{"side": "sending"}), "the other metrics are still written")
	assert.False(t, e.has("gp2gp_dlq_messages"))

	// Once the stream exists the gauge comes back.
	require.NoError(t, bus.Ensure(ctx, js, bus.DevProfile, bus.Topology{Streams: []bus.StreamSpec{streamSpec(t, bus.StreamDeadLetter)}}))
	e = scrape(t, mp)
	assert.Equal(t, 0.0, e.value(t, "gp2gp_dlq_messages", map[string]string{"stream": "GP2GP_DLQ"}))
}

func TestNilInstrumentsRecordNothing(t *testing.T) {
	var ins *ops.Instruments
	ctx := context.Background()
	assert.NotPanics(t, func() {
		ins.TransferStarted(ctx, transfer.Requesting)
		ins.TransferFinished(ctx, transfer.Requesting, transfer.Integrated, "")
		ins.StageLatency(ctx, "x", time.Second)
		ins.MessageSent(ctx, "RCMR_IN010000UK05")
		ins.MessageReceived(ctx, "RCMR_IN010000UK05")
	})
}

func TestMeterProviderPushesOverOTLPAndFlushesOnShutdown(t *testing.T) {
	var mu sync.Mutex
	var got []string
	collector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = append(got, r.Method+" "+r.URL.Path+" "+r.Header.Get("Content-Type"))
		mu.Unlock()
		assert.NotEmpty(t, body)
		w.Header().Set("Content-Type", "application/x-protobuf")
		w.WriteHeader(http.StatusOK)
	}))
	defer collector.Close()

	ctx := context.Background()
	mp, err := ops.NewMeterProvider(ctx, "sender", collector.URL+"/v1/metrics")
	require.NoError(t, err)
	ins, err := ops.NewInstruments(mp.Meter(ops.ScopeName))
	require.NoError(t, err)
	ins.MessageSent(ctx, "RCMR_IN030000UK06")

	e := scrape(t, mp) // the Prometheus reader works alongside
	assert.Equal(t, 1.0, e.value(t, "gp2gp_messages_sent_total", map[string]string{"interaction": "RCMR_IN030000UK06"}))

	mu.Lock()
	assert.Empty(t, got, "nothing pushed before the export interval")
	mu.Unlock()
	require.NoError(t, mp.Shutdown(ctx))
	mu.Lock()
	defer mu.Unlock()
	assert.Contains(t, got, "POST /v1/metrics application/x-protobuf")

	var buf bytes.Buffer
	assert.Error(t, mp.WritePrometheus(ctx, &buf), "a stopped provider has nothing to write")
}

func TestNewMeterProviderRefusesBadInput(t *testing.T) {
	for _, tt := range []struct{ name, service, endpoint string }{
		{"no service name", "", ""},
		{"not a URL", "sender", "otel-collector:4318"},
		{"no host", "sender", "http:///v1/metrics"},
		{"another scheme", "sender", "grpc://otel-collector:4317"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ops.NewMeterProvider(context.Background(), tt.service, tt.endpoint)
			assert.Error(t, err)
		})
	}
}

func TestRuntimeMetrics(t *testing.T) {
	mp := newMeterProvider(t)
	require.NoError(t, ops.RegisterRuntimeMetrics(mp.Meter(ops.ScopeName)))
	release := make(chan struct{})
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() { <-release })
	}
	defer func() {
		close(release)
		wg.Wait()
	}()

	e := scrape(t, mp)
	for _, name := range []string{"go_goroutine_count", "go_memory_used_bytes", "go_memory_heap_objects_bytes"} {
		require.True(t, e.has(name), "%s missing", name)
	}
	for _, s := range e.samples {
		switch s.name {
		case "go_goroutine_count":
			assert.GreaterOrEqual(t, s.value, 50.0, "the 50 parked goroutines count")
		case "go_memory_used_bytes", "go_memory_heap_objects_bytes":
			assert.Positive(t, s.value, s.name)
		}
	}
}
