package ops

import (
	"bytes"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/instrumentation"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/resource"
)

func TestMetricName(t *testing.T) {
	tests := []struct {
		name, unit, typ string
		want            string
	}{
		{"http.server.request.duration", "s", "histogram", "http_server_request_duration_seconds"},
		{"latency_seconds", "s", "histogram", "latency_seconds"},
		{"process.cpu.utilization", "1", "gauge", "process_cpu_utilization_ratio"},
		{"requests", "1", "counter", "requests_total"},
		{"jobs_total", "", "counter", "jobs_total"},
		{"bytes.received", "By", "counter", "bytes_received_bytes_total"},
		{"throughput", "By/s", "gauge", "throughput_bytes_per_second"},
		{"rate", "1/s", "gauge", "rate_per_second"},
		{"gp2gp.transfers.started", "{transfer}", "counter", "gp2gp_transfers_started_total"},
		{"2xx.count", "{request}", "counter", "_2xx_count_total"},
		{"a..b--c", "", "gauge", "a_b_c"},
		{"queue.depth", "{message}", "gauge", "queue_depth"},
		{"odd unit", "furlong", "gauge", "odd_unit_furlong"},
		{"ns:name", "ms", "gauge", "ns:name_milliseconds"},
	}
	for _, tt := range tests {
		t.Run(tt.name+" "+tt.unit, func(t *testing.T) {
			assert.Equal(t, tt.want, metricName(tt.name, tt.unit, tt.typ))
		})
	}
}

func TestExpositionEdgeCases(t *testing.T) {
	attrs := attribute.NewSet(
		attribute.String("http.method", "GET"),
		attribute.String("http_method", "get"),
		attribute.String("0day", "x"),
		attribute.String("__reserved", "y"),
		attribute.String("quote", "a \"b\" \\c\nd"),
		attribute.Int("code", 503),
		attribute.Bool("ok", false),
	)
	rm := metricdata.ResourceMetrics{
		Resource: resource.Empty(),
		ScopeMetrics: []metricdata.ScopeMetrics{{
			Scope: instrumentation.Scope{Name: "test"},
			Metrics: []metricdata.Metrics{
				{Name: "temperature", Unit: "Cel", Description: "line one\nline \\ two", Data: metricdata.Gauge[float64]{
					DataPoints: []metricdata.DataPoint[float64]{
						{Attributes: attribute.NewSet(attribute.String("room", "b")), Value: math.Inf(1)},
						{Attributes: attribute.NewSet(attribute.String("room", "a")), Value: 21.5},
						{Attributes: attribute.NewSet(attribute.String("room", "c")), Value: math.NaN()},
					},
				}},
				{Name: "odd.labels", Data: metricdata.Sum[int64]{IsMonotonic: true, DataPoints: []metricdata.DataPoint[int64]{
					{Attributes: attrs, Value: 7},
				}}},
				{Name: "queue", Unit: "{item}", Data: metricdata.Sum[float64]{IsMonotonic: false, DataPoints: []metricdata.DataPoint[float64]{
					{Value: -2.5},
				}}},
				{Name: "sizes", Unit: "By", Data: metricdata.Histogram[int64]{DataPoints: []metricdata.HistogramDataPoint[int64]{
					{Bounds: []float64{100, 1000}, BucketCounts: []uint64{1, 0, 2}, Count: 3, Sum: 5050},
				}}},
				{Name: "rpc.latency", Unit: "s", Data: metricdata.Summary{DataPoints: []metricdata.SummaryDataPoint{
					{Count: 4, Sum: 2, QuantileValues: []metricdata.QuantileValue{{Quantile: 0.5, Value: 0.4}, {Quantile: 0.99, Value: 1}}},
				}}},
				{Name: "ignored", Data: metricdata.ExponentialHistogram[float64]{}},
			},
		}},
	}
	var buf bytes.Buffer
	writeExposition(&buf, &rm)
	want := `# TYPE odd_labels_total counter
odd_labels_total{_reserved="y",code="503",http_method="GET;get",key_0day="x",ok="false",quote="a \"b\" \\c\nd"} 7
# TYPE queue gauge
queue -2.5
# TYPE rpc_latency_seconds summary
rpc_latency_seconds{quantile="0.5"} 0.4
rpc_latency_seconds{quantile="0.99"} 1
rpc_latency_seconds_sum 2
rpc_latency_seconds_count 4
# TYPE sizes_bytes histogram
sizes_bytes_bucket{le="100"} 1
sizes_bytes_bucket{le="1000"} 1
sizes_bytes_bucket{le="+Inf"} 3
sizes_bytes_sum 5050
sizes_bytes_count 3
# HELP temperature_celsius line one\nline \\ two
# TYPE temperature_celsius gauge
temperature_celsius{room="a"} 21.5
temperature_celsius{room="b"} +Inf
temperature_celsius{room="c"} NaN
`
	assert.Equal(t, want, buf.String())
}
