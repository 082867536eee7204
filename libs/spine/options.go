package spine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/nhsengland/gp2gp/libs/bus"
)

// LoopbackOption configures NewLoopback.
type LoopbackOption interface {
	applyLoopback(*Loopback) error
}

// InboundOption configures NewInbound.
type InboundOption interface {
	applyInbound(*Inbound) error
}

// MHSOption configures NewMHS.
type MHSOption func(*MHS) error

type loopbackOptionFunc func(*Loopback) error

func (f loopbackOptionFunc) applyLoopback(l *Loopback) error { return f(l) }

type inboundOptionFunc func(*Inbound) error

func (f inboundOptionFunc) applyInbound(h *Inbound) error { return f(h) }

// ServedOption restricts a Loopback or an Inbound handler to the practices
// the deployment serves. It is both a LoopbackOption and an InboundOption.
type ServedOption struct {
	served func(asid string) bool
	err    error
}

func (o ServedOption) applyLoopback(l *Loopback) error {
	if o.err != nil {
		return o.err
	}
	l.served = o.served
	return nil
}

func (o ServedOption) applyInbound(h *Inbound) error {
	if o.err != nil {
		return o.err
	}
	h.served = o.served
	return nil
}

// WithServed accepts only messages to the ASIDs for which served returns
// true. The loopback refuses a message to any other ASID with a Permanent
// ErrNotServed (there is nowhere else to deliver it); the inbound handler
// answers 404. Without it, every ASID is accepted.
func WithServed(served func(asid string) bool) ServedOption {
	if served == nil {
		return ServedOption{err: errors.New("spine: WithServed: nil function")}
	}
	return ServedOption{served: served}
}

// WithServedASIDs is WithServed for a fixed set of ASIDs (at least one).
func WithServedASIDs(asids ...string) ServedOption {
	if len(asids) == 0 {
		return ServedOption{err: errors.New("spine: WithServedASIDs: no ASIDs (that would refuse every message)")}
	}
	set := make(map[string]bool, len(asids))
	for _, a := range asids {
		if !validASID(a) {
			return ServedOption{err: fmt.Errorf("spine: WithServedASIDs: %q is not an ASID", a)}
		}
		set[a] = true
	}
	return ServedOption{served: func(asid string) bool { return set[asid] }}
}

// WithConversationRecipient sets how the inbound handler attributes a
// message whose HL7 payload names no recipient ASID it can read (not
// well-formed, a DOCTYPE, over a limit): lookup gets the message's ebXML
// ConversationId and the kind its Action classifies it as, and returns the
// ASID of the served practice whose transfer that message belongs to, or
// "" when there is none; an error is answered 503. The message is then
// published for that practice, whose stage answers it as the protocol asks
// (an extract it cannot read with NACK 21, a COPC with 30) rather than it
// being refused with 400 and the sending practice never told. Without it,
// or when lookup returns "", such a message is refused with 400.
func WithConversationRecipient(lookup func(ctx context.Context, conversationID string, kind bus.SpineKind) (string, error)) InboundOption {
	return inboundOptionFunc(func(h *Inbound) error {
		if lookup == nil {
			return errors.New("spine: WithConversationRecipient: nil lookup")
		}
		h.recipient = lookup
		return nil
	})
}

// WithClock sets the loopback's clock, which stamps messages whose
// envelope has no Timestamp (default time.Now).
func WithClock(now func() time.Time) LoopbackOption {
	return loopbackOptionFunc(func(l *Loopback) error {
		if now == nil {
			return errors.New("spine: WithClock: nil clock")
		}
		l.now = now
		return nil
	})
}

// DefaultMaxBodyBytes is the largest request body the inbound handler
// accepts unless WithMaxBodyBytes says otherwise. Spine refuses any
// message over about 5 MB on the wire; its inbound JSON carries the same
// text and base64, plus JSON escaping (every quote of the XML becomes \",
// and the MHS adaptor writes non-ASCII characters as \uXXXX), which can
// make it up to a few times larger. 16 MiB holds the largest legal message
// with room to spare, and bounds what one request can make the handler
// hold in memory.
const DefaultMaxBodyBytes = 16 << 20

// WithMaxBodyBytes sets the largest request body the inbound handler
// accepts; a larger one is answered 413.
func WithMaxBodyBytes(n int64) InboundOption {
	return inboundOptionFunc(func(h *Inbound) error {
		if n <= 0 {
			return fmt.Errorf("spine: WithMaxBodyBytes(%d): must be positive", n)
		}
		h.maxBody = n
		return nil
	})
}

// WithLogger sets where the inbound handler logs what it accepted (debug),
// refused (warn) and failed to publish (error). Default: discard.
func WithLogger(l *slog.Logger) InboundOption {
	return inboundOptionFunc(func(h *Inbound) error {
		if l == nil {
			return errors.New("spine: WithLogger: nil logger")
		}
		h.logger = l
		return nil
	})
}

// DefaultMHSTimeout bounds one request to the MHS adaptor unless
// WithTimeout says otherwise. The adaptor answers 202 only once Spine has
// acknowledged the message (forward reliable), after serialising up to
// 5 MB and possibly retrying the hop to Spine; cutting that short makes
// the caller resend a message that may well be delivered (harmless, the
// resend is deduplicated, but wasteful), so the default is generous.
const DefaultMHSTimeout = 120 * time.Second

// WithTimeout bounds each request to the MHS adaptor. A request that runs
// out of time is a retryable error.
func WithTimeout(d time.Duration) MHSOption {
	return func(m *MHS) error {
		if d <= 0 {
			return fmt.Errorf("spine: WithTimeout(%s): must be positive", d)
		}
		m.timeout = d
		return nil
	}
}

// WithHTTPClient sets the client requests are sent with (for TLS client
// certificates, proxies, instrumentation). Default: a client on
// http.DefaultTransport. The client's own Timeout, if set, also applies.
func WithHTTPClient(c *http.Client) MHSOption {
	return func(m *MHS) error {
		if c == nil {
			return errors.New("spine: WithHTTPClient: nil client")
		}
		m.client = c
		return nil
	}
}

// WithHeader adds a header to every request, for example an API key. The
// headers of the MHS protocol itself (Interaction-Id, wait-for-response,
// Correlation-Id, Message-Id, ods-code, Content-Type, Accept) cannot be
// overridden.
func WithHeader(name, value string) MHSOption {
	return func(m *MHS) error {
		if !validHeaderName(name) {
			return fmt.Errorf("spine: WithHeader: %q is not a header name", name)
		}
		if strings.ContainsAny(value, "\r\n\x00") {
			return fmt.Errorf("spine: WithHeader(%s): the value is not a valid header value", name)
		}
		for _, p := range protocolHeaders {
			if strings.EqualFold(name, p) {
				return fmt.Errorf("spine: WithHeader: %s is set by the MHS protocol", name)
			}
		}
		m.header.Add(name, value)
		return nil
	}
}

// validHeaderName reports whether name is an HTTP token (RFC 9110 §5.1).
func validHeaderName(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !('0' <= c && c <= '9' || 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	return true
}
