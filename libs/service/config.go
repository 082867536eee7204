package service

import (
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"time"

	"github.com/nhsengland/gp2gp/libs/bus"
)

// Environment variables read by Load. Each service documents its own
// further variables in its config.go.
const (
	EnvNATSURL         = "GP2GP_NATS_URL"
	EnvNATSCreds       = "GP2GP_NATS_CREDS"
	EnvNATSTLSCA       = "GP2GP_NATS_TLS_CA"
	EnvNATSTLSCert     = "GP2GP_NATS_TLS_CERT"
	EnvNATSTLSKey      = "GP2GP_NATS_TLS_KEY"
	EnvNATSInbox       = "GP2GP_NATS_INBOX_PREFIX"
	EnvPractices       = "GP2GP_PRACTICES"
	EnvConsumerGroup   = "GP2GP_CONSUMER_GROUP"
	EnvProfile         = "GP2GP_PROFILE"
	EnvOTLPEndpoint    = "GP2GP_OTLP_ENDPOINT"
	EnvOTLPMetrics     = "GP2GP_OTLP_METRICS_ENDPOINT"
	EnvOpsAddr         = "GP2GP_OPS_ADDR"
	EnvLogLevel        = "GP2GP_LOG_LEVEL"
	EnvLogFormat       = "GP2GP_LOG_FORMAT"
	EnvShutdownTimeout = "GP2GP_SHUTDOWN_TIMEOUT"
)

// Config is the configuration every service shares.
type Config struct {
	NATS NATSConfig
	// Practices the service serves. Required by every service except the
	// mireporter.
	Practices []bus.Practice
	// ConsumerGroup tells apart two deployments of one service that serve
	// different practices: it suffixes their durable consumer names.
	ConsumerGroup string
	// Profile decides stream replicas and storage.
	Profile bus.Profile
	// OTLPEndpoint is an OTLP/HTTP traces URL, for example
	// http://otel-collector:4318/v1/traces. Empty: spans are made (their ids
	// appear in logs) but not exported.
	OTLPEndpoint string
	// OTLPMetricsEndpoint is an OTLP/HTTP metrics URL, for example
	// http://otel-collector:4318/v1/metrics. Empty: metrics are only on the
	// ops endpoint's /metrics.
	OTLPMetricsEndpoint string
	// OpsAddr is where the ops HTTP endpoint listens (health, readiness,
	// metrics, transfer views), e.g. ":8080". Empty: none.
	OpsAddr  string
	LogLevel slog.Level
	// LogFormat is "json" (default) or "text".
	LogFormat string
	// ShutdownTimeout bounds how long in-flight handlers may run after a
	// stop signal.
	ShutdownTimeout time.Duration
}

// NATSConfig says how to reach NATS.
type NATSConfig struct {
	URL string
	// CredsFile is a NATS user credentials file (JWT and nkey seed).
	CredsFile string
	// TLS client configuration; all empty means plain or system-trusted TLS
	// as the URL says.
	TLSCAFile, TLSCertFile, TLSKeyFile string
	// InboxPrefix is the prefix of the connection's reply subjects. Empty:
	// _INBOX_<CN of the client certificate>, or without one
	// _INBOX_gp2gp-<service>[-<group>]: the prefix gp2gp's NATS permissions
	// let the user subscribe on.
	InboxPrefix string
}

// Defaults returns the configuration used for anything not set.
func Defaults() Config {
	return Config{
		NATS:            NATSConfig{URL: "nats://127.0.0.1:4222"},
		Profile:         bus.DevProfile,
		LogLevel:        slog.LevelInfo,
		LogFormat:       "json",
		ShutdownTimeout: 30 * time.Second,
	}
}

// Load reads the shared configuration through lookup (os.LookupEnv in a
// service's config.go), starting from Defaults. It reports malformed
// values; Validate reports missing ones.
func Load(lookup func(string) (string, bool)) (Config, error) {
	c := Defaults()
	get := func(k string) (string, bool) {
		v, ok := lookup(k)
		v = strings.TrimSpace(v)
		return v, ok && v != ""
	}
	var errs []error
	if v, ok := get(EnvNATSURL); ok {
		c.NATS.URL = v
	}
	c.NATS.CredsFile, _ = get(EnvNATSCreds)
	c.NATS.TLSCAFile, _ = get(EnvNATSTLSCA)
	c.NATS.TLSCertFile, _ = get(EnvNATSTLSCert)
	c.NATS.TLSKeyFile, _ = get(EnvNATSTLSKey)
	c.NATS.InboxPrefix, _ = get(EnvNATSInbox)
	if v, ok := get(EnvPractices); ok {
		ps, err := ParsePractices(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", EnvPractices, err))
		}
		c.Practices = ps
	}
	c.ConsumerGroup, _ = get(EnvConsumerGroup)
	if v, ok := get(EnvProfile); ok {
		p, err := bus.ProfileNamed(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", EnvProfile, err))
		}
		c.Profile = p
	}
	c.OTLPEndpoint, _ = get(EnvOTLPEndpoint)
	c.OTLPMetricsEndpoint, _ = get(EnvOTLPMetrics)
	c.OpsAddr, _ = get(EnvOpsAddr)
	if v, ok := get(EnvLogLevel); ok {
		if err := c.LogLevel.UnmarshalText([]byte(v)); err != nil {
			errs = append(errs, fmt.Errorf("%s: %q is not debug, info, warn or error", EnvLogLevel, v))
		}
	}
	if v, ok := get(EnvLogFormat); ok {
		c.LogFormat = v
	}
	if v, ok := get(EnvShutdownTimeout); ok {
		d, err := time.ParseDuration(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", EnvShutdownTimeout, err))
		}
		c.ShutdownTimeout = d
	}
	return c, errors.Join(errs...)
}

