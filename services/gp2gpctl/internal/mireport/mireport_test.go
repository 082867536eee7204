package mireport

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nhsengland/gp2gp/libs/mi"
)

const (
	header   = "_time,conversationID,GUID,interactionID,messageSender,messageRecipient,messageRef,jdiEvent,fromSystem,toSystem\n"
	reqASID  = "200000000101"
	sndASID  = "200000000201"
	unknown  = "999999999999"
	metadata = `{"practices":[{"odsCode":"A12345","name":"Riverside","asids":["200000000101"]},
		{"odsCode":"B86041","name":"Hilltop","asids":["200000000201"]}],
		"sicbls":[{"odsCode":"00L","name":"North","practices":["A12345"]}]}`
)

// logs builds day files: rows are added per day, written plain or gzipped.
type logs struct {
	dir  string
	days map[string][]string
}

func newLogs(t *testing.T) *logs {
	return &logs{dir: t.TempDir(), days: make(map[string][]string)}
}

// row adds one row to the file of day: at is the _time as written.
func (l *logs) row(day, at, conv, guid, interaction, from, to, ref, code string) {
	if ref == "" {
		ref = "NotProvided"
	}
	if code == "" {
		code = "NONE"
	}
	l.days[day] = append(l.days[day], strings.Join([]string{at, conv, guid,
		"urn:nhs:names:services:gp2gp/" + interaction, from, to, ref, code, "EMIS Web", "SystmOne"}, ",")+"\n")
}

// write writes every day file; days listed in gz are gzipped under
// v3/YYYY/MM/DD/, the others plain at the top.
func (l *logs) write(t *testing.T, gz ...string) {
	t.Helper()
	for day, rows := range l.days {
		data := []byte(header + strings.Join(rows, ""))
		path := filepath.Join(l.dir, day+"_spine_messages.csv")
		if slices.Contains(gz, day) {
			sub := filepath.Join(l.dir, "v3", strings.ReplaceAll(day, "-", "/"))
			require.NoError(t, os.MkdirAll(sub, 0o755))
			path = filepath.Join(sub, day+"_spine_messages.csv.gz")
			var buf bytes.Buffer
			zw := gzip.NewWriter(&buf)
			_, err := zw.Write(data)
			require.NoError(t, err)
			require.NoError(t, zw.Close())
			data = buf.Bytes()
		}
		require.NoError(t, os.WriteFile(path, data, 0o644))
	}
}

// integrated adds a conversation requested at req (UTC "YYYY-MM-DD
// HH:MM:SS") whose final ack comes at ack.
func (l *logs) integrated(conv, req, ack, requester string) {
	d := req[:10]
	l.row(d, req+" UTC", conv, conv+"-r", "RCMR_IN010000UK05", requester, sndASID, "", "")
	l.row(d, req+" UTC", conv, conv+"-ra", "MCCI_IN010000UK13", sndASID, requester, conv+"-r", "")
	l.row(d, req+" UTC", conv, conv+"-x", "RCMR_IN030000UK06", sndASID, requester, "", "")
	l.row(ack[:10], ack+" UTC", conv, conv+"-xa", "MCCI_IN010000UK13", requester, sndASID, conv+"-x", "")
}

func writeMetadata(t *testing.T, doc string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "metadata.json")
	require.NoError(t, os.WriteFile(path, []byte(doc), 0o644))
	return path
}

type result struct {
	code           int
	stdout, stderr string
	report         map[string]any
	transfers      map[string]map[string]any // by conversation id
}

func runReport(t *testing.T, args ...string) result {
	t.Helper()
	var out, errOut bytes.Buffer
	err := Run(context.Background(), args, &out, &errOut)
	r := result{stdout: out.String(), stderr: errOut.String()}
	switch {
	case err == nil:
	case errors.Is(err, ErrUsage):
		r.code = 2
	default:
		r.code = 1
		r.stderr += err.Error()
	}
	if r.code == 0 {
		require.NoError(t, json.Unmarshal(out.Bytes(), &r.report), r.stdout)
		r.transfers = make(map[string]map[string]any)
		for _, x := range r.report["transfers"].([]any) {
			m := x.(map[string]any)
			r.transfers[m["conversationId"].(string)] = m
		}
	}
	return r
}

