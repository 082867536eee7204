package practicesim

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/nhsengland/gp2gp/libs/bus"
	gp2gpv1 "github.com/nhsengland/gp2gp/proto/gp2gp/v1"
)

// Object names. Everything the practice stores answering a request is
// named after the practice and the request, so a request answered again
// (redelivered) finds and reuses what it stored the first time.

// responseObjectPrefix is the prefix of the objects practice ods stores
// answering record request requestID.
func responseObjectPrefix(ods, requestID string) string {
	return "practice/" + ods + "/record-response/" + requestID + "/"
}

// extractObjectName names the extract answering record request requestID.
func extractObjectName(ods, requestID string) string {
	return responseObjectPrefix(ods, requestID) + "ehr-extract.xml"
}

// documentObjectName names document documentID of the record answering
// record request requestID.
func documentObjectName(ods, requestID, documentID string) string {
	return responseObjectPrefix(ods, requestID) + "documents/" + documentID
}

// contentKeyMetadata is the object metadata key under which a large
// document's object carries its content key (largeContent.key).
const contentKeyMetadata = "practicesim-content"

// objectWriter is what storing needs of an object store.
type objectWriter interface {
	GetInfo(ctx context.Context, name string, opts ...jetstream.GetObjectInfoOpt) (*jetstream.ObjectInfo, error)
	Put(ctx context.Context, meta jetstream.ObjectMeta, r io.Reader) (*jetstream.ObjectInfo, error)
}

// objectChunk is the object store's usual chunk size; small objects are
// stored in one chunk of their own size.
const objectChunk = 128 << 10

// storeBytes puts data in store under name, unless the same bytes are
// there already (a redelivered request), and returns its reference.
func (p *Practice) storeBytes(ctx context.Context, store objectWriter, name string, data []byte) (*gp2gpv1.ObjectRef, error) {
	unlock, err := p.lockObject(ctx, name)
	if err != nil {
		return nil, err
	}
	defer unlock()
	sum := sha256.Sum256(data)
	ref := p.objectRef(name, uint64(len(data)), sum)
	info, err := store.GetInfo(ctx, name)
	switch {
	case err == nil && info.Size == uint64(len(data)):
		if digest, derr := jetstream.DecodeObjectDigest(info.Digest); derr == nil && bytes.Equal(digest, sum[:]) {
			return ref, nil
		}
	case err != nil && !errors.Is(err, jetstream.ErrObjectNotFound):
		return nil, fmt.Errorf("look up %s: %w", name, err)
	}
	chunk := uint32(min(max(len(data), 1), objectChunk))
	meta := jetstream.ObjectMeta{Name: name, Opts: &jetstream.ObjectMetaOptions{ChunkSize: chunk}}
	if _, err := store.Put(ctx, meta, bytes.NewReader(data)); err != nil {
		return nil, fmt.Errorf("store %s (%d bytes): %w", name, len(data), err)
	}
	return ref, nil
}

// storeLarge writes large content to store under name as it generates it,
// computing its SHA-256 on the way, and returns its reference. Only a
// chunk of the content is in memory at a time. An object already stored
// under name with the content's size and key (a redelivered request) is
// reused without generating anything, provided its digest is the one this
// practice computed when it last generated the content, if it has.
func (p *Practice) storeLarge(ctx context.Context, store objectWriter, name string, c *largeContent) (*gp2gpv1.ObjectRef, error) {
	unlock, err := p.lockObject(ctx, name)
	if err != nil {
		return nil, err
	}
	defer unlock()
	info, err := store.GetInfo(ctx, name)
	switch {
	case err == nil:
		if sum, ok := p.reusable(info, c); ok {
			return p.objectRef(name, uint64(c.size), sum), nil
		}
	case !errors.Is(err, jetstream.ErrObjectNotFound):
		return nil, fmt.Errorf("look up %s: %w", name, err)
	}

	h := sha256.New()
	meta := jetstream.ObjectMeta{Name: name, Metadata: map[string]string{contentKeyMetadata: c.key()}}
	info, err = store.Put(ctx, meta, io.TeeReader(c.open(), h))
	if err != nil {
		return nil, fmt.Errorf("store %s (%d bytes): %w", name, c.size, err)
	}
	var sum [sha256.Size]byte
	h.Sum(sum[:0])
	if info.Size != uint64(c.size) {
		return nil, fmt.Errorf("store %s: stored %d bytes of %d", name, info.Size, c.size)
	}
	if digest, err := jetstream.DecodeObjectDigest(info.Digest); err != nil || !bytes.Equal(digest, sum[:]) {
		return nil, fmt.Errorf("store %s: the object store's digest %q is not the SHA-256 written, %x", name, info.Digest, sum)
	}
	p.rememberDigest(c.key(), sum)
	return p.objectRef(name, uint64(c.size), sum), nil
}

// reusable reports whether a stored object holds content c, and returns
// its SHA-256: it has c's size and key, and the digest this practice
// computed for c, when it has generated c before.
func (p *Practice) reusable(info *jetstream.ObjectInfo, c *largeContent) ([sha256.Size]byte, bool) {
	var sum [sha256.Size]byte
	if info.Size != uint64(c.size) || info.Metadata[contentKeyMetadata] != c.key() {
		return sum, false
	}
	digest, err := jetstream.DecodeObjectDigest(info.Digest)
	if err != nil || len(digest) != sha256.Size {
		return sum, false
	}
	copy(sum[:], digest)
	p.digestMu.Lock()
	defer p.digestMu.Unlock()
	if known, ok := p.digests[c.key()]; ok {
		return sum, known == sum
	}
	p.digests[c.key()] = sum
	return sum, true
}

// rememberDigest notes the SHA-256 of content key, as generated.
func (p *Practice) rememberDigest(key string, sum [sha256.Size]byte) {
	p.digestMu.Lock()
	defer p.digestMu.Unlock()
	p.digests[key] = sum
}

// lockObject waits until no other answer is storing object name, then
// holds it until the returned function is called. It returns ctx's cause
// if ctx ends first.
func (p *Practice) lockObject(ctx context.Context, name string) (unlock func(), err error) {
	for {
		p.putMu.Lock()
		busy, ok := p.putting[name]
		if !ok {
			done := make(chan struct{})
			p.putting[name] = done
			p.putMu.Unlock()
			return func() {
				p.putMu.Lock()
				delete(p.putting, name)
				p.putMu.Unlock()
				close(done)
			}, nil
		}
		p.putMu.Unlock()
		select {
		case <-busy:
		case <-ctx.Done():
			return nil, context.Cause(ctx)
		}
	}
}

// objectRef is the reference to object name of the practice's records
// store.
func (p *Practice) objectRef(name string, size uint64, sum [sha256.Size]byte) *gp2gpv1.ObjectRef {
	return &gp2gpv1.ObjectRef{Bucket: bus.RecordsBucket(p.cfg.ODS), Name: name, Size: size, Sha256: hex.EncodeToString(sum[:])}
}
