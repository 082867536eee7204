package directory_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nhsengland/gp2gp/libs/directory"
)

const pdsPath = "/personal-demographics/FHIR/R4"

// pdsPatient is a PDS Patient read response in the API's shape (invented
// values).
const pdsPatient = `{
  "resourceType": "Patient",
  "id": "9990001014",
  "meta": {
    "versionId": "7",
    "security": [{"system": "http://terminology.hl7.org/CodeSystem/v3-Confidentiality", "code": "U", "display": "unrestricted"}]
  },
  "identifier": [{
    "system": "https://fhir.nhs.uk/Id/nhs-number",
    "value": "9990001014",
    "extension": [{
      "url": "https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-NHSNumberVerificationStatus",
      "valueCodeableConcept": {"coding": [{"system": "https://fhir.hl7.org.uk/CodeSystem/UKCore-NHSNumberVerificationStatus", "version": "1.0.0", "code": "01", "display": "Number present and verified"}]}
    }]
  }],
  "name": [
    {"id": "BLnbA", "use": "nickname", "period": {"start": "2015-04-01"}, "given": ["Addie"], "family": "Thornbury"},
    {"id": "kLzbT", "use": "usual", "period": {"start": "1980-06-21"}, "given": ["Ada", "Margaret"], "family": "Thornbury", "prefix": ["Mrs"]}
  ],
  "gender": "female",
  "birthDate": "1958-03-14",
  "multipleBirthInteger": 1,
  "generalPractitioner": [{
    "id": "Yq7Wm",
    "type": "Organization",
    "identifier": {"system": "https://fhir.nhs.uk/Id/ods-organization-code", "value": "B86041", "period": {"start": "2025-11-03"}}
  }],
  "address": [{"id": "pQ2sV", "use": "home", "period": {"start": "2019-09-01"}, "line": ["12 Quarry Row", "Hexfield"], "postalCode": "ZZ99 3CZ"}],
  "telecom": [{"id": "Uq0rB", "period": {"start": "2020-01-01"}, "system": "phone", "use": "home", "value": "01632 960123"}]
}`

// pdsOutcome is an OperationOutcome in the API's shape.
func pdsOutcome(code, spineCode, display, diagnostics string) string {
	diag := ""
	if diagnostics != "" {
		diag = fmt.Sprintf(`, "diagnostics": %q`, diagnostics)
	}
	return fmt.Sprintf(`{
  "resourceType": "OperationOutcome",
  "issue": [{
    "severity": "error",
    "code": %q,
    "details": {"coding": [{"system": "https://fhir.nhs.uk/R4/CodeSystem/Spine-ErrorOrWarningCode", "version": "1", "code": %q, "display": %q}]}%s
  }]
}`, code, spineCode, display, diag)
}

// fastRetries keeps retry tests quick.
var fastRetries = directory.WithRetryBackoff(time.Millisecond)

func newPDS(t *testing.T, api *fakeAPI, opts ...directory.ClientOption) *directory.PDSClient {
	t.Helper()
	c, err := directory.NewPDSClient(api.URL+pdsPath, append([]directory.ClientOption{fastRetries}, opts...)...)
	require.NoError(t, err)
	return c
}

func TestPDSClientFound(t *testing.T) {
	api := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request, _ int) {
		reply(w, http.StatusOK, pdsPatient)
	})
	var tokenCalls int
	pds := newPDS(t, api,
		directory.WithAPIKey("test-api-key"),
		directory.WithTokenSource(func(ctx context.Context) (string, error) {
			tokenCalls++
			return "access-token-1", nil
		}))

	reg, err := pds.Registration(context.Background(), "9990001014")
	require.NoError(t, err)
	assert.Equal(t, directory.Registration{
		NHSNumber: "9990001014", CurrentODS: "B86041", GivenName: "Ada", FamilyName: "Thornbury",
		BirthDate: "1958-03-14", Gender: "female",
	}, reg)

	reqs := api.Requests()
	require.Len(t, reqs, 1)
	r := reqs[0]
	assert.Equal(t, http.MethodGet, r.Method)
	assert.Equal(t, pdsPath+"/Patient/9990001014", r.URL.Path)
	assert.Empty(t, r.URL.RawQuery)
	assert.Equal(t, "application/fhir+json", r.Header.Get("Accept"))
	assert.Equal(t, "test-api-key", r.Header.Get("apikey"))
	assert.Equal(t, "Bearer access-token-1", r.Header.Get("Authorization"))
	assertUUID(t, r.Header, "X-Request-ID")
	assertUUID(t, r.Header, "X-Correlation-ID")
	assert.Equal(t, 1, tokenCalls)
}

