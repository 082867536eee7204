package chaos_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nhsengland/gp2gp/services/chaos"
)

// A very small chaos run: four transfers, two of them large records sent
// as COPC fragments, while two random processes are killed and restarted,
// then everything once more. It builds the binaries first (from the build
// cache after the first time).
func TestSmallChaosRun(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs every service and a NATS server as processes")
	}
	var out bytes.Buffer
	cfg := chaos.DefaultConfig(chaos.ModeChaos)
	cfg.Transfers, cfg.Kills, cfg.Poison = 4, 2, 2
	// Registrations over 10 s; the cap is generous (a message whose
	// handler a kill interrupted waits the consumer's 30 s ack wait) and
	// only matters when something is stuck.
	cfg.LoadWindow, cfg.Duration = 10*time.Second, 2*time.Minute
	cfg.LargeEvery, cfg.LargeSize, cfg.SplitThreshold = 2, 600_000, 200_000
	cfg.Seed = 20261121
	cfg.Out = &out
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	rep, err := chaos.Run(ctx, cfg)
	t.Log("\n" + out.String())
	require.NoError(t, err)
	assert.True(t, rep.Passed())
	assert.Equal(t, 4, rep.Completed)
	assert.Equal(t, 2, rep.KillCount)
	assert.Equal(t, 2, rep.DeadLetters)
	assert.Equal(t, 2*(3+1)+2*3, rep.Documents, "every document of the small and the large records verified")
	assert.Positive(t, rep.COPCs, "the large records' documents went as COPCs")
}

func TestLoad(t *testing.T) {
	env := map[string]string{chaos.EnvTransfers: "20", chaos.EnvKills: "5", chaos.EnvSoakDuration: "1m"}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }

	cfg, err := chaos.Load([]string{"-kills", "7"}, lookup, &bytes.Buffer{})
	require.NoError(t, err)
	assert.Equal(t, chaos.ModeChaos, cfg.Mode)
	assert.Equal(t, 20, cfg.Transfers, "from the environment")
	assert.Equal(t, 7, cfg.Kills, "the flag wins")
	assert.Equal(t, chaos.DefaultDuration, cfg.Duration)

	cfg, err = chaos.Load([]string{"soak", "-rate", "2"}, lookup, &bytes.Buffer{})
	require.NoError(t, err)
	assert.Equal(t, chaos.ModeSoak, cfg.Mode)
	assert.Equal(t, 2.0, cfg.Rate)
	assert.Equal(t, time.Minute, cfg.SoakDuration)
	assert.Equal(t, time.Minute+90*time.Second, cfg.Duration, "a soak's cap follows its length")
	assert.Zero(t, cfg.Kills, "a soak kills nothing")

	_, err = chaos.Load([]string{"storm"}, lookup, &bytes.Buffer{})
	require.ErrorContains(t, err, "want chaos or soak")
	env[chaos.EnvKills] = "many"
	_, err = chaos.Load(nil, lookup, &bytes.Buffer{})
	require.ErrorContains(t, err, chaos.EnvKills)
}
