package mi_test

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/nhsengland/gp2gp/libs/mi"
)

// spineLog is n rows of a plausible Spine log.
func spineLog(n int) []byte {
	var b strings.Builder
	b.WriteString(csvHeader)
	for i := range n {
		fmt.Fprintf(&b, "2026-04-%02d %02d:%02d:%02d.%03d BST,%08X-1111-2222-3333-444455556666,%08X-AAAA-BBBB-CCCC-DDDDEEEEFFFF,urn:nhs:names:services:gp2gp/MCCI_IN010000UK13,2000%08d,2000%08d,%08X-9999-8888-7777-666655554444,NONE,EMIS Web,SystmOne\n",
			1+i%28, i%24, i%60, i%60, i%1000, i/8, i, i%7000, (i+1)%7000, i-1)
	}
	return []byte(b.String())
}

// BenchmarkSpineCSV reads a Spine log of 20 000 rows in memory with
// encoding/csv (baseline, every record) and with SpineReader.ReadRow
// (gp2gp: every row parsed into times, codes and fields).
func BenchmarkSpineCSV(b *testing.B) {
	data := spineLog(20000)
	b.Run("baseline", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			cr := csv.NewReader(bytes.NewReader(data))
			cr.ReuseRecord = true
			for {
				_, err := cr.Read()
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					b.Fatal(err)
				}
			}
		}
	})
	b.Run("gp2gp", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		buf := make([]byte, len(data))
		for b.Loop() {
			copy(buf, data) // NewSpineReaderBytes may rewrite line ends
			sr, err := mi.NewSpineReaderBytes(buf)
			if err != nil {
				b.Fatal(err)
			}
			for {
				_, err := sr.ReadRow()
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					b.Fatal(err)
				}
			}
		}
	})
}
