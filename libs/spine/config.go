package spine

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/nhsengland/gp2gp/libs/bus"
)

// Environment variables read by LoadConfig.
const (
	// EnvTransport chooses the transport: TransportLoopback (default) or
	// TransportMHS.
	EnvTransport = "GP2GP_SPINE_TRANSPORT"
	// EnvMHSOutboundURL is the MHS adaptor's outbound URL (required for
	// TransportMHS), e.g. http://mhs-outbound:80/.
	EnvMHSOutboundURL = "GP2GP_MHS_OUTBOUND_URL"
	// EnvMHSInboundAddr is the listen address of the inbound endpoint the
	// MHS inbound queue bridge posts to, e.g. ":8081". Optional: empty
	// means no inbound endpoint.
	EnvMHSInboundAddr = "GP2GP_MHS_INBOUND_ADDR"
	// EnvMHSTimeout bounds each request to the MHS adaptor (a Go duration,
	// e.g. 120s; default DefaultMHSTimeout).
	EnvMHSTimeout = "GP2GP_MHS_TIMEOUT"
)

// Transports.
const (
	// TransportLoopback publishes sent messages straight onto the bus
	// (Loopback).
	TransportLoopback = "loopback"
	// TransportMHS sends through the NHS MHS adaptor (MHS).
	TransportMHS = "mhs"
)

// Config chooses and configures the Spine transport.
type Config struct {
	// Transport is TransportLoopback or TransportMHS.
	Transport string
	// MHSOutboundURL is the MHS adaptor's outbound URL (TransportMHS).
	MHSOutboundURL string
	// MHSInboundAddr is where to serve the inbound endpoint (NewInbound,
	// ServeInbound); empty: not served.
	MHSInboundAddr string
	// MHSTimeout bounds each request to the MHS adaptor.
	MHSTimeout time.Duration
}

// DefaultConfig is the configuration used for anything not set: the
// loopback transport.
func DefaultConfig() Config {
	return Config{Transport: TransportLoopback, MHSTimeout: DefaultMHSTimeout}
}

// LoadConfig reads the Spine configuration through lookup (a service's
// config.go passes os.LookupEnv), starting from DefaultConfig. It reports
// malformed values, naming the variable; Validate reports missing ones.
func LoadConfig(lookup func(string) (string, bool)) (Config, error) {
	c := DefaultConfig()
	get := func(k string) (string, bool) {
		v, ok := lookup(k)
		v = strings.TrimSpace(v)
		return v, ok && v != ""
	}
	var errs []error
	if v, ok := get(EnvTransport); ok {
		c.Transport = strings.ToLower(v)
		if c.Transport != TransportLoopback && c.Transport != TransportMHS {
			errs = append(errs, fmt.Errorf("%s: %q is not %s or %s", EnvTransport, v, TransportLoopback, TransportMHS))
		}
	}
	c.MHSOutboundURL, _ = get(EnvMHSOutboundURL)
	c.MHSInboundAddr, _ = get(EnvMHSInboundAddr)
	if v, ok := get(EnvMHSTimeout); ok {
		d, err := time.ParseDuration(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", EnvMHSTimeout, err))
		}
		c.MHSTimeout = d
	}
	return c, errors.Join(errs...)
}

// Validate reports every problem with c at once, naming the variables.
func (c Config) Validate() error {
	var errs []error
	switch c.Transport {
	case TransportLoopback:
	case TransportMHS:
		if c.MHSOutboundURL == "" {
			errs = append(errs, fmt.Errorf("%s is required when %s=%s", EnvMHSOutboundURL, EnvTransport, TransportMHS))
		}
	default:
		errs = append(errs, fmt.Errorf("%s: %q is not %s or %s", EnvTransport, c.Transport, TransportLoopback, TransportMHS))
	}
	if c.MHSOutboundURL != "" {
		if _, err := parseHTTPURL(c.MHSOutboundURL); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", EnvMHSOutboundURL, err))
		}
	}
	if c.MHSInboundAddr != "" {
		if _, _, err := net.SplitHostPort(c.MHSInboundAddr); err != nil {
			errs = append(errs, fmt.Errorf("%s: %q is not host:port (e.g. :8081): %w", EnvMHSInboundAddr, c.MHSInboundAddr, err))
		}
	}
	if c.MHSTimeout <= 0 {
		errs = append(errs, fmt.Errorf("%s must be positive", EnvMHSTimeout))
	}
	return errors.Join(errs...)
}

// New builds the transport cfg chooses. served says which ASIDs the
// deployment serves (nil: any): the loopback refuses to send to others
// (Permanent ErrNotServed). The MHS adaptor sends anywhere Spine routes,
// so it ignores served; give served to NewInbound instead.
func New(cfg Config, b *bus.Bus, served func(asid string) bool) (Transport, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("spine: %w", err)
	}
	if cfg.Transport == TransportMHS {
		m, err := NewMHS(cfg.MHSOutboundURL, WithTimeout(cfg.MHSTimeout))
		if err != nil {
			return nil, err
		}
		return m, nil
	}
	var opts []LoopbackOption
	if served != nil {
		opts = append(opts, WithServed(served))
	}
	l, err := NewLoopback(b, opts...)
	if err != nil {
		return nil, err
	}
	return l, nil
}
