package acknowledger

import (
	"fmt"
	"os"

	"github.com/nhsengland/gp2gp/libs/service"
)

// Name is the service's name in logs, traces and its NATS connection.
const Name = "acknowledger"

// Config configures the acknowledger. The shared variables (GP2GP_NATS_URL,
// GP2GP_PRACTICES, …) are listed in the README.
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

// Validate reports everything missing or malformed.
func (c Config) Validate() error { return c.RequirePractices() }
