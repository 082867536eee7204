package spine

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/nhsengland/gp2gp/libs/bus"
	"github.com/nhsengland/gp2gp/libs/ebxml"
)

// protocolHeaders are the headers the MHS outbound protocol defines; extra
// headers (WithHeader) may not override them.
var protocolHeaders = []string{
	ebxml.HeaderInteractionID, ebxml.HeaderWaitForResponse, ebxml.HeaderCorrelationID,
	ebxml.HeaderMessageID, ebxml.HeaderODSCode, "Content-Type", "Accept",
}

// MHS is the Transport that sends through the NHS MHS adaptor's outbound
// API (GP2GP-PROTOCOL.md §5.1): one POST per message to the outbound URL,
// with the headers Interaction-Id, wait-for-response: false,
// Correlation-Id (the conversation id), Message-Id, ods-code (the
// recipient's ODS code, from which the adaptor looks up the route in SDS)
// and Content-Type and Accept application/json, and the JSON body
// {"payload", "attachments", "external_attachments"}. The adaptor fills
// in the envelope's party ids, CPA id and timestamp itself.
//
// Outcomes: 2xx (the adaptor answers 202 once Spine has acknowledged the
// message) is delivered. 400, 413, 415 and 422, the adaptor refusing the
// message itself, are Permanent errors wrapping an *MHSError (see
// IsExternalAttachmentsTooLong). Every other status (500 for routing and
// transmission failures, 429, 503, a 404 from a misconfigured URL …), a
// timeout and a connection failure are retryable. Resending is safe: the
// adaptor and Spine eliminate duplicates by Message-Id.
type MHS struct {
	url     string
	client  *http.Client
	timeout time.Duration
	header  http.Header
}

var _ Transport = (*MHS)(nil)

// NewMHS returns a transport posting to the MHS adaptor at outboundURL
// (http or https; an empty path is "/").
func NewMHS(outboundURL string, opts ...MHSOption) (*MHS, error) {
	u, err := parseHTTPURL(outboundURL)
	if err != nil {
		return nil, fmt.Errorf("spine: NewMHS: %w", err)
	}
	m := &MHS{url: u, client: &http.Client{}, timeout: DefaultMHSTimeout, header: http.Header{}}
	for _, o := range opts {
		if o == nil {
			continue
		}
		if err := o(m); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// parseHTTPURL checks that s is an absolute http(s) URL and gives an
// empty path "/".
func parseHTTPURL(s string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil {
		return "", fmt.Errorf("outbound URL %q: %w", s, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("outbound URL %q: want http:// or https:// and a host", s)
	}
	if u.Path == "" {
		u.Path = "/"
	}
	return u.String(), nil
}

// permanentStatus reports the statuses with which the adaptor refuses the
// message itself: sending it again cannot help.
func permanentStatus(code int) bool {
	switch code {
	case http.StatusBadRequest, http.StatusRequestEntityTooLarge, http.StatusUnsupportedMediaType, http.StatusUnprocessableEntity:
		return true
	}
	return false
}

// Send posts out to the MHS adaptor; see MHS for the outcomes. out.ToODS
// is required; out.FromASID and out.ToASID are not used (the adaptor
// knows its own ASID, and SDS the recipient's). A message the adaptor
// would refuse anyway (over its limits, an attachment content type it
// does not accept, ids missing) is a Permanent ErrInvalidOutbound without
// a request.
func (m *MHS) Send(ctx context.Context, out *Outbound) error {
	if out == nil || out.Message == nil {
		return bus.Permanent(fmt.Errorf("%w: no message", ErrInvalidOutbound))
	}
	body, err := out.Message.OutboundJSON()
	if err != nil {
		return bus.Permanent(fmt.Errorf("%w: %w", ErrInvalidOutbound, err))
	}
	h, err := out.Message.OutboundHeaders(out.ToODS)
	if err != nil {
		return bus.Permanent(fmt.Errorf("%w: %w", ErrInvalidOutbound, err))
	}
	what := fmt.Sprintf("spine: MHS send %s %s to %s", h.InteractionID, h.MessageID, h.ODSCode)

	rctx, cancel := context.WithTimeout(ctx, m.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, http.MethodPost, m.url, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	for k, v := range m.header {
		req.Header[k] = append([]string(nil), v...)
	}
	for k, v := range h.HTTPHeader() {
		req.Header[k] = v
	}
	resp, err := m.client.Do(req)
	if err != nil {
		if ctx.Err() == nil && errors.Is(rctx.Err(), context.DeadlineExceeded) {
			return fmt.Errorf("%s: no answer within %s: %w", what, m.timeout, err)
		}
		return fmt.Errorf("%s: %w", what, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		drain(resp.Body)
		return nil
	}
	data, _ := io.ReadAll(io.LimitReader(resp.Body, MaxErrorBody))
	drain(resp.Body)
	merr := fmt.Errorf("%s: %w", what, &MHSError{Status: resp.StatusCode, Body: strings.ToValidUTF8(string(data), "\uFFFD")})
	if permanentStatus(resp.StatusCode) {
		return bus.Permanent(merr)
	}
	return merr
}

// drain reads what is left of a response body, up to a bound, so that the
// connection can be reused.
func drain(r io.Reader) {
	_, _ = io.Copy(io.Discard, io.LimitReader(r, 64<<10))
}
