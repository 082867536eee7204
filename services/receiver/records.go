package receiver

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/nhsengland/gp2gp/libs/bus"
	"github.com/nhsengland/gp2gp/libs/largemsg"
	"github.com/nhsengland/gp2gp/libs/transfer"
	gp2gpv1 "github.com/nhsengland/gp2gp/proto/gp2gp/v1"
)

// records is where everything of one received transfer is kept: the
// requesting practice's records object store (bus.RecordsBucket), which
// its system reads the record from and no other practice's system can.
// The extract as received, its summary, the parts of a large message and
// the reassembled documents are all there, and every reference the
// receiver publishes names it.
type records struct {
	store  jetstream.ObjectStore
	bucket string
}

// recordsOf is the records object store of t's practice, the requesting
// one.
func (r *receiver) recordsOf(t *transfer.Transfer) (records, error) {
	store, err := r.RecordsFor(t.Practice.ODS)
	if err != nil {
		return records{}, fmt.Errorf("transfer %s: %w", t.ConversationID, err)
	}
	p, _ := r.PracticeByODS(t.Practice.ODS) // served: RecordsFor found its store
	return records{store: store, bucket: bus.RecordsBucket(p.ODS)}, nil
}

// put stores data as object name and returns its reference.
func (rs records) put(ctx context.Context, name string, data []byte) (*gp2gpv1.ObjectRef, error) {
	info, err := bus.PutObject(ctx, rs.store, name, data)
	if err != nil {
		return nil, fmt.Errorf("store %s in %s: %w", name, rs.bucket, err)
	}
	sum := sha256.Sum256(data)
	return rs.ref(info.Name, info.Size, hex.EncodeToString(sum[:])), nil
}

// ref is the reference to object name of size bytes (sha256 its
// lower-case hex SHA-256, or "" when not known).
func (rs records) ref(name string, size uint64, sha256 string) *gp2gpv1.ObjectRef {
	return &gp2gpv1.ObjectRef{Bucket: rs.bucket, Name: name, Size: size, Sha256: sha256}
}

// parts is the store a large message's parts and documents go to.
func (rs records) parts() largemsg.Store { return largemsg.ObjectStore(rs.store) }
