package bus_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/nhsengland/gp2gp/libs/bus"
	"github.com/nhsengland/gp2gp/libs/natsembed/natstest"
)

// fixture is one embedded JetStream with a test stream and consumer.
type fixture struct {
	t    *testing.T
	srv  *natstest.Server
	js   jetstream.JetStream
	bus  *bus.Bus
	spec bus.ConsumerSpec
	ctx  context.Context
}

const testSubject = "gp2gp.practice.A12345.registration"

func newFixture(t *testing.T, opts ...bus.Option) *fixture {
	t.Helper()
	srv := natstest.NewServer(t)
	js := srv.JetStream()
	ctx := natstest.Context(t, 60*time.Second)
	ps := []bus.Practice{{ODS: "A12345", ASID: "200000000001"}}
	require.NoError(t, bus.Ensure(ctx, js, bus.DevProfile, bus.RequesterTopology("", ps)))
	opts = append([]bus.Option{bus.WithLogger(slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug})))}, opts...)
	b, err := bus.New(js, opts...)
	require.NoError(t, err)
	// A short ack wait bounds how long a lost nak or a stranded delivery
	// can delay a redelivery; handlers longer than it are kept alive by the
	// runner.
	spec := bus.RequesterRegistrations("", ps)
	spec.AckWait = 2 * time.Second
	require.NoError(t, bus.Ensure(ctx, js, bus.DevProfile, bus.Topology{Consumers: []bus.ConsumerSpec{spec}}))
	return &fixture{t: t, srv: srv, js: js, bus: b, spec: spec, ctx: ctx}
}

func (f *fixture) publish(id, body string) *jetstream.PubAck {
	f.t.Helper()
	ack, err := f.bus.Publish(f.ctx, bus.Outgoing{
		Subject: testSubject, DedupeID: id, Data: []byte(body),
		Headers: bus.Headers{ConversationID: "CONV-" + id},
	})
	require.NoError(f.t, err)
	return ack
}

// consume runs the consumer in the background until the returned stop is
// called; stop waits for Consume to return and reports its error.
func (f *fixture) consume(spec bus.ConsumerSpec, h bus.Handler, opts ...bus.ConsumeOption) (stop func() error) {
	ctx, cancel := context.WithCancel(f.ctx)
	done := make(chan error, 1)
	go func() { done <- f.bus.Consume(ctx, spec, h, opts...) }()
	var once sync.Once
	var err error
	stop = func() error {
		once.Do(func() { cancel(); err = <-done })
		return err
	}
	f.t.Cleanup(func() { _ = stop() })
	return stop
}

func (f *fixture) consumerInfo() *jetstream.ConsumerInfo {
	f.t.Helper()
	c, err := f.js.Consumer(f.ctx, f.spec.Stream, f.spec.Durable)
	require.NoError(f.t, err)
	info, err := c.Info(f.ctx)
	require.NoError(f.t, err)
	return info
}

// settled reports whether every message was delivered and none awaits an
// ack or a redelivery.
func (f *fixture) settled() bool {
	info := f.consumerInfo()
	return info.NumPending == 0 && info.NumAckPending == 0 && info.NumRedelivered == 0
}

func (f *fixture) deadLetters() []*bus.Msg {
	f.t.Helper()
	s, err := f.js.Stream(f.ctx, bus.StreamDeadLetter)
	require.NoError(f.t, err)
	info, err := s.Info(f.ctx)
	require.NoError(f.t, err)
	var out []*bus.Msg
	for seq := info.State.FirstSeq; seq <= info.State.LastSeq && info.State.Msgs > 0; seq++ {
		raw, err := s.GetMsg(f.ctx, seq)
		require.NoError(f.t, err)
		out = append(out, &bus.Msg{Subject: raw.Subject, Data: raw.Data, Header: raw.Header})
	}
	return out
}

var fastBackoff = bus.Backoff{Min: 10 * time.Millisecond, Max: 40 * time.Millisecond}

