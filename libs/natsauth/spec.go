package natsauth

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"regexp"

	"github.com/nhsengland/gp2gp/libs/bus"
)

// specFile is the JSON form of a Spec (deploy/nats/auth-spec.json).
type specFile struct {
	Practices []struct {
		ODS  string `json:"ods"`
		ASID string `json:"asid"`
	} `json:"practices"`
	Group     string       `json:"group"`
	Vendors   []VendorSpec `json:"vendors"`
	Operators []string     `json:"operators"`
}

var asidPattern = regexp.MustCompile(`^[0-9]{1,20}$`)

// ReadSpec reads a Spec from JSON:
//
//	{"practices": [{"ods": "A12345", "asid": "200000000101"}],
//	 "vendors": [{"name": "alpha", "ods": ["A12345"]}],
//	 "operators": ["oncall"]}
//
// The practices are the services' GP2GP_PRACTICES.
func ReadSpec(r io.Reader) (Spec, error) {
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	var f specFile
	if err := dec.Decode(&f); err != nil {
		return Spec{}, fmt.Errorf("natsauth: spec: %w", err)
	}
	spec := Spec{Group: f.Group, Vendors: f.Vendors, Operators: f.Operators}
	for _, p := range f.Practices {
		if !odsPattern.MatchString(p.ODS) || !asidPattern.MatchString(p.ASID) {
			return Spec{}, fmt.Errorf("natsauth: spec: practice %q:%q: want an ODS code (3 to 10 upper-case letters and digits) and an ASID (digits)", p.ODS, p.ASID)
		}
		spec.Practices = append(spec.Practices, bus.Practice{ODS: p.ODS, ASID: p.ASID})
	}
	if _, err := spec.Users(); err != nil {
		return Spec{}, err
	}
	return spec, nil
}

// ReadSpecFile reads the Spec in file.
func ReadSpecFile(file string) (Spec, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return Spec{}, err
	}
	spec, err := ReadSpec(bytes.NewReader(data))
	if err != nil {
		return Spec{}, fmt.Errorf("%s: %w", file, err)
	}
	return spec, nil
}
