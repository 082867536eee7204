package requester

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/nhsengland/gp2gp/libs/stage"
)

// Name is the service's name in logs, traces and its NATS connection.
const Name = "requester"

// Environment variables of the requester, besides the stage ones (see the
// README).
const (
	// EnvExtractWeight and EnvCOPCWeight are the protocol's A and B in the
	// requester's timeout: A × persist duration of the extract + B × parts ×
	// persist duration of a COPC, from SDS for the sending practice.
	EnvExtractWeight = "GP2GP_TIMEOUT_EXTRACT_WEIGHT"
	EnvCOPCWeight    = "GP2GP_TIMEOUT_COPC_WEIGHT"
)

// Config configures the requester.
type Config struct {
	stage.Config
	ExtractWeight, COPCWeight float64
}

// ConfigFromEnv reads the configuration from the environment.
func ConfigFromEnv() (Config, error) {
	sc, err := stage.Load(os.LookupEnv)
	c := Config{Config: sc, ExtractWeight: 1, COPCWeight: 1}
	for env, dst := range map[string]*float64{EnvExtractWeight: &c.ExtractWeight, EnvCOPCWeight: &c.COPCWeight} {
		if v := strings.TrimSpace(os.Getenv(env)); v != "" {
			f, perr := strconv.ParseFloat(v, 64)
			if perr != nil {
				return c, fmt.Errorf("%s: %s: %q is not a number", Name, env, v)
			}
			*dst = f
		}
	}
	if err != nil {
		return c, fmt.Errorf("%s: %w", Name, err)
	}
	return c, nil
}

// Validate reports everything missing or malformed.
func (c Config) Validate() error {
	if c.ExtractWeight <= 0 || c.COPCWeight < 0 {
		return fmt.Errorf("%s must be positive and %s not negative", EnvExtractWeight, EnvCOPCWeight)
	}
	return c.Config.Validate()
}
