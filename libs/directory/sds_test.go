package directory_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nhsengland/gp2gp/libs/directory"
)

const sdsPath = "/spine-directory/FHIR/R4"

// sdsDevice is a Device entry of an SDS search Bundle (invented values).
func sdsDevice(asid, partyKey, ods, display, interaction string) string {
	return fmt.Sprintf(`{
    "fullUrl": "https://api.example.invalid/spine-directory/FHIR/R4/Device/%[1]s-device",
    "resource": {
      "resourceType": "Device",
      "id": "%[1]s-device",
      "identifier": [
        {"system": "https://fhir.nhs.uk/Id/nhsSpineASID", "value": %[1]q},
        {"system": "https://fhir.nhs.uk/Id/nhsMhsPartyKey", "value": %[2]q},
        {"system": "https://fhir.nhs.uk/Id/nhsServiceInteractionId", "value": "urn:nhs:names:services:gp2gp:%[5]s"}
      ],
      "extension": [{
        "url": "https://fhir.nhs.uk/StructureDefinition/Extension-SDS-ManufacturingOrganisation",
        "valueReference": {"identifier": {"system": "https://fhir.nhs.uk/Id/ods-organization-code", "value": "YGM24"}}
      }],
      "deviceName": [{"name": "Example Clinical System", "type": "manufacturer-name"}],
      "owner": {"identifier": {"system": "https://fhir.nhs.uk/Id/ods-organization-code", "value": %[3]q}, "display": %[4]q}
    },
    "search": {"mode": "match"}
  }`, asid, partyKey, ods, display, interaction)
}

// sdsEndpoint is an Endpoint entry; reliability is its extension list
// (JSON array) or empty for none.
func sdsEndpoint(partyKey, cpaID, address, reliability string) string {
	ext := ""
	if reliability != "" {
		ext = `,
      "extension": ` + reliability
	}
	return fmt.Sprintf(`{
    "fullUrl": "https://api.example.invalid/spine-directory/FHIR/R4/Endpoint/%[2]s-endpoint",
    "resource": {
      "resourceType": "Endpoint",
      "id": "%[2]s-endpoint",
      "status": "active",
      "connectionType": {"system": "http://terminology.hl7.org/CodeSystem/endpoint-connection-type", "code": "hl7-fhir-msg", "display": "HL7 FHIR Messaging"},
      "payloadType": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/endpoint-payload-type", "code": "any", "display": "Any"}]}],
      "address": %[3]q,
      "managingOrganization": {"identifier": {"system": "https://fhir.nhs.uk/Id/ods-organization-code", "value": "A12345"}},
      "identifier": [
        {"system": "https://fhir.nhs.uk/Id/nhsMhsFQDN", "value": "mhs.a12345.example.invalid"},
        {"system": "https://fhir.nhs.uk/Id/nhsMhsPartyKey", "value": %[1]q},
        {"system": "https://fhir.nhs.uk/Id/nhsMhsCPAId", "value": %[2]q},
        {"system": "https://fhir.nhs.uk/Id/nhsMHSId", "value": %[2]q}
      ]%[4]s
    },
    "search": {"mode": "match"}
  }`, partyKey, cpaID, address, ext)
}

// reliabilityExtension is the SDS reliability configuration with the
// given sub-extension values (JSON fragments like `"valueString": "PT4H10M"`).
func reliabilityExtension(persist, retries, interval string) string {
	sub := []string{
		`{"url": "nhsMHSSyncReplyMode", "valueString": "MSHSignalsOnly"}`,
		`{"url": "nhsMHSDuplicateElimination", "valueString": "always"}`,
		`{"url": "nhsMHSAckRequested", "valueString": "always"}`,
		`{"url": "nhsMHSActor", "valueString": "urn:oasis:names:tc:ebxml-msg:actor:nextMSH"}`,
	}
	if persist != "" {
		sub = append(sub, `{"url": "nhsMHSPersistDuration", `+persist+`}`)
	}
	if retries != "" {
		sub = append(sub, `{"url": "nhsMHSRetries", `+retries+`}`)
	}
	if interval != "" {
		sub = append(sub, `{"url": "nhsMHSRetryInterval", `+interval+`}`)
	}
	return `[{"url": "https://fhir.nhs.uk/StructureDefinition/Extension-SDS-ReliabilityConfiguration",
        "extension": [` + strings.Join(sub, ",\n          ") + `]}]`
}

