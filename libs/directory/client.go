package directory

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// fhirClient is the HTTP plumbing PDSClient and SDSClient share: headers,
// per-attempt timeout, retries while unavailable and size limits.
type fhirClient struct {
	service string // "pds" or "sds", for messages
	base    *url.URL
	cfg     clientConfig
}

func newFHIRClient(service, baseURL string, opts []ClientOption) (*fhirClient, error) {
	cfg := defaultClientConfig()
	for _, opt := range opts {
		if opt == nil {
			continue
		}
		if err := opt(&cfg); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrOption, err)
		}
	}
	base, err := url.Parse(baseURL)
	switch {
	case err != nil:
		return nil, fmt.Errorf("%w: %s base URL: %w", ErrOption, service, err)
	case base.Scheme != "http" && base.Scheme != "https", base.Host == "":
		return nil, fmt.Errorf("%w: %s base URL %q is not an absolute http or https URL", ErrOption, service, baseURL)
	case base.RawQuery != "" || base.Fragment != "" || base.User != nil:
		return nil, fmt.Errorf("%w: %s base URL %q must not have a query, fragment or user", ErrOption, service, baseURL)
	}
	return &fhirClient{service: service, base: base, cfg: cfg}, nil
}

// endpoint is the URL of a resource path under the base URL with an
// already encoded query.
func (c *fhirClient) endpoint(rawQuery string, path ...string) *url.URL {
	u := c.base.JoinPath(path...)
	u.RawQuery = rawQuery
	return u
}

// answer is one HTTP response.
type answer struct {
	status int
	body   []byte
}

// get fetches u, retrying while the service is unavailable, and returns
// the first answer that is not a retryable status. what names the request
// in errors (URLs are kept out of them: they can hold NHS numbers).
// setHeaders adds the caller's headers to every attempt.
func (c *fhirClient) get(ctx context.Context, u *url.URL, what string, setHeaders func(http.Header)) (answer, error) {
	wait := c.cfg.backoff
	for attempt := 1; ; attempt++ {
		ans, retry, err := c.attempt(ctx, u, setHeaders)
		if err == nil && !retryableStatus(ans.status) {
			return ans, nil
		}
		if ctx.Err() != nil {
			return answer{}, fmt.Errorf("directory: %s: %s: %w", c.service, what, context.Cause(ctx))
		}
		if !retry {
			return answer{}, fmt.Errorf("directory: %s: %s: %w", c.service, what, err)
		}
		if err == nil {
			err = c.statusError(ans)
		}
		if attempt > c.cfg.retries {
			return answer{}, fmt.Errorf("%w: %s: %s: %d attempts: %w", ErrUnavailable, c.service, what, attempt, err)
		}
		if err := c.cfg.sleep(ctx, wait); err != nil {
			return answer{}, fmt.Errorf("directory: %s: %s: %w", c.service, what, err)
		}
		wait = min(2*wait, maxRetryBackoff)
	}
}

// attempt makes one request. retry reports whether a failure is the kind
// that retrying may cure; it is true for retryable statuses.
func (c *fhirClient) attempt(ctx context.Context, u *url.URL, setHeaders func(http.Header)) (ans answer, retry bool, err error) {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return answer{}, false, err
	}
	req.Header.Set("Accept", "application/fhir+json")
	if c.cfg.apiKey != "" {
		req.Header.Set("apikey", c.cfg.apiKey)
	}
	if c.cfg.token != nil {
		token, err := c.cfg.token(ctx)
		if err == nil && token == "" {
			err = errors.New("empty token")
		}
		if err != nil {
			return answer{}, false, fmt.Errorf("bearer token: %w", err)
		}
		req.Header.Set("Authorization", "Bearer "+token)
	}
	setHeaders(req.Header)
	resp, err := c.cfg.httpClient.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = fmt.Errorf("%s: %w", ue.Op, ue.Err) // without the URL
		}
		return answer{}, true, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, c.cfg.maxBytes+1))
	if err != nil {
		return answer{}, true, fmt.Errorf("reading response: %w", err)
	}
	if int64(len(body)) > c.cfg.maxBytes {
		if resp.StatusCode/100 == 2 {
			return answer{}, false, fmt.Errorf("%w: response body exceeds %d bytes", ErrBadResponse, c.cfg.maxBytes)
		}
		body = body[:c.cfg.maxBytes]
	}
	return answer{status: resp.StatusCode, body: body}, true, nil
}

// statusError describes an unexpected answer, with the diagnostics of an
// OperationOutcome body if it has one.
func (c *fhirClient) statusError(ans answer) *StatusError {
	return &StatusError{Service: c.service, StatusCode: ans.status, Diagnostics: diagnostics(ans.body)}
}

// unexpected is the error for an answer whose status the caller does not
// handle; it matches ErrBadResponse.
func (c *fhirClient) unexpected(ans answer, what string) error {
	return fmt.Errorf("directory: %s: %s: %w", c.service, what, c.statusError(ans))
}

// retryableStatus reports whether an HTTP status says "try again later".
func retryableStatus(status int) bool {
	return status >= 500 || status == http.StatusTooManyRequests || status == http.StatusRequestTimeout
}

// decode unmarshals a successful answer's body.
func (c *fhirClient) decode(ans answer, what string, v any) error {
	if err := json.Unmarshal(ans.body, v); err != nil {
		return fmt.Errorf("%w: %s: %s: malformed JSON: %w", ErrBadResponse, c.service, what, err)
	}
	return nil
}

// fhirIdentifier is a FHIR Identifier.
type fhirIdentifier struct {
	System string `json:"system"`
	Value  string `json:"value"`
}

// identifierValue returns the value of the first identifier of the system.
func identifierValue(ids []fhirIdentifier, system string) string {
	for _, id := range ids {
		if id.System == system && id.Value != "" {
			return id.Value
		}
	}
	return ""
}

// operationOutcome is the part of a FHIR OperationOutcome read for messages.
type operationOutcome struct {
	ResourceType string `json:"resourceType"`
	Issue        []struct {
		Code        string `json:"code"`
		Diagnostics string `json:"diagnostics"`
		Details     struct {
			Text   string `json:"text"`
			Coding []struct {
				Code    string `json:"code"`
				Display string `json:"display"`
			} `json:"coding"`
		} `json:"details"`
	} `json:"issue"`
}

// diagnostics is the human-readable text of an OperationOutcome body, or
// empty if the body is not one: each issue's diagnostics, else its
// details' text, display or code, else its code.
func diagnostics(body []byte) string {
	var oo operationOutcome
	if json.Unmarshal(body, &oo) != nil || oo.ResourceType != "OperationOutcome" {
		return ""
	}
	var texts []string
	for _, issue := range oo.Issue {
		text := issue.Diagnostics
		if text == "" {
			text = issue.Details.Text
		}
		for _, coding := range issue.Details.Coding {
			if text != "" {
				break
			}
			text = coalesce(coding.Display, coding.Code)
		}
		if text = coalesce(text, issue.Code); text != "" {
			texts = append(texts, text)
		}
	}
	return strings.Join(texts, "; ")
}

func coalesce(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
