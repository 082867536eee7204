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