// bundle is a searchset Bundle of entries.
func bundle(entries ...string) string {
	return fmt.Sprintf(`{
  "resourceType": "Bundle",
  "id": "5d1b7f0e-3c55-4a8e-9d1f-7a0b2c4e6f81",
  "type": "searchset",
  "total": %d,
  "link": [{"relation": "self", "url": "https://api.example.invalid/spine-directory/FHIR/R4/Device"}],
  "entry": [%s]
}`, len(entries), strings.Join(entries, ",\n"))
}

var (
	deviceA12345   = sdsDevice("200000000101", "A12345-822652", "A12345", "RIVERSIDE MEDICAL CENTRE", directory.InteractionEHRExtract)
	endpointA12345 = sdsEndpoint("A12345-822652", "S2000000101A0001", "https://mhs.a12345.example.invalid/reliablemessaging/reliablerequest",
		reliabilityExtension(`"valueString": "PT4H10M"`, `"valueInteger": 2`, `"valueString": "PT2H"`))
)

// sdsRoutes answers Device and Endpoint searches with fixed bodies, and
// anything else with 404.
func sdsRoutes(devices, endpoints string) func(w http.ResponseWriter, r *http.Request, n int) {
	return func(w http.ResponseWriter, r *http.Request, _ int) {
		switch r.URL.Path {
		case sdsPath + "/Device":
			reply(w, http.StatusOK, devices)
		case sdsPath + "/Endpoint":
			reply(w, http.StatusOK, endpoints)
		default:
			reply(w, http.StatusNotFound, "")
		}
	}
}

func newSDS(t *testing.T, api *fakeAPI, opts ...directory.ClientOption) *directory.SDSClient {
	t.Helper()
	c, err := directory.NewSDSClient(api.URL+sdsPath, append([]directory.ClientOption{fastRetries}, opts...)...)
	require.NoError(t, err)
	return c
}