func TestRetryableErrorIsRedeliveredWithBackoff(t *testing.T) {
	f := newFixture(t)
	var mu sync.Mutex
	var deliveries []time.Time
	f.consume(f.spec, func(ctx context.Context, msg *bus.Msg) error {
		mu.Lock()
		defer mu.Unlock()
		deliveries = append(deliveries, time.Now())
		if len(deliveries) < 3 {
			return errors.New("practice system unavailable")
		}
		return nil
	}, bus.WithBackoff(bus.Backoff{Min: 200 * time.Millisecond, Max: time.Second}))

	f.publish("retry-1", "payload")
	require.Eventually(t, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(deliveries) == 3
	}, 10*time.Second, 10*time.Millisecond, "consumer: %+v", f.consumerInfo())
	require.Eventually(t, f.settled, 5*time.Second, 10*time.Millisecond)

	mu.Lock()
	defer mu.Unlock()
	// Delays double: 200ms after the first failure, 400ms after the second.
	// Only lower bounds: a loaded machine can make them longer, not shorter.
	assert.GreaterOrEqual(t, deliveries[1].Sub(deliveries[0]), 200*time.Millisecond)
	assert.GreaterOrEqual(t, deliveries[2].Sub(deliveries[1]), 400*time.Millisecond)
	assert.Empty(t, f.deadLetters())
}

func TestPermanentErrorIsDeadLetteredAndNotRedelivered(t *testing.T) {
	f := newFixture(t)
	var calls atomic.Int32
	f.consume(f.spec, func(ctx context.Context, msg *bus.Msg) error {
		calls.Add(1)
		return bus.Permanentf("registration has no NHS number")
	}, bus.WithBackoff(fastBackoff))

	f.publish("poison-1", "not a registration")
	require.Eventually(t, func() bool { return len(f.deadLetters()) == 1 }, 10*time.Second, 10*time.Millisecond)
	require.Eventually(t, f.settled, 5*time.Second, 10*time.Millisecond)
	assert.EqualValues(t, 1, calls.Load(), "a permanent failure is not retried")

	dlm := f.deadLetters()[0]
	assert.Equal(t, bus.DeadLetterSubject(bus.StreamRegistrations, f.spec.Durable), dlm.Subject)
	assert.Equal(t, "not a registration", string(dlm.Data))
	dl, ok := bus.DeadLetterOf(dlm)
	require.True(t, ok)
	assert.Equal(t, "registration has no NHS number", dl.Reason)
	assert.True(t, dl.Permanent)
	assert.Equal(t, testSubject, dl.Subject)
	assert.Equal(t, bus.StreamRegistrations, dl.Stream)
	assert.Equal(t, f.spec.Durable, dl.Consumer)
	assert.EqualValues(t, 1, dl.Sequence)
	assert.EqualValues(t, 1, dl.Deliveries)
	assert.Equal(t, "poison-1", dl.MsgID)
	assert.WithinDuration(t, time.Now(), dl.At, time.Minute)
	assert.Equal(t, "CONV-poison-1", bus.HeadersOf(dlm.Header).ConversationID, "the copy keeps the original's headers")
}

func TestMessageThatKeepsFailingIsDeadLetteredAfterMaxDeliveries(t *testing.T) {
	f := newFixture(t)
	spec := f.spec
	spec.MaxDeliveries = 3
	var calls atomic.Int32
	f.consume(spec, func(ctx context.Context, msg *bus.Msg) error {
		calls.Add(1)
		return fmt.Errorf("attempt %d failed", msg.Delivered)
	}, bus.WithBackoff(fastBackoff))

	f.publish("flaky-1", "x")
	require.Eventually(t, func() bool { return len(f.deadLetters()) == 1 }, 10*time.Second, 10*time.Millisecond)
	require.Eventually(t, f.settled, 5*time.Second, 10*time.Millisecond)
	assert.EqualValues(t, 3, calls.Load())
	dl, ok := bus.DeadLetterOf(f.deadLetters()[0])
	require.True(t, ok)
	assert.False(t, dl.Permanent)
	assert.EqualValues(t, 3, dl.Deliveries)
	assert.Contains(t, dl.Reason, "gave up after 3 deliveries: attempt 3 failed")
}

