package requester_test

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
	"github.com/nhsengland/gp2gp/services/requester"
)

func TestRunEnsuresItsConsumersAndStopsCleanly(t *testing.T) {
	servicetest.CheckRun(t, func(ctx context.Context, natsURL string) error {
		cfg := requester.Config{Config: stagetest.Config(t, natsURL)}
		return requester.Run(ctx, withDefaults(cfg), stage.WithStartOptions(service.WithLogOutput(io.Discard)))
	}, bus.RequesterTopology("", stagetest.Practices).Consumers...)
}

func TestRunRefusesAnInvalidConfiguration(t *testing.T) {
	cfg := withDefaults(requester.Config{Config: stagetest.Config(t, "nats://127.0.0.1:1")})
	cfg.Service.Practices = nil
	cfg.Directory.File = ""
	err := requester.Run(context.Background(), cfg)
	require.ErrorContains(t, err, "invalid configuration")
	require.ErrorContains(t, err, "GP2GP_PRACTICES is required")
	require.ErrorContains(t, err, "a directory is required")
}

func withDefaults(c requester.Config) requester.Config {
	c.ExtractWeight, c.COPCWeight = 1, 1
	return c
}
