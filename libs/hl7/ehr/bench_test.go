package ehr_test

import (
	"testing"

	"github.com/nhsengland/gp2gp/libs/hl7/ehr"
)

// BenchmarkGenerate measures generating extracts of the sizes the
// transfer benchmarks use: a small record, one at the Spine message limit
// and one that must travel as a compressed skeleton attachment.
func BenchmarkGenerate(b *testing.B) {
	sizes := []struct {
		name  string
		bytes int
	}{
		{"30KB", 30 << 10},
		{"5MB", 5 << 20},
		{"20MB", 20 << 20},
	}
	for _, size := range sizes {
		b.Run(size.name, func(b *testing.B) {
			b.SetBytes(int64(size.bytes))
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := ehr.Generate(ehr.WithSeed(1), ehr.WithTargetSize(size.bytes)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
