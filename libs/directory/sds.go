package directory

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/google/uuid"
)

// SDSClient is an SDS for the NHS Spine Directory Service FHIR API (for
// example https://api.service.nhs.uk/spine-directory/FHIR/R4), making the
// lookups of the GP2GP protocol (section 5.3). It is safe for concurrent
// use.
//
// Endpoint makes two searches:
//
//	GET {base}/Device?organization=https://fhir.nhs.uk/Id/ods-organization-code|{ODS}&identifier=https://fhir.nhs.uk/Id/nhsServiceInteractionId|urn:nhs:names:services:gp2gp:{INTERACTION}
//	GET {base}/Endpoint?identifier=https://fhir.nhs.uk/Id/nhsServiceInteractionId|urn:nhs:names:services:gp2gp:{INTERACTION}&identifier=https://fhir.nhs.uk/Id/nhsMhsPartyKey|{PARTYKEY}
//
// (query values percent-encoded, "|" as %7C). The Device gives the ASID
// and party key, the Endpoint the address, CPA id and the reliability
// configuration extension (nhsMHSPersistDuration, nhsMHSRetries,
// nhsMHSRetryInterval, each as valueString or valueInteger; an integer
// duration is read as seconds). An Endpoint without that extension, or
// without some of its values, is not an error: the missing values are
// zero, and the caller falls back to its own defaults (routing does not
// depend on them, so refusing the endpoint would only turn a missing
// setting into a failed transfer). A value that is present but malformed
// is an ErrBadResponse.
//
// Requests carry Accept: application/fhir+json, X-Correlation-Id (a new
// UUID per Endpoint or Practice call, shared by its searches and their
// retries), and apikey and Authorization when configured. 5xx, 429, 408,
// timeouts and connection errors are retried and then give
// ErrUnavailable; any other status than 200 gives a *StatusError matching
// ErrBadResponse.
type SDSClient struct {
	http *fhirClient
}

var _ SDS = (*SDSClient)(nil)

// NewSDSClient returns a client for the SDS FHIR API at baseURL (an
// absolute http or https URL, the path up to but excluding /Device).
// Errors match ErrOption.
func NewSDSClient(baseURL string, opts ...ClientOption) (*SDSClient, error) {
	c, err := newFHIRClient("sds", baseURL, opts)
	if err != nil {
		return nil, err
	}
	return &SDSClient{http: c}, nil
}

// fhirBundle is the part of a FHIR searchset Bundle the client reads.
type fhirBundle struct {
	ResourceType string `json:"resourceType"`
	Entry        []struct {
		Resource fhirResource `json:"resource"`
	} `json:"entry"`
}

// fhirResource holds the fields read from a Device or an Endpoint.
type fhirResource struct {
	ResourceType string           `json:"resourceType"`
	Identifier   []fhirIdentifier `json:"identifier"`
	Owner        struct {
		Display string `json:"display"`
	} `json:"owner"`
	Address   string          `json:"address"`
	Extension []fhirExtension `json:"extension"`
}

// fhirExtension is a FHIR extension with the value types SDS uses.
type fhirExtension struct {
	URL          string          `json:"url"`
	ValueString  *string         `json:"valueString"`
	ValueInteger *int64          `json:"valueInteger"`
	Extension    []fhirExtension `json:"extension"`
}

// Endpoint implements SDS.
func (c *SDSClient) Endpoint(ctx context.Context, ods string, interaction string) (Endpoint, error) {
	ods, err := normaliseODS(ods)
	if err != nil {
		return Endpoint{}, err
	}
	if err := checkInteraction(interaction); err != nil {
		return Endpoint{}, err
	}
	headers := correlationHeaders()
	devices, err := c.devices(ctx, ods, interaction, headers)
	if err != nil {
		return Endpoint{}, err
	}
	switch {
	case len(devices) == 0:
		return Endpoint{}, fmt.Errorf("%w: no %s device for practice %s", ErrNotFound, interaction, ods)
	case len(devices) > 1:
		return Endpoint{}, fmt.Errorf("%w: %d %s devices for practice %s", ErrAmbiguous, len(devices), interaction, ods)
	}
	ep := Endpoint{
		ODS:      ods,
		ASID:     identifierValue(devices[0].Identifier, systemASID),
		PartyKey: identifierValue(devices[0].Identifier, systemPartyKey),
	}
	if ep.ASID == "" || ep.PartyKey == "" {
		return Endpoint{}, fmt.Errorf("%w: sds: %s device for practice %s lacks an ASID or party key", ErrBadResponse, interaction, ods)
	}

	const what = "Endpoint search"
	query := "identifier=" + url.QueryEscape(systemInteractionID+"|"+gp2gpServicePrefix+interaction) +
		"&identifier=" + url.QueryEscape(systemPartyKey+"|"+ep.PartyKey)
	endpoints, err := c.search(ctx, c.http.endpoint(query, "Endpoint"), what, "Endpoint", headers)
	if err != nil {
		return Endpoint{}, err
	}
	switch {
	case len(endpoints) == 0:
		return Endpoint{}, fmt.Errorf("%w: no %s endpoint for party key %s (practice %s)", ErrNotFound, interaction, ep.PartyKey, ods)
	case len(endpoints) > 1:
		return Endpoint{}, fmt.Errorf("%w: %d %s endpoints for party key %s (practice %s)", ErrAmbiguous, len(endpoints), interaction, ep.PartyKey, ods)
	}
	ep.MHSAddress = endpoints[0].Address
	ep.CPAID = identifierValue(endpoints[0].Identifier, systemCPAID)
	if err := readReliability(endpoints[0].Extension, &ep); err != nil {
		return Endpoint{}, fmt.Errorf("%w: sds: %s: %s endpoint for practice %s: %w", ErrBadResponse, what, interaction, ods, err)
	}
	return ep, nil
}

