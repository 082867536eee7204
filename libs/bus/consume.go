package bus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Msg is a message delivered to a Handler. The runner owns its
// acknowledgement; a handler only returns an error or nil.
type Msg struct {
	Subject string
	Data    []byte
	Header  nats.Header
	// Stream and Consumer the message was delivered from.
	Stream, Consumer string
	// Sequence is the message's sequence in its stream.
	Sequence uint64
	// Delivered counts deliveries of this message to the consumer: 1 the
	// first time.
	Delivered uint64
	// Published is when the stream stored the message.
	Published time.Time
}

// Headers returns the message's typed gp2gp headers.
func (m *Msg) Headers() Headers { return HeadersOf(m.Header) }

// Handler processes one message. Return nil when the message is done with;
// a plain error to have it redelivered after a backoff; RetryAfter to
// choose the delay; Permanent when retrying cannot help. A handler must be
// idempotent: JetStream delivers at least once.
type Handler func(ctx context.Context, msg *Msg) error

type consumeOptions struct {
	concurrency     int
	prefetch        int
	backoff         Backoff
	shutdownTimeout time.Duration
	middleware      []Middleware
}

// ConsumeOption configures Consume.
type ConsumeOption func(*consumeOptions) error

// WithConcurrency sets how many messages are handled at once (default 1,
// which keeps a consumer's messages in order).
func WithConcurrency(n int) ConsumeOption {
	return func(o *consumeOptions) error {
		if n < 1 {
			return fmt.Errorf("bus: WithConcurrency(%d): must be at least 1", n)
		}
		o.concurrency = n
		return nil
	}
}

// WithPrefetch sets how many messages are fetched ahead of the handlers
// (default: the concurrency). More prefetch means fewer round trips to the
// server, but a fetched message waits for a free handler, and one that
// waits longer than the consumer's AckWait is redelivered: keep prefetch ×
// handler time well under AckWait.
func WithPrefetch(n int) ConsumeOption {
	return func(o *consumeOptions) error {
		if n < 1 {
			return fmt.Errorf("bus: WithPrefetch(%d): must be at least 1", n)
		}
		o.prefetch = n
		return nil
	}
}

// WithBackoff sets the redelivery delays for failed messages (default
// the bus's, see WithRetryBackoff).
func WithBackoff(b Backoff) ConsumeOption {
	return func(o *consumeOptions) error {
		if err := b.validate(); err != nil {
			return fmt.Errorf("bus: WithBackoff: %w", err)
		}
		o.backoff = b
		return nil
	}
}

// WithShutdownTimeout bounds how long Consume waits, once its context ends,
// for in-flight handlers to finish before cancelling their contexts
// (default 30s). A message whose handler is cancelled is returned to the
// stream for redelivery, never lost.
func WithShutdownTimeout(d time.Duration) ConsumeOption {
	return func(o *consumeOptions) error {
		if d <= 0 {
			return fmt.Errorf("bus: WithShutdownTimeout(%s): must be positive", d)
		}
		o.shutdownTimeout = d
		return nil
	}
}

// WithMiddleware adds middleware inside the runner's own (tracing, logging,
// panic recovery), in order, outermost first.
func WithMiddleware(mws ...Middleware) ConsumeOption {
	return func(o *consumeOptions) error {
		o.middleware = append(o.middleware, mws...)
		return nil
	}
}

// drainTimeout bounds how long a stopping consumer waits for its iterator
// to hand over the messages already fetched.
const drainTimeout = 2 * time.Second

// pullExpiry bounds how long one pull request waits on the server; its
// heartbeats come every half of it.
const pullExpiry = 10 * time.Second

