package ops

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Check is one readiness check: Run returns nil when the service can do
// its work as far as this check can tell, or an error saying why not. Run
// must return promptly once ctx ends (GET /readyz bounds every check with
// a timeout).
type Check struct {
	// Name identifies the check in the readiness report.
	Name string
	Run  func(ctx context.Context) error
}

// NATSConnected is the check "nats": nc is connected (not reconnecting,
// draining or closed).
func NATSConnected(nc *nats.Conn) Check {
	return Check{Name: "nats", Run: func(context.Context) error {
		if nc == nil {
			return errors.New("no NATS connection")
		}
		if !nc.IsConnected() {
			return fmt.Errorf("not connected to NATS (%s)", strings.ToLower(nc.Status().String()))
		}
		return nil
	}}
}

// StreamsPresent is the check "streams": each named stream exists in js
// (bus.Stream… names).
func StreamsPresent(js jetstream.JetStream, streams ...string) Check {
	return Check{Name: "streams", Run: func(ctx context.Context) error {
		if js == nil {
			return errors.New("no JetStream context")
		}
		var missing []string
		for _, name := range streams {
			_, err := js.Stream(ctx, name)
			if errors.Is(err, jetstream.ErrStreamNotFound) {
				missing = append(missing, name)
				continue
			}
			if err != nil {
				return fmt.Errorf("stream %s: %w", name, err)
			}
		}
		if len(missing) > 0 {
			return fmt.Errorf("missing streams: %s", strings.Join(missing, ", "))
		}
		return nil
	}}
}
