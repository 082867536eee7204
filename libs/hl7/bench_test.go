package hl7_test

import (
	"bytes"
	"encoding/xml"
	"io"
	"runtime"
	"testing"

	"github.com/nhsengland/gp2gp/libs/hl7"
	"github.com/nhsengland/gp2gp/libs/hl7/ehr"
)

// BenchmarkExtract decodes and encodes EHR Extracts of about 30 KB, 5 MB
// and 20 MB (synthetic, from the content model) and, as the baseline, scans
// the same bytes with a plain encoding/xml token loop. scripts/bench.sh
// prints the ratios; "allocB/inB" is bytes allocated per input byte.
func BenchmarkExtract(b *testing.B) {
	for _, size := range []struct {
		name  string
		bytes int
	}{{"30KB", 30 << 10}, {"5MB", 5 << 20}, {"20MB", 20 << 20}} {
		content, _, err := ehr.Generate(ehr.WithSeed(3), ehr.WithTargetSize(size.bytes))
		if err != nil {
			b.Fatal(err)
		}
		extract := &hl7.Extract{
			Wrapper:   wrapper("7C5A8F1E-3F0B-4A53-9D0E-5B2C1D4E6F70", "200000000101", "200000000102"),
			RequestID: "BBBBA01A-A9D1-A411-F824-9F7A00A33757", NHSNumber: "9442964410",
			SendingODS: "M85019", RequestingODS: "B86041", Content: content,
		}
		data, err := extract.Encode()
		if err != nil {
			b.Fatal(err)
		}
		b.Run(size.name+"/baseline", func(b *testing.B) {
			measure(b, len(data), func() {
				d := xml.NewDecoder(bytes.NewReader(data))
				for {
					if _, err := d.Token(); err == io.EOF {
						break
					} else if err != nil {
						b.Fatal(err)
					}
				}
			})
		})
		b.Run(size.name+"/gp2gp-decode", func(b *testing.B) {
			measure(b, len(data), func() {
				if _, err := hl7.DecodeExtract(data); err != nil {
					b.Fatal(err)
				}
			})
		})
		b.Run(size.name+"/gp2gp-encode", func(b *testing.B) {
			measure(b, len(data), func() {
				if _, err := extract.Encode(); err != nil {
					b.Fatal(err)
				}
			})
		})
	}
}

// measure runs fn b.N times, reporting throughput over size bytes and the
// bytes allocated per input byte.
func measure(b *testing.B, size int, fn func()) {
	b.SetBytes(int64(size))
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	b.ResetTimer()
	for range b.N {
		fn()
	}
	b.StopTimer()
	runtime.ReadMemStats(&after)
	b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/float64(b.N)/float64(size), "allocB/inB")
}
