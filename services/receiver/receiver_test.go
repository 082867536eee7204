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