var (
	odsPattern   = regexp.MustCompile(`^[A-Z0-9]{3,10}$`)
	asidPattern  = regexp.MustCompile(`^[0-9]{1,20}$`)
	groupPattern = regexp.MustCompile(`^[a-z0-9-]{0,32}$`)
	inboxPattern = regexp.MustCompile(`^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$`)
)

// ParsePractices reads "ODS:ASID,ODS:ASID…", for example
// "A12345:200000000101,B86041:200000000102". ODS codes are upper-cased.
func ParsePractices(s string) ([]bus.Practice, error) {
	var out []bus.Practice
	seenODS, seenASID := map[string]bool{}, map[string]bool{}
	for _, item := range strings.Split(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		ods, asid, ok := strings.Cut(item, ":")
		ods, asid = strings.ToUpper(strings.TrimSpace(ods)), strings.TrimSpace(asid)
		switch {
		case !ok:
			return nil, fmt.Errorf("practice %q: want ODS:ASID", item)
		case !odsPattern.MatchString(ods):
			return nil, fmt.Errorf("practice %q: ODS code must be 3 to 10 letters or digits", item)
		case !asidPattern.MatchString(asid):
			return nil, fmt.Errorf("practice %q: ASID must be 1 to 20 digits", item)
		case seenODS[ods]:
			return nil, fmt.Errorf("practice %s listed twice", ods)
		case seenASID[asid]:
			return nil, fmt.Errorf("ASID %s listed twice", asid)
		}
		seenODS[ods], seenASID[asid] = true, true
		out = append(out, bus.Practice{ODS: ods, ASID: asid})
	}
	return out, nil
}

// Validate reports every problem with c at once.
func (c Config) Validate() error {
	var errs []error
	if c.NATS.URL == "" {
		errs = append(errs, fmt.Errorf("%s is required", EnvNATSURL))
	}
	if c.NATS.InboxPrefix != "" && !inboxPattern.MatchString(c.NATS.InboxPrefix) {
		errs = append(errs, fmt.Errorf("%s %q: letters, digits, '_' and '-' in dot-separated tokens", EnvNATSInbox, c.NATS.InboxPrefix))
	}
	if (c.NATS.TLSCertFile == "") != (c.NATS.TLSKeyFile == "") {
		errs = append(errs, fmt.Errorf("%s and %s go together", EnvNATSTLSCert, EnvNATSTLSKey))
	}
	if err := c.NATS.checkFiles(); err != nil {
		errs = append(errs, err)
	}
	for _, p := range c.Practices {
		if !odsPattern.MatchString(p.ODS) || !asidPattern.MatchString(p.ASID) {
			errs = append(errs, fmt.Errorf("practice %s:%s is malformed", p.ODS, p.ASID))
		}
	}
	if !groupPattern.MatchString(c.ConsumerGroup) {
		errs = append(errs, fmt.Errorf("%s %q: use up to 32 lower-case letters, digits and dashes", EnvConsumerGroup, c.ConsumerGroup))
	}
	if c.Profile.Replicas < 1 || c.Profile.Replicas > 5 {
		errs = append(errs, fmt.Errorf("%s: profile %q has %d replicas", EnvProfile, c.Profile.Name, c.Profile.Replicas))
	}
	if c.LogFormat != "json" && c.LogFormat != "text" {
		errs = append(errs, fmt.Errorf("%s %q: want json or text", EnvLogFormat, c.LogFormat))
	}
	if c.ShutdownTimeout <= 0 {
		errs = append(errs, fmt.Errorf("%s must be positive", EnvShutdownTimeout))
	}
	return errors.Join(errs...)
}

// RequirePractices is Validate for a service that serves practices.
func (c Config) RequirePractices() error {
	err := c.Validate()
	if len(c.Practices) == 0 {
		err = errors.Join(err, fmt.Errorf("%s is required: the practices served, as ODS:ASID,…", EnvPractices))
	}
	return err
}
