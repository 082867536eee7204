package requester_test

import (
	"context"
	"io"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nhsengland/gp2gp/libs/bus"
	"github.com/nhsengland/gp2gp/libs/service"
	"github.com/nhsengland/gp2gp/libs/service/servicetest"
	"github.com/nhsengland/gp2gp/services/requester"
)

func TestRunEnsuresItsConsumersAndStopsCleanly(t *testing.T) {
	servicetest.CheckRun(t, func(ctx context.Context, natsURL string) error {
		return requester.Run(ctx, requester.Config{Config: servicetest.Config(natsURL)}, service.WithLogOutput(io.Discard))
	}, bus.RequesterTopology("", servicetest.Practices).Consumers...)
}

func TestRunRefusesAnInvalidConfiguration(t *testing.T) {
	cfg := requester.Config{Config: service.Defaults()}
	cfg.Practices = nil
	err := requester.Run(context.Background(), cfg)
	require.ErrorContains(t, err, "invalid configuration")
	require.ErrorContains(t, err, "GP2GP_PRACTICES is required")
}