// Consume runs h on every message of the durable consumer spec until ctx
// ends, then stops fetching, lets in-flight handlers finish (see
// WithShutdownTimeout) and returns nil. The consumer must exist: Ensure
// creates it. It returns an error only if it cannot start or the consumer
// disappears.
func (b *Bus) Consume(ctx context.Context, spec ConsumerSpec, h Handler, opts ...ConsumeOption) error {
	o := consumeOptions{concurrency: 1, backoff: b.backoff, shutdownTimeout: 30 * time.Second}
	for _, opt := range opts {
		if err := opt(&o); err != nil {
			return err
		}
	}
	cons, err := b.js.Consumer(ctx, spec.Stream, spec.Durable)
	if err != nil {
		if ctx.Err() != nil {
			return nil // stopped while starting
		}
		return fmt.Errorf("bus: consumer %s on stream %s: %w", spec.Durable, spec.Stream, err)
	}
	r := &runner{
		bus:           b,
		opts:          o,
		maxDeliveries: uint64(spec.maxDeliveries()),
		ackWait:       cons.CachedInfo().Config.AckWait,
		logger:        b.logger.With("stream", spec.Stream, "consumer", spec.Durable),
		inflight:      map[jetstream.Msg]time.Time{},
	}
	mws := append([]Middleware{Tracing(b.tracer, b.propagator), Logging(r.logger), Recover()}, o.middleware...)
	r.handler = Chain(h, mws...)

	if o.prefetch == 0 {
		o.prefetch = o.concurrency
	}
	// Short pulls: a pull request the server lost (a reconnect, a
	// consumer leader change) is noticed from the missing heartbeats and
	// re-issued within pullExpiry instead of the client's default 30 s
	// (shorter would take a busy machine's late heartbeat for a lost pull).
	iter, err := cons.Messages(jetstream.PullMaxMessages(o.prefetch), jetstream.PullExpiry(pullExpiry))
	if err != nil {
		return fmt.Errorf("bus: consume %s: %w", spec.Durable, err)
	}
	// Handlers run on a context that survives ctx so they can finish;
	// it is cancelled only once the shutdown timeout has passed.
	hctx, cancelHandlers := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelHandlers()
	var graceTimer *time.Timer
	var graceMu sync.Mutex
	// Drain hands over what is already buffered, but a subscription
	// that lived through a reconnect can keep a drain open for the
	// connection's drain timeout: stop waiting for the iterator after
	// drainTimeout (anything still buffered was never acknowledged and is
	// redelivered).
	fetchCtx, stopFetching := context.WithCancel(context.WithoutCancel(ctx))
	defer stopFetching()
	var drainTimer *time.Timer
	stopWatch := context.AfterFunc(ctx, func() {
		iter.Drain()
		graceMu.Lock()
		drainTimer = time.AfterFunc(drainTimeout, stopFetching)
		graceTimer = time.AfterFunc(o.shutdownTimeout, cancelHandlers)
		graceMu.Unlock()
	})
	defer func() {
		stopWatch()
		graceMu.Lock()
		if graceTimer != nil {
			graceTimer.Stop()
			drainTimer.Stop()
		}
		graceMu.Unlock()
	}()

	r.logger.Info("consuming", "concurrency", o.concurrency, "max_deliveries", r.maxDeliveries)
	kctx, stopKeepAlive := context.WithCancel(hctx)
	keepAliveDone := make(chan struct{})
	go func() { defer close(keepAliveDone); r.keepAlive(kctx) }()
	var wg sync.WaitGroup
	sem := make(chan struct{}, o.concurrency)
	var runErr error
	for {
		sem <- struct{}{}
		jm, err := iter.Next(jetstream.NextContext(fetchCtx))
		if err != nil {
			<-sem
			if errors.Is(err, jetstream.ErrMsgIteratorClosed) || fetchCtx.Err() != nil {
				iter.Stop()
				break
			}
			if errors.Is(err, jetstream.ErrConsumerDeleted) || errors.Is(err, jetstream.ErrConsumerNotFound) {
				runErr = fmt.Errorf("bus: consumer %s on stream %s: %w", spec.Durable, spec.Stream, err)
				iter.Stop()
				break
			}
			// Missed heartbeats and similar: the iterator recovers by itself;
			// pause so that a persistent error cannot spin.
			r.logger.Warn("fetch failed; continuing", "error", err)
			select {
			case <-ctx.Done():
			case <-time.After(100 * time.Millisecond):
			}
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			r.process(hctx, jm)
		}()
	}
	wg.Wait()
	stopKeepAlive()
	<-keepAliveDone
	// Acks are sent without waiting for a reply; push the last ones out
	// before reporting that the consumer has stopped.
	if nc := b.js.Conn(); !nc.IsConnected() {
		r.logger.Warn("disconnected while stopping; unflushed acks are sent on reconnect, or the messages are redelivered")
	} else if err := nc.FlushTimeout(5 * time.Second); err != nil {
		r.logger.Warn("could not flush the last acks; those messages will be redelivered", "error", err)
	}
	r.logger.Info("stopped consuming")
	return runErr
}

type runner struct {
	bus           *Bus
	opts          consumeOptions
	handler       Handler
	maxDeliveries uint64
	ackWait       time.Duration
	logger        *slog.Logger

	mu       sync.Mutex
	inflight map[jetstream.Msg]time.Time // handler running since
}

