package mi_test

import (
	"fmt"
	"strings"
	"time"

	"github.com/nhsengland/gp2gp/libs/mi"
)

func ExampleClassify() {
	csv := `_time,conversationID,GUID,interactionID,messageSender,messageRecipient,messageRef,jdiEvent,fromSystem,toSystem
2026-06-01 10:00:00 BST,c1,g1,urn:nhs:names:services:gp2gp/RCMR_IN010000UK05,111,222,NotProvided,NONE,EMIS,TPP
2026-06-01 10:01:00 BST,c1,g2,urn:nhs:names:services:gp2gp/MCCI_IN010000UK13,222,111,g1,NONE,TPP,EMIS
2026-06-01 10:05:00 BST,c1,g3,urn:nhs:names:services:gp2gp/RCMR_IN030000UK06,222,111,NotProvided,NONE,TPP,EMIS
2026-06-01 11:05:00 BST,c1,g4,urn:nhs:names:services:gp2gp/MCCI_IN010000UK13,111,222,g3,NONE,EMIS,TPP`
	events, err := mi.ParseSpineCSV(strings.NewReader(csv))
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, t := range mi.Classify(events, 14*24*time.Hour) {
		fmt.Println(t.ConversationID, t.Status, *t.SLADuration, t.Month())
	}
	// Output: c1 Integrated on time 3600 2026-06
}

func ExampleBuildReport() {
	csv := `_time,conversationID,GUID,interactionID,messageSender,messageRecipient,messageRef,jdiEvent
2026-06-01 10:00:00 BST,c1,g1,RCMR_IN010000UK05,200000000101,200000000201,NotProvided,NONE
2026-06-01 10:01:00 BST,c1,g2,MCCI_IN010000UK13,200000000201,200000000101,g1,NONE
2026-06-01 10:05:00 BST,c1,g3,RCMR_IN030000UK06,200000000201,200000000101,NotProvided,NONE
2026-06-04 10:05:00 BST,c1,g4,MCCI_IN010000UK13,200000000101,200000000201,g3,NONE
2026-06-02 09:00:00 BST,c2,g5,RCMR_IN010000UK05,200000000101,200000000201,NotProvided,NONE`
	metadata := `{"practices": [{"odsCode": "A12345", "name": "Riverside", "asids": ["200000000101"]}],
		"sicbls": [{"odsCode": "00L", "name": "North", "practices": ["A12345"]}]}`
	events, err := mi.ParseSpineCSV(strings.NewReader(csv))
	if err != nil {
		fmt.Println(err)
		return
	}
	md, err := mi.LoadMetadata(strings.NewReader(metadata))
	if err != nil {
		fmt.Println(err)
		return
	}
	transfers := mi.Classify(events, 14*24*time.Hour)
	mi.Attribute(transfers, md.Lookup())
	r := mi.BuildReport(transfers, time.Date(2026, 7, 15, 0, 0, 0, 0, time.UTC))
	n := r.National[0]
	fmt.Println(n.Year, n.Month, n.TransferCount, *n.IntegratedOnTime.TransferPercentage)
	p := r.Practices[0]
	rt := p.Metrics[0].RequestedTransfers
	fmt.Println(p.ODSCode, p.SICBLODSCode, rt.RequestedCount, rt.IntegratedWithin3DaysCount, *rt.FailuresTotalPercentOfRequested)
	// Output:
	// 2026 6 2 50
	// A12345 00L 2 1 50
}
