package ops_test

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/nhsengland/gp2gp/libs/service/ops"
	"github.com/nhsengland/gp2gp/libs/transfer"
)

// A service records what happens to transfers; GET /metrics shows it in
// the Prometheus text format.
func ExampleNewInstruments() {
	ctx := context.Background()
	mp, err := ops.NewMeterProvider(ctx, "acknowledger", "") // no OTLP endpoint: scrape only
	if err != nil {
		fmt.Println(err)
		return
	}
	defer func() { _ = mp.Shutdown(ctx) }()
	ins, err := ops.NewInstruments(mp.Meter(ops.ScopeName))
	if err != nil {
		fmt.Println(err)
		return
	}
	ins.TransferStarted(ctx, transfer.Sending)
	ins.TransferFinished(ctx, transfer.Sending, transfer.RequestRejected, "19")

	_ = mp.WritePrometheus(ctx, os.Stdout)
	// Output:
	// # HELP gp2gp_transfers_finished_total Transfer sides that reached a terminal state
	// # TYPE gp2gp_transfers_finished_total counter
	// gp2gp_transfers_finished_total{outcome="failed",reason_code="19",side="sending",state="REQUEST_REJECTED"} 1
	// # HELP gp2gp_transfers_started_total Transfer sides created
	// # TYPE gp2gp_transfers_started_total counter
	// gp2gp_transfers_started_total{side="sending"} 1
	// # HELP target_info Target metadata
	// # TYPE target_info gauge
	// target_info{service_name="acknowledger",service_namespace="gp2gp"} 1
}

// The timeline merges both sides of a conversation in time order.
func ExampleTimeline() {
	at := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	conv := "9f1c2b4a-0000-4000-8000-000000000001"

	req := transfer.New(transfer.Requesting, conv, transfer.Practice{ODS: "A12345"})
	req.History[0].At = at
	req.RecordMessage(transfer.Message{ID: "R1", Interaction: "RCMR_IN010000UK05", Direction: transfer.Outbound,
		Role: transfer.RoleEHRRequest, At: at.Add(time.Second)})
	_ = req.Transition(transfer.RequestSent, transfer.Reason{})
	req.History[1].At = at.Add(time.Second)

	send := transfer.New(transfer.Sending, conv, transfer.Practice{ODS: "B86041"})
	send.History[0].At = at.Add(2 * time.Second)
	_ = send.Transition(transfer.RequestRejected, transfer.Reason{Code: "06", Detail: "patient not at surgery"})
	send.History[1].At = at.Add(3 * time.Second)

	for _, e := range ops.Timeline(req, send) {
		fmt.Println(e)
	}
	// Output:
	// 2026-11-02T09:00:00Z requesting state started REGISTERED
	// 2026-11-02T09:00:01Z requesting message sent EHR Request (RCMR_IN010000UK05) id R1
	// 2026-11-02T09:00:01Z requesting state REGISTERED → REQUEST_SENT
	// 2026-11-02T09:00:02Z sending state started REQUEST_RECEIVED
	// 2026-11-02T09:00:03Z sending state REQUEST_RECEIVED → REQUEST_REJECTED (final) [06] patient not at surgery
}
