package spine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"time"

	"github.com/nhsengland/gp2gp/libs/bus"
	"github.com/nhsengland/gp2gp/libs/ebxml"
	"github.com/nhsengland/gp2gp/libs/hl7"
)

// Inbound is the HTTP endpoint through which messages received from Spine
// reach the bus. The MHS adaptor puts each inbound message on an AMQP
// queue; a deployment bridges that queue to this endpoint by POSTing each
// queue message's body here, acknowledging it on 2xx, dead-lettering it
// on 4xx and retrying it on 5xx. Stand-ins and tests post here directly.
//
// It accepts POST (any path) with the MHS inbound JSON envelope as the
// body (Content-Type application/json, or none). It reads the envelope
// (ebxml.ParseInboundJSON: UTF-8, no DOCTYPE, bounded XML), takes the
// recipient ASID from the HL7 payload (communicationFunctionRcv; for a
// payload that names none it can read, from the transfer the conversation
// belongs to, see WithConversationRecipient), classifies the message
// (Classify) and publishes the body as received on
// gp2gp.spine.in.<ASID>.<kind> with the typed headers and the dedupe id
// spine.<MESSAGE ID>.<ASID>, so that posting one message twice stores it
// once. A message only an attachment of which is not valid base64 is
// published all the same: its recipient answers it. Responses, all JSON:
//
//	202 InboundResponse: published (again, or for the first time)
//	400 ErrorResponse: not an inbound envelope, no readable recipient ASID
//	    (and none from the conversation), not a GP2GP interaction
//	404 ErrorResponse: the recipient ASID is not served here (WithServed)
//	405 ErrorResponse: not POST
//	413 ErrorResponse: body over the limit (WithMaxBodyBytes)
//	415 ErrorResponse: a Content-Type other than application/json
//	503 ErrorResponse: publishing failed; post it again later
//
// It is safe for concurrent use.
type Inbound struct {
	bus       *bus.Bus
	served    func(asid string) bool
	recipient func(ctx context.Context, conversationID string, kind bus.SpineKind) (string, error)
	maxBody   int64
	logger    *slog.Logger
}

var _ http.Handler = (*Inbound)(nil)

// InboundResponse is the body of a 202 from the inbound endpoint.
type InboundResponse struct {
	// ConversationID of the message (upper-case).
	ConversationID string `json:"conversationId"`
	// MessageID is its ebXML MessageId (upper-case).
	MessageID string `json:"messageId"`
	// Kind it was classified as.
	Kind bus.SpineKind `json:"kind"`
	// Subject it was published on.
	Subject string `json:"subject"`
	// Duplicate is true when the message had been received before and
	// nothing new was stored.
	Duplicate bool `json:"duplicate,omitempty"`
}

// ErrorResponse is the body of every error answer of the inbound
// endpoint.
type ErrorResponse struct {
	// Error says what is wrong.
	Error string `json:"error"`
}

// NewInbound returns the inbound endpoint publishing on b, whose topology
// must include GP2GP_SPINE_IN and the bodies object store (received
// messages can be over the bus's inline limit).
func NewInbound(b *bus.Bus, opts ...InboundOption) (*Inbound, error) {
	if b == nil {
		return nil, errors.New("spine: NewInbound: nil bus")
	}
	h := &Inbound{bus: b, maxBody: DefaultMaxBodyBytes, logger: slog.New(slog.DiscardHandler)}
	for _, o := range opts {
		if o == nil {
			continue
		}
		if err := o.applyInbound(h); err != nil {
			return nil, err
		}
	}
	return h, nil
}

// ServeHTTP handles one delivery; see Inbound.
func (h *Inbound) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	defer func() {
		if v := recover(); v != nil {
			h.logger.ErrorContext(r.Context(), "spine inbound: panic", "panic", fmt.Sprint(v))
			h.refuse(w, r, http.StatusInternalServerError, errors.New("internal error"))
		}
	}()
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		h.refuse(w, r, http.StatusMethodNotAllowed, fmt.Errorf("method %s: use POST", r.Method))
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != "" {
		if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/json" {
			h.refuse(w, r, http.StatusUnsupportedMediaType, fmt.Errorf("content type %.80q: want application/json (the MHS inbound JSON envelope)", ct))
			return
		}
	}
	if r.ContentLength > h.maxBody {
		h.refuse(w, r, http.StatusRequestEntityTooLarge, fmt.Errorf("body of %d bytes is over the %d-byte limit", r.ContentLength, h.maxBody))
		return
	}
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.maxBody))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			h.refuse(w, r, http.StatusRequestEntityTooLarge, fmt.Errorf("body is over the %d-byte limit", h.maxBody))
			return
		}
		h.refuse(w, r, http.StatusBadRequest, fmt.Errorf("reading the body: %w", err))
		return
	}
	res, status, err := h.accept(r.Context(), data)
	if err != nil {
		h.refuse(w, r, status, err)
		return
	}
	h.logger.DebugContext(r.Context(), "spine inbound: published",
		"conversation_id", res.ConversationID, "message_id", res.MessageID, "subject", res.Subject, "duplicate", res.Duplicate)
	writeJSON(w, http.StatusAccepted, res)
}

