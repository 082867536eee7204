package ops

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"

	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetrichttp"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/resource"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
)

// MeterProvider is an OpenTelemetry meter provider (it embeds the SDK's)
// whose metrics can always be read as Prometheus text and, when built
// with an OTLP endpoint, are also pushed there periodically. Pass it
// wherever a metric.MeterProvider is wanted; call Shutdown when the
// service stops, which pushes what is left.
type MeterProvider struct {
	*sdkmetric.MeterProvider
	reader *sdkmetric.ManualReader
}

// NewMeterProvider builds the meter provider of the service called
// service. Its metrics carry the resource attributes service.name=service
// and service.namespace=gp2gp (exposed as target_info in the Prometheus
// text). otlpEndpoint is the full OTLP/HTTP metrics URL, for example
// http://otel-collector:4318/v1/metrics; empty means metrics are only
// scraped, never pushed.
func NewMeterProvider(ctx context.Context, service, otlpEndpoint string) (*MeterProvider, error) {
	if service == "" {
		return nil, errors.New("ops: NewMeterProvider: empty service name")
	}
	reader := sdkmetric.NewManualReader()
	opts := []sdkmetric.Option{
		sdkmetric.WithResource(resource.NewSchemaless(semconv.ServiceName(service), semconv.ServiceNamespace("gp2gp"))),
		sdkmetric.WithReader(reader),
	}
	if otlpEndpoint != "" {
		u, err := url.Parse(otlpEndpoint)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("ops: OTLP metrics endpoint %q: want an http(s) URL such as http://otel-collector:4318/v1/metrics", otlpEndpoint)
		}
		exp, err := otlpmetrichttp.New(ctx, otlpmetrichttp.WithEndpointURL(otlpEndpoint))
		if err != nil {
			return nil, fmt.Errorf("ops: OTLP metrics exporter for %s: %w", otlpEndpoint, err)
		}
		opts = append(opts, sdkmetric.WithReader(sdkmetric.NewPeriodicReader(exp)))
	}
	return &MeterProvider{MeterProvider: sdkmetric.NewMeterProvider(opts...), reader: reader}, nil
}

// WritePrometheus collects every metric now and writes it to w in the
// Prometheus text exposition format (version 0.0.4): counters as
// <name>_total, up-down counters and gauges as gauges, histograms as
// <name>_bucket{le=…}, <name>_sum and <name>_count, attributes as labels,
// names sanitised and suffixed with their unit (seconds, bytes, …) as the
// OpenTelemetry–Prometheus compatibility rules say.
//
// If an observable instrument's callback fails (the dead-letter gauge
// cannot reach JetStream, say), the other metrics are still written and
// the callback's error is returned afterwards, wrapped in
// ErrPartialMetrics. After Shutdown it writes nothing and returns an error.
func (p *MeterProvider) WritePrometheus(ctx context.Context, w io.Writer) error {
	var rm metricdata.ResourceMetrics
	err := p.reader.Collect(ctx, &rm)
	if err != nil && (errors.Is(err, sdkmetric.ErrReaderShutdown) || ctx.Err() != nil) {
		return fmt.Errorf("ops: collect metrics: %w", err)
	}
	var buf bytes.Buffer
	writeExposition(&buf, &rm)
	if _, werr := w.Write(buf.Bytes()); werr != nil {
		return fmt.Errorf("ops: write metrics: %w", werr)
	}
	if err != nil {
		return fmt.Errorf("%w: %w", ErrPartialMetrics, err)
	}
	return nil
}
