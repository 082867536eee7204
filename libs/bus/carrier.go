package bus

import (
	"github.com/nats-io/nats.go"
	"go.opentelemetry.io/otel/propagation"
)

// HeaderCarrier adapts NATS headers to OpenTelemetry propagation. Unlike
// net/http headers, NATS headers are case sensitive, so Set writes the key
// exactly as the propagator gives it ("traceparent", not "Traceparent"),
// and Get prefers the exact key but accepts any case.
type HeaderCarrier nats.Header

var _ propagation.TextMapCarrier = HeaderCarrier(nil)

// Get returns the first value for key.
func (c HeaderCarrier) Get(key string) string { return headerValue(nats.Header(c), key) }

// Set replaces the values of key with value, keeping key's case.
func (c HeaderCarrier) Set(key, value string) { c[key] = []string{value} }

// Keys lists the header names present.
func (c HeaderCarrier) Keys() []string {
	keys := make([]string, 0, len(c))
	for k := range c {
		keys = append(keys, k)
	}
	return keys
}
