package natsauth_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/nhsengland/gp2gp/libs/natsauth"
)

// deployDir is deploy/nats, relative to this package.
var deployDir = filepath.Join("..", "..", "deploy", "nats")

// TestHelmValuesAreGeneratedFromTheSpec keeps deploy/nats/auth-values.yaml
// what gp2gpctl nats auth makes of deploy/nats/auth-spec.json, and checks
// it says, as YAML, exactly the server configuration the other tests load
// into a server.
func TestHelmValuesAreGeneratedFromTheSpec(t *testing.T) {
	spec, err := natsauth.ReadSpecFile(filepath.Join(deployDir, "auth-spec.json"))
	require.NoError(t, err)
	users, err := spec.Users()
	require.NoError(t, err)
	var want bytes.Buffer
	require.NoError(t, natsauth.WriteHelmValues(&want, users, natsauth.HelmHeader("deploy/nats/auth-spec.json")))
	got, err := os.ReadFile(filepath.Join(deployDir, "auth-values.yaml"))
	require.NoError(t, err)
	require.Equal(t, want.String(), string(got),
		"deploy/nats/auth-values.yaml is stale: run go run ./services/gp2gpctl/cmd/gp2gpctl nats auth -spec deploy/nats/auth-spec.json > deploy/nats/auth-values.yaml")

	var values struct {
		Config struct {
			Merge struct {
				Accounts any `yaml:"accounts"`
			} `yaml:"merge"`
		} `yaml:"config"`
	}
	require.NoError(t, yaml.Unmarshal(got, &values))
	var conf bytes.Buffer
	require.NoError(t, natsauth.WriteServerConfig(&conf, users, nil))
	var server struct {
		Accounts any `json:"accounts"`
	}
	require.NoError(t, json.Unmarshal(conf.Bytes(), &server))
	fromYAML, err := json.Marshal(values.Config.Merge.Accounts)
	require.NoError(t, err)
	fromConf, err := json.Marshal(server.Accounts)
	require.NoError(t, err)
	assert.JSONEq(t, string(fromConf), string(fromYAML))
}

// TestSpecServesTheDevOverlaysPractices keeps the deployed users in step
// with the practices the Kubernetes dev overlay's services serve: a
// service serving a practice its NATS user does not cover would be
// refused at its first message.
func TestSpecServesTheDevOverlaysPractices(t *testing.T) {
	spec, err := natsauth.ReadSpecFile(filepath.Join(deployDir, "auth-spec.json"))
	require.NoError(t, err)
	var want []string
	for _, p := range spec.Practices {
		want = append(want, p.ODS+":"+p.ASID)
	}
	data, err := os.ReadFile(filepath.Join(deployDir, "..", "k8s", "overlays", "dev", "kustomization.yaml"))
	require.NoError(t, err)
	_, rest, found := strings.Cut(string(data), "GP2GP_PRACTICES=")
	require.True(t, found, "the dev overlay sets GP2GP_PRACTICES")
	got, _, _ := strings.Cut(rest, "\n")
	assert.Equal(t, strings.Join(want, ","), strings.TrimSpace(got))
}

func TestReadSpecRefusesMistakes(t *testing.T) {
	for name, spec := range map[string]string{
		"unknown field":   `{"practices":[{"ods":"A12345","asid":"1"}],"vendor":[]}`,
		"bad practice":    `{"practices":[{"ods":"a1","asid":"1"}]}`,
		"bad vendor ODS":  `{"practices":[{"ods":"A12345","asid":"1"}],"vendors":[{"name":"v","ods":["x"]}]}`,
		"no practices":    `{"vendors":[]}`,
		"not JSON at all": `practices: A12345`,
	} {
		t.Run(name, func(t *testing.T) {
			_, err := natsauth.ReadSpec(bytes.NewReader([]byte(spec)))
			assert.Error(t, err)
		})
	}
}
