package sender_test

import (
	"context"
	"io"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nhsengland/gp2gp/libs/bus"
	"github.com/nhsengland/gp2gp/libs/service"
	"github.com/nhsengland/gp2gp/libs/service/servicetest"
	"github.com/nhsengland/gp2gp/services/sender"
)

func TestRunEnsuresItsConsumersAndStopsCleanly(t *testing.T) {
	servicetest.CheckRun(t, func(ctx context.Context, natsURL string) error {
		return sender.Run(ctx, sender.Config{Config: servicetest.Config(natsURL)}, service.WithLogOutput(io.Discard))
	}, bus.SenderTopology("", servicetest.Practices).Consumers...)
}

func TestRunRefusesAnInvalidConfiguration(t *testing.T) {
	cfg := sender.Config{Config: service.Defaults()}
	cfg.Practices = nil
	err := sender.Run(context.Background(), cfg)
	require.ErrorContains(t, err, "invalid configuration")
	require.ErrorContains(t, err, "GP2GP_PRACTICES is required")
}
