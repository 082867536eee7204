package mireporter

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/nhsengland/gp2gp/libs/service"
)

// Name is the service's name in logs, traces and its NATS connection.
const Name = "mireporter"

// Environment variables read by ConfigFromEnv, besides the shared ones.
const (
	EnvCutoffDays   = "GP2GP_MI_CUTOFF_DAYS"
	EnvODSMetadata  = "GP2GP_MI_ODS_METADATA"
	EnvHTTPAddr     = "GP2GP_MI_HTTP_ADDR"
	EnvAPIURL       = "GP2GP_MI_API_URL"
	EnvAPIKey       = "GP2GP_MI_API_KEY"
	EnvSupplierODS  = "GP2GP_MI_SUPPLIER_ODS"
	DefaultCutoff   = 14 * 24 * time.Hour
	maxCutoffInDays = 366
)

// Config configures the mireporter. The shared variables (GP2GP_NATS_URL,
// …) are listed in the README; the mireporter reports on every practice,
// so GP2GP_PRACTICES is not required.
type Config struct {
	service.Config
	// Cutoff closes a conversation this long after its first message
	// (GP2GP-MI.md §1.2; the NHS dashboard uses 14 days). 0: never.
	Cutoff time.Duration
	// ODSMetadata is the path of the organisation metadata file (practices
	// with their ASIDs, Sub-ICB locations with their practices). Without
	// it practices are known only by the ODS codes the events carry, with
	// no Sub-ICB location, so they count nationally but have no practice
	// figures (§2.3).
	ODSMetadata string
	// HTTPAddr is where the MI API and dashboard listen; empty: not served.
	HTTPAddr string
	// APIURL is the base URL of the GP Registrations MI API enhanced MI
	// events are posted to; empty: no enhanced MI events.
	APIURL string
	// APIKey is sent with every post (the API platform's apikey header).
	APIKey string
	// SupplierODS is the reportingSystemSupplier of the events: the ODS
	// code NHS England assigned the system supplier.
	SupplierODS string
}

// ConfigFromEnv reads the configuration from the environment.
func ConfigFromEnv() (Config, error) { return LoadConfig(os.LookupEnv) }

// LoadConfig reads the configuration through lookup.
func LoadConfig(lookup func(string) (string, bool)) (Config, error) {
	c, err := service.Load(lookup)
	errs := []error{err}
	get := func(k string) string {
		v, _ := lookup(k)
		return strings.TrimSpace(v)
	}
	cfg := Config{Config: c, Cutoff: DefaultCutoff, ODSMetadata: get(EnvODSMetadata), HTTPAddr: get(EnvHTTPAddr),
		APIURL: get(EnvAPIURL), APIKey: get(EnvAPIKey), SupplierODS: get(EnvSupplierODS)}
	if v := get(EnvCutoffDays); v != "" {
		days, err := strconv.Atoi(v)
		if err != nil || days < 0 || days > maxCutoffInDays {
			errs = append(errs, fmt.Errorf("%s: %q is not a whole number of days from 0 to %d", EnvCutoffDays, v, maxCutoffInDays))
		}
		cfg.Cutoff = time.Duration(days) * 24 * time.Hour
	}
	if err := errors.Join(errs...); err != nil {
		return Config{}, fmt.Errorf("%s: %w", Name, err)
	}
	return cfg, nil
}

// Validate reports everything malformed.
func (c Config) Validate() error {
	errs := []error{c.Config.Validate()}
	if c.Cutoff < 0 {
		errs = append(errs, fmt.Errorf("%s must not be negative", EnvCutoffDays))
	}
	if c.APIURL != "" {
		if u, err := url.Parse(c.APIURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, fmt.Errorf("%s: %q is not an http(s) URL", EnvAPIURL, c.APIURL))
		}
		if c.SupplierODS == "" {
			errs = append(errs, fmt.Errorf("%s is required with %s (the events' reportingSystemSupplier)", EnvSupplierODS, EnvAPIURL))
		}
	}
	return errors.Join(errs...)
}