func TestReportWindowOverflowAndCutoff(t *testing.T) {
	l := newLogs(t)
	// Requested on the first day, final ack two days later: kept by a
	// 2-day cutoff (exactly at it), read from an overflow day.
	l.integrated("c1", "2026-03-30 10:00:00", "2026-04-01 10:00:00", reqASID)
	// Final ack a second past the 2-day cutoff: transferred, not integrated.
	l.integrated("c2", "2026-03-30 11:00:00", "2026-04-01 11:00:01", reqASID)
	// Requested before the window (its file is not read), acked inside it.
	l.integrated("c3", "2026-03-29 09:00:00", "2026-03-30 09:00:00", reqASID)
	// 00:30 BST on 1 April is 23:30Z on 31 March: in the window, by an
	// unknown ASID.
	l.row("2026-03-31", "2026-04-01 00:30:00 BST", "c4", "c4-r", "RCMR_IN010000UK05", unknown, sndASID, "", "")
	// Requested on an overflow day: not reported.
	l.integrated("c5", "2026-04-01 08:00:00", "2026-04-01 09:00:00", reqASID)
	// A conversation that does not start with a request: ignored.
	l.row("2026-03-31", "2026-03-31 08:00:00 UTC", "c6", "c6-a", "MCCI_IN010000UK13", sndASID, reqASID, "elsewhere", "")
	l.row("2026-03-31", "2026-03-31 08:01:00 UTC", "c6", "c6-r", "RCMR_IN010000UK05", reqASID, sndASID, "", "")
	// The sender's request ack with a fatal code.
	l.row("2026-03-31", "2026-03-31 12:00:00 UTC", "c7", "c7-r", "RCMR_IN010000UK05", reqASID, sndASID, "", "")
	l.row("2026-03-31", "2026-03-31 12:00:01 UTC", "c7", "c7-ra", "MCCI_IN010000UK13", sndASID, reqASID, "c7-r", "6")
	l.write(t, "2026-03-31", "2026-04-01") // two days gzipped, in v3/YYYY/MM/DD
	md := writeMetadata(t, metadata)

	args := func(cutoff string) []string {
		return []string{"--spine-csv", l.dir, "--ods-metadata", md, "--start", "2026-03-30", "--end", "2026-03-31", "--cutoff", cutoff}
	}

	t.Run("cutoff 2", func(t *testing.T) {
		r := runReport(t, args("2")...)
		require.Equal(t, 0, r.code, r.stderr)
		assert.Contains(t, r.stderr, "no Spine log for overflow day(s) 2026-04-02")
		assert.ElementsMatch(t, []string{"c1", "c2", "c4", "c7"}, slices.Collect(maps.Keys(r.transfers)))
		assert.Equal(t, "Integrated on time", r.transfers["c1"]["status"])
		assert.Equal(t, "Transferred, not integrated", r.transfers["c2"]["failureReason"])
		assert.Equal(t, "Request not acknowledged", r.transfers["c4"]["failureReason"])
		assert.Equal(t, "2026-03-31T23:30:00Z", r.transfers["c4"]["dateRequested"])
		assert.Equal(t, "Contains fatal sender error", r.transfers["c7"]["failureReason"])
		assert.Equal(t, []any{"c1", "c2", "c7", "c4"}, conversationOrder(r), "ordered by request time")
	})

	t.Run("cutoff 3 keeps the late ack", func(t *testing.T) {
		r := runReport(t, args("3")...)
		require.Equal(t, 0, r.code, r.stderr)
		assert.Contains(t, r.stderr, "2026-04-02, 2026-04-03")
		assert.Equal(t, "Integrated on time", r.transfers["c2"]["status"])
	})

	t.Run("no cutoff reads the window only", func(t *testing.T) {
		r := runReport(t, args("0")...)
		require.Equal(t, 0, r.code, r.stderr)
		assert.Empty(t, r.stderr)
		assert.Equal(t, "Transferred, not integrated", r.transfers["c1"]["failureReason"])
		assert.NotContains(t, r.transfers, "c5")
	})

	t.Run("figures", func(t *testing.T) {
		r := runReport(t, args("2")...)
		require.Equal(t, 0, r.code, r.stderr)
		national := r.report["national"].([]any)
		require.Len(t, national, 1)
		n := national[0].(map[string]any)
		assert.EqualValues(t, 2026, n["year"])
		assert.EqualValues(t, 3, n["month"])
		assert.EqualValues(t, 4, n["transferCount"], "the unattributed transfer counts nationally")
		practices := r.report["practices"].([]any)
		require.Len(t, practices, 1, "B86041 requested nothing; the unknown ASID is no practice")
		p := practices[0].(map[string]any)
		assert.Equal(t, "A12345", p["odsCode"])
		rt := p["metrics"].([]any)[0].(map[string]any)["requestedTransfers"].(map[string]any)
		assert.EqualValues(t, 3, rt["requestedCount"])
		assert.EqualValues(t, 2, rt["receivedCount"])
		assert.EqualValues(t, 1, rt["integratedWithin3DaysCount"])
		assert.EqualValues(t, 1, rt["failuresTotalCount"])
		assert.Equal(t, []any{map[string]any{"odsCode": "00L", "name": "North", "practices": []any{"A12345"}}}, r.report["sicbls"])
	})
}

