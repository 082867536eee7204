package sender_test

import (
	"context"
	"io"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/nhsengland/gp2gp/libs/bus"
	"github.com/nhsengland/gp2gp/libs/service"
	"github.com/nhsengland/gp2gp/libs/service/servicetest"
	"github.com/nhsengland/gp2gp/libs/stage"
	"github.com/nhsengland/gp2gp/libs/stage/stagetest"
	"github.com/nhsengland/gp2gp/services/sender"
)

func TestRunEnsuresItsConsumersAndStopsCleanly(t *testing.T) {
	servicetest.CheckRun(t, func(ctx context.Context, natsURL string) error {
		cfg := sender.Config{Config: stagetest.Config(t, natsURL)}
		return sender.Run(ctx, withDefaults(cfg), stage.WithStartOptions(service.WithLogOutput(io.Discard)))
	}, bus.SenderTopology("", stagetest.Practices).Consumers...)
}

func TestRunRefusesAnInvalidConfiguration(t *testing.T) {
	cfg := withDefaults(sender.Config{Config: stagetest.Config(t, "nats://127.0.0.1:1")})
	cfg.Service.Practices = nil
	cfg.Directory.File = ""
	err := sender.Run(context.Background(), cfg)
	require.ErrorContains(t, err, "invalid configuration")
	require.ErrorContains(t, err, "GP2GP_PRACTICES is required")
	require.ErrorContains(t, err, "a directory is required")
}

func withDefaults(c sender.Config) sender.Config {
	c.RecordTimeout, c.FinalAckTimeout = time.Minute, 8*24*time.Hour
	return c
}

func TestSplitThresholdConfiguration(t *testing.T) {
	t.Setenv(sender.EnvSplitThreshold, "1_000_000")
	cfg, _ := sender.ConfigFromEnv()
	require.Equal(t, 1_000_000, cfg.SplitThreshold)

	t.Setenv(sender.EnvSplitThreshold, "lots")
	_, err := sender.ConfigFromEnv()
	require.ErrorContains(t, err, sender.EnvSplitThreshold)

	bad := withDefaults(sender.Config{Config: stagetest.Config(t, "nats://127.0.0.1:1"), SplitThreshold: 100})
	require.ErrorContains(t, bad.Validate(), "split threshold 100")
	tooBig := withDefaults(sender.Config{Config: stagetest.Config(t, "nats://127.0.0.1:1"), SplitThreshold: 6_000_000})
	require.ErrorContains(t, tooBig.Validate(), sender.EnvSplitThreshold)
}
