package sender

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/beevik/etree"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/nhsengland/gp2gp/libs/bus"
	"github.com/nhsengland/gp2gp/libs/ebxml"
	"github.com/nhsengland/gp2gp/libs/hl7"
	"github.com/nhsengland/gp2gp/libs/hl7/ehr"
	"github.com/nhsengland/gp2gp/libs/largemsg"
	"github.com/nhsengland/gp2gp/libs/stage"
	"github.com/nhsengland/gp2gp/libs/transfer"
	gp2gpv1 "github.com/nhsengland/gp2gp/proto/gp2gp/v1"
)

// source is one document of the record with where its bytes are: inline
// in the practice's answer (or made here, for the skeleton), or in the
// practice's records object store.
type source struct {
	doc    transfer.Document
	data   []byte             // inline bytes, or nil
	object *gp2gpv1.ObjectRef // object store reference, or nil
	meta   ebxml.Description  // the manifest description
}

// sources lists the record's documents that travel (absent ones are only
// named by the extract's placeholder reference), without reading any that
// are in the practice's records object store rs. A document referenced in
// any other bucket is refused (a permanent error).
func (s *sender) sources(ctx context.Context, rs records, t *transfer.Transfer, docs []*gp2gpv1.Attachment) ([]source, error) {
	var out []source
	for _, d := range docs {
		id := hl7.NormalizeID(d.DocumentId)
		if id == "" {
			return nil, bus.Permanentf("a document of the record has no id")
		}
		if d.Absent {
			out = append(out, placeholder(t, id, d))
			continue
		}
		ct := d.ContentType
		if ct == "" {
			ct = "application/octet-stream"
		}
		src := source{doc: transfer.Document{ID: id, Filename: d.Filename, ContentType: ct}}
		switch c := d.Content.GetContent().(type) {
		case *gp2gpv1.Content_Inline:
			src.data = c.Inline
			src.doc.Size = int64(len(c.Inline))
			if gz, ok := compress(ct, c.Inline); ok {
				src.data, src.doc.Size, src.doc.Compressed = gz, int64(len(gz)), true
			}
		case *gp2gpv1.Content_Object:
			ref := c.Object
			if err := rs.check(ref, "document "+id); err != nil {
				return nil, err
			}
			info, err := rs.store.GetInfo(ctx, ref.Name)
			if errors.Is(err, jetstream.ErrObjectNotFound) {
				return nil, bus.Permanentf("document %s (%s) is not in %s", id, ref.Name, rs.bucket)
			}
			if err != nil {
				return nil, err
			}
			if ref.Size != 0 && ref.Size != info.Size {
				return nil, bus.Permanentf("document %s is %d bytes in the object store, not %d", id, info.Size, ref.Size)
			}
			src.object = ref
			src.doc.Size = int64(info.Size)
			src.doc.Object = ref.Name
		default:
			return nil, bus.Permanentf("document %s has no content", id)
		}
		src.meta = ebxml.Description{Filename: d.Filename, ContentType: ct, Compressed: src.doc.Compressed, Length: src.doc.Size, HasLength: true}
		out = append(out, src)
	}
	return out, nil
}

// placeholder is the document sent in place of one the practice's system
// could not supply (protocol §4.5): AbsentAttachment<id>.txt, which the
// extract already refers to, saying what is missing and why.
func placeholder(t *transfer.Transfer, id string, d *gp2gpv1.Attachment) source {
	why := d.AbsentReason
	if why == "" {
		why = "Unable to determine problem"
	}
	text := fmt.Sprintf("The original document %q could not be included in this GP2GP transfer.\r\n%s:%s\r\nReason:06:%s\r\n",
		d.Filename, t.Practice.ODS, t.ConversationID, why)
	name := ehr.AbsentFilename(id)
	return source{
		doc:  transfer.Document{ID: id, Filename: name, ContentType: "text/plain", Size: int64(len(text)), Absent: true, AbsentReason: why},
		data: []byte(text),
		meta: ebxml.Description{Filename: name, ContentType: "text/plain", Length: int64(len(text)), HasLength: true},
	}
}

