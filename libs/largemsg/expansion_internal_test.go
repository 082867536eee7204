package largemsg

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"testing"
)

// The absolute limit holds however little a document expands: a gzip of
// incompressible bytes is refused once its output passes the maximum.
// (The real maximum would take 256 MiB; the test lowers it.)
func TestExpansionMaximum(t *testing.T) {
	data := make([]byte, 1<<20)
	_, _ = rand.NewChaCha8([32]byte{7}).Read(data) // never fails
	var zipped bytes.Buffer
	zw, err := gzip.NewWriterLevel(&zipped, gzip.BestSpeed)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := zw.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	src := asmSource{open: func() (io.Reader, error) { return bytes.NewReader(zipped.Bytes()), nil }}
	store := NewMemStore()
	lim := expansionLimits{max: 512 << 10, floor: 16 << 20, ratio: 200}

	_, _, err = asmWrite(context.Background(), store, "doc", []asmSource{src}, true, -1, lim)
	var ae *AssemblyError
	if !errors.As(err, &ae) || ae.Code != "29" || !errors.Is(err, ErrExpansion) {
		t.Fatalf("asmWrite over the maximum: got %v, want an *AssemblyError 29 wrapping ErrExpansion", err)
	}
	if len(store.Names()) != 0 {
		t.Errorf("objects left behind: %v", store.Names())
	}

	lim.max = 2 << 20
	n, _, err := asmWrite(context.Background(), store, "doc", []asmSource{src}, true, -1, lim)
	if err != nil || n != int64(len(data)) {
		t.Fatalf("asmWrite under the maximum: %d bytes, %v; want %d bytes", n, err, len(data))
	}
}

// Past the floor, a document may expand at most ratio times what it
// carried so far: one that expands as real ones do (an EHR extract about 13
// times, here about 10) is written whole, one of zeros is refused. (The
// real floor is 16 MiB; the test lowers it to 1 MiB.)
func TestExpansionRatio(t *testing.T) {
	lim := expansionLimits{max: 256 << 20, floor: 1 << 20, ratio: 200}
	const markup = `<ObservationStatement classCode="OBS" moodCode="EVN"><code code="163020007"/></ObservationStatement>` + "\n"
	noise := make([]byte, 8*(3<<20)/(8+len(markup)))
	_, _ = rand.NewChaCha8([32]byte{3}).Read(noise) // never fails
	var text bytes.Buffer
	for i := 0; i+8 <= len(noise); i += 8 {
		text.Write(noise[i : i+8])
		text.WriteString(markup)
	}
	for _, tc := range []struct {
		name string
		data []byte
		bomb bool
	}{
		{"an extract's expansion", text.Bytes(), false},
		{"zeros", make([]byte, 3<<20), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var zipped bytes.Buffer
			zw, err := gzip.NewWriterLevel(&zipped, gzip.BestCompression)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := zw.Write(tc.data); err != nil {
				t.Fatal(err)
			}
			if err := zw.Close(); err != nil {
				t.Fatal(err)
			}
			src := asmSource{open: func() (io.Reader, error) { return bytes.NewReader(zipped.Bytes()), nil }}
			n, _, err := asmWrite(context.Background(), NewMemStore(), "doc", []asmSource{src}, true, -1, lim)
			if tc.bomb {
				if !errors.Is(err, ErrExpansion) {
					t.Fatalf("%d bytes from %d: got %v, want ErrExpansion", len(tc.data), zipped.Len(), err)
				}
				return
			}
			if err != nil || n != int64(len(tc.data)) {
				t.Fatalf("%d bytes from %d: wrote %d, %v", len(tc.data), zipped.Len(), n, err)
			}
		})
	}
}
