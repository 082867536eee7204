package mireporter_test

import (
	"context"
	"io"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nhsengland/gp2gp/libs/bus"
	"github.com/nhsengland/gp2gp/libs/service"
	"github.com/nhsengland/gp2gp/libs/service/servicetest"
	"github.com/nhsengland/gp2gp/services/mireporter"
)

func TestRunEnsuresItsConsumersAndStopsCleanly(t *testing.T) {
	servicetest.CheckRun(t, func(ctx context.Context, natsURL string) error {
		return mireporter.Run(ctx, mireporter.Config{Config: servicetest.Config(natsURL)}, mireporter.WithStartOptions(service.WithLogOutput(io.Discard)))
	}, bus.MIReporterTopology("").Consumers...)
}

func TestRunRefusesAnInvalidConfiguration(t *testing.T) {
	cfg := mireporter.Config{Config: service.Defaults()}
	cfg.LogFormat = "xml"
	err := mireporter.Run(context.Background(), cfg)
	require.ErrorContains(t, err, "invalid configuration")
	require.ErrorContains(t, err, "GP2GP_LOG_FORMAT")
}
