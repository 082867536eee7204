package miapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nhsengland/gp2gp/libs/miapi"
)

// received is one request the test server saw.
type received struct {
	method, path string
	header       http.Header
	body         []byte
}

// server answers every request with status, header and body, and sends
// what it received on the returned channel.
func server(t *testing.T, status int, header http.Header, body string) (*httptest.Server, <-chan received) {
	t.Helper()
	got := make(chan received, 10)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		data, _ := io.ReadAll(r.Body)
		got <- received{method: r.Method, path: r.URL.Path, header: r.Header.Clone(), body: data}
		for k, v := range header {
			w.Header()[k] = v
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	return srv, got
}

func TestPostSendsEveryType(t *testing.T) {
	srv, got := server(t, http.StatusOK, nil, `{"eventId":"from-the-api"}`)
	c, err := miapi.NewClient(srv.URL+"/gp-registrations-mi/",
		miapi.WithAPIKey("secret"), miapi.WithHeader("X-Request-ID", "r-1"), miapi.WithTimeout(5*time.Second))
	require.NoError(t, err)
	for _, tc := range constructed() {
		t.Run(tc.name, func(t *testing.T) {
			id, err := c.Post(t.Context(), tc.event)
			require.NoError(t, err)
			assert.Equal(t, "from-the-api", id)
			r := <-got
			assert.Equal(t, http.MethodPost, r.method)
			assert.Equal(t, "/gp-registrations-mi"+tc.event.Type.Path(), r.path)
			assert.Equal(t, "application/json", r.header.Get("Content-Type"))
			assert.Equal(t, tc.event.ID(), r.header.Get("X-Correlation-ID"))
			assert.Equal(t, "secret", r.header.Get("apikey"))
			assert.Equal(t, "r-1", r.header.Get("X-Request-ID"))
			want, err := json.Marshal(tc.event)
			require.NoError(t, err)
			assert.JSONEq(t, string(want), string(r.body))
		})
	}
}

func TestPostStatuses(t *testing.T) {
	badRequest := `{"status":"BAD_REQUEST","message":"Failed to validate fields","errors":["reportingPracticeOdsCode: must not be empty"]}`
	for _, tc := range []struct {
		status     int
		header     http.Header
		body       string
		wantID     string
		permanent  bool
		retryAfter time.Duration
	}{
		{status: 200, body: `{"eventId":"e-1"}`, wantID: "e-1"},
		{status: 201, body: `{"eventId":"e-2"}`, wantID: "e-2"},
		{status: 400, body: badRequest, permanent: true},
		{status: 401, permanent: true},
		{status: 403, permanent: true},
		{status: 404, permanent: true},
		{status: 405, permanent: true},
		{status: 413, permanent: true},
		{status: 415, permanent: true},
		{status: 422, permanent: true},
		{status: 408},
		{status: 429, header: http.Header{"Retry-After": {"7"}}, retryAfter: 7 * time.Second},
		{status: 429},
		{status: 500, body: `{"status":"INTERNAL_SERVER_ERROR","message":"Something went wrong","errors":[]}`},
		{status: 502},
		{status: 503, header: http.Header{"Retry-After": {"120"}}, retryAfter: 2 * time.Minute},
		{status: 504},
	} {
		t.Run(http.StatusText(tc.status), func(t *testing.T) {
			srv, got := server(t, tc.status, tc.header, tc.body)
			c, err := miapi.NewClient(srv.URL)
			require.NoError(t, err)
			id, err := c.Post(t.Context(), constructed()[0].event)
			<-got
			if tc.wantID != "" {
				require.NoError(t, err)
				assert.Equal(t, tc.wantID, id)
				return
			}
			require.Error(t, err)
			assert.Empty(t, id)
			var se *miapi.StatusError
			require.ErrorAs(t, err, &se)
			assert.Equal(t, tc.status, se.StatusCode)
			assert.Equal(t, "/registrations", se.Path)
			assert.Equal(t, tc.permanent, se.Permanent())
			assert.Equal(t, tc.permanent, miapi.IsPermanent(err))
			assert.Equal(t, tc.retryAfter, se.RetryAfter)
			assert.Equal(t, tc.body, string(se.Body))
		})
	}
}

func TestPostBadRequestDetails(t *testing.T) {
	srv, _ := server(t, 400, nil, `{"status":"BAD_REQUEST","message":"Failed to validate fields","errors":["reportingPracticeOdsCode: must not be empty"]}`)
	c, err := miapi.NewClient(srv.URL)
	require.NoError(t, err)
	_, err = c.Post(t.Context(), constructed()[0].event)
	var se *miapi.StatusError
	require.ErrorAs(t, err, &se)
	assert.Equal(t, "Failed to validate fields", se.Message)
	assert.Equal(t, []string{"reportingPracticeOdsCode: must not be empty"}, se.Errors)
	assert.Equal(t, "miapi: POST /registrations: HTTP 400 Bad Request: Failed to validate fields: reportingPracticeOdsCode: must not be empty", err.Error())
}

func TestPostRetryAfterDate(t *testing.T) {
	when := time.Now().Add(90 * time.Second).UTC().Format(http.TimeFormat)
	srv, _ := server(t, 503, http.Header{"Retry-After": {when}}, "")
	c, err := miapi.NewClient(srv.URL)
	require.NoError(t, err)
	_, err = c.Post(t.Context(), constructed()[0].event)
	var se *miapi.StatusError
	require.ErrorAs(t, err, &se)
	assert.InDelta(t, 90*time.Second, se.RetryAfter, float64(3*time.Second))
	assert.Contains(t, err.Error(), "retry after")
	assert.False(t, miapi.IsPermanent(err))
}

func TestPostSuccessWithoutEventID(t *testing.T) {
	for _, body := range []string{"", "{}", "<html>ok</html>", `{"eventId":""}`} {
		t.Run(body, func(t *testing.T) {
			srv, _ := server(t, 200, nil, body)
			c, err := miapi.NewClient(srv.URL)
			require.NoError(t, err)
			_, err = c.Post(t.Context(), constructed()[0].event)
			require.ErrorIs(t, err, miapi.ErrUnexpectedResponse)
			assert.False(t, miapi.IsPermanent(err))
		})
	}
}

func TestPostInvalidEventSendsNothing(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { calls.Add(1) }))
	t.Cleanup(srv.Close)
	c, err := miapi.NewClient(srv.URL)
	require.NoError(t, err)
	_, err = c.Post(t.Context(), miapi.NewEHRRequestEvent(miapi.Envelope{}))
	require.ErrorIs(t, err, miapi.ErrInvalidEvent)
	var ve *miapi.ValidationError
	require.ErrorAs(t, err, &ve)
	assert.True(t, miapi.IsPermanent(err))
	assert.Zero(t, calls.Load())
}

