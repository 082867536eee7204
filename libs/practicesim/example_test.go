package practicesim_test

import (
	"context"
	"fmt"
	"os"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/protobuf/proto"

	"github.com/nhsengland/gp2gp/libs/bus"
	"github.com/nhsengland/gp2gp/libs/hl7/ehr"
	"github.com/nhsengland/gp2gp/libs/natsembed"
	"github.com/nhsengland/gp2gp/libs/practicesim"
	"github.com/nhsengland/gp2gp/libs/xmldoc"
	gp2gpv1 "github.com/nhsengland/gp2gp/proto/gp2gp/v1"
)

// exampleBus starts an embedded JetStream and returns a bus on it, and a
// function that stops everything.
func exampleBus() (*bus.Bus, func(), error) {
	dir, err := os.MkdirTemp("", "practicesim-example")
	if err != nil {
		return nil, nil, err
	}
	srv, err := natsembed.Start(natsembed.Options{StoreDir: dir})
	if err != nil {
		os.RemoveAll(dir)
		return nil, nil, err
	}
	stop := func() { srv.Shutdown(); os.RemoveAll(dir) }
	nc, err := nats.Connect(srv.URL())
	if err != nil {
		stop()
		return nil, nil, err
	}
	stop = func() { nc.Close(); srv.Shutdown(); os.RemoveAll(dir) }
	js, err := jetstream.New(nc)
	if err != nil {
		stop()
		return nil, nil, err
	}
	b, err := bus.New(js)
	if err != nil {
		stop()
		return nil, nil, err
	}
	return b, stop, nil
}

