package sender

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/nhsengland/gp2gp/libs/largemsg"
	"github.com/nhsengland/gp2gp/libs/stage"
)

// Name is the service's name in logs, traces and its NATS connection.
const Name = "sender"

// Environment variables of the sender, besides the stage ones (see the
// README).
const (
	// EnvRecordTimeout is how long the practice's system has to answer a
	// record request before the EHR Request is refused with reason 10.
	EnvRecordTimeout = "GP2GP_RECORD_TIMEOUT"
	// EnvFinalAckTimeout is how long after sending the extract the final
	// acknowledgement may take before the transfer fails (8 days).
	EnvFinalAckTimeout = "GP2GP_FINAL_ACK_TIMEOUT"
	// EnvSplitThreshold is the largest base64 text of a document, or of a
	// fragment, in one message, and the largest extract sent whole
	// (default 4,500,000).
	EnvSplitThreshold = "GP2GP_SPLIT_THRESHOLD"
)

// Config configures the sender.
type Config struct {
	stage.Config
	RecordTimeout   time.Duration
	FinalAckTimeout time.Duration
	// SplitThreshold: see EnvSplitThreshold; 0 means the default.
	SplitThreshold int
}

// limits are the large-messaging limits the configuration asks for.
func (c Config) limits() largemsg.Limits {
	l := largemsg.DefaultLimits()
	if c.SplitThreshold > 0 {
		l.SplitThreshold = c.SplitThreshold
	}
	return l
}

// ConfigFromEnv reads the configuration from the environment.
func ConfigFromEnv() (Config, error) {
	sc, err := stage.Load(os.LookupEnv)
	c := Config{Config: sc, RecordTimeout: 10 * time.Minute, FinalAckTimeout: 8 * 24 * time.Hour}
	for env, dst := range map[string]*time.Duration{EnvRecordTimeout: &c.RecordTimeout, EnvFinalAckTimeout: &c.FinalAckTimeout} {
		if v := strings.TrimSpace(os.Getenv(env)); v != "" {
			d, perr := time.ParseDuration(v)
			if perr != nil {
				return c, fmt.Errorf("%s: %s: %w", Name, env, perr)
			}
			*dst = d
		}
	}
	if v := strings.TrimSpace(os.Getenv(EnvSplitThreshold)); v != "" {
		n, perr := strconv.Atoi(strings.ReplaceAll(v, "_", ""))
		if perr != nil {
			return c, fmt.Errorf("%s: %s: %w", Name, EnvSplitThreshold, perr)
		}
		c.SplitThreshold = n
	}
	if err != nil {
		return c, fmt.Errorf("%s: %w", Name, err)
	}
	return c, nil
}

// Validate reports everything missing or malformed.
func (c Config) Validate() error {
	if c.RecordTimeout <= 0 || c.FinalAckTimeout <= 0 {
		return fmt.Errorf("%s and %s must be positive", EnvRecordTimeout, EnvFinalAckTimeout)
	}
	if c.SplitThreshold < 0 {
		return fmt.Errorf("%s must be positive", EnvSplitThreshold)
	}
	if err := c.limits().Validate(); err != nil {
		return fmt.Errorf("%s: %w", EnvSplitThreshold, err)
	}
	return c.Config.Validate()
}
