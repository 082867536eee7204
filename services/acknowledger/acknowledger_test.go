package acknowledger_test

import (
	"context"
	"io"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nhsengland/gp2gp/libs/bus"
	"github.com/nhsengland/gp2gp/libs/service"
	"github.com/nhsengland/gp2gp/libs/service/servicetest"
	"github.com/nhsengland/gp2gp/services/acknowledger"
)

func TestRunEnsuresItsConsumersAndStopsCleanly(t *testing.T) {
	servicetest.CheckRun(t, func(ctx context.Context, natsURL string) error {
		return acknowledger.Run(ctx, acknowledger.Config{Config: servicetest.Config(natsURL)}, service.WithLogOutput(io.Discard))
	}, bus.AcknowledgerTopology("", servicetest.Practices).Consumers...)
}

func TestRunRefusesAnInvalidConfiguration(t *testing.T) {
	cfg := acknowledger.Config{Config: service.Defaults()}
	cfg.Practices = nil
	err := acknowledger.Run(context.Background(), cfg)
	require.ErrorContains(t, err, "invalid configuration")
	require.ErrorContains(t, err, "GP2GP_PRACTICES is required")
}