func TestReportJSONFieldsAndNulls(t *testing.T) {
	l := newLogs(t)
	l.integrated("c1", "2026-03-30 10:00:00", "2026-03-30 11:00:00", reqASID)
	l.row("2026-03-30", "2026-03-30 12:00:00 UTC", "c2", "c2-r", "RCMR_IN010000UK05", unknown, sndASID, "", "")
	l.write(t)
	r := runReport(t, "-spine-csv", l.dir, "-ods-metadata", writeMetadata(t, metadata), "-start", "2026-03-30", "-end", "2026-03-30", "-cutoff", "0")
	require.Equal(t, 0, r.code, r.stderr)

	var top map[string]json.RawMessage
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &top))
	assert.ElementsMatch(t, []string{"generatedOn", "transfers", "national", "practices", "sicbls"}, slices.Collect(maps.Keys(top)))
	_, err := time.Parse(time.RFC3339Nano, r.report["generatedOn"].(string))
	assert.NoError(t, err)

	c1 := r.transfers["c1"]
	assert.Equal(t, "A12345", c1["requestingPracticeOdsCode"])
	assert.Equal(t, "Riverside", c1["requestingPracticeName"])
	assert.Equal(t, "00L", c1["requestingPracticeSicblOdsCode"])
	assert.Equal(t, "North", c1["requestingPracticeSicblName"])
	assert.Equal(t, "B86041", c1["sendingPracticeOdsCode"])
	assert.Nil(t, c1["sendingPracticeSicblOdsCode"], "practice in no SICBL")
	assert.Nil(t, c1["failureReason"])
	assert.InDelta(t, 3600, c1["slaDuration"], 0)
	assert.Equal(t, "EMIS Web", c1["requestingSupplier"])

	c2 := r.transfers["c2"]
	for _, k := range []string{"requestingPracticeOdsCode", "requestingPracticeName", "requestingPracticeSicblOdsCode",
		"requestingPracticeSicblName", "slaDuration", "dateCompleted", "lastSenderMessageTimestamp"} {
		assert.Contains(t, c2, k)
		assert.Nil(t, c2[k], k)
	}
	assert.Equal(t, unknown, c2["requestingPracticeAsid"])
	assert.Equal(t, []any{}, c2["senderErrorCodes"])
	for _, k := range transferKeys {
		assert.Contains(t, c1, k)
	}
	assert.Len(t, c1, len(transferKeys))
}

