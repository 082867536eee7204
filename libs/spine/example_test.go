package spine_test

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/nhsengland/gp2gp/libs/bus"
	"github.com/nhsengland/gp2gp/libs/ebxml"
	"github.com/nhsengland/gp2gp/libs/hl7"
	"github.com/nhsengland/gp2gp/libs/natsembed"
	"github.com/nhsengland/gp2gp/libs/spine"
)

// The loopback path: the new practice's receiver sends a Continue to the
// previous practice, served by the same deployment; it lands on the
// sender's subject, where the sender's handler reads it back.
func Example() {
	dir, _ := os.MkdirTemp("", "spine-example")
	defer os.RemoveAll(dir)
	srv, _ := natsembed.Start(natsembed.Options{StoreDir: dir})
	defer srv.Shutdown()
	nc, _ := nats.Connect(srv.URL())
	defer nc.Close()
	js, _ := jetstream.New(nc)
	ctx := context.Background()

	practices := []bus.Practice{{ODS: "A12345", ASID: "200000000101"}, {ODS: "B86041", ASID: "200000000102"}}
	if err := bus.Ensure(ctx, js, bus.DevProfile, bus.SenderTopology("", practices)); err != nil {
		fmt.Println(err)
		return
	}
	b, _ := bus.New(js)
	transport, err := spine.New(spine.DefaultConfig(), b, func(asid string) bool {
		return asid == "200000000101" || asid == "200000000102"
	})
	if err != nil {
		fmt.Println(err)
		return
	}

	// The Continue, from the new practice (…101) to the previous one (…102).
	const id = "DE304CA0-F984-41ED-808B-AC162D1F16F0"
	payload, _ := (&hl7.COPC{
		Wrapper: hl7.Wrapper{MessageID: id, CreationTime: time.Date(2026, 11, 21, 9, 30, 0, 0, time.UTC),
			ToASID: "200000000102", FromASID: "200000000101"},
		Kind: hl7.KindContinue, Recipients: []string{"B86041"}, From: "A12345",
		AcknowledgedID: "76C25210-5271-41EA-9384-E83935108FD5",
	}).Encode()
	msg := &ebxml.Message{
		Envelope: ebxml.Envelope{
			ConversationID: "9F1C2B4A-0000-4000-8000-000000000001", MessageID: id,
			Action: string(hl7.CommonContentCOPC), Timestamp: time.Date(2026, 11, 21, 9, 30, 5, 0, time.UTC),
		},
		Payload: payload,
	}
	out := &spine.Outbound{Message: msg, FromASID: "200000000101", ToASID: "200000000102", ToODS: "B86041"}
	for range 2 { // a resend is stored once
		if err := transport.Send(ctx, out); err != nil {
			fmt.Println(err)
			return
		}
	}

	// What the sender's consumer gets.
	stream, _ := js.Stream(ctx, bus.StreamSpineIn)
	info, _ := stream.Info(ctx)
	raw, _ := stream.GetLastMsgForSubject(ctx, bus.SpineInSubject("200000000102", bus.KindContinue))
	received, err := spine.Read(&bus.Msg{Subject: raw.Subject, Data: raw.Data, Header: raw.Header})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("stored:", info.State.Msgs)
	fmt.Println("subject:", raw.Subject)
	fmt.Println("dedupe id:", raw.Header.Get(bus.HeaderMsgID))
	fmt.Println("action:", received.Envelope.Action, "from party:", received.Envelope.From.ID)
	copc, _ := hl7.DecodeCOPC(received.Payload)
	fmt.Println("continue for extract:", copc.AcknowledgedID)
	// Output:
	// stored: 1
	// subject: gp2gp.spine.in.200000000102.continue
	// dedupe id: spine.DE304CA0-F984-41ED-808B-AC162D1F16F0.200000000102
	// action: COPC_IN000001UK01 from party: LOOPBACK-200000000101
	// continue for extract: 76C25210-5271-41EA-9384-E83935108FD5
}
