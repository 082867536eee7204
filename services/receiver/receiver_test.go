package receiver_test

import (
	"context"
	"io"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nhsengland/gp2gp/libs/bus"
	"github.com/nhsengland/gp2gp/libs/service"
	"github.com/nhsengland/gp2gp/libs/service/servicetest"
	"github.com/nhsengland/gp2gp/services/receiver"
)

func TestRunEnsuresItsConsumersAndStopsCleanly(t *testing.T) {
	servicetest.CheckRun(t, func(ctx context.Context, natsURL string) error {
		return receiver.Run(ctx, receiver.Config{Config: servicetest.Config(natsURL)}, service.WithLogOutput(io.Discard))
	}, bus.ReceiverTopology("", servicetest.Practices).Consumers...)
}

func TestRunRefusesAnInvalidConfiguration(t *testing.T) {
	cfg := receiver.Config{Config: service.Defaults()}
	cfg.Practices = nil
	err := receiver.Run(context.Background(), cfg)
	require.ErrorContains(t, err, "invalid configuration")
	require.ErrorContains(t, err, "GP2GP_PRACTICES is required")
}
