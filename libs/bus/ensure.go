package bus

import (
	"context"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"
)

// Ensure creates or updates every stream, bucket and consumer of t so that
// they match their declarations under profile p. It is idempotent: running
// it again, from any number of instances, changes nothing. Each is created
// first (which succeeds, changing nothing, when it exists as declared) and
// updated only when it exists otherwise: several services starting at once
// then never update a stream while another adds a consumer to it (which
// also trips a data race inside nats-server 2.15's file store).
func Ensure(ctx context.Context, js jetstream.JetStream, p Profile, t Topology) error {
	if p.Replicas < 1 || p.Replicas > 5 {
		return fmt.Errorf("bus: profile %q: replicas %d out of range 1..5", p.Name, p.Replicas)
	}
	for _, s := range t.Streams {
		cfg := s.Config(p)
		_, err := js.CreateStream(ctx, cfg)
		if errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
			_, err = js.UpdateStream(ctx, cfg)
		}
		if err != nil {
			return fmt.Errorf("bus: ensure stream %s: %w", s.Name, err)
		}
	}
	for _, k := range t.KeyValues {
		cfg := k.Config(p)
		_, err := js.CreateKeyValue(ctx, cfg)
		if errors.Is(err, jetstream.ErrBucketExists) {
			_, err = js.UpdateKeyValue(ctx, cfg)
		}
		if err != nil {
			return fmt.Errorf("bus: ensure bucket %s: %w", k.Bucket, err)
		}
	}
	for _, o := range t.ObjectStores {
		cfg := o.Config(p)
		_, err := js.CreateObjectStore(ctx, cfg)
		if errors.Is(err, jetstream.ErrBucketExists) {
			_, err = js.UpdateObjectStore(ctx, cfg)
		}
		if err != nil {
			return fmt.Errorf("bus: ensure object store %s: %w", o.Bucket, err)
		}
	}
	for _, c := range t.Consumers {
		if err := c.Validate(); err != nil {
			return err
		}
		_, err := js.CreateConsumer(ctx, c.Stream, c.Config())
		if errors.Is(err, jetstream.ErrConsumerExists) {
			_, err = js.UpdateConsumer(ctx, c.Stream, c.Config())
		}
		if err != nil {
			return fmt.Errorf("bus: ensure consumer %s on %s: %w", c.Durable, c.Stream, err)
		}
	}
	return nil
}