func TestSDSClientEndpoint(t *testing.T) {
	api := newFakeAPI(t, sdsRoutes(bundle(deviceA12345), bundle(endpointA12345)))
	sds := newSDS(t, api, directory.WithAPIKey("sds-api-key"))

	ep, err := sds.Endpoint(context.Background(), "a12345", directory.InteractionEHRExtract)
	require.NoError(t, err)
	assert.Equal(t, directory.Endpoint{
		ODS:             "A12345",
		ASID:            "200000000101",
		PartyKey:        "A12345-822652",
		CPAID:           "S2000000101A0001",
		MHSAddress:      "https://mhs.a12345.example.invalid/reliablemessaging/reliablerequest",
		PersistDuration: 4*time.Hour + 10*time.Minute,
		Retries:         2,
		RetryInterval:   2 * time.Hour,
	}, ep)

	reqs := api.Requests()
	require.Len(t, reqs, 2)
	device, endpoint := reqs[0], reqs[1]

	// The queries exactly as protocol section 5.3 shows them, then encoded.
	assert.Equal(t, sdsPath+"/Device", device.URL.Path)
	assert.Equal(t,
		"organization=https%3A%2F%2Ffhir.nhs.uk%2FId%2Fods-organization-code%7CA12345"+
			"&identifier=https%3A%2F%2Ffhir.nhs.uk%2FId%2FnhsServiceInteractionId%7Curn%3Anhs%3Anames%3Aservices%3Agp2gp%3ARCMR_IN030000UK06",
		device.URL.RawQuery)
	decoded, err := url.QueryUnescape(device.URL.RawQuery)
	require.NoError(t, err)
	assert.Equal(t, "organization=https://fhir.nhs.uk/Id/ods-organization-code|A12345"+
		"&identifier=https://fhir.nhs.uk/Id/nhsServiceInteractionId|urn:nhs:names:services:gp2gp:RCMR_IN030000UK06", decoded)

	assert.Equal(t, sdsPath+"/Endpoint", endpoint.URL.Path)
	assert.Equal(t, url.Values{"identifier": {
		"https://fhir.nhs.uk/Id/nhsServiceInteractionId|urn:nhs:names:services:gp2gp:RCMR_IN030000UK06",
		"https://fhir.nhs.uk/Id/nhsMhsPartyKey|A12345-822652",
	}}, endpoint.URL.Query())
	assert.Equal(t,
		"identifier=https%3A%2F%2Ffhir.nhs.uk%2FId%2FnhsServiceInteractionId%7Curn%3Anhs%3Anames%3Aservices%3Agp2gp%3ARCMR_IN030000UK06"+
			"&identifier=https%3A%2F%2Ffhir.nhs.uk%2FId%2FnhsMhsPartyKey%7CA12345-822652",
		endpoint.URL.RawQuery)

	correlation := assertUUID(t, device.Header, "X-Correlation-Id")
	for _, r := range reqs {
		assert.Equal(t, http.MethodGet, r.Method)
		assert.Equal(t, "sds-api-key", r.Header.Get("apikey"))
		assert.Equal(t, "application/fhir+json", r.Header.Get("Accept"))
		assert.Equal(t, correlation, r.Header.Get("X-Correlation-Id"), "one correlation id for both searches")
	}

	_, err = sds.Endpoint(context.Background(), "A12345", directory.InteractionEHRExtract)
	require.NoError(t, err)
	assert.NotEqual(t, correlation, api.Requests()[2].Header.Get("X-Correlation-Id"), "a new one for the next lookup")
}

func TestSDSClientReliabilityValues(t *testing.T) {
	tests := []struct {
		name        string
		reliability string
		want        directory.Endpoint // only the reliability fields
	}{
		{"strings and an integer", reliabilityExtension(`"valueString": "PT4H10M"`, `"valueInteger": 2`, `"valueString": "PT2H"`),
			directory.Endpoint{PersistDuration: 4*time.Hour + 10*time.Minute, Retries: 2, RetryInterval: 2 * time.Hour}},
		{"retries as a string", reliabilityExtension(`"valueString": "PT5M"`, `"valueString": "3"`, `"valueString": "PT1M"`),
			directory.Endpoint{PersistDuration: 5 * time.Minute, Retries: 3, RetryInterval: time.Minute}},
		{"durations as integer seconds", reliabilityExtension(`"valueInteger": 600`, `"valueInteger": 0`, `"valueInteger": 120`),
			directory.Endpoint{PersistDuration: 10 * time.Minute, RetryInterval: 2 * time.Minute}},
		{"only a persist duration", reliabilityExtension(`"valueString": "P1D"`, "", ""),
			directory.Endpoint{PersistDuration: 24 * time.Hour}},
		{"a value with no value", reliabilityExtension(`"valueCode": "x"`, "", ""),
			directory.Endpoint{}},
		{"no reliability extension", "", directory.Endpoint{}},
		{"only other extensions", `[{"url": "https://example.invalid/other", "valueString": "PT1H"}]`, directory.Endpoint{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			endpoint := sdsEndpoint("A12345-822652", "S2000000101A0001", "https://mhs.example.invalid/", tc.reliability)
			api := newFakeAPI(t, sdsRoutes(bundle(deviceA12345), bundle(endpoint)))
			ep, err := newSDS(t, api).Endpoint(context.Background(), "A12345", directory.InteractionEHRExtract)
			require.NoError(t, err, "missing reliability values are not an error")
			assert.Equal(t, tc.want.PersistDuration, ep.PersistDuration)
			assert.Equal(t, tc.want.Retries, ep.Retries)
			assert.Equal(t, tc.want.RetryInterval, ep.RetryInterval)
			assert.Equal(t, "200000000101", ep.ASID, "routing is there either way")
			assert.Equal(t, "S2000000101A0001", ep.CPAID)
		})
	}
}

