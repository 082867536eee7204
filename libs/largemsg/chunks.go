package largemsg

import (
	"errors"
	"fmt"
	"io"
)

// ErrSizeMismatch reports a document whose bytes are not as many as its
// layout said.
var ErrSizeMismatch = errors.New("largemsg: document size differs from its layout")

// Chunks reads size bytes of a document from r in fragments of chunkBytes
// (the last may be shorter) and calls fn with each, numbered from 1, in
// order. It reuses one buffer, so at most one fragment is in memory; fn must
// not keep chunk. A reader that ends early or has more than size bytes is
// an ErrSizeMismatch.
func Chunks(r io.Reader, size, chunkBytes int64, fn func(n int, chunk []byte) error) error {
	if chunkBytes <= 0 || size < 0 {
		return fmt.Errorf("largemsg: chunks of %d bytes of a %d-byte document", chunkBytes, size)
	}
	buf := make([]byte, min(chunkBytes, max(size, 1)))
	var read int64
	for n := 1; read < size; n++ {
		want := min(chunkBytes, size-read)
		got, err := io.ReadFull(r, buf[:want])
		read += int64(got)
		if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
			return fmt.Errorf("%w: %d bytes read, %d expected", ErrSizeMismatch, read, size)
		}
		if err != nil {
			return fmt.Errorf("largemsg: read fragment %d: %w", n, err)
		}
		if err := fn(n, buf[:got]); err != nil {
			return err
		}
	}
	var one [1]byte
	if got, _ := io.ReadFull(r, one[:]); got > 0 {
		return fmt.Errorf("%w: more than %d bytes", ErrSizeMismatch, size)
	}
	return nil
}