var transferKeys = []string{
	"conversationId", "status", "failureReason", "slaDuration", "dateRequested", "dateCompleted",
	"senderErrorCodes", "finalErrorCodes", "intermediateErrorCodes",
	"requestingPracticeAsid", "requestingPracticeOdsCode", "requestingPracticeName",
	"requestingPracticeSicblOdsCode", "requestingPracticeSicblName",
	"sendingPracticeAsid", "sendingPracticeOdsCode", "sendingPracticeName",
	"sendingPracticeSicblOdsCode", "sendingPracticeSicblName",
	"requestingSupplier", "sendingSupplier", "lastSenderMessageTimestamp", "inProgress",
}

func TestReportErrors(t *testing.T) {
	l := newLogs(t)
	l.integrated("c1", "2026-03-30 10:00:00", "2026-03-30 11:00:00", reqASID)
	l.integrated("c2", "2026-04-01 10:00:00", "2026-04-01 11:00:00", reqASID)
	l.write(t)
	md := writeMetadata(t, metadata)
	base := func(extra ...string) []string {
		return append([]string{"--spine-csv", l.dir, "--ods-metadata", md, "--cutoff", "0"}, extra...)
	}

	t.Run("missing day in the window", func(t *testing.T) {
		r := runReport(t, base("--start", "2026-03-30", "--end", "2026-04-01")...)
		assert.Equal(t, 1, r.code)
		assert.Contains(t, r.stderr, "no Spine log for 2026-03-31")
		assert.Empty(t, r.stdout)
	})

	t.Run("bad metadata", func(t *testing.T) {
		bad := writeMetadata(t, `{"practices":[{"odsCode":"A1","asids":["1"]},{"odsCode":"B2","asids":["1"]}]}`)
		r := runReport(t, "--spine-csv", l.dir, "--ods-metadata", bad, "--start", "2026-03-30", "--end", "2026-03-30")
		assert.Equal(t, 1, r.code)
		assert.Contains(t, r.stderr, "practices[1].asids[0]")
		assert.Contains(t, r.stderr, bad)
	})

	t.Run("metadata file missing", func(t *testing.T) {
		r := runReport(t, "--spine-csv", l.dir, "--ods-metadata", filepath.Join(l.dir, "nope.json"), "--start", "2026-03-30", "--end", "2026-03-30")
		assert.Equal(t, 1, r.code)
		assert.Contains(t, r.stderr, "nope.json")
	})

	t.Run("metadata warning", func(t *testing.T) {
		odd := writeMetadata(t, `{"practices":[],"sicbls":[{"odsCode":"00L","practices":["Z9"]}]}`)
		r := runReport(t, "--spine-csv", l.dir, "--ods-metadata", odd, "--start", "2026-03-30", "--end", "2026-03-30", "--cutoff", "0")
		assert.Equal(t, 0, r.code)
		assert.Contains(t, r.stderr, "warning: ods metadata: sicbls[0].practices[0]")
	})

	t.Run("malformed row", func(t *testing.T) {
		broken := newLogs(t)
		broken.integrated("c1", "2026-03-30 10:00:00", "2026-03-30 11:00:00", reqASID)
		broken.days["2026-03-30"] = append(broken.days["2026-03-30"], "soon,c9,g,RCMR_IN010000UK05,1,2,,,a,b\n")
		broken.write(t)
		r := runReport(t, "--spine-csv", broken.dir, "--ods-metadata", md, "--start", "2026-03-30", "--end", "2026-03-30", "--cutoff", "0")
		assert.Equal(t, 1, r.code)
		assert.Contains(t, r.stderr, "2026-03-30_spine_messages.csv: spine csv line 6 column _time")
	})

	t.Run("two files for a day", func(t *testing.T) {
		twice := newLogs(t)
		twice.integrated("c1", "2026-03-30 10:00:00", "2026-03-30 11:00:00", reqASID)
		twice.write(t)
		twice.write(t, "2026-03-30")
		r := runReport(t, "--spine-csv", twice.dir, "--ods-metadata", md, "--start", "2026-03-30", "--end", "2026-03-30", "--cutoff", "0")
		assert.Equal(t, 1, r.code)
		assert.Contains(t, r.stderr, "two Spine logs for 2026-03-30")
	})

	t.Run("corrupt gzip", func(t *testing.T) {
		dir := t.TempDir()
		require.NoError(t, os.WriteFile(filepath.Join(dir, "2026-03-30_spine_messages.csv.gz"), []byte("not gzip"), 0o644))
		r := runReport(t, "--spine-csv", dir, "--ods-metadata", md, "--start", "2026-03-30", "--end", "2026-03-30")
		assert.Equal(t, 1, r.code)
		assert.Contains(t, r.stderr, "gzip")
	})

	t.Run("not a directory", func(t *testing.T) {
		r := runReport(t, "--spine-csv", md, "--ods-metadata", md, "--start", "2026-03-30", "--end", "2026-03-30")
		assert.Equal(t, 1, r.code)
		assert.Contains(t, r.stderr, "not a directory")
	})
}

