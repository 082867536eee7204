package receiver

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/nhsengland/gp2gp/libs/stage"
)

// Name is the service's name in logs, traces and its NATS connection.
const Name = "receiver"

// EnvAutoIntegrate switches on the auto-integration policy: a record whose
// NHS number matches the registration, with nothing degraded and no
// attachment missing, of a patient who is not returning, is acknowledged
// as integrated without waiting for the practice's system.
const EnvAutoIntegrate = "GP2GP_AUTO_INTEGRATE"

// Config configures the receiver.
type Config struct {
	stage.Config
	AutoIntegrate bool
}

// ConfigFromEnv reads the configuration from the environment.
func ConfigFromEnv() (Config, error) {
	sc, err := stage.Load(os.LookupEnv)
	c := Config{Config: sc}
	if v := strings.TrimSpace(os.Getenv(EnvAutoIntegrate)); v != "" {
		b, perr := strconv.ParseBool(v)
		if perr != nil {
			return c, fmt.Errorf("%s: %s: %q is not true or false", Name, EnvAutoIntegrate, v)
		}
		c.AutoIntegrate = b
	}
	if err != nil {
		return c, fmt.Errorf("%s: %w", Name, err)
	}
	return c, nil
}

// Validate reports everything missing or malformed.
func (c Config) Validate() error { return c.Config.Validate() }
