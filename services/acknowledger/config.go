package acknowledger

import (
	"fmt"
	"os"

	"github.com/nhsengland/gp2gp/libs/stage"
)

// Name is the service's name in logs, traces and its NATS connection.
const Name = "acknowledger"

// Config configures the acknowledger. Its variables are the stage ones
// (see the README).
type Config struct {
	stage.Config
}

// ConfigFromEnv reads the configuration from the environment.
func ConfigFromEnv() (Config, error) {
	sc, err := stage.Load(os.LookupEnv)
	if err != nil {
		return Config{Config: sc}, fmt.Errorf("%s: %w", Name, err)
	}
	return Config{Config: sc}, nil
}

// Validate reports everything missing or malformed.
func (c Config) Validate() error { return c.Config.Validate() }