// Practice implements SDS with the Device search for the EHR Request
// (RCMR_IN010000UK05): a practice with one or more such devices is GP2GP
// enabled (several devices make routing ambiguous, which Endpoint
// reports, but not enablement); with none the result is ErrNotFound,
// which callers treat as GP2GP not enabled. Name is the device owner's
// display text, which SDS often leaves out.
func (c *SDSClient) Practice(ctx context.Context, ods string) (Practice, error) {
	ods, err := normaliseODS(ods)
	if err != nil {
		return Practice{}, err
	}
	devices, err := c.devices(ctx, ods, InteractionEHRRequest, correlationHeaders())
	if err != nil {
		return Practice{}, err
	}
	if len(devices) == 0 {
		return Practice{}, fmt.Errorf("%w: no %s device for practice %s", ErrNotFound, InteractionEHRRequest, ods)
	}
	p := Practice{ODS: ods, GP2GPEnabled: true}
	for _, d := range devices {
		if p.Name = d.Owner.Display; p.Name != "" {
			break
		}
	}
	return p, nil
}

// devices searches for the practice's devices for the interaction.
func (c *SDSClient) devices(ctx context.Context, ods, interaction string, headers func(http.Header)) ([]fhirResource, error) {
	query := "organization=" + url.QueryEscape(systemODS+"|"+ods) +
		"&identifier=" + url.QueryEscape(systemInteractionID+"|"+gp2gpServicePrefix+interaction)
	return c.search(ctx, c.http.endpoint(query, "Device"), "Device search", "Device", headers)
}

// search runs a FHIR search and returns the resources of the wanted type
// (other entries, like an OperationOutcome with search mode "outcome",
// are skipped).
func (c *SDSClient) search(ctx context.Context, u *url.URL, what, resourceType string, headers func(http.Header)) ([]fhirResource, error) {
	ans, err := c.http.get(ctx, u, what, headers)
	if err != nil {
		return nil, err
	}
	if ans.status != http.StatusOK {
		return nil, c.http.unexpected(ans, what)
	}
	var b fhirBundle
	if err := c.http.decode(ans, what, &b); err != nil {
		return nil, err
	}
	if b.ResourceType != "Bundle" {
		return nil, fmt.Errorf("%w: sds: %s: got resourceType %q, want Bundle", ErrBadResponse, what, b.ResourceType)
	}
	var out []fhirResource
	for _, e := range b.Entry {
		if e.Resource.ResourceType == resourceType {
			out = append(out, e.Resource)
		}
	}
	return out, nil
}

// correlationHeaders sets one new X-Correlation-Id on every request it is
// applied to.
func correlationHeaders() func(http.Header) {
	id := uuid.NewString()
	return func(h http.Header) { h.Set("X-Correlation-Id", id) }
}

// readReliability copies the reliability configuration extension's
// values into ep; absent values stay zero.
func readReliability(exts []fhirExtension, ep *Endpoint) error {
	for _, ext := range exts {
		if ext.URL != extensionReliability {
			continue
		}
		for _, sub := range ext.Extension {
			var err error
			switch sub.URL {
			case "nhsMHSPersistDuration":
				ep.PersistDuration, err = durationValue(sub)
			case "nhsMHSRetryInterval":
				ep.RetryInterval, err = durationValue(sub)
			case "nhsMHSRetries":
				ep.Retries, err = countValue(sub)
			}
			if err != nil {
				return fmt.Errorf("%s: %w", sub.URL, err)
			}
		}
	}
	return nil
}

// durationValue reads an ISO 8601 valueString or a valueInteger of seconds.
func durationValue(ext fhirExtension) (time.Duration, error) {
	switch {
	case ext.ValueString != nil:
		return durationError(*ext.ValueString)
	case ext.ValueInteger != nil:
		if *ext.ValueInteger < 0 || *ext.ValueInteger > int64(1<<63-1)/int64(time.Second) {
			return 0, fmt.Errorf("%d seconds is out of range", *ext.ValueInteger)
		}
		return time.Duration(*ext.ValueInteger) * time.Second, nil
	}
	return 0, nil
}

// countValue reads a non-negative valueInteger or a valueString of digits.
func countValue(ext fhirExtension) (int, error) {
	var n int64
	switch {
	case ext.ValueInteger != nil:
		n = *ext.ValueInteger
	case ext.ValueString != nil:
		var err error
		if n, err = strconv.ParseInt(*ext.ValueString, 10, 32); err != nil {
			return 0, fmt.Errorf("%q is not a whole number", *ext.ValueString)
		}
	}
	if n < 0 || n > 1<<31-1 {
		return 0, fmt.Errorf("%d is out of range", n)
	}
	return int(n), nil
}