func TestPDSClientOptionalHeadersAbsent(t *testing.T) {
	api := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request, _ int) { reply(w, http.StatusOK, pdsPatient) })
	_, err := newPDS(t, api).Registration(context.Background(), "9990001014")
	require.NoError(t, err)
	r := api.Requests()[0]
	assert.NotContains(t, r.Header, "Apikey")
	assert.NotContains(t, r.Header, "Authorization")
}

func TestPDSClientPatientShapes(t *testing.T) {
	tests := []struct {
		name string
		body string
		want directory.Registration
	}{
		{
			name: "merged record answers with the new NHS number",
			body: `{"resourceType": "Patient", "id": "9990001022", "gender": "male", "birthDate": "1984-11-02",
				"name": [{"use": "usual", "given": ["Bilal"], "family": "Okonkwo-Hart"}],
				"generalPractitioner": [{"type": "Organization", "identifier": {"system": "https://fhir.nhs.uk/Id/ods-organization-code", "value": "A12345"}}]}`,
			want: directory.Registration{NHSNumber: "9990001022", CurrentODS: "A12345", GivenName: "Bilal",
				FamilyName: "Okonkwo-Hart", BirthDate: "1984-11-02", Gender: "male"},
		},
		{
			name: "no registered practice",
			body: `{"resourceType": "Patient", "id": "9990001014", "gender": "unknown", "birthDate": "1958",
				"name": [{"given": ["Ada"], "family": "Thornbury"}]}`,
			want: directory.Registration{NHSNumber: "9990001014", GivenName: "Ada", FamilyName: "Thornbury",
				BirthDate: "1958", Gender: "unknown"},
		},
		{
			name: "first practice identified by ODS code, upper-cased",
			body: `{"resourceType": "Patient", "id": "9990001014",
				"generalPractitioner": [
					{"type": "Organization", "identifier": {"system": "https://example.invalid/other", "value": "X1"}},
					{"type": "Organization", "identifier": {"system": "https://fhir.nhs.uk/Id/ods-organization-code", "value": "b86041"}}
				]}`,
			want: directory.Registration{NHSNumber: "9990001014", CurrentODS: "B86041"},
		},
		{
			name: "no name, no id",
			body: `{"resourceType": "Patient"}`,
			want: directory.Registration{NHSNumber: "9990001014"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			api := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request, _ int) { reply(w, http.StatusOK, tc.body) })
			reg, err := newPDS(t, api).Registration(context.Background(), "9990001014")
			require.NoError(t, err)
			assert.Equal(t, tc.want, reg)
		})
	}
}

