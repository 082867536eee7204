package mireport

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nhsengland/gp2gp/libs/mi"
)

// withPartSize runs f with day files read in parts of size bytes.
func withPartSize(size int, f func()) {
	defer func(old int) { partSize = old }(partSize)
	partSize = size
	f()
}

// TestPartsMatchWholeFiles reads the same logs in parts of many sizes,
// plain and gzipped, down to parts smaller than a line, and requires the
// report of reading each file as one part (the files are smaller than a
// megabyte).
func TestPartsMatchWholeFiles(t *testing.T) {
	for _, gz := range []bool{false, true} {
		dir := t.TempDir()
		start := time.Date(2026, 3, 28, 0, 0, 0, 0, time.UTC)
		res, err := synth{start: start, days: 4, conversations: 400, practices: 60, seed: 3, gzip: gz}.write(dir)
		require.NoError(t, err)
		cfg := Config{SpineDir: dir, MetadataFile: res.metadata, Start: start, End: start.AddDate(0, 0, 2), Cutoff: 1}
		build := func() mi.Report {
			r, err := Build(context.Background(), cfg, start, func(string) {})
			require.NoError(t, err)
			return r
		}
		var want mi.Report
		withPartSize(1<<20, func() { want = build() })
		require.Greater(t, len(want.Transfers), 200)
		for _, size := range []int{1, 100, 7919} {
			withPartSize(size, func() {
				assert.Equal(t, want, build(), "parts of %d bytes, gzip %v", size, gz)
			})
		}
	}
}

// TestPartsWithQuotesAndErrors: once a part holds a quote, whose field
// may hold a line end, the rest of the file is one part; rows with
// quoted fields, CRLF line ends and the line of a malformed row come out
// as from reading the file whole.
func TestPartsWithQuotesAndErrors(t *testing.T) {
	write := func(t *testing.T, rows string) string {
		dir := t.TempDir()
		require.NoError(t, os.WriteFile(filepath.Join(dir, "2026-03-30_spine_messages.csv"), []byte(header+rows), 0o644))
		return dir
	}
	row := func(conv, guid, interaction, from, to, ref string) string {
		return "2026-03-30 10:00:00 UTC," + conv + "," + guid + ",urn:nhs:names:services:gp2gp/" + interaction + "," +
			from + "," + to + "," + ref + ",NONE,EMIS Web,SystmOne\r\n"
	}
	var rows, plain strings.Builder
	for i := range 50 {
		c := "c" + string(rune('a'+i%26)) + string(rune('a'+i/26))
		rows.WriteString(row(c, c+"-r", "RCMR_IN010000UK05", reqASID, sndASID, "NotProvided"))
		plain.WriteString(row(c, c+"-r", "RCMR_IN010000UK05", reqASID, sndASID, "NotProvided"))
		plain.WriteString(row(c, c+"-ra", "MCCI_IN010000UK13", sndASID, reqASID, c+"-r"))
		if i == 20 { // a quoted ref holding a line end, and a quoted system
			rows.WriteString(`2026-03-30 10:01:00 UTC,` + c + `,` + c + `-ra,urn:nhs:names:services:gp2gp/MCCI_IN010000UK13,` +
				sndASID + `,` + reqASID + `,"` + c + "-r\n\",NONE,\"EMIS, Web\",SystmOne\r\n")
			continue
		}
		rows.WriteString(row(c, c+"-ra", "MCCI_IN010000UK13", sndASID, reqASID, c+"-r"))
	}
	md := writeMetadata(t, metadata)
	day := time.Date(2026, 3, 30, 0, 0, 0, 0, time.UTC)
	cfg := Config{SpineDir: write(t, rows.String()), MetadataFile: md, Start: day, End: day}
	var want mi.Report
	withPartSize(1<<20, func() {
		var err error
		want, err = Build(context.Background(), cfg, day, func(string) {})
		require.NoError(t, err)
	})
	require.Len(t, want.Transfers, 50)
	for _, size := range []int{1, 300, 2000} {
		withPartSize(size, func() {
			got, err := Build(context.Background(), cfg, day, func(string) {})
			require.NoError(t, err)
			assert.Equal(t, want, got, "parts of %d bytes", size)
		})
	}

	// Without quotes, read in parts to the end.
	cfg.SpineDir = write(t, plain.String()+row("zz", "zz-r", "RCMR_IN010000UK05", reqASID, sndASID, "NotProvided")+
		"2026-03-30 25:00:00 UTC,zz,zz-x,x,1,2,,NONE,a,b\r\n")
	var wantErr error
	withPartSize(1<<20, func() {
		_, wantErr = Build(context.Background(), cfg, day, func(string) {})
	})
	require.ErrorContains(t, wantErr, "line 103 column _time")
	for _, size := range []int{1, 300, 2000} {
		withPartSize(size, func() {
			_, err := Build(context.Background(), cfg, day, func(string) {})
			require.Error(t, err)
			assert.Equal(t, wantErr.Error(), err.Error(), "parts of %d bytes", size)
		})
	}
}
