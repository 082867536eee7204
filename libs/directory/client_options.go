package directory

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"
)

// Defaults of the PDS and SDS clients.
const (
	// DefaultTimeout bounds each HTTP attempt (request and response body).
	DefaultTimeout = 10 * time.Second
	// DefaultRetries is how many times a GET is repeated while the service
	// is unavailable, after the first attempt.
	DefaultRetries = 2
	// DefaultRetryBackoff is the wait before the first retry; it doubles
	// for each further one.
	DefaultRetryBackoff = 200 * time.Millisecond
	// DefaultMaxResponseBytes is the largest response body decoded.
	DefaultMaxResponseBytes = 1 << 20
)

// maxRetryBackoff caps the doubling of the retry wait.
const maxRetryBackoff = 30 * time.Second

// ClientOption configures a PDSClient or SDSClient. Options validate
// their argument; a bad one makes the constructor fail with ErrOption.
type ClientOption func(*clientConfig) error

// TokenSource returns an OAuth 2.0 access token for the Authorization
// header. It is called before every HTTP attempt, so it should cache.
type TokenSource func(ctx context.Context) (string, error)

type clientConfig struct {
	httpClient *http.Client
	timeout    time.Duration
	apiKey     string
	token      TokenSource
	retries    int
	backoff    time.Duration
	maxBytes   int64
	sleep      func(ctx context.Context, d time.Duration) error
}

func defaultClientConfig() clientConfig {
	return clientConfig{
		httpClient: http.DefaultClient,
		timeout:    DefaultTimeout,
		retries:    DefaultRetries,
		backoff:    DefaultRetryBackoff,
		maxBytes:   DefaultMaxResponseBytes,
		sleep:      sleepContext,
	}
}

// WithHTTPClient sends requests through c (not nil) instead of
// http.DefaultClient, for example to set TLS client certificates or a
// proxy. The client's own Timeout, if any, also applies.
func WithHTTPClient(c *http.Client) ClientOption {
	return func(o *clientConfig) error {
		if c == nil {
			return errors.New("http client must not be nil")
		}
		o.httpClient = c
		return nil
	}
}

// WithTimeout bounds each HTTP attempt to d (d > 0); default DefaultTimeout.
// An attempt that times out counts as the service being unavailable.
func WithTimeout(d time.Duration) ClientOption {
	return func(o *clientConfig) error {
		if d <= 0 {
			return fmt.Errorf("timeout must be positive, got %v", d)
		}
		o.timeout = d
		return nil
	}
}

// WithAPIKey sends key (not empty) in the apikey header, as the NHS API
// platform requires for application-restricted access.
func WithAPIKey(key string) ClientOption {
	return func(o *clientConfig) error {
		if key == "" {
			return errors.New("api key must not be empty")
		}
		o.apiKey = key
		return nil
	}
}

// WithTokenSource sends "Authorization: Bearer <token>" with a token from
// source (not nil) on every attempt. If source fails or returns an empty
// token the lookup fails with its error, without retrying.
func WithTokenSource(source TokenSource) ClientOption {
	return func(o *clientConfig) error {
		if source == nil {
			return errors.New("token source must not be nil")
		}
		o.token = source
		return nil
	}
}

// WithRetries repeats a GET up to n more times (n >= 0) while the service
// is unavailable (connection error, timeout, HTTP 5xx, 429 or 408);
// default DefaultRetries.
func WithRetries(n int) ClientOption {
	return func(o *clientConfig) error {
		if n < 0 {
			return fmt.Errorf("retries must not be negative, got %d", n)
		}
		o.retries = n
		return nil
	}
}

// WithRetryBackoff waits d (d >= 0) before the first retry, doubling for
// each further retry up to 30s; default DefaultRetryBackoff.
func WithRetryBackoff(d time.Duration) ClientOption {
	return func(o *clientConfig) error {
		if d < 0 {
			return fmt.Errorf("retry backoff must not be negative, got %v", d)
		}
		o.backoff = d
		return nil
	}
}

// WithMaxResponseBytes refuses (with ErrBadResponse) a successful response
// whose body is longer than n bytes (n > 0); default
// DefaultMaxResponseBytes. Error bodies beyond it are truncated.
func WithMaxResponseBytes(n int64) ClientOption {
	return func(o *clientConfig) error {
		if n <= 0 {
			return fmt.Errorf("max response bytes must be positive, got %d", n)
		}
		o.maxBytes = n
		return nil
	}
}

// sleepContext waits for d or until ctx ends.
func sleepContext(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}