func TestPDSClientErrors(t *testing.T) {
	tests := []struct {
		name         string
		status       int
		body         string
		opts         []directory.ClientOption
		wantIs       []error
		wantNot      []error
		wantText     []string
		wantAttempts int
	}{
		{
			name:   "not found",
			status: http.StatusNotFound, body: pdsOutcome("not-found", "RESOURCE_NOT_FOUND", "Resource not found", ""),
			wantIs: []error{directory.ErrPatientNotFound}, wantNot: []error{directory.ErrUnavailable},
			wantText: []string{"404", "Resource not found"}, wantAttempts: 1,
		},
		{
			name:   "server error is retried then unavailable",
			status: http.StatusInternalServerError, body: pdsOutcome("exception", "SERVICE_UNAVAILABLE", "Service unavailable", ""),
			wantIs: []error{directory.ErrUnavailable}, wantNot: []error{directory.ErrBadResponse},
			wantText: []string{"3 attempts", "HTTP 500", "Service unavailable"}, wantAttempts: 3,
		},
		{
			name:   "gateway timeout with more retries",
			status: http.StatusGatewayTimeout, body: "<html>upstream timed out</html>",
			opts:   []directory.ClientOption{directory.WithRetries(4)},
			wantIs: []error{directory.ErrUnavailable}, wantText: []string{"5 attempts", "HTTP 504"}, wantAttempts: 5,
		},
		{
			name:   "no retries",
			status: http.StatusServiceUnavailable, opts: []directory.ClientOption{directory.WithRetries(0)},
			wantIs: []error{directory.ErrUnavailable}, wantAttempts: 1,
		},
		{
			name:   "rate limited is unavailable",
			status: http.StatusTooManyRequests, body: pdsOutcome("throttled", "TOO_MANY_REQUESTS", "You have exceeded your application's rate limit", ""),
			wantIs: []error{directory.ErrUnavailable}, wantAttempts: 3,
		},
		{
			name:   "bad request carries the diagnostics",
			status: http.StatusBadRequest,
			body:   pdsOutcome("value", "INVALID_VALUE", "Provided value is invalid", "Invalid value - 'not-a-uuid' in header 'X-Request-ID'"),
			wantIs: []error{directory.ErrBadResponse}, wantNot: []error{directory.ErrUnavailable, directory.ErrPatientNotFound},
			wantText: []string{"HTTP 400 Bad Request", "Invalid value - 'not-a-uuid' in header 'X-Request-ID'"}, wantAttempts: 1,
		},
		{
			name:   "forbidden without diagnostics uses the display",
			status: http.StatusForbidden, body: pdsOutcome("forbidden", "ACCESS_DENIED", "Access Denied - Unauthorised", ""),
			wantIs: []error{directory.ErrBadResponse}, wantText: []string{"HTTP 403 Forbidden: Access Denied - Unauthorised"}, wantAttempts: 1,
		},
		{
			name:   "unauthorised with no body",
			status: http.StatusUnauthorized,
			wantIs: []error{directory.ErrBadResponse}, wantText: []string{"HTTP 401 Unauthorized"}, wantAttempts: 1,
		},
		{
			name:   "malformed JSON",
			status: http.StatusOK, body: `{"resourceType": "Patient", "id": `,
			wantIs: []error{directory.ErrBadResponse}, wantNot: []error{directory.ErrUnavailable},
			wantText: []string{"malformed JSON"}, wantAttempts: 1,
		},
		{
			name:   "JSON of the wrong shape",
			status: http.StatusOK, body: `{"resourceType": "Patient", "name": "Ada"}`,
			wantIs: []error{directory.ErrBadResponse}, wantText: []string{"malformed JSON"}, wantAttempts: 1,
		},
		{
			name:   "not a Patient",
			status: http.StatusOK, body: pdsOutcome("informational", "OK", "ok", ""),
			wantIs: []error{directory.ErrBadResponse}, wantText: []string{`got resourceType "OperationOutcome", want Patient`}, wantAttempts: 1,
		},
		{
			name:   "malformed practice code",
			status: http.StatusOK,
			body:   `{"resourceType": "Patient", "generalPractitioner": [{"identifier": {"system": "https://fhir.nhs.uk/Id/ods-organization-code", "value": "B8 6041"}}]}`,
			wantIs: []error{directory.ErrBadResponse, directory.ErrInvalidArgument}, wantAttempts: 1,
		},
		{
			name:   "response too large",
			status: http.StatusOK, body: `{"resourceType": "Patient", "id": "9990001014", "padding": "` + strings.Repeat("x", 600) + `"}`,
			opts:   []directory.ClientOption{directory.WithMaxResponseBytes(512)},
			wantIs: []error{directory.ErrBadResponse}, wantText: []string{"exceeds 512 bytes"}, wantAttempts: 1,
		},
		{
			name:   "response over the default 1 MiB",
			status: http.StatusOK, body: `{"resourceType": "Patient", "padding": "` + strings.Repeat("x", 1<<20) + `"}`,
			wantIs: []error{directory.ErrBadResponse}, wantText: []string{"exceeds 1048576 bytes"}, wantAttempts: 1,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			api := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request, _ int) { reply(w, tc.status, tc.body) })
			_, err := newPDS(t, api, tc.opts...).Registration(context.Background(), "9990001014")
			require.Error(t, err)
			for _, want := range tc.wantIs {
				assert.ErrorIs(t, err, want)
			}
			for _, not := range tc.wantNot {
				assert.NotErrorIs(t, err, not)
			}
			for _, text := range tc.wantText {
				assert.Contains(t, err.Error(), text)
			}
			assert.NotContains(t, err.Error(), "9990001014", "errors do not repeat the NHS number")
			assert.Len(t, api.Requests(), tc.wantAttempts)
		})
	}
}