func TestSDSClientEndpointErrors(t *testing.T) {
	deviceB := sdsDevice("200000000109", "A12345-900001", "A12345", "RIVERSIDE MEDICAL CENTRE", directory.InteractionEHRExtract)
	endpointB := sdsEndpoint("A12345-822652", "S2000000101A0002", "https://mhs2.example.invalid/", "")
	outcome := `{"fullUrl": "urn:uuid:1", "resource": {"resourceType": "OperationOutcome", "issue": [{"severity": "information", "code": "informational"}]}, "search": {"mode": "outcome"}}`
	badEndpoint := func(persist, retries, interval string) string {
		return bundle(sdsEndpoint("A12345-822652", "S1", "https://mhs.example.invalid/", reliabilityExtension(persist, retries, interval)))
	}
	tests := []struct {
		name         string
		devices      string
		endpoints    string
		wantIs       error
		wantText     string
		wantRequests int
	}{
		{"no device", bundle(), "", directory.ErrNotFound, "no RCMR_IN030000UK06 device for practice A12345", 1},
		{"no entry member at all", `{"resourceType": "Bundle", "type": "searchset", "total": 0}`, "", directory.ErrNotFound, "no RCMR_IN030000UK06 device", 1},
		{"two devices", bundle(deviceA12345, deviceB), "", directory.ErrAmbiguous, "2 RCMR_IN030000UK06 devices for practice A12345", 1},
		{"no endpoint", bundle(deviceA12345), bundle(), directory.ErrNotFound, "no RCMR_IN030000UK06 endpoint for party key A12345-822652", 2},
		{"two endpoints", bundle(deviceA12345), bundle(endpointA12345, endpointB), directory.ErrAmbiguous, "2 RCMR_IN030000UK06 endpoints", 2},
		{"device without an ASID", bundle(`{"resource": {"resourceType": "Device", "identifier": [{"system": "https://fhir.nhs.uk/Id/nhsMhsPartyKey", "value": "A12345-822652"}]}}`), "",
			directory.ErrBadResponse, "lacks an ASID or party key", 1},
		{"device without a party key", bundle(`{"resource": {"resourceType": "Device", "identifier": [{"system": "https://fhir.nhs.uk/Id/nhsSpineASID", "value": "200000000101"}]}}`), "",
			directory.ErrBadResponse, "lacks an ASID or party key", 1},
		{"not a bundle", `{"resourceType": "OperationOutcome", "issue": []}`, "", directory.ErrBadResponse, `got resourceType "OperationOutcome", want Bundle`, 1},
		{"malformed device JSON", `{"resourceType": "Bundle", "entry": [`, "", directory.ErrBadResponse, "Device search: malformed JSON", 1},
		{"malformed endpoint JSON", bundle(deviceA12345), `[]`, directory.ErrBadResponse, "Endpoint search: malformed JSON", 2},
		{"persist duration in months", bundle(deviceA12345), badEndpoint(`"valueString": "P1M"`, "", ""),
			directory.ErrBadResponse, `nhsMHSPersistDuration: invalid ISO 8601 duration "P1M": months are not supported`, 2},
		{"negative persist seconds", bundle(deviceA12345), badEndpoint(`"valueInteger": -5`, "", ""),
			directory.ErrBadResponse, "nhsMHSPersistDuration: -5 seconds is out of range", 2},
		{"retries in words", bundle(deviceA12345), badEndpoint("", `"valueString": "two"`, ""),
			directory.ErrBadResponse, `nhsMHSRetries: "two" is not a whole number`, 2},
		{"negative retries", bundle(deviceA12345), badEndpoint("", `"valueInteger": -1`, ""),
			directory.ErrBadResponse, "nhsMHSRetries: -1 is out of range", 2},
		{"fractional retries", bundle(deviceA12345), badEndpoint("", `"valueInteger": 1.5`, ""),
			directory.ErrBadResponse, "malformed JSON", 2},
		{"malformed retry interval", bundle(deviceA12345), badEndpoint("", "", `"valueString": "2h"`),
			directory.ErrBadResponse, `nhsMHSRetryInterval: invalid ISO 8601 duration "2h"`, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			api := newFakeAPI(t, sdsRoutes(tc.devices, tc.endpoints))
			_, err := newSDS(t, api).Endpoint(context.Background(), "A12345", directory.InteractionEHRExtract)
			require.ErrorIs(t, err, tc.wantIs)
			assert.NotErrorIs(t, err, directory.ErrUnavailable)
			assert.Contains(t, err.Error(), tc.wantText)
			assert.Len(t, api.Requests(), tc.wantRequests)
		})
	}

	t.Run("outcome entries are not results", func(t *testing.T) {
		api := newFakeAPI(t, sdsRoutes(bundle(outcome, deviceA12345), bundle(endpointA12345, outcome)))
		ep, err := newSDS(t, api).Endpoint(context.Background(), "A12345", directory.InteractionEHRExtract)
		require.NoError(t, err)
		assert.Equal(t, "200000000101", ep.ASID)
	})
}