// The previous practice answers the sender's record request with Amelia's
// record, and refuses anyone else's.
func Example() {
	b, stop, err := exampleBus()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer stop()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	amelia := practicesim.Patients()[0]
	previous, err := practicesim.New(b, practicesim.Config{ODS: "B86041", Name: "Riverside Surgery"},
		practicesim.WithRecords(func(nhs string) practicesim.RecordBehaviour {
			if nhs == amelia.NHSNumber {
				return practicesim.SendRecord()
			}
			return practicesim.FailRecord(gp2gpv1.RecordFailureReason_RECORD_FAILURE_REASON_PATIENT_NOT_AT_PRACTICE)
		}))
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := previous.Ensure(ctx); err != nil {
		fmt.Println(err)
		return
	}
	done := make(chan error, 1)
	go func() { done <- previous.Run(ctx) }()

	// What the sender does: ask for the record, then read the response.
	const conv = "0A4E1C7B-2D3F-4E5A-8B6C-7D8E9F0A1B2C"
	_, err = b.PublishProto(ctx, bus.Outgoing{
		Subject: bus.RecordRequestSubject("B86041"), DedupeID: "record-request.REQ-1",
		Headers: bus.Headers{ConversationID: conv},
	}, &gp2gpv1.RecordRequest{
		RequestId: "REQ-1", ConversationId: conv, NhsNumber: amelia.NHSNumber,
		PracticeOds: "B86041", RequestingPracticeOds: "A12345",
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	answer, err := previous.WaitAnswer(ctx, conv)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("answered with a", answer.Answer, "inline:", !answer.InObjectStore)

	stream, err := b.JetStream().Stream(ctx, bus.StreamRecordResponses)
	if err != nil {
		fmt.Println(err)
		return
	}
	raw, err := stream.GetLastMsgForSubject(ctx, bus.RecordResponseSubject("B86041"))
	if err != nil {
		fmt.Println(err)
		return
	}
	var resp gp2gpv1.RecordResponse
	if err := proto.Unmarshal(raw.Data, &resp); err != nil {
		fmt.Println(err)
		return
	}
	doc, err := xmldoc.Parse(resp.GetRecord().GetEhrExtract().GetInline(), xmldoc.Limits{})
	if err != nil {
		fmt.Println(err)
		return
	}
	s, err := ehr.Summarize(doc.Root())
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("request", resp.GetRequestId(), "record of", s.NHSNumber, "from", s.AuthorODS, "to", s.DestinationODS)

	cancel()
	fmt.Println("stopped:", <-done)
	// Output:
	// answered with a record inline: true
	// request REQ-1 record of 9990001014 from B86041 to A12345
	// stopped: <nil>
}

// The previous practice sends a record with two small letters, carried in
// the RecordResponse, and a 5 MiB scan, generated into the records object
// store as it is written.
func ExampleWithLargeAttachments() {
	b, stop, err := exampleBus()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer stop()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	previous, err := practicesim.New(b, practicesim.Config{ODS: "B86041", Name: "Riverside Surgery"},
		practicesim.WithAttachments(2), practicesim.WithLargeAttachments(5<<20))
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := previous.Ensure(ctx); err != nil {
		fmt.Println(err)
		return
	}
	done := make(chan error, 1)
	go func() { done <- previous.Run(ctx) }()

	const conv = "0A4E1C7B-2D3F-4E5A-8B6C-7D8E9F0A1B2C"
	_, err = b.PublishProto(ctx, bus.Outgoing{
		Subject: bus.RecordRequestSubject("B86041"), DedupeID: "record-request.REQ-1",
		Headers: bus.Headers{ConversationID: conv},
	}, &gp2gpv1.RecordRequest{
		RequestId: "REQ-1", ConversationId: conv, NhsNumber: practicesim.Patients()[0].NHSNumber,
		PracticeOds: "B86041", RequestingPracticeOds: "A12345",
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	answer, err := previous.WaitAnswer(ctx, conv)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, d := range answer.Documents {
		fmt.Printf("%-32s %-16s %8d bytes  object store: %-5t  sha256 %s…\n", d.Filename, d.ContentType, d.Size, d.InObjectStore, d.SHA256[:12])
	}
	cancel()
	fmt.Println("stopped:", <-done)
	// Output:
	// Clinic letter 1.txt              text/plain            186 bytes  object store: false  sha256 f9e9a57e9ede…
	// Discharge summary 2.html         text/html             277 bytes  object store: false  sha256 bc28cfc41e74…
	// Scanned correspondence 1.pdf     application/pdf   5242880 bytes  object store: true   sha256 15845e76c4ec…
	// stopped: <nil>
}

// The new practice registers a patient; the requester takes it from there.
func ExamplePractice_Register() {
	b, stop, err := exampleBus()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer stop()
	ctx := context.Background()

	practice, err := practicesim.New(b, practicesim.Config{ODS: "A12345"})
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := practice.Ensure(ctx); err != nil {
		fmt.Println(err)
		return
	}
	req := practicesim.Patients()[2].Registration("B86041")
	req.ConversationID = "0A4E1C7B-2D3F-4E5A-8B6C-7D8E9F0A1B2C"
	conv, err := practice.Register(ctx, req)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("conversation", conv)

	stream, err := b.JetStream().Stream(ctx, bus.StreamRegistrations)
	if err != nil {
		fmt.Println(err)
		return
	}
	raw, err := stream.GetLastMsgForSubject(ctx, bus.RegistrationSubject("A12345"))
	if err != nil {
		fmt.Println(err)
		return
	}
	var ev gp2gpv1.RegistrationEvent
	if err := proto.Unmarshal(raw.Data, &ev); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(ev.GetPatient().GetGivenName(), ev.GetPatient().GetFamilyName(), ev.GetPatient().GetNhsNumber(),
		"registered at", ev.GetRequestingPracticeOds(), "from", ev.GetPreviousPracticeOds())
	// Output:
	// conversation 0A4E1C7B-2D3F-4E5A-8B6C-7D8E9F0A1B2C
	// Carys Penhaligon 9990001030 registered at A12345 from B86041
}

func ExamplePatients() {
	for _, p := range practicesim.Patients() {
		fmt.Println(p.NHSNumber, p.GivenName, p.FamilyName, p.BirthDate, p.Gender)
	}
	// Output:
	// 9990001014 Ada Thornbury 1958-03-14 female
	// 9990001022 Bilal Okonkwo-Hart 1984-11-02 male
	// 9990001030 Carys Penhaligon 2001-07-29 female
	// 9990001049 Dev Marchetti 1937-01-08 male
	// 9990001057 Eilidh Sandoval 2016-05-21 other
	// 9990001065 Farid Lindqvist 1972-09-30 male
	// 9990001073 Grace Abernethy 1990-12-17 female
}
