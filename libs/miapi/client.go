package miapi

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// maxSuccessBody is the largest success answer read ({"eventId": …}).
const maxSuccessBody = 64 << 10

// Client posts events to the GP Registrations MI API. It is safe for
// concurrent use.
type Client struct {
	base       string
	httpClient *http.Client
	timeout    time.Duration
	apiKey     string
	header     http.Header
	now        func() time.Time
}

// NewClient returns a client of the API at baseURL, an absolute http or
// https URL such as "https://api.service.nhs.uk/gp-registrations-mi"
// (a trailing slash is ignored). Errors match ErrOption.
func NewClient(baseURL string, opts ...ClientOption) (*Client, error) {
	u, err := url.Parse(baseURL)
	switch {
	case err != nil:
		return nil, fmt.Errorf("%w: base URL: %w", ErrOption, err)
	case u.Scheme != "http" && u.Scheme != "https", u.Host == "":
		return nil, fmt.Errorf("%w: base URL %q is not an absolute http or https URL", ErrOption, baseURL)
	case u.RawQuery != "" || u.Fragment != "" || u.User != nil:
		return nil, fmt.Errorf("%w: base URL %q must not have a query, fragment or user", ErrOption, baseURL)
	}
	c := &Client{
		base:       strings.TrimRight(u.String(), "/"),
		httpClient: http.DefaultClient,
		timeout:    DefaultTimeout,
		header:     http.Header{},
		now:        time.Now,
	}
	for _, opt := range opts {
		if opt == nil {
			continue
		}
		if err := opt(c); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrOption, err)
		}
	}
	return c, nil
}

// Post validates e and sends it to its endpoint as JSON, with its id
// (Event.ID) as X-Correlation-ID, and returns the eventId the API
// answers. For events other than DEGRADES with an empty Key that is e.ID()
// if the API computes ids as documented; Post does not insist on it.
//
// Errors: an invalid event gives a *ValidationError (nothing is sent); an
// answer other than 2xx gives a *StatusError; a 2xx answer without an
// eventId matches ErrUnexpectedResponse. IsPermanent tells the failures
// that re-sending cannot fix from those it may (network, timeouts, 408,
// 429, 5xx; a *StatusError then carries the server's Retry-After).
func (c *Client) Post(ctx context.Context, e Event) (string, error) {
	if err := e.Validate(); err != nil {
		return "", err
	}
	body, err := json.Marshal(e)
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrInvalidEvent, err)
	}
	path := e.Type.Path()
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+path, bytes.NewReader(body))
	if err != nil {
		return "", fmt.Errorf("miapi: POST %s: %w", path, err)
	}
	req.Header = c.header.Clone()
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("X-Correlation-ID", e.ID())
	if c.apiKey != "" {
		req.Header.Set(APIKeyHeader, c.apiKey)
	}
	resp, err := c.httpClient.Do(req)
	if err != nil {
		return "", fmt.Errorf("miapi: POST %s: %w", path, err)
	}
	defer func() {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxSuccessBody))
		_ = resp.Body.Close()
	}()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return "", c.statusError(path, resp)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxSuccessBody))
	if err != nil {
		return "", fmt.Errorf("miapi: POST %s: reading the answer: %w", path, err)
	}
	var ok struct {
		EventID string `json:"eventId"`
	}
	if err := json.Unmarshal(data, &ok); err != nil || ok.EventID == "" {
		return "", fmt.Errorf("%w: POST %s: HTTP %d without an eventId: %.200q", ErrUnexpectedResponse, path, resp.StatusCode, data)
	}
	return ok.EventID, nil
}

// statusError reads an error answer.
func (c *Client) statusError(path string, resp *http.Response) *StatusError {
	data, _ := io.ReadAll(io.LimitReader(resp.Body, MaxErrorBody))
	se := &StatusError{
		Path:       path,
		StatusCode: resp.StatusCode,
		Body:       data,
		RetryAfter: parseRetryAfter(resp.Header.Get("Retry-After"), c.now()),
	}
	var api struct {
		Message string   `json:"message"`
		Errors  []string `json:"errors"`
	}
	if json.Unmarshal(data, &api) == nil {
		se.Message, se.Errors = api.Message, api.Errors
	}
	return se
}

// parseRetryAfter reads a Retry-After value: delay-seconds or an HTTP
// date (RFC 9110 §10.2.3), capped at a day. Anything else, or a date in
// the past, is 0.
func parseRetryAfter(value string, now time.Time) time.Duration {
	value = strings.TrimSpace(value)
	if value == "" {
		return 0
	}
	if secs, err := strconv.ParseInt(value, 10, 64); err == nil {
		if secs <= 0 {
			return 0
		}
		if secs > int64(24*time.Hour/time.Second) {
			secs = int64(24 * time.Hour / time.Second)
		}
		return time.Duration(secs) * time.Second
	}
	if at, err := http.ParseTime(value); err == nil && at.After(now) {
		return at.Sub(now)
	}
	return 0
}
