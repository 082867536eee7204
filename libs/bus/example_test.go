package bus_test

import (
	"context"
	"fmt"
	"os"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/nhsengland/gp2gp/libs/bus"
	"github.com/nhsengland/gp2gp/libs/natsembed"
)

// A requester-like service: ensure its topology, publish a registration
// twice (stored once), and handle it with a consumer whose runner acks.
func Example() {
	dir, _ := os.MkdirTemp("", "bus-example")
	defer os.RemoveAll(dir)
	srv, _ := natsembed.Start(natsembed.Options{StoreDir: dir})
	defer srv.Shutdown()
	nc, _ := nats.Connect(srv.URL())
	defer nc.Close()
	js, _ := jetstream.New(nc)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	practices := []bus.Practice{{ODS: "A12345", ASID: "200000000101"}}
	if err := bus.Ensure(ctx, js, bus.DevProfile, bus.RequesterTopology("", practices)); err != nil {
		fmt.Println(err)
		return
	}
	b, _ := bus.New(js)
	for range 2 {
		ack, _ := b.Publish(ctx, bus.Outgoing{
			Subject:  bus.RegistrationSubject("A12345"),
			DedupeID: "registration.A12345.event-1",
			Data:     []byte(`{"eventId":"event-1"}`),
			Headers:  bus.Headers{ConversationID: "9F1C2B4A-0000-4000-8000-000000000001"},
		})
		fmt.Println("stored at", ack.Sequence, "duplicate:", ack.Duplicate)
	}

	handled := make(chan struct{})
	go func() {
		_ = b.Consume(ctx, bus.RequesterRegistrations("", practices), func(ctx context.Context, msg *bus.Msg) error {
			fmt.Println("handling", msg.Subject, "for", msg.Headers().ConversationID)
			close(handled)
			return nil // the runner acks
		})
	}()
	<-handled
	// Output:
	// stored at 1 duplicate: false
	// stored at 1 duplicate: true
	// handling gp2gp.practice.A12345.registration for 9F1C2B4A-0000-4000-8000-000000000001
}