func TestPDSClientStatusError(t *testing.T) {
	api := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request, _ int) {
		reply(w, http.StatusBadRequest, pdsOutcome("value", "INVALID_RESOURCE_ID", "Resource Id is invalid", "first"))
	})
	_, err := newPDS(t, api).Registration(context.Background(), "9990001014")
	var se *directory.StatusError
	require.ErrorAs(t, err, &se)
	assert.Equal(t, directory.StatusError{Service: "pds", StatusCode: 400, Diagnostics: "first"}, *se)

	unavailable := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request, _ int) { reply(w, http.StatusBadGateway, "") })
	_, err = newPDS(t, unavailable).Registration(context.Background(), "9990001014")
	require.ErrorAs(t, err, &se, "a 5xx is unavailable and still says which status")
	assert.Equal(t, http.StatusBadGateway, se.StatusCode)
	assert.NotErrorIs(t, err, directory.ErrBadResponse)
}

func TestPDSClientRetriesThenSucceeds(t *testing.T) {
	api := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if n < 2 {
			reply(w, http.StatusServiceUnavailable, pdsOutcome("exception", "SERVICE_UNAVAILABLE", "Service unavailable", ""))
			return
		}
		reply(w, http.StatusOK, pdsPatient)
	})
	reg, err := newPDS(t, api).Registration(context.Background(), "9990001014")
	require.NoError(t, err)
	assert.Equal(t, "B86041", reg.CurrentODS)

	reqs := api.Requests()
	require.Len(t, reqs, 3)
	requestIDs := map[string]bool{}
	correlation := assertUUID(t, reqs[0].Header, "X-Correlation-ID")
	for _, r := range reqs {
		requestIDs[assertUUID(t, r.Header, "X-Request-ID")] = true
		assert.Equal(t, correlation, r.Header.Get("X-Correlation-ID"), "one correlation id per lookup")
	}
	assert.Len(t, requestIDs, 3, "a new request id per attempt")
}

func TestPDSClientTimeout(t *testing.T) {
	api := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request, _ int) {
		<-r.Context().Done() // never answers before the client gives up
	})
	_, err := newPDS(t, api, directory.WithTimeout(20*time.Millisecond), directory.WithRetries(1)).
		Registration(context.Background(), "9990001014")
	require.ErrorIs(t, err, directory.ErrUnavailable)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Len(t, api.Requests(), 2)
}

func TestPDSClientConnectionRefused(t *testing.T) {
	api := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request, _ int) {})
	pds := newPDS(t, api)
	api.Close()
	_, err := pds.Registration(context.Background(), "9990001014")
	require.ErrorIs(t, err, directory.ErrUnavailable)
	assert.Contains(t, err.Error(), "3 attempts")
}

func TestPDSClientCallerCancels(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	api := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request, _ int) {
		cancel()
		<-r.Context().Done()
	})
	_, err := newPDS(t, api).Registration(ctx, "9990001014")
	require.ErrorIs(t, err, context.Canceled)
	assert.NotErrorIs(t, err, directory.ErrUnavailable, "the caller gave up, the service did not fail")
	assert.Len(t, api.Requests(), 1, "no retry after the caller gave up")
}