func TestPostNetworkError(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close() // nothing listens any more
	c, err := miapi.NewClient(url)
	require.NoError(t, err)
	_, err = c.Post(t.Context(), constructed()[0].event)
	require.Error(t, err)
	assert.False(t, miapi.IsPermanent(err))
	var se *miapi.StatusError
	assert.False(t, errors.As(err, &se))
}

// blocking is a server whose handler waits until the client gives up.
func blocking(t *testing.T) (*httptest.Server, <-chan struct{}) {
	t.Helper()
	arrived, stop := make(chan struct{}, 1), make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body) // the server notices a closed connection only once the body is read
		arrived <- struct{}{}
		select {
		case <-r.Context().Done():
		case <-stop:
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(stop) }) // runs first: no handler outlives the test
	return srv, arrived
}

func TestPostContextCancel(t *testing.T) {
	srv, arrived := blocking(t)
	c, err := miapi.NewClient(srv.URL)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(t.Context())
	go func() {
		<-arrived
		cancel()
	}()
	_, err = c.Post(ctx, constructed()[0].event)
	require.ErrorIs(t, err, context.Canceled)
	assert.False(t, miapi.IsPermanent(err))
}

func TestPostTimeout(t *testing.T) {
	srv, _ := blocking(t)
	c, err := miapi.NewClient(srv.URL, miapi.WithTimeout(50*time.Millisecond))
	require.NoError(t, err)
	_, err = c.Post(t.Context(), constructed()[0].event)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.False(t, miapi.IsPermanent(err))
}

func TestPostWithHTTPClient(t *testing.T) {
	var used atomic.Bool
	srv, _ := server(t, 200, nil, `{"eventId":"x"}`)
	hc := &http.Client{Transport: roundTripper(func(r *http.Request) (*http.Response, error) {
		used.Store(true)
		return http.DefaultTransport.RoundTrip(r)
	})}
	c, err := miapi.NewClient(srv.URL, miapi.WithHTTPClient(hc))
	require.NoError(t, err)
	_, err = c.Post(t.Context(), constructed()[0].event)
	require.NoError(t, err)
	assert.True(t, used.Load())
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestNewClientErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		base string
		opts []miapi.ClientOption
	}{
		{"relative URL", "api.service.nhs.uk/gp-registrations-mi", nil},
		{"ftp", "ftp://api.service.nhs.uk", nil},
		{"query", "https://api.service.nhs.uk/mi?x=1", nil},
		{"user", "https://u:p@api.service.nhs.uk/mi", nil},
		{"unparsable", "https://%zz", nil},
		{"empty API key", "https://x", []miapi.ClientOption{miapi.WithAPIKey(" ")}},
		{"API key with newline", "https://x", []miapi.ClientOption{miapi.WithAPIKey("a\nb")}},
		{"bad header name", "https://x", []miapi.ClientOption{miapi.WithHeader("X Y", "v")}},
		{"header set by the client", "https://x", []miapi.ClientOption{miapi.WithHeader("x-correlation-id", "v")}},
		{"API key as a header", "https://x", []miapi.ClientOption{miapi.WithHeader("APIKEY", "v")}},
		{"header value with newline", "https://x", []miapi.ClientOption{miapi.WithHeader("X-A", "a\r\nb")}},
		{"nil HTTP client", "https://x", []miapi.ClientOption{miapi.WithHTTPClient(nil)}},
		{"zero timeout", "https://x", []miapi.ClientOption{miapi.WithTimeout(0)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := miapi.NewClient(tc.base, tc.opts...)
			require.ErrorIs(t, err, miapi.ErrOption)
			assert.Nil(t, c)
		})
	}
}