// compress gzips a text document (the protocol lets any document travel
// compressed, Compressed=Yes; text gains, images and PDFs do not), when
// that makes it smaller. Documents in the object store travel as they are.
func compress(contentType string, data []byte) ([]byte, bool) {
	ct := strings.ToLower(contentType)
	if len(data) < 256 || !(strings.HasPrefix(ct, "text/") || strings.HasSuffix(ct, "/xml") ||
		strings.HasSuffix(ct, "+xml") || strings.HasSuffix(ct, "/json") || ct == "application/rtf") {
		return nil, false
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	if _, err := zw.Write(data); err != nil {
		return nil, false
	}
	if err := zw.Close(); err != nil || gz.Len() >= len(data) {
		return nil, false
	}
	return gz.Bytes(), true
}

// skeleton turns an extract too large to travel whole into a skeleton:
// the whole message, gzipped, becomes the first document, and the payload
// a skeleton extract referring to it (protocol §3.2). ex is changed to
// carry the skeleton.
func (s *sender) skeleton(t *transfer.Transfer, ex *hl7.Extract, root *etree.Element, payload []byte) ([]byte, source, error) {
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	if _, err := zw.Write(payload); err != nil {
		return nil, source{}, err
	}
	if err := zw.Close(); err != nil {
		return nil, source{}, err
	}
	attempt := t.Attempt()
	doc := ehr.SkeletonDocument{
		ID:            hl7.DeriveID(t.ConversationID, attemptName("skeleton", attempt)),
		Filename:      "Original-EHR-Extract-" + ex.ExtractID + ".xml.gz",
		StatementID:   hl7.DeriveID(t.ConversationID, attemptName("skeleton/statement", attempt)),
		CompositionID: hl7.DeriveID(t.ConversationID, attemptName("skeleton/composition", attempt)),
		Time:          ex.CreationTime,
	}
	skel, err := ehr.Skeleton(root, doc)
	if err != nil {
		return nil, source{}, err
	}
	ex.Content = skel // the skeleton travels as UK06: it holds no NOPAT entry
	out, err := ex.Encode()
	if err != nil {
		return nil, source{}, err
	}
	src := source{
		doc: transfer.Document{ID: doc.ID, Filename: doc.Filename, ContentType: "text/xml", Size: int64(gz.Len()),
			Compressed: true, Skeleton: true},
		data: gz.Bytes(),
		meta: ebxml.Description{Filename: doc.Filename, ContentType: "text/xml", Compressed: true,
			Length: int64(gz.Len()), HasLength: true, DomainData: ebxml.SkeletonDomainData},
	}
	return out, src, nil
}

// laidOut is a record ready to send: the extract's inline and external
// attachments and the documents to keep in the transfer.
type laidOut struct {
	attachments []ebxml.Attachment
	external    []ebxml.ExternalAttachment
	documents   []transfer.Document
}

// layout decides how each document travels beside payload, reads the
// inline ones, and keeps in the practice's records object store rs the
// bytes of external ones that came inline, so the COPCs can be sent from
// any instance after the Continue.
func (s *sender) layout(ctx context.Context, rs records, t *transfer.Transfer, payload []byte, srcs []source) (laidOut, error) {
	docs := make([]largemsg.Document, len(srcs))
	for i, src := range srcs {
		docs[i] = largemsg.Document{ID: src.doc.ID, Size: src.doc.Size}
	}
	attempt := t.Attempt()
	plan, err := largemsg.Layout(len(payload), docs, s.cfg.limits(), func(purpose string) string {
		return hl7.DeriveID(t.ConversationID, attemptName(purpose, attempt))
	})
	if err != nil {
		return laidOut{}, bus.Permanent(err)
	}
	var out laidOut
	for i, p := range plan.Documents {
		src := srcs[i]
		doc := src.doc
		meta := src.meta
		if p.Inline {
			data := src.data
			if data == nil {
				if data, err = s.content(ctx, rs, &gp2gpv1.Content{Content: &gp2gpv1.Content_Object{Object: src.object}}); err != nil {
					return laidOut{}, err
				}
			}
			doc.Inline, doc.Done = true, true
			out.attachments = append(out.attachments, ebxml.Attachment{
				ContentType: doc.ContentType, Base64: true, DocumentID: "_" + doc.ID, Data: data, Description: meta,
			})
		} else {
			doc.MessageID, doc.Fragments = p.MessageID, p.Fragments
			meta.LargeAttachment = p.Fragmented()
			if src.object == nil {
				doc.Object = t.ConversationID + "/outbound/" + attemptName("extract", attempt) + "/" + doc.ID
				if _, err := bus.PutObject(ctx, rs.store, doc.Object, src.data); err != nil {
					return laidOut{}, fmt.Errorf("keep document %s for its COPC: %w", doc.ID, err)
				}
			}
			out.external = append(out.external, ebxml.ExternalAttachment{DocumentID: "_" + doc.ID, MessageID: p.MessageID, Description: meta})
		}
		out.documents = append(out.documents, doc)
	}
	return out, nil
}

// handleContinue sends the documents that travel after the extract, once
// the requesting system asks for them.
func (s *sender) handleContinue(ctx context.Context, conv string, env *ebxml.Message) error {
	s.Received(ctx, string(hl7.CommonContentCOPC))
	c, err := hl7.DecodeCOPC(env.Payload)
	if c == nil || c.Kind != hl7.KindContinue {
		return bus.Permanentf("Continue for %s cannot be read: %v", conv, err)
	}
	t, err := s.Store.Get(ctx, transfer.Sending, conv)
	if errors.Is(err, transfer.ErrNotFound) {
		return bus.Permanentf("Continue for conversation %s, which has no EHR Request", conv)
	}
	if err != nil {
		return err
	}
	if c.ToASID != "" && c.ToASID != t.Practice.ASID {
		return bus.Permanentf("Continue for ASID %s in conversation %s, which is the transfer of %s here", c.ToASID, conv, t.Practice.ODS)
	}
	_, sent := t.MessageByRole(transfer.RoleEHRExtract, transfer.Outbound)
	if _, ours := t.FindMessage(c.AcknowledgedID); sent && !ours {
		return bus.Permanentf("Continue for %s names extract %s, which this transfer never sent", conv, c.AcknowledgedID)
	}
	switch {
	case t.State == transfer.RequestReceived || t.State == transfer.RecordRequested:
		return bus.RetryAfter(time.Second, fmt.Errorf("Continue for %s before its extract is recorded as sent", conv))
	case !sent:
		return bus.Permanentf("Continue for %s, whose request was not answered with an extract (%s)", conv, t.State)
	case !hl7.SameID(c.AcknowledgedID, t.ExtractID): // the latest extract's id is its message id
		s.Logger.WarnContext(ctx, "Continue names another extract; ignored", "acknowledged", c.AcknowledgedID, "extract", t.ExtractID)
		return nil
	}
	switch t.State {
	case transfer.ExtractSent:
		if !external(t) {
			s.Logger.InfoContext(ctx, "Continue for a record sent whole; ignored")
			return nil
		}
		now := s.Now()
		t, err = s.Store.UpdateFrom(ctx, t, func(t *transfer.Transfer) error {
			if t.State != transfer.ExtractSent {
				return nil
			}
			t.RecordMessage(transfer.Message{ID: c.MessageID, Interaction: string(hl7.CommonContentCOPC), Direction: transfer.Inbound,
				At: now, Role: transfer.RoleContinue, Ref: c.AcknowledgedID, Size: len(env.Payload)})
			return t.Transition(transfer.ContinueReceived, transfer.Reason{Detail: fmt.Sprintf("%d documents to send", countExternal(t))})
		})
		if err != nil {
			return err
		}
		return s.resume(ctx, t)
	case transfer.ContinueReceived, transfer.AttachmentsSent:
		// Every COPC may have gone while the request's acceptance that
		// follows them did not (a handler stopped, or the AckRequest
		// could not be published): resume repeats it, once.
		return s.resume(ctx, t)
	}
	s.Logger.InfoContext(ctx, "Continue again; ignored", "state", t.State)
	return nil
}

func external(t *transfer.Transfer) bool { return countExternal(t) > 0 }

func countExternal(t *transfer.Transfer) int {
	return t.CountDocuments(func(d transfer.Document) bool { return !d.Inline })
}

// sendDocuments sends, in order, every external document not yet sent,
// recording each once all its COPCs went, then the request's acceptance.
// A redelivered Continue (or a restart) carries on from the first document
// not recorded as sent; sending one again is harmless, the COPC ids being
// the same.
func (s *sender) sendDocuments(ctx context.Context, t *transfer.Transfer) error {
	for i := range t.Documents {
		d := t.Documents[i]
		if d.Inline || d.Done {
			continue
		}
		msgs, err := s.sendDocument(ctx, t, d)
		if err != nil {
			if bus.IsPermanent(err) {
				return s.failDocuments(ctx, t, d, err)
			}
			return err
		}
		t, err = s.Store.UpdateFrom(ctx, t, func(t *transfer.Transfer) error {
			for j := range t.Documents {
				if t.Documents[j].ID == d.ID && !t.Documents[j].Done {
					t.Documents[j].Done = true
					for _, m := range msgs {
						t.RecordMessage(m)
					}
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	t, err := s.Store.UpdateFrom(ctx, t, func(t *transfer.Transfer) error {
		if t.State != transfer.ContinueReceived {
			return nil
		}
		return t.Transition(transfer.AttachmentsSent, transfer.Reason{Detail: fmt.Sprintf("%d documents sent after the extract", countExternal(t))})
	})
	if err != nil {
		return err
	}
	return s.resume(ctx, t)
}

// failDocuments ends a transfer whose document cannot be sent: the
// extract was sent, so the request cannot be refused any more; the
// requesting side will time out waiting for it (and NACK with 25 or 31).
func (s *sender) failDocuments(ctx context.Context, t *transfer.Transfer, d transfer.Document, cause error) error {
	_, err := s.Store.UpdateFrom(ctx, t, func(t *transfer.Transfer) error {
		if t.Terminal() {
			return nil
		}
		delete(t.Deadlines, timerFinalAck)
		return t.Transition(transfer.Failed, transfer.Reason{Code: string(hl7.ReasonLargeMessageFailure),
			Detail: fmt.Sprintf("document %s (%s) cannot be sent: %v", d.ID, d.Filename, cause)})
	})
	return err
}

// sendDocument sends one external document: one COPC when it fits, else a
// fragment index and its fragments, read from the sending practice's
// records object store as a stream. It returns the messages sent.
func (s *sender) sendDocument(ctx context.Context, t *transfer.Transfer, d transfer.Document) ([]transfer.Message, error) {
	rs, err := s.recordsOf(t)
	if err != nil {
		return nil, err
	}
	obj, err := largemsg.ObjectStore(rs.store).Open(ctx, d.Object)
	if errors.Is(err, largemsg.ErrNoObject) {
		return nil, bus.Permanentf("document %s is no longer in %s (%s)", d.ID, rs.bucket, d.Object)
	}
	if err != nil {
		return nil, err
	}
	defer obj.Close()
	peerEP, err := s.SDS.Endpoint(ctx, t.Peer.ODS, string(hl7.CommonContentCOPC))
	if err != nil {
		return nil, err
	}
	now := s.Now()
	wire := func(id string, payload []byte, attachments []ebxml.Attachment, ext []ebxml.ExternalAttachment) error {
		err := s.Send(ctx, stage.Wire{ConversationID: t.ConversationID, MessageID: id, Interaction: hl7.CommonContentCOPC,
			From: t.Practice, To: t.Peer, CPAID: peerEP.CPAID, Payload: payload, Attachments: attachments, External: ext})
		return err
	}
	meta := ebxml.Description{Filename: d.Filename, ContentType: d.ContentType, Compressed: d.Compressed, Length: d.Size, HasLength: true}
	if d.Skeleton {
		meta.DomainData = ebxml.SkeletonDomainData
	}
	copc := func(id string) ([]byte, error) {
		c := &hl7.COPC{
			Wrapper: hl7.Wrapper{MessageID: id, CreationTime: now, ToASID: t.Peer.ASID, FromASID: t.Practice.ASID},
			Kind:    hl7.KindAttachment, Recipients: []string{t.Peer.ODS}, From: t.Practice.ODS,
			Subject: "Attachment: " + d.Filename, Reference: ehr.EncodeFilename(d.Filename),
		}
		return c.Encode()
	}
	record := func(id string, size int64, n, of int) transfer.Message {
		return transfer.Message{ID: id, Interaction: string(hl7.CommonContentCOPC), Direction: transfer.Outbound, At: now,
			Role: transfer.RoleCOPC, Size: int(size), Document: d.ID, Fragment: n, Fragments: of}
	}

	if len(d.Fragments) == 0 {
		data, err := io.ReadAll(io.LimitReader(obj, d.Size+1))
		if err != nil {
			return nil, err
		}
		if int64(len(data)) != d.Size {
			return nil, bus.Permanentf("document %s is %d bytes in the object store, not %d", d.ID, len(data), d.Size)
		}
		payload, err := copc(d.MessageID)
		if err != nil {
			return nil, bus.Permanent(err)
		}
		att := ebxml.Attachment{ContentType: d.ContentType, Base64: true, DocumentID: "_" + d.ID, Data: data, Description: meta}
		if err := wire(d.MessageID, payload, []ebxml.Attachment{att}, nil); err != nil {
			return nil, err
		}
		return []transfer.Message{record(d.MessageID, d.Size, 0, 0)}, nil
	}

	// The fragment index lists every fragment as a mid: (NIA-send's
	// layout), then each fragment travels in its own COPC.
	chunk := s.cfg.limits().ChunkBytes()
	fragMeta := func(n int, size int64) ebxml.Description {
		return ebxml.Description{Filename: fmt.Sprintf("%s_%d.messageattachment", d.MessageID, n), ContentType: "application/octet-stream",
			OriginalBase64: true, Length: size, HasLength: true}
	}
	var ext []ebxml.ExternalAttachment
	for i, id := range d.Fragments {
		size := min(chunk, d.Size-int64(i)*chunk)
		ext = append(ext, ebxml.ExternalAttachment{DocumentID: "_" + fragmentDocID(d.ID, i+1), MessageID: id, Description: fragMeta(i+1, size)})
	}
	payload, err := copc(d.MessageID)
	if err != nil {
		return nil, bus.Permanent(err)
	}
	if err := wire(d.MessageID, payload, nil, ext); err != nil {
		return nil, err
	}
	msgs := []transfer.Message{record(d.MessageID, d.Size, 0, len(d.Fragments))}
	err = largemsg.Chunks(obj, d.Size, chunk, func(n int, data []byte) error {
		id := d.Fragments[n-1]
		payload, err := copc(id)
		if err != nil {
			return bus.Permanent(err)
		}
		att := ebxml.Attachment{ContentType: "application/octet-stream", Base64: true, DocumentID: "_" + fragmentDocID(d.ID, n),
			Data: data, Description: fragMeta(n, int64(len(data)))}
		if err := wire(id, payload, []ebxml.Attachment{att}, nil); err != nil {
			return err
		}
		msgs = append(msgs, record(id, int64(len(data)), n, len(d.Fragments)))
		return nil
	})
	if errors.Is(err, largemsg.ErrSizeMismatch) {
		return nil, bus.Permanent(fmt.Errorf("document %s: %w", d.ID, err))
	}
	if err != nil {
		return nil, err
	}
	return msgs, nil
}

// fragmentDocID names fragment n of document id in manifests.
func fragmentDocID(id string, n int) string {
	return strings.ToUpper(id) + "-FRAGMENT-" + fmt.Sprint(n)
}