func TestPDSClientRefusesBeforeAsking(t *testing.T) {
	api := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request, _ int) { reply(w, http.StatusOK, pdsPatient) })
	t.Run("malformed NHS number", func(t *testing.T) {
		for _, nhs := range []string{"", "9990001015", "../Patient/9990001014", "9990001014?x=1"} {
			_, err := newPDS(t, api).Registration(context.Background(), nhs)
			require.ErrorIs(t, err, directory.ErrInvalidArgument, nhs)
		}
	})
	t.Run("token source fails", func(t *testing.T) {
		boom := errors.New("token endpoint down")
		pds := newPDS(t, api, directory.WithTokenSource(func(context.Context) (string, error) { return "", boom }))
		_, err := pds.Registration(context.Background(), "9990001014")
		require.ErrorIs(t, err, boom)
	})
	t.Run("token source gives nothing", func(t *testing.T) {
		pds := newPDS(t, api, directory.WithTokenSource(func(context.Context) (string, error) { return "", nil }))
		_, err := pds.Registration(context.Background(), "9990001014")
		require.ErrorContains(t, err, "empty token")
	})
	assert.Empty(t, api.Requests())
}

func TestClientOptions(t *testing.T) {
	tests := []struct {
		name string
		base string
		opt  directory.ClientOption
	}{
		{"nil HTTP client", "https://api.example.invalid", directory.WithHTTPClient(nil)},
		{"zero timeout", "https://api.example.invalid", directory.WithTimeout(0)},
		{"negative timeout", "https://api.example.invalid", directory.WithTimeout(-time.Second)},
		{"empty API key", "https://api.example.invalid", directory.WithAPIKey("")},
		{"nil token source", "https://api.example.invalid", directory.WithTokenSource(nil)},
		{"negative retries", "https://api.example.invalid", directory.WithRetries(-1)},
		{"negative backoff", "https://api.example.invalid", directory.WithRetryBackoff(-time.Millisecond)},
		{"zero response limit", "https://api.example.invalid", directory.WithMaxResponseBytes(0)},
		{"relative base URL", "/personal-demographics/FHIR/R4", nil},
		{"base URL without scheme", "api.example.invalid/FHIR/R4", nil},
		{"base URL with another scheme", "ftp://api.example.invalid/FHIR/R4", nil},
		{"base URL with a query", "https://api.example.invalid/FHIR/R4?x=1", nil},
		{"base URL with a user", "https://user:pw@api.example.invalid/FHIR/R4", nil},
		{"unparsable base URL", "https://api.example.invalid/%zz", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := directory.NewPDSClient(tc.base, tc.opt)
			require.ErrorIs(t, err, directory.ErrOption)
			_, err = directory.NewSDSClient(tc.base, tc.opt)
			require.ErrorIs(t, err, directory.ErrOption)
		})
	}

	t.Run("valid options", func(t *testing.T) {
		_, err := directory.NewPDSClient("https://sandbox.api.service.nhs.uk/personal-demographics/FHIR/R4",
			directory.WithHTTPClient(&http.Client{}), directory.WithTimeout(time.Second), directory.WithAPIKey("k"),
			directory.WithTokenSource(func(context.Context) (string, error) { return "t", nil }),
			directory.WithRetries(0), directory.WithRetryBackoff(0), directory.WithMaxResponseBytes(1), nil)
		require.NoError(t, err)
	})

	t.Run("the given HTTP client is used", func(t *testing.T) {
		api := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request, _ int) { reply(w, http.StatusOK, pdsPatient) })
		var used bool
		client := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
			used = true
			return http.DefaultTransport.RoundTrip(r)
		})}
		_, err := newPDS(t, api, directory.WithHTTPClient(client)).Registration(context.Background(), "9990001014")
		require.NoError(t, err)
		assert.True(t, used)
	})
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
