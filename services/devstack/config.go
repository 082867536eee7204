package devstack

import (
	"fmt"
	"os"
	"strconv"

	"github.com/nhsengland/gp2gp/libs/service"
)

// Environment variables of the dev stack, besides the shared ones.
const (
	// EnvDataDir is where the embedded NATS server keeps JetStream data.
	EnvDataDir = "GP2GP_DATA_DIR"
	// EnvNATSPort is the embedded NATS server's client port (-1: any free
	// port).
	EnvNATSPort = "GP2GP_DEV_NATS_PORT"
)

// DefaultPractices are the two simulated practices the dev stack serves.
const DefaultPractices = "A12345:200000000101,B86041:200000000102"

// Config configures the dev stack.
type Config struct {
	// Service is the configuration every service runs with; its NATS URL
	// is replaced by the embedded server's.
	Service service.Config
	// DataDir holds the JetStream file store; it survives restarts.
	DataDir string
	// NATSPort is the embedded server's client port.
	NATSPort int
}

// ConfigFromEnv reads the configuration from the environment, with
// defaults suited to a developer's machine: text logs, the two simulated
// practices, data under ./.devstack, NATS on port 4222.
func ConfigFromEnv() (Config, error) {
	lookup := func(k string) (string, bool) {
		if v, ok := os.LookupEnv(k); ok {
			return v, true
		}
		switch k {
		case service.EnvPractices:
			return DefaultPractices, true
		case service.EnvLogFormat:
			return "text", true
		}
		return "", false
	}
	sc, err := service.Load(lookup)
	c := Config{Service: sc, DataDir: ".devstack", NATSPort: 4222}
	if v, ok := os.LookupEnv(EnvDataDir); ok && v != "" {
		c.DataDir = v
	}
	if v, ok := os.LookupEnv(EnvNATSPort); ok && v != "" {
		port, perr := strconv.Atoi(v)
		if perr != nil {
			return c, fmt.Errorf("%s: %q is not a port number", EnvNATSPort, v)
		}
		c.NATSPort = port
	}
	return c, err
}

// Validate reports everything missing or malformed.
func (c Config) Validate() error {
	if c.DataDir == "" {
		return fmt.Errorf("%s is required", EnvDataDir)
	}
	if c.NATSPort < -1 || c.NATSPort > 65535 || c.NATSPort == 0 {
		return fmt.Errorf("%s %d is not a port (use -1 for any free port)", EnvNATSPort, c.NATSPort)
	}
	return c.Service.RequirePractices()
}