func TestPanicIsRecoveredAndTreatedAsAnError(t *testing.T) {
	t.Run("retried, then succeeds", func(t *testing.T) {
		f := newFixture(t)
		var calls atomic.Int32
		f.consume(f.spec, func(ctx context.Context, msg *bus.Msg) error {
			if calls.Add(1) == 1 {
				var m map[string]int
				m["boom"]++ // nil map write panics
			}
			return nil
		}, bus.WithBackoff(fastBackoff))
		f.publish("panic-once", "x")
		require.Eventually(t, func() bool { return calls.Load() == 2 }, 10*time.Second, 10*time.Millisecond)
		require.Eventually(t, f.settled, 5*time.Second, 10*time.Millisecond)
		assert.Empty(t, f.deadLetters())
	})
	t.Run("keeps panicking, dead-lettered with the panic", func(t *testing.T) {
		f := newFixture(t)
		spec := f.spec
		spec.MaxDeliveries = 2
		f.consume(spec, func(ctx context.Context, msg *bus.Msg) error { panic("corrupt state") }, bus.WithBackoff(fastBackoff))
		f.publish("panic-always", "x")
		require.Eventually(t, func() bool { return len(f.deadLetters()) == 1 }, 10*time.Second, 10*time.Millisecond)
		dl, _ := bus.DeadLetterOf(f.deadLetters()[0])
		assert.Contains(t, dl.Reason, "handler panicked: corrupt state")
		assert.NotContains(t, dl.Reason, "\n", "header values stay on one line")
	})
}

func TestSamePublishTwiceIsStoredOnce(t *testing.T) {
	f := newFixture(t)
	first := f.publish("registration.A12345.evt-1", "one")
	second := f.publish("registration.A12345.evt-1", "one again")
	assert.False(t, first.Duplicate)
	assert.True(t, second.Duplicate)
	assert.Equal(t, first.Sequence, second.Sequence)

	s, err := f.js.Stream(f.ctx, bus.StreamRegistrations)
	require.NoError(t, err)
	info, err := s.Info(f.ctx)
	require.NoError(t, err)
	assert.EqualValues(t, 1, info.State.Msgs)

	third := f.publish("registration.A12345.evt-2", "two")
	assert.False(t, third.Duplicate)
}

func TestPublishRejectsMessagesThatCannotBeDeduplicatedOrRouted(t *testing.T) {
	f := newFixture(t)
	_, err := f.bus.Publish(f.ctx, bus.Outgoing{Subject: testSubject})
	require.ErrorIs(t, err, bus.ErrNoDedupeID)
	for _, subj := range []string{"", "gp2gp..registration", "gp2gp.practice.*.registration", "gp2gp.>", "gp2gp.a b"} {
		_, err = f.bus.Publish(f.ctx, bus.Outgoing{Subject: subj, DedupeID: "x"})
		require.ErrorIs(t, err, bus.ErrInvalidSubject, subj)
	}
}

func TestConsumerSpanIsChildOfProducerSpan(t *testing.T) {
	exporter := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exporter))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	f := newFixture(t, bus.WithTracerProvider(tp))

	ctx, parent := tp.Tracer("test").Start(f.ctx, "register patient")
	_, err := f.bus.Publish(ctx, bus.Outgoing{Subject: testSubject, DedupeID: "traced-1", Data: []byte("x")})
	require.NoError(t, err)
	parent.End()

	// The stored message carries lower-case W3C headers.
	s, err := f.js.Stream(f.ctx, bus.StreamRegistrations)
	require.NoError(t, err)
	raw, err := s.GetMsg(f.ctx, 1)
	require.NoError(t, err)
	require.Contains(t, raw.Header, "traceparent")
	require.NotContains(t, raw.Header, "Traceparent")

	var handlerSpan trace.SpanContext
	handled := make(chan struct{})
	f.consume(f.spec, func(ctx context.Context, msg *bus.Msg) error {
		handlerSpan = trace.SpanContextFromContext(ctx)
		close(handled)
		return nil
	})
	<-handled
	require.Eventually(t, func() bool { return len(exporter.GetSpans()) == 3 }, 5*time.Second, 10*time.Millisecond)

	spans := map[trace.SpanKind]tracetest.SpanStub{}
	for _, s := range exporter.GetSpans() {
		spans[s.SpanKind] = s
	}
	producer, consumer := spans[trace.SpanKindProducer], spans[trace.SpanKindConsumer]
	assert.Equal(t, testSubject+" send", producer.Name)
	assert.Equal(t, testSubject+" process", consumer.Name)
	assert.Equal(t, parent.SpanContext().SpanID(), producer.Parent.SpanID())
	assert.Equal(t, producer.SpanContext.TraceID(), consumer.SpanContext.TraceID())
	assert.Equal(t, producer.SpanContext.SpanID(), consumer.Parent.SpanID(), "consumer span's parent is the producer span")
	assert.True(t, consumer.Parent.IsRemote())
	assert.Equal(t, consumer.SpanContext.SpanID(), handlerSpan.SpanID(), "the handler runs inside the consumer span")
	assert.Contains(t, consumer.Attributes, semconv.MessagingConsumerGroupName(f.spec.Durable))
	assert.Contains(t, producer.Attributes, semconv.MessagingMessageID("traced-1"))
}

