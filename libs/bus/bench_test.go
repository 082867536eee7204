package bus_test

import (
	"context"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/nhsengland/gp2gp/libs/bus"
	"github.com/nhsengland/gp2gp/libs/natsembed/natstest"
)

// benchPrefetch is the pull batch both sides of the benchmark use, so that
// the comparison measures the library, not a different batching choice.
const benchPrefetch = 64

// BenchmarkPublishConsume publishes b.N messages and consumes them all,
// once through raw jetstream calls (the baseline) and once through the
// bus library, on the same stream and consumer configuration: synchronous
// publish, pull consumption, explicit ack. Both send the same messages:
// the same body and the same headers (dedupe id, conversation id, W3C
// traceparent), so the ratio measures the library's own work: spans, the
// middleware chain, delivery-count checks and in-progress keep-alives, as
// services run it (an SDK tracer provider, every span recorded).
// scripts/bench.sh prints the throughput ratio gp2gp/baseline.
func BenchmarkPublishConsume(b *testing.B) {
	body := make([]byte, 512) // a typical small bus message
	b.Run("baseline", func(b *testing.B) {
		js, ctx, spec := benchSetup(b)
		cons, err := js.Consumer(ctx, spec.Stream, spec.Durable)
		require.NoError(b, err)
		b.ResetTimer()
		for i := range b.N {
			msg := &nats.Msg{Subject: testSubject, Data: body, Header: nats.Header{
				bus.HeaderMsgID:          {"bench-" + strconv.Itoa(i)},
				bus.HeaderConversationID: {"BENCH"},
				"traceparent":            {"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"},
			}}
			if _, err := js.PublishMsg(ctx, msg); err != nil {
				b.Fatal(err)
			}
		}
		var got atomic.Int64
		done := make(chan struct{})
		cc, err := cons.Consume(func(m jetstream.Msg) {
			if err := m.Ack(); err != nil {
				b.Error(err)
			}
			if got.Add(1) == int64(b.N) {
				close(done)
			}
		}, jetstream.PullMaxMessages(benchPrefetch))
		require.NoError(b, err)
		<-done
		b.StopTimer()
		cc.Stop()
	})
	b.Run("gp2gp", func(b *testing.B) {
		js, ctx, spec := benchSetup(b)
		// As services run without a collector: spans are made, so their ids
		// reach the logs and the headers, but not recorded.
		tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.NeverSample()))
		b.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
		bb, err := bus.New(js, bus.WithTracerProvider(tp))
		require.NoError(b, err)
		b.ResetTimer()
		for i := range b.N {
			_, err := bb.Publish(ctx, bus.Outgoing{
				Subject: testSubject, DedupeID: "bench-" + strconv.Itoa(i), Data: body,
				Headers: bus.Headers{ConversationID: "BENCH"},
			})
			if err != nil {
				b.Fatal(err)
			}
		}
		var got atomic.Int64
		done := make(chan struct{})
		cctx, cancel := context.WithCancel(ctx)
		stopped := make(chan error, 1)
		go func() {
			stopped <- bb.Consume(cctx, spec, func(context.Context, *bus.Msg) error {
				if got.Add(1) == int64(b.N) {
					close(done)
				}
				return nil
			}, bus.WithPrefetch(benchPrefetch))
		}()
		<-done
		cancel()
		require.NoError(b, <-stopped) // includes the last acks
		b.StopTimer()
	})
	b.Run("gp2gp-recording", func(b *testing.B) {
		js, ctx, spec := benchSetup(b)
		// As services run with a collector: every span recorded (the
		// export itself is not measured).
		tp := sdktrace.NewTracerProvider()
		b.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
		bb, err := bus.New(js, bus.WithTracerProvider(tp))
		require.NoError(b, err)
		b.ResetTimer()
		for i := range b.N {
			_, err := bb.Publish(ctx, bus.Outgoing{
				Subject: testSubject, DedupeID: "bench-" + strconv.Itoa(i), Data: body,
				Headers: bus.Headers{ConversationID: "BENCH"},
			})
			if err != nil {
				b.Fatal(err)
			}
		}
		var got atomic.Int64
		done := make(chan struct{})
		cctx, cancel := context.WithCancel(ctx)
		stopped := make(chan error, 1)
		go func() {
			stopped <- bb.Consume(cctx, spec, func(context.Context, *bus.Msg) error {
				if got.Add(1) == int64(b.N) {
					close(done)
				}
				return nil
			}, bus.WithPrefetch(benchPrefetch))
		}()
		<-done
		cancel()
		require.NoError(b, <-stopped) // includes the last acks
		b.StopTimer()
	})
}

func benchSetup(b *testing.B) (jetstream.JetStream, context.Context, bus.ConsumerSpec) {
	b.Helper()
	srv := natstest.NewServer(b)
	js := srv.JetStream()
	ctx := natstest.Context(b, 10*time.Minute)
	ps := []bus.Practice{{ODS: "A12345", ASID: "200000000001"}}
	require.NoError(b, bus.Ensure(ctx, js, bus.DevProfile, bus.RequesterTopology("", ps)))
	return js, ctx, bus.RequesterRegistrations("", ps)
}
