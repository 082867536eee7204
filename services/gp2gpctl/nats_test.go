package gp2gpctl_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nhsengland/gp2gp/services/gp2gpctl"
)

func TestNATSAuthWritesTheDeployedValues(t *testing.T) {
	spec := filepath.Join("..", "..", "deploy", "nats", "auth-spec.json")
	out, errOut, code := ctl(t, "nats", "auth", "-spec", spec)
	require.Equal(t, gp2gpctl.ExitOK, code, errOut)
	want, err := os.ReadFile(filepath.Join("..", "..", "deploy", "nats", "auth-values.yaml"))
	require.NoError(t, err)
	// The header names the spec as given on the command line.
	assert.Equal(t, strings.SplitN(string(want), "config:", 2)[1], strings.SplitN(out, "config:", 2)[1])

	conf, errOut, code := ctl(t, "nats", "auth", "-spec", spec, "-format", "conf",
		"-tls-cert", "/etc/nats/tls.crt", "-tls-key", "/etc/nats/tls.key", "-tls-ca", "/etc/nats/ca.crt")
	require.Equal(t, gp2gpctl.ExitOK, code, errOut)
	assert.Contains(t, conf, `"verify_and_map": true`)
	assert.Contains(t, conf, `"user": "CN=gp2gp-requester"`)
}

func TestNATSAuthRefusesMistakes(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "spec.json")
	require.NoError(t, os.WriteFile(bad, []byte(`{"practices":[{"ods":"a1","asid":"x"}]}`), 0o600))
	_, errOut, code := ctl(t, "nats", "auth", "-spec", bad)
	assert.Equal(t, gp2gpctl.ExitFailure, code)
	assert.Contains(t, errOut, "want an ODS code")
	_, _, code = ctl(t, "nats", "auth")
	assert.Equal(t, gp2gpctl.ExitUsage, code)
	_, _, code = ctl(t, "nats", "users")
	assert.Equal(t, gp2gpctl.ExitUsage, code)
	_, _, code = ctl(t, "nats", "auth", "-spec", bad, "-format", "xml")
	assert.Equal(t, gp2gpctl.ExitUsage, code)
}
