package ops

import (
	"context"
	"fmt"
	"runtime/metrics"

	"go.opentelemetry.io/otel/metric"
)

// The Go runtime's own gauges, which every service exports so that a soak
// can tell a leak from a plateau. Names follow the OpenTelemetry semantic
// conventions for the Go runtime.
const (
	// MetricGoroutines is the number of live goroutines. Unit {goroutine}.
	// Prometheus: go_goroutine_count.
	MetricGoroutines = "go.goroutine.count"
	// MetricGoMemoryUsed is the memory the Go runtime has mapped and not
	// released to the operating system (every class of
	// runtime/metrics' /memory/classes/ but released). Unit By.
	// Prometheus: go_memory_used_bytes.
	MetricGoMemoryUsed = "go.memory.used"
	// MetricGoHeapObjects is the memory held by live and not yet swept
	// heap objects. Unit By. Prometheus: go_memory_heap_objects_bytes.
	MetricGoHeapObjects = "go.memory.heap.objects"
)

// runtime/metrics samples the gauges read.
const (
	sampleGoroutines  = "/sched/goroutines:goroutines"
	sampleMemoryTotal = "/memory/classes/total:bytes"
	sampleReleased    = "/memory/classes/heap/released:bytes"
	sampleHeapObjects = "/memory/classes/heap/objects:bytes"
)

// RegisterRuntimeMetrics adds the Go runtime gauges (MetricGoroutines,
// MetricGoMemoryUsed, MetricGoHeapObjects) to meter, read when collected.
func RegisterRuntimeMetrics(meter metric.Meter) error {
	goroutines, err := meter.Int64ObservableGauge(MetricGoroutines, metric.WithUnit("{goroutine}"),
		metric.WithDescription("Live goroutines."))
	if err != nil {
		return fmt.Errorf("ops: %s: %w", MetricGoroutines, err)
	}
	used, err := meter.Int64ObservableGauge(MetricGoMemoryUsed, metric.WithUnit("By"),
		metric.WithDescription("Memory mapped by the Go runtime and not released to the operating system."))
	if err != nil {
		return fmt.Errorf("ops: %s: %w", MetricGoMemoryUsed, err)
	}
	heap, err := meter.Int64ObservableGauge(MetricGoHeapObjects, metric.WithUnit("By"),
		metric.WithDescription("Memory held by heap objects, live and not yet swept."))
	if err != nil {
		return fmt.Errorf("ops: %s: %w", MetricGoHeapObjects, err)
	}
	_, err = meter.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		s := []metrics.Sample{{Name: sampleGoroutines}, {Name: sampleMemoryTotal}, {Name: sampleReleased}, {Name: sampleHeapObjects}}
		metrics.Read(s)
		o.ObserveInt64(goroutines, int64(s[0].Value.Uint64()))
		o.ObserveInt64(used, int64(s[1].Value.Uint64()-s[2].Value.Uint64()))
		o.ObserveInt64(heap, int64(s[3].Value.Uint64()))
		return nil
	}, goroutines, used, heap)
	if err != nil {
		return fmt.Errorf("ops: runtime metrics: %w", err)
	}
	return nil
}