func TestSDSClientHTTPErrors(t *testing.T) {
	t.Run("endpoint search unavailable", func(t *testing.T) {
		api := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request, _ int) {
			if r.URL.Path == sdsPath+"/Device" {
				reply(w, http.StatusOK, bundle(deviceA12345))
				return
			}
			reply(w, http.StatusServiceUnavailable, `{"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": "exception", "diagnostics": "The downstream domain processing has not completed within the configured timeout period"}]}`)
		})
		_, err := newSDS(t, api, directory.WithRetries(3)).Endpoint(context.Background(), "A12345", directory.InteractionEHRExtract)
		require.ErrorIs(t, err, directory.ErrUnavailable)
		assert.Contains(t, err.Error(), "sds: Endpoint search: 4 attempts: HTTP 503 Service Unavailable: The downstream domain processing")
		assert.Len(t, api.Requests(), 1+4)
	})
	t.Run("device search retried then answered", func(t *testing.T) {
		inner := sdsRoutes(bundle(deviceA12345), bundle(endpointA12345))
		api := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request, n int) {
			if n == 0 {
				reply(w, http.StatusBadGateway, "")
				return
			}
			inner(w, r, n)
		})
		ep, err := newSDS(t, api).Endpoint(context.Background(), "A12345", directory.InteractionEHRExtract)
		require.NoError(t, err)
		assert.Equal(t, "200000000101", ep.ASID)
		reqs := api.Requests()
		require.Len(t, reqs, 3)
		assert.Equal(t, reqs[0].URL.String(), reqs[1].URL.String(), "the retry repeats the same search")
		assert.Equal(t, reqs[0].Header.Get("X-Correlation-Id"), reqs[2].Header.Get("X-Correlation-Id"))
	})
	t.Run("bad request", func(t *testing.T) {
		api := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request, _ int) {
			reply(w, http.StatusBadRequest, `{"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": "required", "details": {"coding": [{"system": "https://fhir.nhs.uk/STU3/ValueSet/Spine-ErrorOrWarningCode-1", "code": "BAD_REQUEST", "display": "Bad request"}]}, "diagnostics": "Missing or invalid organization parameter"}]}`)
		})
		_, err := newSDS(t, api).Endpoint(context.Background(), "A12345", directory.InteractionEHRExtract)
		require.ErrorIs(t, err, directory.ErrBadResponse)
		var se *directory.StatusError
		require.ErrorAs(t, err, &se)
		assert.Equal(t, directory.StatusError{Service: "sds", StatusCode: 400, Diagnostics: "Missing or invalid organization parameter"}, *se)
		assert.Len(t, api.Requests(), 1)
	})
	t.Run("bearer token sent when configured", func(t *testing.T) {
		api := newFakeAPI(t, sdsRoutes(bundle(deviceA12345), bundle(endpointA12345)))
		sds := newSDS(t, api, directory.WithTokenSource(func(context.Context) (string, error) { return "sds-token", nil }))
		_, err := sds.Endpoint(context.Background(), "A12345", directory.InteractionEHRExtract)
		require.NoError(t, err)
		for _, r := range api.Requests() {
			assert.Equal(t, "Bearer sds-token", r.Header.Get("Authorization"))
		}
	})
}