func TestShutdownWaitsForInFlightHandlerAndLosesNothing(t *testing.T) {
	f := newFixture(t)
	const n = 20
	for i := range n {
		f.publish(fmt.Sprintf("m-%d", i), fmt.Sprintf("%d", i))
	}

	var mu sync.Mutex
	seen := map[string]int{}
	started := make(chan struct{}, n)
	release := make(chan struct{})
	handler := func(ctx context.Context, msg *bus.Msg) error {
		started <- struct{}{}
		<-release
		mu.Lock()
		seen[string(msg.Data)]++
		mu.Unlock()
		return nil
	}
	stop := f.consume(f.spec, handler, bus.WithConcurrency(4))
	for range 4 {
		<-started
	}

	stopped := make(chan error, 1)
	go func() { stopped <- stop() }()
	select {
	case <-stopped:
		t.Fatal("Consume returned while handlers were still running")
	case <-time.After(200 * time.Millisecond):
	}
	close(release) // let the in-flight handlers finish
	select {
	case err := <-stopped:
		require.NoError(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("Consume did not return after its handlers finished")
	}
	mu.Lock()
	handledBeforeStop := len(seen)
	mu.Unlock()
	assert.GreaterOrEqual(t, handledBeforeStop, 4, "the in-flight handlers completed")

	// A new consumer picks up everything the first did not finish.
	f.consume(f.spec, handler, bus.WithConcurrency(4))
	require.Eventually(t, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(seen) == n
	}, 20*time.Second, 10*time.Millisecond, "consumer: %+v", f.consumerInfo())
	require.Eventually(t, f.settled, 5*time.Second, 10*time.Millisecond)
	mu.Lock()
	defer mu.Unlock()
	for body, count := range seen {
		assert.Equal(t, 1, count, "message %s handled once", body)
	}
}

func TestShutdownTimeoutCancelsStuckHandlerAndReturnsItsMessage(t *testing.T) {
	f := newFixture(t)
	f.publish("stuck-1", "x")
	var calls atomic.Int32
	started := make(chan struct{}, 2)
	stop := f.consume(f.spec, func(ctx context.Context, msg *bus.Msg) error {
		calls.Add(1)
		started <- struct{}{}
		<-ctx.Done() // a handler that only stops when told to
		return ctx.Err()
	}, bus.WithShutdownTimeout(100*time.Millisecond))
	<-started
	require.NoError(t, stop())
	assert.Empty(t, f.deadLetters(), "an interrupted handler is not a poison message")

	done := make(chan struct{})
	f.consume(f.spec, func(ctx context.Context, msg *bus.Msg) error { close(done); return nil })
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the interrupted message was not redelivered")
	}
}

// A consumer keeps consuming through a broker restart, and one stopped
// while the broker is down stops promptly: the client's drain of its
// subscription would otherwise wait for the connection's drain timeout
// (30 s) and the final flush for its own.
func TestConsumerSurvivesBrokerRestartAndStopsPromptlyWhileDisconnected(t *testing.T) {
	f := newFixture(t)
	got := make(chan string, 4)
	stop := f.consume(f.spec, func(ctx context.Context, msg *bus.Msg) error {
		got <- string(msg.Data)
		return nil
	})
	f.publish("before", "before")
	require.Equal(t, "before", <-got)

	f.srv.Restart()
	require.Eventually(t, func() bool { return f.js.Conn().IsConnected() }, 10*time.Second, 10*time.Millisecond)
	f.publish("after", "after")
	// JetStream may deliver "before" again after a restart (its ack can
	// be lost with the broker): "after" must still come.
	for body := ""; body != "after"; {
		select {
		case body = <-got:
			require.Contains(t, []string{"before", "after"}, body)
		case <-time.After(20 * time.Second):
			t.Fatal("no message consumed after the broker restarted")
		}
	}

	f.srv.Shutdown()
	require.Eventually(t, func() bool { return !f.js.Conn().IsConnected() }, 10*time.Second, 10*time.Millisecond)
	stopped := make(chan error, 1)
	go func() { stopped <- stop() }()
	select {
	case err := <-stopped:
		require.NoError(t, err)
	case <-time.After(15 * time.Second):
		t.Fatal("Consume did not stop while the broker was down")
	}
}

