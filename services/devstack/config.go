package devstack

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/nhsengland/gp2gp/libs/service"
	"github.com/nhsengland/gp2gp/libs/stage"
)

// Environment variables of the dev stack, besides the shared ones.
const (
	// EnvDataDir is where the embedded NATS server keeps JetStream data.
	EnvDataDir = "GP2GP_DATA_DIR"
	// EnvNATSPort is the embedded NATS server's client port (-1: any free
	// port).
	EnvNATSPort = "GP2GP_DEV_NATS_PORT"
	// EnvOpsPort is the first of five ports for the services' ops endpoints
	// (requester, sender, receiver, acknowledger, mireporter, in that
	// order); 0 turns them off.
	EnvOpsPort = "GP2GP_DEV_OPS_PORT"
	// EnvMIPort is the port of the mireporter's MI API and dashboard (0:
	// not served).
	EnvMIPort = "GP2GP_DEV_MI_PORT"
	// EnvDemo ("true"/"false") runs one transfer at start and prints its
	// timeline.
	EnvDemo = "GP2GP_DEV_DEMO"
	// EnvAutoIntegrate switches on the receiver's auto-integration policy.
	EnvAutoIntegrate = "GP2GP_AUTO_INTEGRATE"
	// EnvSecurity ("true"/"false") runs NATS with TLS, client certificates
	// and gp2gp's permission set, every service and practice as its own
	// user (see security.go).
	EnvSecurity = "GP2GP_DEV_SECURITY"
)

// DefaultPractices are the two simulated practices the dev stack serves.
const DefaultPractices = "A12345:200000000101,B86041:200000000102"

// Config configures the dev stack.
type Config struct {
	// Stage is the configuration every service runs with; its NATS URL is
	// replaced by the embedded server's. Without a directory file the dev
	// directory (package devdirectory) is used.
	Stage stage.Config
	// DataDir holds the JetStream file store; it survives restarts.
	DataDir string
	// NATSPort is the embedded server's client port.
	NATSPort int
	// OpsPort is the requester's ops port; the other services take the
	// next ones. 0: no ops endpoints.
	OpsPort int
	// MIPort is the port of the MI API and dashboard (0: not served).
	MIPort int
	// Demo runs one transfer at start and prints its timeline.
	Demo bool
	// AutoIntegrate switches on the receiver's auto-integration policy.
	AutoIntegrate bool
	// Security runs NATS with TLS and gp2gp's permission set, as
	// production does; certificates go to TLSDir(DataDir).
	Security bool
}

// ConfigFromEnv reads the configuration from the environment, with
// defaults suited to a developer's machine: text logs, the two simulated
// practices, data under ./.devstack, NATS on port 4222, ops endpoints on
// 8080-8084, a demo transfer at start.
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
		case stage.EnvTimerPoll:
			return "1s", true
		}
		return "", false
	}
	sc, err := stage.Load(lookup)
	c := Config{Stage: sc, DataDir: ".devstack", NATSPort: 4222, OpsPort: 8080, MIPort: 8090, Demo: true}
	errs := []error{err}
	get := func(k string) string { v, _ := os.LookupEnv(k); return strings.TrimSpace(v) }
	if v := get(EnvDataDir); v != "" {
		c.DataDir = v
	}
	for env, dst := range map[string]*int{EnvNATSPort: &c.NATSPort, EnvOpsPort: &c.OpsPort, EnvMIPort: &c.MIPort} {
		if v := get(env); v != "" {
			n, perr := strconv.Atoi(v)
			if perr != nil {
				errs = append(errs, fmt.Errorf("%s: %q is not a port number", env, v))
			}
			*dst = n
		}
	}
	for env, dst := range map[string]*bool{EnvDemo: &c.Demo, EnvAutoIntegrate: &c.AutoIntegrate, EnvSecurity: &c.Security} {
		if v := get(env); v != "" {
			b, perr := strconv.ParseBool(v)
			if perr != nil {
				errs = append(errs, fmt.Errorf("%s: %q is not true or false", env, v))
			}
			*dst = b
		}
	}
	return c, errors.Join(errs...)
}

// Validate reports everything missing or malformed.
func (c Config) Validate() error {
	var errs []error
	if c.DataDir == "" {
		errs = append(errs, fmt.Errorf("%s is required", EnvDataDir))
	}
	if c.NATSPort < -1 || c.NATSPort > 65535 || c.NATSPort == 0 {
		errs = append(errs, fmt.Errorf("%s %d is not a port (use -1 for any free port)", EnvNATSPort, c.NATSPort))
	}
	if c.OpsPort < 0 || c.OpsPort > 65530 {
		errs = append(errs, fmt.Errorf("%s %d is not a port (0 turns the ops endpoints off)", EnvOpsPort, c.OpsPort))
	}
	errs = append(errs, c.Stage.Service.RequirePractices(), c.Stage.Spine.Validate())
	return errors.Join(errs...)
}
