package mi_test

import (
	"testing"
	"time"

	"github.com/nhsengland/gp2gp/libs/mi"
)

// BenchmarkClassifier classifies a large-record conversation of 16
// events (request, extract, continue, five fragments, their acks, the
// final ack) with a reused Classifier, as an importer does.
func BenchmarkClassifier(b *testing.B) {
	c := newConv()
	c.ack(c.request(), time.Minute, nil)
	x := c.extract(time.Hour)
	c.ack(c.cont(2*time.Hour), 2*time.Hour+time.Second, nil)
	for i := range 5 {
		f := c.fragment(3*time.Hour + time.Duration(i)*time.Minute)
		c.ack(f, 4*time.Hour, nil)
	}
	c.ack(x, 5*time.Hour, nil)
	cl := mi.NewClassifier(14 * day)
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := cl.Conversation(c.evs); !ok {
			b.Fatal("not a transfer")
		}
	}
}
