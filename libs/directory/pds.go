package directory

import (
	"context"
	"fmt"
	"net/http"

	"github.com/google/uuid"
)

// The FHIR identifier systems the clients read.
const (
	systemODS            = "https://fhir.nhs.uk/Id/ods-organization-code"
	systemInteractionID  = "https://fhir.nhs.uk/Id/nhsServiceInteractionId"
	systemASID           = "https://fhir.nhs.uk/Id/nhsSpineASID"
	systemPartyKey       = "https://fhir.nhs.uk/Id/nhsMhsPartyKey"
	systemCPAID          = "https://fhir.nhs.uk/Id/nhsMhsCPAId"
	extensionReliability = "https://fhir.nhs.uk/StructureDefinition/Extension-SDS-ReliabilityConfiguration"
	gp2gpServicePrefix   = "urn:nhs:names:services:gp2gp:"
)

// PDSClient is a PDS for the NHS Personal Demographics Service FHIR API
// (for example https://sandbox.api.service.nhs.uk/personal-demographics/FHIR/R4).
// It is safe for concurrent use.
//
// Each lookup is GET {base}/Patient/{nhsNumber} with the headers Accept:
// application/fhir+json, X-Request-ID (a new UUID per attempt),
// X-Correlation-ID (a new UUID per lookup, the same on its retries), and
// apikey and Authorization when configured. HTTP 404 means
// ErrPatientNotFound; 5xx, 429, 408, timeouts and connection errors are
// retried and then give ErrUnavailable; any other status gives a
// *StatusError matching ErrBadResponse. PreviousODS is always empty.
type PDSClient struct {
	http *fhirClient
}

var _ PDS = (*PDSClient)(nil)

// NewPDSClient returns a client for the PDS FHIR API at baseURL (an
// absolute http or https URL, the path up to but excluding /Patient).
// Errors match ErrOption.
func NewPDSClient(baseURL string, opts ...ClientOption) (*PDSClient, error) {
	c, err := newFHIRClient("pds", baseURL, opts)
	if err != nil {
		return nil, err
	}
	return &PDSClient{http: c}, nil
}

// fhirPatient is the part of a FHIR Patient the client reads.
type fhirPatient struct {
	ResourceType string `json:"resourceType"`
	ID           string `json:"id"`
	Gender       string `json:"gender"`
	BirthDate    string `json:"birthDate"`
	Name         []struct {
		Use    string   `json:"use"`
		Family string   `json:"family"`
		Given  []string `json:"given"`
	} `json:"name"`
	GeneralPractitioner []struct {
		Identifier fhirIdentifier `json:"identifier"`
	} `json:"generalPractitioner"`
}

// Registration implements PDS. CurrentODS is the first
// generalPractitioner identified by an ODS code (empty if there is none,
// as for a patient with no registered practice). The name is the "usual"
// one, else the first.
func (c *PDSClient) Registration(ctx context.Context, nhsNumber string) (Registration, error) {
	if err := checkNHSNumber(nhsNumber); err != nil {
		return Registration{}, err
	}
	const what = "Patient read"
	correlationID := uuid.NewString()
	ans, err := c.http.get(ctx, c.http.endpoint("", "Patient", nhsNumber), what, func(h http.Header) {
		h.Set("X-Request-ID", uuid.NewString())
		h.Set("X-Correlation-ID", correlationID)
	})
	switch {
	case err != nil:
		return Registration{}, err
	case ans.status == http.StatusNotFound:
		return Registration{}, fmt.Errorf("%w: pds: %s: %w", ErrPatientNotFound, what, c.http.statusError(ans))
	case ans.status != http.StatusOK:
		return Registration{}, c.http.unexpected(ans, what)
	}
	var p fhirPatient
	if err := c.http.decode(ans, what, &p); err != nil {
		return Registration{}, err
	}
	if p.ResourceType != "Patient" {
		return Registration{}, fmt.Errorf("%w: pds: %s: got resourceType %q, want Patient", ErrBadResponse, what, p.ResourceType)
	}
	reg := Registration{NHSNumber: nhsNumber, BirthDate: p.BirthDate, Gender: p.Gender}
	if validNHSNumber(p.ID) {
		reg.NHSNumber = p.ID
	}
	for _, gp := range p.GeneralPractitioner {
		if gp.Identifier.System == systemODS && gp.Identifier.Value != "" {
			ods, err := normaliseODS(gp.Identifier.Value)
			if err != nil {
				return Registration{}, fmt.Errorf("%w: pds: %s: generalPractitioner: %w", ErrBadResponse, what, err)
			}
			reg.CurrentODS = ods
			break
		}
	}
	if len(p.Name) > 0 {
		name := p.Name[0]
		for _, n := range p.Name {
			if n.Use == "usual" {
				name = n
				break
			}
		}
		reg.FamilyName = name.Family
		if len(name.Given) > 0 {
			reg.GivenName = name.Given[0]
		}
	}
	return reg, nil
}
