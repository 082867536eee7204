package mi_test

import (
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nhsengland/gp2gp/libs/mi"
)

// checkBytesLikeReader reads in with a SpineReader of the bytes, which
// takes its quick path for plain lines, and of an io.Reader, which never
// does, and requires the same rows (nil fields alike), the same error at
// the same row, and spans that locate the fields when reported in place.
func checkBytesLikeReader(t *testing.T, in string) {
	t.Helper()
	data := []byte(in)
	fast, ferr := mi.NewSpineReaderBytes(data)
	slow, serr := mi.NewSpineReader(strings.NewReader(in))
	if serr != nil || ferr != nil {
		require.Error(t, ferr, "%q", in)
		require.Error(t, serr, "%q", in)
		require.Equal(t, serr.Error(), ferr.Error(), "%q", in)
		return
	}
	for n := 0; ; n++ {
		want, werr := slow.ReadRow()
		got, gerr := fast.ReadRow()
		if werr != nil {
			require.Error(t, gerr, "row %d of %q", n, in)
			require.Equal(t, errors.Is(werr, io.EOF), errors.Is(gerr, io.EOF), "row %d of %q: %v vs %v", n, in, werr, gerr)
			require.Equal(t, werr.Error(), gerr.Error(), "row %d of %q", n, in)
			return
		}
		require.NoError(t, gerr, "row %d of %q", n, in)
		require.Equal(t, want.Time, got.Time, "row %d of %q", n, in)
		require.Equal(t, want.ErrorCode, got.ErrorCode, "row %d of %q", n, in)
		require.Equal(t, want.HasErrorCode, got.HasErrorCode, "row %d of %q", n, in)
		wf := [...][]byte{want.ConversationID, want.MessageID, want.Interaction, want.Sender, want.Recipient,
			want.MessageRef, want.FromSystem, want.ToSystem}
		gf := [...][]byte{got.ConversationID, got.MessageID, got.Interaction, got.Sender, got.Recipient,
			got.MessageRef, got.FromSystem, got.ToSystem}
		spans, inPlace := fast.Spans()
		for i := range wf {
			require.Equal(t, string(wf[i]), string(gf[i]), "row %d field %d of %q", n, i, in)
			require.Equal(t, wf[i] == nil, gf[i] == nil, "row %d field %d of %q: nil", n, i, in)
			if inPlace {
				require.Equal(t, string(gf[i]), string(data[spans[i].Start:spans[i].End]), "row %d span %d of %q", n, i, in)
			}
		}
	}
}

// checkPartsLikeReader reads in in two parts, through Continue, cut after
// a line end that has no quote before it (so that it ends a record), and
// requires the rows and errors of reading it whole through an io.Reader.
func checkPartsLikeReader(t *testing.T, in string) {
	t.Helper()
	plain := in
	if q := strings.IndexByte(in, '"'); q >= 0 {
		plain = in[:q]
	}
	first := 0 // after the header, the first line with more than a line end
	for first < len(plain) {
		nl := strings.IndexByte(plain[first:], '\n')
		if nl < 0 {
			return
		}
		line := plain[first : first+nl]
		first += nl + 1
		if line != "" && line != "\r" {
			break
		}
	}
	last := strings.LastIndexByte(plain, '\n') + 1
	if last <= first {
		return
	}
	cut := first + (last-first)/2
	cut += strings.IndexByte(in[cut:], '\n') + 1
	slow, err := mi.NewSpineReader(strings.NewReader(in))
	if err != nil {
		return // a bad header: checkBytesLikeReader's
	}
	fast, err := mi.NewSpineReaderBytes([]byte(in[:cut]))
	require.NoError(t, err)
	rest := []byte(in[cut:])
	for n := 0; ; n++ {
		want, werr := slow.ReadRow()
		got, gerr := fast.ReadRow()
		if errors.Is(gerr, io.EOF) && rest != nil {
			fast.Continue(rest)
			rest = nil
			got, gerr = fast.ReadRow()
		}
		if werr != nil {
			require.Error(t, gerr, "row %d of %q cut at %d", n, in, cut)
			require.Equal(t, werr.Error(), gerr.Error(), "row %d of %q cut at %d", n, in, cut)
			return
		}
		require.NoError(t, gerr, "row %d of %q cut at %d", n, in, cut)
		require.Equal(t, *want, *got, "row %d of %q cut at %d", n, in, cut)
	}
}

func TestSpineReaderBytesLikeReader(t *testing.T) {
	row := "2026-06-01 10:00:00.123 BST,c1,g1,urn:nhs:names:services:gp2gp/RCMR_IN010000UK05,111,222,NotProvided,NONE,EMIS Web,SystmOne\n"
	for _, in := range []string{
		csvHeader + row + row,
		csvHeader + strings.ReplaceAll(row, "\n", "\r\n") + row + "\r\n" + row,
		csvHeader + " 2026-06-01 10:00:00 UTC , c1 ,g1,\tRCMR_IN030000UK06 ,111,222, g0 , 12 ,\u00a0EMIS\u00a0, x\n",
		csvHeader + "2026-06-01 10:00:00 UTC,c1,g1,x,1,2,,,,\n\n\n2026-06-01 10:00:00 UTC,c2,g2,x,1,2,r,7,a,b",
		csvHeader + "2026-06-01 10:00:00 UTC,c1,g1,x,1,2,\"r\",7,a,b\n" + row,
		csvHeader + "2026-06-01 10:00:00 UTC,c1,g1,x,1,2,r\r,7,a,b\n" + row,
		csvHeader + "2026-06-01 10:00:00 UTC,c1,g1,x,1,2,r,7,a\n",
		csvHeader + "2026-06-01 10:00:00 UTC,c1,g1,x,1,2,r,7,a,b,extra\n",
		csvHeader + "soon,c1,g1,x,1,2,,,a,b\n",
		csvHeader + "2026-06-01 10:00:00 UTC,c1,g1,x,1,2,,seven,a,b\n",
		csvHeader + "2026-06-01 10:00:00 UTC,c1,g1,x,1,2,   ,   ,   ,   \n",
		"jdiEvent,_time,conversationID,GUID,interactionID,messageSender,messageRecipient,messageRef\n" +
			"NONE,2026-06-01 10:00:00 UTC,c1,g1,x,1,2,NotProvided\n" + "3,2026-06-01T10:00:00Z,c1,g2,y,2,1,g1\n",
		"\ufeff" + csvHeader + row,
		csvHeader + "\r\n",
		csvHeader,
	} {
		checkBytesLikeReader(t, in)
		checkPartsLikeReader(t, in)
	}
}

// FuzzSpineReaderBytes compares reading in place, whole and in two parts,
// with reading through an io.Reader; testdata/fuzz/FuzzSpineReaderBytes keeps inputs of every
// path (plain, CRLF, quoted, bare CR, bad rows).
func FuzzSpineReaderBytes(f *testing.F) {
	f.Add(csvHeader + "2026-06-01 10:00:00.123 BST,c1,g1,RCMR_IN010000UK05,111,222,NotProvided,NONE,EMIS Web,SystmOne\n")
	f.Fuzz(func(t *testing.T, in string) {
		checkBytesLikeReader(t, in)
		checkPartsLikeReader(t, in)
	})
}
