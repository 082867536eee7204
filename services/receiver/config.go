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

// Large messaging settings.
const (
	// EnvMissingAttachments says what happens to documents that never
	// arrived when the wait for them runs out: "fail" (the default) NACKs
	// the extract with 31; "placeholder" hands the record over with the
	// missing documents flagged absent, as placeholders. A document that
	// arrived in part always fails the transfer with 25.
	EnvMissingAttachments = "GP2GP_MISSING_ATTACHMENTS"
	// EnvExtractWeight and EnvCOPCWeight are the protocol's A and B in the
	// wait for a large message's parts: A × persist duration of the
	// extract + B × parts × persist duration of a COPC (both 1; the
	// requester reads the same variables).
	EnvExtractWeight = "GP2GP_TIMEOUT_EXTRACT_WEIGHT"
	EnvCOPCWeight    = "GP2GP_TIMEOUT_COPC_WEIGHT"
)

// Missing-attachment policies.
const (
	MissingFail        = "fail"
	MissingPlaceholder = "placeholder"
)

// Config configures the receiver.
type Config struct {
	stage.Config
	AutoIntegrate bool
	// MissingAttachments is MissingFail (also when empty) or
	// MissingPlaceholder.
	MissingAttachments string
	// ExtractWeight and COPCWeight: 0 means 1.
	ExtractWeight, COPCWeight float64
}

func (c Config) weights() (a, b float64) {
	a, b = c.ExtractWeight, c.COPCWeight
	if a == 0 {
		a = 1
	}
	if b == 0 {
		b = 1
	}
	return a, b
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
	c.MissingAttachments = strings.ToLower(strings.TrimSpace(os.Getenv(EnvMissingAttachments)))
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
	switch c.MissingAttachments {
	case "", MissingFail, MissingPlaceholder:
	default:
		return fmt.Errorf("%s %q: %s or %s", EnvMissingAttachments, c.MissingAttachments, MissingFail, MissingPlaceholder)
	}
	if c.ExtractWeight < 0 || c.COPCWeight < 0 {
		return fmt.Errorf("%s and %s must not be negative", EnvExtractWeight, EnvCOPCWeight)
	}
	return c.Config.Validate()
}