func (r *runner) process(ctx context.Context, jm jetstream.Msg) {
	meta, err := jm.Metadata()
	if err != nil {
		// Only JetStream messages reach a pull consumer; this cannot be
		// handled or dead-lettered meaningfully, so leave it for redelivery.
		r.logger.Error("message without JetStream metadata; leaving it for redelivery", "subject", jm.Subject(), "error", err)
		return
	}
	msg := &Msg{
		Subject: jm.Subject(), Data: jm.Data(), Header: jm.Headers(),
		Stream: meta.Stream, Consumer: meta.Consumer, Sequence: meta.Sequence.Stream,
		Delivered: meta.NumDelivered, Published: meta.Timestamp,
	}
	if msg.Header == nil {
		msg.Header = nats.Header{}
	}
	r.begin(jm)
	err = r.bus.checkOut(ctx, msg)
	if err == nil {
		err = r.handler(ctx, msg)
	}
	r.end(jm)
	r.settle(ctx, jm, msg, err)
}

// keepAlive tells the server, every third of the ack wait, that the
// messages whose handlers are still running are being worked on, so a long
// handler is not raced by a redelivery. It runs until ctx ends.
func (r *runner) keepAlive(ctx context.Context) {
	if r.ackWait <= 0 {
		return
	}
	t := time.NewTicker(r.ackWait / 3)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			r.mu.Lock()
			for jm, since := range r.inflight {
				if now.Sub(since) >= r.ackWait/3 {
					_ = jm.InProgress()
				}
			}
			r.mu.Unlock()
		}
	}
}

func (r *runner) begin(jm jetstream.Msg) {
	r.mu.Lock()
	r.inflight[jm] = time.Now()
	r.mu.Unlock()
}

func (r *runner) end(jm jetstream.Msg) {
	r.mu.Lock()
	delete(r.inflight, jm)
	r.mu.Unlock()
}

func (r *runner) settle(ctx context.Context, jm jetstream.Msg, msg *Msg, err error) {
	if err == nil {
		if aerr := jm.Ack(); aerr != nil {
			r.logFor(ctx, msg).Warn("ack failed; the message will be redelivered", "error", aerr)
		}
		return
	}
	var de *DeferError
	if errors.As(err, &de) {
		_ = jm.NakWithDelay(de.Delay)
		return
	}
	log := r.logFor(ctx, msg)
	switch {
	case ctx.Err() != nil:
		// Shutdown cut the handler short: hand the message back at once.
		_ = jm.Nak()
		log.Info("handler interrupted by shutdown; message returned for redelivery", "error", err)
	case IsPermanent(err) || msg.Delivered >= r.maxDeliveries:
		dl := DeadLetter{
			Reason: err.Error(), Permanent: IsPermanent(err), Subject: msg.Subject, Stream: msg.Stream,
			Consumer: msg.Consumer, Sequence: msg.Sequence, Deliveries: msg.Delivered,
		}
		if !dl.Permanent {
			dl.Reason = fmt.Sprintf("gave up after %d deliveries: %v", msg.Delivered, err)
		}
		if derr := r.bus.deadLetter(ctx, msg, dl); derr != nil {
			delay := r.opts.backoff.Delay(msg.Delivered)
			_ = jm.NakWithDelay(delay)
			log.Error("could not dead-letter message; will retry", "error", err, "dead_letter_error", derr, "retry_in", delay.String())
			return
		}
		_ = jm.TermWithReason(truncate(oneLine(dl.Reason), 256))
		log.Error("message dead-lettered", "error", err, "permanent", dl.Permanent)
	default:
		delay := r.opts.backoff.Delay(msg.Delivered)
		var re *RetryError
		if errors.As(err, &re) {
			delay = re.Delay
		}
		_ = jm.NakWithDelay(delay)
		log.Warn("handler failed; will retry", "error", err, "retry_in", delay.String(), "max_deliveries", r.maxDeliveries)
	}
}

// logFor is the logger for an outcome of msg: it names the message and,
// through the context, its conversation.
func (r *runner) logFor(ctx context.Context, msg *Msg) contextLogger {
	return contextLogger{
		ctx: WithConversationID(ctx, msg.Headers().ConversationID),
		l:   r.logger.With("subject", msg.Subject, "sequence", msg.Sequence, "delivered", msg.Delivered),
	}
}

// contextLogger logs every line with its context.
type contextLogger struct {
	ctx context.Context
	l   *slog.Logger
}

func (c contextLogger) Info(msg string, args ...any)  { c.l.InfoContext(c.ctx, msg, args...) }
func (c contextLogger) Warn(msg string, args ...any)  { c.l.WarnContext(c.ctx, msg, args...) }
func (c contextLogger) Error(msg string, args ...any) { c.l.ErrorContext(c.ctx, msg, args...) }
