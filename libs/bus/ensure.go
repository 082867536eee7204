package bus

import (
	"context"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"
)

// Ensure creates or updates every stream, bucket and consumer of t so that
// they match their declarations under profile p. It is idempotent: running
// it again, from any number of instances, changes nothing.
func Ensure(ctx context.Context, js jetstream.JetStream, p Profile, t Topology) error {
	if p.Replicas < 1 || p.Replicas > 5 {
		return fmt.Errorf("bus: profile %q: replicas %d out of range 1..5", p.Name, p.Replicas)
	}
	for _, s := range t.Streams {
		if _, err := js.CreateOrUpdateStream(ctx, s.Config(p)); err != nil {
			return fmt.Errorf("bus: ensure stream %s: %w", s.Name, err)
		}
	}
	for _, k := range t.KeyValues {
		if _, err := js.CreateOrUpdateKeyValue(ctx, k.Config(p)); err != nil {
			return fmt.Errorf("bus: ensure bucket %s: %w", k.Bucket, err)
		}
	}
	for _, o := range t.ObjectStores {
		if _, err := js.CreateOrUpdateObjectStore(ctx, o.Config(p)); err != nil {
			return fmt.Errorf("bus: ensure object store %s: %w", o.Bucket, err)
		}
	}
	for _, c := range t.Consumers {
		if err := c.Validate(); err != nil {
			return err
		}
		if _, err := js.CreateOrUpdateConsumer(ctx, c.Stream, c.Config()); err != nil {
			return fmt.Errorf("bus: ensure consumer %s on %s: %w", c.Durable, c.Stream, err)
		}
	}
	return nil
}
