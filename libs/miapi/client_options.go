package miapi

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// DefaultTimeout bounds each Post (request and response) unless
// WithTimeout says otherwise.
const DefaultTimeout = 30 * time.Second

// APIKeyHeader is the header carrying the API key. The API is
// application-restricted with an API key (security scheme app-level0 of
// the NHS API platform), which the platform reads from "apikey".
const APIKeyHeader = "apikey"

// ClientOption configures NewClient. Options check their argument; a bad
// one makes NewClient fail with ErrOption.
type ClientOption func(*Client) error

// WithAPIKey sends key (not empty) in the apikey header of every request.
func WithAPIKey(key string) ClientOption {
	return func(c *Client) error {
		if strings.TrimSpace(key) == "" {
			return errors.New("WithAPIKey: empty key")
		}
		if strings.ContainsAny(key, "\r\n") {
			return errors.New("WithAPIKey: key contains a line break")
		}
		c.apiKey = key
		return nil
	}
}

// WithHeader adds a header to every request. Content-Type,
// X-Correlation-ID and apikey are set by the client and cannot be
// replaced this way.
func WithHeader(name, value string) ClientOption {
	return func(c *Client) error {
		if !validHeaderName(name) {
			return fmt.Errorf("WithHeader: %q is not a header name", name)
		}
		switch http.CanonicalHeaderKey(name) {
		case "Content-Type", "X-Correlation-Id", http.CanonicalHeaderKey(APIKeyHeader):
			return fmt.Errorf("WithHeader: %s is set by the client", name)
		}
		if strings.ContainsAny(value, "\r\n") {
			return fmt.Errorf("WithHeader: the value of %s contains a line break", name)
		}
		c.header.Add(name, value)
		return nil
	}
}

// WithHTTPClient sends requests through hc (not nil) instead of
// http.DefaultClient, for example for a proxy or TLS settings. Its own
// Timeout, if any, also applies.
func WithHTTPClient(hc *http.Client) ClientOption {
	return func(c *Client) error {
		if hc == nil {
			return errors.New("WithHTTPClient: nil client")
		}
		c.httpClient = hc
		return nil
	}
}

// WithTimeout bounds each Post to d (more than 0) instead of
// DefaultTimeout. The caller's context can end it sooner.
func WithTimeout(d time.Duration) ClientOption {
	return func(c *Client) error {
		if d <= 0 {
			return fmt.Errorf("WithTimeout: %s is not positive", d)
		}
		c.timeout = d
		return nil
	}
}

// validHeaderName reports whether name is an RFC 9110 token.
func validHeaderName(name string) bool {
	if name == "" {
		return false
	}
	for _, r := range name {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		case strings.ContainsRune("!#$%&'*+-.^_`|~", r):
		default:
			return false
		}
	}
	return true
}
