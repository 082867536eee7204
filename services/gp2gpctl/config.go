package gp2gpctl

import (
	"fmt"
	"os"
	"slices"

	"github.com/nhsengland/gp2gp/libs/service"
)

// Config is what the commands that talk to a deployment (status, list)
// need: how to reach its NATS. The -nats flag overrides NATS.URL.
type Config struct {
	NATS service.NATSConfig
}

// natsVariables are the only environment variables gp2gpctl reads; the
// services' other variables (GP2GP_PRACTICES, …) do not concern it.
var natsVariables = []string{
	service.EnvNATSURL, service.EnvNATSCreds, service.EnvNATSTLSCA, service.EnvNATSTLSCert, service.EnvNATSTLSKey,
	service.EnvNATSInbox,
}

// LoadConfig reads GP2GP_NATS_URL (default nats://127.0.0.1:4222),
// GP2GP_NATS_CREDS, GP2GP_NATS_TLS_CA, GP2GP_NATS_TLS_CERT and
// GP2GP_NATS_TLS_KEY from the environment.
func LoadConfig() (Config, error) { return loadConfig(os.LookupEnv) }

func loadConfig(lookup func(string) (string, bool)) (Config, error) {
	natsOnly := func(k string) (string, bool) {
		if !slices.Contains(natsVariables, k) {
			return "", false
		}
		return lookup(k)
	}
	c, err := service.Load(natsOnly)
	if err == nil {
		err = c.Validate()
	}
	if err != nil {
		return Config{}, fmt.Errorf("configuration: %w", err)
	}
	return Config{NATS: c.NATS}, nil
}