func TestHandlerLogLinesCarryTheConversationID(t *testing.T) {
	var buf syncBuffer
	logger := slog.New(bus.NewLogHandler(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})))
	f := newFixture(t, bus.WithLogger(logger))
	spec := f.spec
	spec.MaxDeliveries = 2
	handled := make(chan struct{}, 2)
	f.consume(spec, func(ctx context.Context, msg *bus.Msg) error {
		logger.InfoContext(ctx, "handling registration")
		handled <- struct{}{}
		return errors.New("try again")
	}, bus.WithBackoff(fastBackoff))
	f.publish("logged-1", "x")
	<-handled
	<-handled
	require.Eventually(t, func() bool { return strings.Contains(buf.String(), "message dead-lettered") }, 10*time.Second, 10*time.Millisecond)

	var perMessage int
	for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		var rec map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &rec), line)
		if rec["msg"] == "consuming" || rec["msg"] == "stopped consuming" || rec["msg"] == "fetch failed; continuing" {
			continue // runner lines about the consumer itself belong to no transfer
		}
		perMessage++
		assert.Equal(t, "CONV-logged-1", rec["conversation_id"], line)
	}
	// Two handler lines, two "handled" lines, one retry, one dead letter.
	assert.GreaterOrEqual(t, perMessage, 6)
}

func TestDecodeByContentType(t *testing.T) {
	want := wrapperspb.String("A12345")
	bin, err := protoMarshal(want)
	require.NoError(t, err)
	cases := []struct {
		name        string
		contentType string
		data        []byte
		wantErr     bool
	}{
		{"protobuf by default", "", bin, false},
		{"protobuf", bus.ContentTypeProtobuf, bin, false},
		{"json", "application/json; charset=utf-8", []byte(`"A12345"`), false},
		{"json with unknown content", bus.ContentTypeJSON, []byte(`{"nope":1}`), true},
		{"unsupported type", "text/csv", []byte("A12345"), true},
		{"garbage protobuf", bus.ContentTypeProtobuf, []byte{0xff, 0xff, 0xff}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			msg := &bus.Msg{Subject: testSubject, Data: tc.data, Header: nats.Header{}}
			if tc.contentType != "" {
				msg.Header.Set(bus.HeaderContentType, tc.contentType)
			}
			got := &wrapperspb.StringValue{}
			err := bus.Decode(msg, got)
			if tc.wantErr {
				require.Error(t, err)
				assert.True(t, bus.IsPermanent(err), "undecodable input is permanent: %v", err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, want.Value, got.Value)
		})
	}
}

func TestHeaderCarrierKeepsCase(t *testing.T) {
	h := nats.Header{}
	c := bus.HeaderCarrier(h)
	c.Set("traceparent", "00-abc-def-01")
	assert.Equal(t, []string{"00-abc-def-01"}, h["traceparent"])
	assert.NotContains(t, h, "Traceparent")
	assert.Equal(t, "00-abc-def-01", c.Get("traceparent"))
	h2 := nats.Header{"Traceparent": {"canonicalised"}}
	assert.Equal(t, "canonicalised", bus.HeaderCarrier(h2).Get("traceparent"), "reads any case")
	assert.ElementsMatch(t, []string{"traceparent"}, c.Keys())
}

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// tWriter sends log output to the test's log, shown when a test fails.
type tWriter struct{ t *testing.T }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func TestLongHandlerIsKeptAliveNotRedelivered(t *testing.T) {
	f := newFixture(t)
	spec := f.spec
	spec.AckWait = time.Second
	require.NoError(t, bus.Ensure(f.ctx, f.js, bus.DevProfile, bus.Topology{Consumers: []bus.ConsumerSpec{spec}}))
	var calls atomic.Int32
	done := make(chan struct{})
	f.consume(spec, func(ctx context.Context, msg *bus.Msg) error {
		if calls.Add(1) == 1 {
			time.Sleep(2500 * time.Millisecond) // well past the ack wait
			close(done)
		}
		return nil
	})
	f.publish("slow-1", "x")
	<-done
	require.Eventually(t, f.settled, 5*time.Second, 10*time.Millisecond)
	assert.EqualValues(t, 1, calls.Load(), "in-progress signals stop the server redelivering a message still being handled")
}
