package mi

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestBuildReportInHalves: counting in two halves gives the report of
// counting in one, with practices whose latest transfer is in either
// half or tied across them, and months on both sides.
func TestBuildReportInHalves(t *testing.T) {
	at := time.Date(2026, 3, 30, 0, 0, 0, 0, time.UTC)
	sicbls := []string{"", "00L", "01A"}
	var practices []*Practice
	for i := range 40 {
		// Two pointers for each of twenty ODS codes, names differing.
		practices = append(practices, &Practice{ODSCode: fmt.Sprintf("P%02d", i%20), Name: fmt.Sprintf("name %d", i),
			SICBLODSCode: sicbls[i%3], SICBLName: "s" + sicbls[i%3]})
	}
	statuses := []Status{StatusIntegratedOnTime, StatusTechnicalFailure, StatusProcessFailure, StatusUnclassifiedFailure}
	var ts []Transfer
	for i := range 1000 {
		sla := uint64(i * 997 % (10 * 86400))
		tr := Transfer{
			ConversationID: fmt.Sprint(i), Status: statuses[i%4], SLADuration: &sla,
			DateRequested: at.Add(time.Duration(i%300) * 3 * time.Hour), // over three months, and ties
		}
		if i%7 != 0 {
			tr.RequestingPractice = practices[(i*13)%len(practices)]
		}
		if tr.Status == StatusProcessFailure && i%2 == 0 {
			tr.FailureReason = ReasonIntegratedLate
		}
		ts = append(ts, tr)
	}
	want := buildReport(ts, at, false)
	require.Equal(t, want, buildReport(ts, at, true))
	require.Equal(t, want, BuildReport(ts, at))
	require.NotEmpty(t, want.Practices)
}
