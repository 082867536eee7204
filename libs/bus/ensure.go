package bus

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/nats-io/nats.go/jetstream"
)

// ErrMisconfigured reports an existing stream or bucket whose placement
// (replicas, storage) or retention differs from what the profile requires.
// Ensure refuses to change those: scaling a production stream down to one
// replica, say, because one service was started with the dev profile,
// would silently weaken every transfer's durability.
var ErrMisconfigured = errors.New("misconfigured")

// CheckStream reports, wrapping ErrMisconfigured, an existing stream
// whose replicas, storage or retention differ from profile p's (and
// retention). A missing stream is not an error here.
func CheckStream(ctx context.Context, js jetstream.JetStream, name string, p Profile, retention jetstream.RetentionPolicy) error {
	st, err := js.Stream(ctx, name)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("bus: stream %s: %w", name, err)
	}
	got := st.CachedInfo().Config
	var problems []string
	if got.Replicas != p.Replicas {
		problems = append(problems, fmt.Sprintf("has %d replicas, profile %s requires %d", got.Replicas, p.Name, p.Replicas))
	}
	if got.Storage != p.Storage {
		problems = append(problems, fmt.Sprintf("is on %s storage, profile %s requires %s", got.Storage, p.Name, p.Storage))
	}
	if got.Retention != retention {
		problems = append(problems, fmt.Sprintf("has %s retention, gp2gp declares %s", got.Retention, retention))
	}
	if len(problems) == 0 {
		return nil
	}
	return fmt.Errorf("bus: stream %s %s: %w (fix the stream, e.g. nats stream edit %s --replicas %d, or set GP2GP_PROFILE to the deployment's profile; gp2gp does not change replicas, storage or retention itself)",
		name, strings.Join(problems, " and "), ErrMisconfigured, name, p.Replicas)
}

// Ensure creates or updates every stream, bucket and consumer of t so that
// they match their declarations under profile p, refusing (with
// ErrMisconfigured) to touch one whose replicas, storage or retention are
// not the profile's. It is idempotent: running
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
		if err := CheckStream(ctx, js, s.Name, p, cfg.Retention); err != nil {
			return err
		}
		_, err := js.CreateStream(ctx, cfg)
		if errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
			_, err = js.UpdateStream(ctx, cfg)
		}
		if err != nil {
			return fmt.Errorf("bus: ensure stream %s: %w%s", s.Name, err, placementHint(err, p))
		}
	}
	for _, k := range t.KeyValues {
		cfg := k.Config(p)
		if err := CheckStream(ctx, js, "KV_"+k.Bucket, p, jetstream.LimitsPolicy); err != nil {
			return err
		}
		_, err := js.CreateKeyValue(ctx, cfg)
		if errors.Is(err, jetstream.ErrBucketExists) {
			_, err = js.UpdateKeyValue(ctx, cfg)
		}
		if err != nil {
			return fmt.Errorf("bus: ensure bucket %s: %w%s", k.Bucket, err, placementHint(err, p))
		}
	}
	for _, o := range t.ObjectStores {
		cfg := o.Config(p)
		if err := CheckStream(ctx, js, "OBJ_"+o.Bucket, p, jetstream.LimitsPolicy); err != nil {
			return err
		}
		_, err := js.CreateObjectStore(ctx, cfg)
		if errors.Is(err, jetstream.ErrBucketExists) {
			_, err = js.UpdateObjectStore(ctx, cfg)
		}
		if err != nil {
			return fmt.Errorf("bus: ensure object store %s: %w%s", o.Bucket, err, placementHint(err, p))
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

// placementHint explains a refusal to place replicas.
func placementHint(err error, p Profile) string {
	var apiErr *jetstream.APIError
	// 10074: replicas > 1 not supported in non-clustered mode; 10023:
	// insufficient resources (fewer servers than replicas).
	if p.Replicas > 1 && errors.As(err, &apiErr) && (apiErr.ErrorCode == 10074 || apiErr.ErrorCode == 10023) {
		return fmt.Sprintf(" (profile %s needs a JetStream cluster of at least %d servers; GP2GP_PROFILE=dev runs on one)", p.Name, p.Replicas)
	}
	return ""
}