func TestSDSClientPractice(t *testing.T) {
	ehrRequestDevice := func(asid, display string) string {
		return sdsDevice(asid, "B86041-822653", "B86041", display, directory.InteractionEHRRequest)
	}
	tests := []struct {
		name    string
		devices string
		want    directory.Practice
		wantErr error
	}{
		{"one device", bundle(ehrRequestDevice("200000000102", "HILLSIDE SURGERY")),
			directory.Practice{ODS: "B86041", Name: "HILLSIDE SURGERY", GP2GPEnabled: true}, nil},
		{"device without a name", bundle(ehrRequestDevice("200000000102", "")),
			directory.Practice{ODS: "B86041", GP2GPEnabled: true}, nil},
		{"two devices are still enabled", bundle(ehrRequestDevice("200000000102", ""), ehrRequestDevice("200000000103", "HILLSIDE SURGERY")),
			directory.Practice{ODS: "B86041", Name: "HILLSIDE SURGERY", GP2GPEnabled: true}, nil},
		{"no device", bundle(), directory.Practice{}, directory.ErrNotFound},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			api := newFakeAPI(t, sdsRoutes(tc.devices, ""))
			p, err := newSDS(t, api).Practice(context.Background(), "b86041")
			if tc.wantErr != nil {
				require.ErrorIs(t, err, tc.wantErr)
			} else {
				require.NoError(t, err)
			}
			assert.Equal(t, tc.want, p)
			reqs := api.Requests()
			require.Len(t, reqs, 1, "only the Device search")
			assert.Equal(t, sdsPath+"/Device", reqs[0].URL.Path)
			assert.Equal(t, url.Values{
				"organization": {"https://fhir.nhs.uk/Id/ods-organization-code|B86041"},
				"identifier":   {"https://fhir.nhs.uk/Id/nhsServiceInteractionId|urn:nhs:names:services:gp2gp:RCMR_IN010000UK05"},
			}, reqs[0].URL.Query())
			assertUUID(t, reqs[0].Header, "X-Correlation-Id")
		})
	}
}

func TestSDSClientRefusesBeforeAsking(t *testing.T) {
	api := newFakeAPI(t, sdsRoutes(bundle(deviceA12345), bundle(endpointA12345)))
	sds := newSDS(t, api)
	ctx := context.Background()
	for _, tc := range []struct{ ods, interaction string }{
		{"A12345|X", directory.InteractionEHRExtract},
		{"A1", directory.InteractionEHRExtract},
		{"", directory.InteractionEHRExtract},
		{"A12345", "RCMR_IN030000UK06&organization=x"},
		{"A12345", "rcmr_in030000uk06"},
		{"A12345", ""},
	} {
		_, err := sds.Endpoint(ctx, tc.ods, tc.interaction)
		require.ErrorIs(t, err, directory.ErrInvalidArgument, "%q %q", tc.ods, tc.interaction)
	}
	_, err := sds.Practice(ctx, "A 12345")
	require.ErrorIs(t, err, directory.ErrInvalidArgument)
	assert.Empty(t, api.Requests())
}
