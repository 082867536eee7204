package receiver_test

import (
	"context"
	"io"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nhsengland/gp2gp/libs/bus"
	"github.com/nhsengland/gp2gp/libs/service"
	"github.com/nhsengland/gp2gp/libs/service/servicetest"
	"github.com/nhsengland/gp2gp/libs/stage"
	"github.com/nhsengland/gp2gp/libs/stage/stagetest"
	"github.com/nhsengland/gp2gp/services/receiver"
)

func TestRunEnsuresItsConsumersAndStopsCleanly(t *testing.T) {
	servicetest.CheckRun(t, func(ctx context.Context, natsURL string) error {
		cfg := receiver.Config{Config: stagetest.Config(t, natsURL)}
		return receiver.Run(ctx, withDefaults(cfg), stage.WithStartOptions(service.WithLogOutput(io.Discard)))
	}, bus.ReceiverTopology("", stagetest.Practices).Consumers...)
}

func TestRunRefusesAnInvalidConfiguration(t *testing.T) {
	cfg := withDefaults(receiver.Config{Config: stagetest.Config(t, "nats://127.0.0.1:1")})
	cfg.Service.Practices = nil
	cfg.Directory.File = ""
	err := receiver.Run(context.Background(), cfg)
	require.ErrorContains(t, err, "invalid configuration")
	require.ErrorContains(t, err, "GP2GP_PRACTICES is required")
	require.ErrorContains(t, err, "a directory is required")
}

func withDefaults(c receiver.Config) receiver.Config { return c }

func TestLargeMessagingConfiguration(t *testing.T) {
	t.Setenv(receiver.EnvMissingAttachments, "Placeholder")
	t.Setenv(receiver.EnvCOPCWeight, "2.5")
	cfg, _ := receiver.ConfigFromEnv()
	require.Equal(t, receiver.MissingPlaceholder, cfg.MissingAttachments)
	require.InEpsilon(t, 2.5, cfg.COPCWeight, 1e-9)

	t.Setenv(receiver.EnvExtractWeight, "heavy")
	_, err := receiver.ConfigFromEnv()
	require.ErrorContains(t, err, receiver.EnvExtractWeight)

	bad := receiver.Config{Config: stagetest.Config(t, "nats://127.0.0.1:1"), MissingAttachments: "ignore"}
	require.ErrorContains(t, bad.Validate(), receiver.EnvMissingAttachments)
	negative := receiver.Config{Config: stagetest.Config(t, "nats://127.0.0.1:1"), COPCWeight: -1}
	require.ErrorContains(t, negative.Validate(), receiver.EnvCOPCWeight)
}
