package proc_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nhsengland/gp2gp/services/chaos/internal/proc"
)

func TestKillRestartAndExits(t *testing.T) {
	sleep, err := exec.LookPath("sleep")
	if err != nil {
		t.Skip("no sleep binary")
	}
	log := filepath.Join(t.TempDir(), "p.log")
	p := proc.New(proc.Spec{Name: "sleeper", Path: sleep, Args: []string{"30"}, Env: os.Environ(), Log: log})
	require.NoError(t, p.Start())
	require.Error(t, p.Start(), "already running")
	m, ok := p.Sample()
	require.True(t, ok)
	assert.Positive(t, m.RSSKiB)
	assert.GreaterOrEqual(t, m.PeakKiB, m.RSSKiB)

	require.True(t, p.Kill())
	assert.False(t, p.Running())
	assert.False(t, p.Kill(), "nothing to kill")
	require.NoError(t, p.Start())
	p.Stop(5 * time.Second)

	st := p.Stats()
	assert.Equal(t, 2, st.Starts)
	assert.Equal(t, 1, st.Kills)
	assert.Positive(t, st.PeakKiB)
	assert.Empty(t, st.Exits, "killed and stopped on purpose")

	// An end nobody asked for is recorded.
	q := proc.New(proc.Spec{Name: "false", Path: sleep, Args: []string{"not-a-duration"}, Env: os.Environ(), Log: log})
	require.NoError(t, q.Start())
	require.Eventually(t, func() bool { return !q.Running() }, 5*time.Second, 10*time.Millisecond)
	require.Len(t, q.Stats().Exits, 1)
	assert.Error(t, q.Stats().Exits[0].Err)
	data, err := os.ReadFile(log)
	require.NoError(t, err)
	assert.Contains(t, string(data), "chaos: started sleeper")
}