func TestReportUsage(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"nothing", nil, "--spine-csv is required"},
		{"no metadata", []string{"--spine-csv", dir}, "--ods-metadata is required"},
		{"no dates", []string{"--spine-csv", dir, "--ods-metadata", "m"}, "--start and --end are required"},
		{"bad date", []string{"--start", "30/03/2026"}, "want YYYY-MM-DD"},
		{"end before start", []string{"--spine-csv", dir, "--ods-metadata", "m", "--start", "2026-03-30", "--end", "2026-03-29"}, "--end is before --start"},
		{"negative cutoff", []string{"--spine-csv", dir, "--ods-metadata", "m", "--start", "2026-03-30", "--end", "2026-03-30", "--cutoff", "-1"}, "--cutoff must be 0 or more"},
		{"argument", []string{"--spine-csv", dir, "extra"}, `unexpected argument "extra"`},
		{"unknown flag", []string{"--frob"}, "flag provided but not defined"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runReport(t, tt.args...)
			assert.Equal(t, 2, r.code)
			assert.Contains(t, r.stderr, tt.want)
		})
	}
	var out, errOut bytes.Buffer
	assert.ErrorIs(t, Run(context.Background(), []string{"-h"}, &out, &errOut), flag.ErrHelp)
	assert.Contains(t, errOut.String(), "-ods-metadata")
}

// TestLateRowsAreReported: a row filed under a later day than its time,
// within its conversation's cutoff, comes after the conversation was
// classified; it is left out and a warning says so.
func TestLateRowsAreReported(t *testing.T) {
	l := newLogs(t)
	l.row("2026-03-30", "2026-03-30 10:00:00 UTC", "c1", "c1-r", "RCMR_IN010000UK05", reqASID, sndASID, "", "")
	l.row("2026-03-30", "2026-03-30 10:01:00 UTC", "c1", "c1-ra", "MCCI_IN010000UK13", sndASID, reqASID, "c1-r", "")
	l.row("2026-03-31", "2026-03-31 10:00:00 UTC", "c2", "c2-r", "RCMR_IN010000UK05", reqASID, sndASID, "", "")
	l.row("2026-04-01", "2026-03-30 11:00:00 UTC", "c1", "c1-x", "RCMR_IN030000UK06", sndASID, reqASID, "", "")
	l.write(t)
	r := runReport(t, "--spine-csv", l.dir, "--ods-metadata", writeMetadata(t, metadata),
		"--start", "2026-03-30", "--end", "2026-03-31", "--cutoff", "1")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stderr, "1 rows were filed under a later day")
	assert.Equal(t, "Core extract not sent", r.transfers["c1"]["failureReason"])
}

