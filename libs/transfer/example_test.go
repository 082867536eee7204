package transfer_test

import (
	"fmt"

	"github.com/nhsengland/gp2gp/libs/transfer"
)

// Moving a requesting-side record through the machine: repeated moves are
// harmless, illegal ones are errors.
func ExampleTransfer_Transition() {
	t := transfer.New(transfer.Requesting, "9f1c2b4a-0000-4000-8000-000000000001", transfer.Practice{ODS: "A12345", ASID: "200000000101"})
	fmt.Println(t.ConversationID, t.State)

	fmt.Println(t.Transition(transfer.RequestSent, transfer.Reason{}), t.State)
	fmt.Println(t.Transition(transfer.RequestSent, transfer.Reason{}), len(t.History)) // redelivery: no-op
	fmt.Println(t.Transition(transfer.Integrated, transfer.Reason{}))
	fmt.Println(t.Transition(transfer.Failed, transfer.Reason{Code: "06", Detail: "patient not at surgery"}), t.Terminal())
	// Output:
	// 9F1C2B4A-0000-4000-8000-000000000001 REGISTERED
	// <nil> REQUEST_SENT
	// <nil> 2
	// transfer: requesting transfer cannot move from REQUEST_SENT to INTEGRATED
	// <nil> true
}
