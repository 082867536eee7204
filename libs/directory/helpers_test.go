package directory_test

import (
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeAPI is a local stand-in for an NHS FHIR API. It records every
// request and answers with respond, which is told how many requests came
// before (0 for the first).
type fakeAPI struct {
	*httptest.Server
	mu       sync.Mutex
	requests []*http.Request
}

func newFakeAPI(t *testing.T, respond func(w http.ResponseWriter, r *http.Request, n int)) *fakeAPI {
	t.Helper()
	f := &fakeAPI{}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		n := len(f.requests)
		f.requests = append(f.requests, r.Clone(r.Context()))
		f.mu.Unlock()
		respond(w, r, n)
	}))
	t.Cleanup(f.Close)
	return f
}

// Requests returns the requests received so far.
func (f *fakeAPI) Requests() []*http.Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]*http.Request(nil), f.requests...)
}

// reply writes a FHIR JSON body with a status.
func reply(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/fhir+json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(body))
}

// assertUUID checks that a header holds a UUID and returns it.
func assertUUID(t *testing.T, h http.Header, name string) string {
	t.Helper()
	v := h.Get(name)
	_, err := uuid.Parse(v)
	require.NoError(t, err, "%s header %q is not a UUID", name, v)
	assert.Len(t, v, 36)
	return v
}