// accept publishes one inbound envelope, or says which status refuses it
// and why.
func (h *Inbound) accept(ctx context.Context, data []byte) (InboundResponse, int, error) {
	msg, err := ebxml.ParseInboundJSON(data)
	if err != nil && (msg == nil || !errors.Is(err, ebxml.ErrBase64)) {
		status := http.StatusBadRequest
		if errors.Is(err, ebxml.ErrTooLarge) {
			status = http.StatusRequestEntityTooLarge
		}
		return InboundResponse{}, status, err
	}
	decoded, derr := hl7.Decode(msg.Payload)
	kind, in, cerr := classify(msg, decoded)
	asid, err := recipientOf(decoded, derr)
	if err != nil && cerr == nil && h.recipient != nil {
		held, lerr := h.recipient(ctx, msg.Envelope.ConversationID, kind)
		if lerr != nil {
			return InboundResponse{}, http.StatusServiceUnavailable, fmt.Errorf("looking up the transfer of the conversation failed, post again later: %w", lerr)
		}
		if held != "" {
			asid, err = held, nil
		}
	}
	if err != nil {
		return InboundResponse{}, http.StatusBadRequest, err
	}
	if cerr != nil {
		return InboundResponse{}, http.StatusBadRequest, cerr
	}
	if h.served != nil && !h.served(asid) {
		return InboundResponse{}, http.StatusNotFound, fmt.Errorf("%w: no practice here has ASID %s", ErrNotServed, asid)
	}
	og, err := received{
		body: data, toASID: asid, kind: kind, interaction: string(in),
		conversationID: msg.Envelope.ConversationID, messageID: msg.Envelope.MessageID,
	}.outgoing()
	if err != nil {
		return InboundResponse{}, http.StatusBadRequest, err
	}
	ack, err := h.bus.Publish(ctx, og)
	if err != nil {
		return InboundResponse{}, http.StatusServiceUnavailable, fmt.Errorf("publishing to the bus failed, post again later: %w", err)
	}
	// The MI event after the message: a failure here is answered 503 so
	// the adaptor posts again, which stores the message once and the event.
	if err := PublishMessageEvent(ctx, h.bus, receivedEvent(msg, decoded, in, asid, time.Now().UTC())); err != nil {
		return InboundResponse{}, http.StatusServiceUnavailable, fmt.Errorf("publishing the message event failed, post again later: %w", err)
	}
	return InboundResponse{
		ConversationID: og.Headers.ConversationID,
		MessageID:      og.Headers.MessageID,
		Kind:           kind,
		Subject:        og.Subject,
		Duplicate:      ack.Duplicate,
	}, http.StatusAccepted, nil
}

// refuse answers status with err as a JSON ErrorResponse, and logs it.
func (h *Inbound) refuse(w http.ResponseWriter, r *http.Request, status int, err error) {
	level := slog.LevelWarn
	if status >= 500 {
		level = slog.LevelError
	}
	h.logger.Log(r.Context(), level, "spine inbound: refused", "status", status, "error", err.Error())
	writeJSON(w, status, ErrorResponse{Error: err.Error()})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v) // the client has gone if this fails
}

// InboundShutdownTimeout bounds how long ServeInbound waits, once its
// context ends, for requests in flight to finish.
const InboundShutdownTimeout = 30 * time.Second

// ServeInbound serves h (normally an *Inbound) on ln until ctx ends, then
// stops accepting connections, lets requests in flight finish (up to
// InboundShutdownTimeout) and returns nil. It returns an error if serving
// fails. It fits a service's workers:
//
//	ln, err := net.Listen("tcp", cfg.Spine.MHSInboundAddr)
//	…
//	worker := func(ctx context.Context) error { return spine.ServeInbound(ctx, ln, inbound) }
func ServeInbound(ctx context.Context, ln net.Listener, h http.Handler) error {
	if ln == nil || h == nil {
		return errors.New("spine: ServeInbound: nil listener or handler")
	}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       2 * time.Minute,
		WriteTimeout:      2 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		// Requests in flight at shutdown finish their publish.
		BaseContext: func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		return fmt.Errorf("spine: inbound endpoint on %s: %w", ln.Addr(), err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), InboundShutdownTimeout)
	defer cancel()
	err := srv.Shutdown(sctx)
	if err != nil {
		_ = srv.Close()
	}
	<-served // http.ErrServerClosed
	if err != nil {
		return fmt.Errorf("spine: inbound endpoint on %s: shutdown: %w", ln.Addr(), err)
	}
	return nil
}
