package sender

import (
	"fmt"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/nhsengland/gp2gp/libs/bus"
	"github.com/nhsengland/gp2gp/libs/transfer"
	gp2gpv1 "github.com/nhsengland/gp2gp/proto/gp2gp/v1"
)

// records is the sending practice's records object store
// (bus.RecordsBucket): where its system puts the content it supplies by
// reference, and where the sender keeps the documents it sends after the
// Continue.
type records struct {
	store  jetstream.ObjectStore
	bucket string
	ods    string
}

// recordsOf is the records object store of t's practice, the sending one.
func (s *sender) recordsOf(t *transfer.Transfer) (records, error) {
	store, err := s.RecordsFor(t.Practice.ODS)
	if err != nil {
		return records{}, fmt.Errorf("transfer %s: %w", t.ConversationID, err)
	}
	p, _ := s.PracticeByODS(t.Practice.ODS) // served: RecordsFor found its store
	return records{store: store, bucket: bus.RecordsBucket(p.ODS), ods: p.ODS}, nil
}

// check refuses a reference to an object outside the practice's records
// store: whatever a vendor's credentials could reach, the sender sends a
// practice's records only from that practice's own store, never another
// practice's object or a bus message body. what names the reference in
// the error.
func (rs records) check(ref *gp2gpv1.ObjectRef, what string) error {
	if ref.GetBucket() != rs.bucket {
		return bus.Permanentf("%s in bucket %q; practice %s's records are read from %s only", what, ref.GetBucket(), rs.ods, rs.bucket)
	}
	return nil
}
