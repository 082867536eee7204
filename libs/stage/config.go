package stage

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nhsengland/gp2gp/libs/service"
	"github.com/nhsengland/gp2gp/libs/spine"
)

// Environment variables read by Load, besides the service and Spine ones.
const (
	EnvDirectoryFile = "GP2GP_DIRECTORY_FILE"
	EnvPDSURL        = "GP2GP_PDS_URL"
	EnvSDSURL        = "GP2GP_SDS_URL"
	EnvAPIKey        = "GP2GP_DIRECTORY_API_KEY"
	EnvTimerPoll     = "GP2GP_TIMER_POLL"
	EnvSystemName    = "GP2GP_SYSTEM_NAME"
)

// DefaultSystemName is the system name message events carry when
// GP2GP_SYSTEM_NAME is not set.
const DefaultSystemName = "gp2gp"

// Config is the configuration every transfer stage shares.
type Config struct {
	Service   service.Config
	Spine     spine.Config
	Directory DirectoryConfig
	// TimerPoll bounds how long a pending timeout waits before it is looked
	// at again (default 10 minutes). A timeout fires on time whatever it is
	// (the broker redelivers it when due); it bounds how late one fires if
	// the clock jumps, and each pending timeout costs one redelivery per
	// TimerPoll.
	TimerPoll time.Duration
	// SystemName is this deployment's system (supplier) name, written into
	// the message events of the messages it sends and receives (the Spine
	// log's fromSystem/toSystem, from which the MI names the requesting
	// and sending suppliers). Default "gp2gp".
	SystemName string
}

// DirectoryConfig says where PDS and SDS answers come from: a directory
// file, the FHIR APIs, or the file for one and an API for the other.
type DirectoryConfig struct {
	File   string
	PDSURL string
	SDSURL string
	APIKey string
}

// Load reads the shared stage configuration through lookup.
func Load(lookup func(string) (string, bool)) (Config, error) {
	var errs []error
	sc, err := service.Load(lookup)
	errs = append(errs, err)
	sp, err := spine.LoadConfig(lookup)
	errs = append(errs, err)
	get := func(k string) string {
		v, _ := lookup(k)
		return strings.TrimSpace(v)
	}
	c := Config{
		Service: sc, Spine: sp,
		Directory: DirectoryConfig{File: get(EnvDirectoryFile), PDSURL: get(EnvPDSURL), SDSURL: get(EnvSDSURL), APIKey: get(EnvAPIKey)},
		TimerPoll: 10 * time.Minute, SystemName: DefaultSystemName,
	}
	if v := get(EnvSystemName); v != "" {
		c.SystemName = v
	}
	if v := get(EnvTimerPoll); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", EnvTimerPoll, err))
		}
		c.TimerPoll = d
	}
	return c, errors.Join(errs...)
}

// Validate reports everything missing or malformed.
func (c Config) Validate() error {
	errs := []error{c.Service.RequirePractices(), c.Spine.Validate()}
	d := c.Directory
	if d.File == "" && (d.PDSURL == "" || d.SDSURL == "") {
		errs = append(errs, fmt.Errorf("a directory is required: %s, or both %s and %s", EnvDirectoryFile, EnvPDSURL, EnvSDSURL))
	}
	if c.TimerPoll <= 0 {
		errs = append(errs, fmt.Errorf("%s must be positive", EnvTimerPoll))
	}
	return errors.Join(errs...)
}
