package mi

import (
	"encoding/csv"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// checkLikeEncodingCSV reads in with csvScanner and with encoding/csv
// and requires the same records, and an error at the same record with
// the same line.
func checkLikeEncodingCSV(t *testing.T, in string) {
	t.Helper()
	checkScannerLikeEncodingCSV(t, in, newCSVScanner(strings.NewReader(in)))
	checkScannerLikeEncodingCSV(t, in, newCSVScannerBytes([]byte(in)))
}

func checkScannerLikeEncodingCSV(t *testing.T, in string, got *csvScanner) {
	t.Helper()
	want := csv.NewReader(strings.NewReader(in))
	for n := 0; ; n++ {
		wrec, werr := want.Read()
		grec, gerr := got.next()
		if errors.Is(werr, io.EOF) {
			require.ErrorIs(t, gerr, io.EOF, "record %d of %q", n, in)
			return
		}
		if werr != nil {
			require.Error(t, gerr, "record %d of %q: want %v", n, in, werr)
			var wpe, gpe *csv.ParseError
			require.ErrorAs(t, werr, &wpe)
			require.ErrorAs(t, gerr, &gpe)
			require.ErrorIs(t, gerr, wpe.Err, "record %d of %q", n, in)
			require.Equal(t, wpe.Line, gpe.Line, "record %d of %q: %v vs %v", n, in, werr, gerr)
			require.Equal(t, wpe.StartLine, gpe.StartLine, "record %d of %q", n, in)
			return
		}
		require.NoError(t, gerr, "record %d of %q", n, in)
		require.Len(t, grec, len(wrec), "record %d of %q", n, in)
		for i := range wrec {
			require.Equal(t, wrec[i], string(grec[i]), "record %d field %d of %q", n, i, in)
		}
		line, _ := want.FieldPos(0)
		require.Equal(t, line, got.start, "record %d of %q", n, in)
	}
}

func TestCSVScannerLikeEncodingCSV(t *testing.T) {
	for _, in := range []string{
		"", "\n", "a,b\nc,d\n", "a,b\r\nc,d", "a,b\nc,d\r", "a,b\n\n\r\nc,d\n", "a,b\nc\n", "a,b,c\nd,e\n",
		`"a","b"` + "\n" + `"c""d",e` + "\n", `"a` + "\n" + `b",c` + "\n", `"a` + "\r\n" + `b",c`, `a"b,c`, `"a"b,c`,
		`"abc`, "\"abc\n", "x,y\n\"a\nb", `"",""`, `a,""` + "\n", ",\n,\n", "a,b\n\"c\r\nd\",e\r\n",
		"h1,h2\n1,\"2\"\"\"\n", "\"a\",\"b\"\r", "a\rb,c\n", "\ufeffh,i\n1,2\n",
		strings.Repeat("x", 70000) + ",y\n" + "a," + strings.Repeat("z", 140000) + "\n",
		"\"" + strings.Repeat("q", 70000) + "\n" + strings.Repeat("r", 70000) + "\",s\n",
	} {
		checkLikeEncodingCSV(t, in)
	}
}

func FuzzCSVScanner(f *testing.F) {
	f.Add("a,b\nc,d\n")
	f.Add(`"a""b",c` + "\r\n" + `"d` + "\n" + `e",f`)
	f.Add("a,\"b\nc,d\n")
	f.Fuzz(func(t *testing.T, in string) {
		checkLikeEncodingCSV(t, in)
	})
}