// TestStreamingMatchesClassifyingEverything compares the importer, which
// classifies conversations as their cutoff passes, with classifying every
// row of the files at once and keeping the window's requests.
func TestStreamingMatchesClassifyingEverything(t *testing.T) {
	for _, tt := range []struct {
		name         string
		cutoff, days int
		gz           bool
	}{
		{"cutoff 2", 2, 4, false},
		{"cutoff 1 gzipped", 1, 3, true},
		{"no cutoff", 0, 5, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			start := time.Date(2026, 3, 28, 0, 0, 0, 0, time.UTC)
			res, err := synth{start: start, days: tt.days + tt.cutoff, conversations: 1200, practices: 150, seed: 7, gzip: tt.gz}.write(dir)
			require.NoError(t, err)
			end := start.AddDate(0, 0, tt.days-1)
			got, err := Build(context.Background(), Config{SpineDir: dir, MetadataFile: res.metadata, Start: start, End: end, Cutoff: tt.cutoff},
				start, func(w string) { t.Error(w) })
			require.NoError(t, err)

			var all []mi.Event
			for d := range tt.days + tt.cutoff {
				files, err := filepath.Glob(filepath.Join(dir, "v3", start.AddDate(0, 0, d).Format("2006/01/02"), "*"))
				require.NoError(t, err)
				require.Len(t, files, 1)
				r, closeFile, err := openDayFile(files[0])
				require.NoError(t, err)
				evs, err := mi.ParseSpineCSV(r)
				require.NoError(t, err)
				require.NoError(t, closeFile())
				all = append(all, evs...)
			}
			require.Len(t, all, res.rows)
			var want []mi.Transfer
			for _, tr := range mi.Classify(all, time.Duration(tt.cutoff)*24*time.Hour) {
				if !tr.DateRequested.Before(start) && tr.DateRequested.Before(end.AddDate(0, 0, 1)) {
					want = append(want, tr)
				}
			}
			f, err := os.Open(res.metadata)
			require.NoError(t, err)
			md, err := mi.LoadMetadata(f)
			require.NoError(t, err)
			require.NoError(t, f.Close())
			mi.Attribute(want, md.Lookup())

			require.Greater(t, len(want), 400)
			require.Len(t, got.Transfers, len(want))
			for i := range want {
				require.Equal(t, want[i], got.Transfers[i], "transfer %d", i)
			}
			assert.Equal(t, mi.BuildReport(want, start), got)
			statuses := make(map[mi.Status]int)
			for _, tr := range want {
				statuses[tr.Status]++
			}
			assert.Len(t, statuses, 4, "every status occurs: %v", statuses)
		})
	}
}

func conversationOrder(r result) []any {
	var ids []any
	for _, x := range r.report["transfers"].([]any) {
		ids = append(ids, x.(map[string]any)["conversationId"])
	}
	return ids
}

// TestMoreTransfersThanEstimated: the room for transfers is estimated
// from the first days; a busier later day still gets all its transfers.
func TestMoreTransfersThanEstimated(t *testing.T) {
	l := newLogs(t)
	l.integrated("a0", "2026-03-01 10:00:00", "2026-03-01 11:00:00", reqASID)
	l.integrated("b0", "2026-03-02 10:00:00", "2026-03-02 11:00:00", reqASID)
	var want []any
	want = append(want, "a0", "b0")
	for i := range 20 {
		id := fmt.Sprintf("c%02d", i)
		l.integrated(id, fmt.Sprintf("2026-03-03 10:%02d:00", i), "2026-03-03 12:00:00", reqASID)
		want = append(want, id)
	}
	l.write(t)
	r := runReport(t, "--spine-csv", l.dir, "--ods-metadata", writeMetadata(t, metadata),
		"--start", "2026-03-01", "--end", "2026-03-03", "--cutoff", "1")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Equal(t, want, conversationOrder(r))
}

func TestLongConversationIDs(t *testing.T) {
	l := newLogs(t)
	long := strings.Repeat("c", 45)
	l.integrated(long, "2026-03-30 10:00:00", "2026-03-31 09:00:00", reqASID)
	l.integrated("short", "2026-03-30 10:00:00", "2026-03-30 10:30:00", reqASID)
	l.write(t)
	r := runReport(t, "--spine-csv", l.dir, "--ods-metadata", writeMetadata(t, metadata),
		"--start", "2026-03-30", "--end", "2026-03-30", "--cutoff", "1")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Equal(t, "Integrated on time", r.transfers[long]["status"], "its final ack, read from the overflow day, found it")
	assert.Equal(t, []any{long, "short"}, conversationOrder(r))
}
