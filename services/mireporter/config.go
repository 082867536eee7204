package mireporter

import (
	"fmt"
	"os"

	"github.com/nhsengland/gp2gp/libs/service"
)

// Name is the service's name in logs, traces and its NATS connection.
const Name = "mireporter"

// Config configures the mireporter. The shared variables (GP2GP_NATS_URL,
// …) are listed in the README; the mireporter reports on every practice,
// so GP2GP_PRACTICES is not required.
type Config struct {
	service.Config
}

// ConfigFromEnv reads the configuration from the environment.
func ConfigFromEnv() (Config, error) {
	c, err := service.Load(os.LookupEnv)
	if err != nil {
		return Config{}, fmt.Errorf("%s: %w", Name, err)
	}
	return Config{Config: c}, nil
}

// Validate reports everything malformed.
func (c Config) Validate() error { return c.Config.Validate() }
