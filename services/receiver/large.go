package receiver

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/nhsengland/gp2gp/libs/bus"
	"github.com/nhsengland/gp2gp/libs/directory"
	"github.com/nhsengland/gp2gp/libs/ebxml"
	"github.com/nhsengland/gp2gp/libs/hl7"
	"github.com/nhsengland/gp2gp/libs/hl7/ehr"
	"github.com/nhsengland/gp2gp/libs/largemsg"
	"github.com/nhsengland/gp2gp/libs/stage"
	"github.com/nhsengland/gp2gp/libs/transfer"
	"github.com/nhsengland/gp2gp/libs/xmldoc"
	gp2gpv1 "github.com/nhsengland/gp2gp/proto/gp2gp/v1"
)

// timerParts is the receiver's deadline for the parts of a large message.
const timerParts = "parts"

// recordLimit bounds a reassembled skeleton extract read back to be parsed.
const recordLimit = 256 << 20

// large reports whether an extract goes through reassembly: it announces
// documents by mid:, it is a skeleton standing in for the real one, or a
// document it carries is compressed (EMIS compresses inline ones).
func large(env *ebxml.Message, s ehr.Summary) bool {
	if len(env.External) > 0 || s.Skeleton {
		return true
	}
	for _, a := range env.Attachments {
		if a.Description.Compressed {
			return true
		}
	}
	return false
}

// takeLarge takes a large extract: its inline documents are stored in rs,
// its state recorded, then the Continue asks for the rest (or, when
// everything came inline, the record is finished at once).
func (r *receiver) takeLarge(ctx context.Context, rs records, t *transfer.Transfer, env *ebxml.Message, extractID string, received transfer.Message, resent bool) error {
	a, err := largemsg.Expect(env)
	if err == nil {
		err = a.StoreInline(ctx, rs.parts(), env)
	}
	var ae *largemsg.AssemblyError
	if errors.As(err, &ae) {
		return r.reject(ctx, t, received, ae.Code, ae.Error())
	}
	if err != nil {
		return err
	}
	raw, err := json.Marshal(a)
	if err != nil {
		return err
	}
	due := r.Now().Add(r.partsTimeout(ctx, t, len(a.Expected)))
	t, err = r.Store.UpdateFrom(ctx, t, func(t *transfer.Transfer) error {
		if _, done := t.MessageByRole(transfer.RoleEHRExtract, transfer.Inbound); done {
			return nil // a concurrent delivery took it
		}
		t.RecordMessage(received)
		t.ExtractID = extractID
		t.Assembly = raw
		t.Documents = documentsOf(a)
		delete(t.Deadlines, timerExtract)
		if !a.Complete() {
			setDeadline(t, timerParts, due)
		}
		arrived := transfer.Reason{Detail: fmt.Sprintf("%s of %d bytes announcing %d documents, %d to follow",
			received.Interaction, received.Size, len(a.Expected), len(env.External))}
		if t.State == transfer.Failed && resent {
			return t.Reopen(transfer.ExtractReceived, arrived)
		}
		return t.Transition(transfer.ExtractReceived, arrived)
	})
	if err != nil && !errors.Is(err, transfer.ErrEventsPending) {
		return err
	}
	if m, ok := t.MessageByRole(transfer.RoleEHRExtract, transfer.Inbound); !ok || m.ID != received.ID {
		return nil
	}
	return r.resumeLarge(ctx, t, env)
}

// resumeLarge carries a large extract on from its recorded state: the
// Continue (again: it has the same id) or the finished record.
func (r *receiver) resumeLarge(ctx context.Context, t *transfer.Transfer, env *ebxml.Message) error {
	a, err := assemblyOf(t)
	if err != nil {
		return err
	}
	switch t.State {
	case transfer.ExtractReceived:
		if a.Complete() {
			return r.finishLarge(ctx, t, a)
		}
		t, err := r.sendContinue(ctx, t, env)
		if err != nil {
			return err
		}
		if err := r.Schedule(ctx, timerParts, t.ConversationID, t.Deadlines[timerParts]); err != nil {
			return err
		}
		// Every part may have come while the Continue was being recorded.
		if a, err := assemblyOf(t); err == nil && a.Complete() {
			return r.finishLarge(ctx, t, a)
		}
		return nil
	case transfer.ReadyToIntegrate, transfer.Integrated:
		if t.Record != nil && (t.State == transfer.ReadyToIntegrate || t.Record.AutoIntegrated) {
			rs, err := r.recordsOf(t)
			if err != nil {
				return err
			}
			var summary ehr.Summary
			if raw, err := rs.store.GetBytes(ctx, t.Record.Summary); err == nil {
				_ = json.Unmarshal(raw, &summary) // without it, placeholders are listed as documents
			}
			return r.handover(ctx, t, readyDocuments(rs, t, a, summary), nil, nil)
		}
	}
	return nil
}

// sendContinue asks the sending practice for the documents that follow
// the extract, and records that it did.
func (r *receiver) sendContinue(ctx context.Context, t *transfer.Transfer, env *ebxml.Message) (*transfer.Transfer, error) {
	extract, _ := t.MessageByRole(transfer.RoleEHRExtract, transfer.Inbound)
	id := hl7.DeriveID(t.ConversationID, "continue/"+extract.ID)
	c, err := largemsg.Continue(env, id, r.Now(), largemsg.WithRequestingODS(t.Practice.ODS), largemsg.WithSendingODS(t.Peer.ODS))
	if err != nil {
		return nil, bus.Permanent(fmt.Errorf("Continue for %s: %w", extract.ID, err))
	}
	c.ToASID, c.FromASID = t.Peer.ASID, t.Practice.ASID
	payload, err := c.Encode()
	if err != nil {
		return nil, bus.Permanent(err)
	}
	ep, err := r.SDS.Endpoint(ctx, t.Peer.ODS, string(hl7.CommonContentCOPC))
	if err != nil {
		return nil, err
	}
	if err := r.Send(ctx, stage.Wire{ConversationID: t.ConversationID, MessageID: id, Interaction: hl7.CommonContentCOPC,
		From: t.Practice, To: t.Peer, CPAID: ep.CPAID, Payload: payload}); err != nil {
		return nil, err
	}
	now := r.Now()
	updated, err := r.Store.UpdateFrom(ctx, t, func(t *transfer.Transfer) error {
		t.RecordMessage(transfer.Message{ID: id, Interaction: string(hl7.CommonContentCOPC), Direction: transfer.Outbound,
			At: now, Role: transfer.RoleContinue, Ref: extract.ID, Size: len(payload)})
		if t.State != transfer.ExtractReceived {
			return nil
		}
		return t.Transition(transfer.ContinueSent, transfer.Reason{Detail: fmt.Sprintf("waiting for %d documents", missingCount(t))})
	})
	if err != nil && !errors.Is(err, transfer.ErrEventsPending) {
		return nil, err
	}
	return updated, nil
}

// partsTimeout is how long the parts of a large message may take: A ×
// persist duration of the extract + B × parts × persist duration of a
// COPC, from SDS for the sending practice (protocol §4.1).
func (r *receiver) partsTimeout(ctx context.Context, t *transfer.Transfer, parts int) time.Duration {
	uk06, err1 := r.SDS.Endpoint(ctx, t.Peer.ODS, string(hl7.EHRExtractUK06))
	copc, err2 := r.SDS.Endpoint(ctx, t.Peer.ODS, string(hl7.CommonContentCOPC))
	if err := errors.Join(err1, err2); err != nil {
		r.Logger.WarnContext(ctx, "persist durations unavailable; the parts' wait uses the defaults", "error", err)
	}
	a, b := r.cfg.weights()
	d := directory.ExtractTimeout(uk06, copc, parts, a, b)
	if d <= 0 {
		d = time.Duration(parts+1) * 4 * time.Hour
	}
	return d
}

// handleCOPC takes one attachment message of a large extract: stores its
// part, acknowledges it, and finishes the record once every document is
// whole. undecodable is the error of an attachment of it that is not
// base64, if any.
func (r *receiver) handleCOPC(ctx context.Context, conv string, env *ebxml.Message, undecodable error) error {
	r.Received(ctx, string(hl7.CommonContentCOPC))
	id := env.Envelope.MessageID
	t, err := r.Store.Get(ctx, transfer.Requesting, conv)
	if errors.Is(err, transfer.ErrNotFound) {
		return bus.Permanentf("attachment message %s for conversation %s, which has no transfer here", id, conv)
	}
	if err != nil {
		return err
	}
	if c, _ := hl7.DecodeCOPC(env.Payload); c != nil && c.ToASID != "" && c.ToASID != t.Practice.ASID {
		return bus.Permanentf("attachment message %s for ASID %s in conversation %s, which is the transfer of %s here",
			id, c.ToASID, conv, t.Practice.ODS)
	}
	switch t.State {
	case transfer.ContinueSent:
	case transfer.ExtractReceived:
		if t.Assembly == nil {
			return r.nackCOPC(ctx, t, id, hl7.ReasonLargeMessageFailure, "no document of this extract follows it")
		}
	case transfer.RequestSent, transfer.RequestAcknowledged, transfer.Registered:
		return bus.RetryAfter(time.Second, fmt.Errorf("attachment message %s for %s before its extract is recorded", id, conv))
	case transfer.Failed, transfer.Rejected:
		return r.nackCOPC(ctx, t, id, lateCOPCCode(t), "the transfer has ended")
	default:
		if t.Assembly == nil {
			return r.nackCOPC(ctx, t, id, hl7.ReasonLargeMessageFailure, "no document of this extract follows it")
		}
		// Every document came already: a duplicate, acknowledged again.
	}
	if undecodable != nil {
		// Its document cannot be put together: the transfer fails (29).
		if err := r.nackCOPC(ctx, t, id, hl7.ReasonReassemblyFailure, undecodable.Error()); err != nil {
			return err
		}
		if t.State != transfer.ContinueSent && t.State != transfer.ExtractReceived {
			return nil // every document came already
		}
		return r.failLarge(ctx, t, hl7.ReasonReassemblyFailure, undecodable.Error())
	}
	rs, err := r.recordsOf(t)
	if err != nil {
		return err
	}

	var out largemsg.Outcome
	var finished *largemsg.Assembly
	now := r.Now()
	updated, err := r.Store.UpdateFrom(ctx, t, func(t *transfer.Transfer) error {
		a, err := assemblyOf(t)
		if err != nil {
			return err
		}
		if out, err = a.Receive(ctx, rs.parts(), env); err != nil {
			return err
		}
		raw, err := json.Marshal(a)
		if err != nil {
			return err
		}
		t.Assembly = raw
		t.Documents = documentsOf(a)
		if !out.Duplicate {
			t.RecordMessage(transfer.Message{ID: id, Interaction: string(hl7.CommonContentCOPC), Direction: transfer.Inbound,
				At: now, Role: transfer.RoleCOPC, Document: out.Document, Size: copcSize(env)})
		}
		finished = nil
		if a.Complete() {
			finished = a
		}
		return nil
	})
	var ae *largemsg.AssemblyError
	switch {
	case errors.As(err, &ae) && ae.Code == hl7.ReasonReassemblyFailure:
		// The document cannot be put together: the transfer fails (29).
		if nerr := r.nackCOPC(ctx, t, id, ae.Code, ae.Error()); nerr != nil {
			return nerr
		}
		return r.failLarge(ctx, t, ae.Code, ae.Error())
	case errors.As(err, &ae):
		return r.nackCOPC(ctx, t, id, ae.Code, ae.Error())
	case errors.Is(err, largemsg.ErrNoObject):
		return bus.RetryAfter(100*time.Millisecond, err) // another delivery finished the document first
	case err != nil && !errors.Is(err, transfer.ErrEventsPending):
		return err
	}
	t = updated
	if cerr := out.Cleanup(ctx, rs.parts()); cerr != nil {
		r.Logger.WarnContext(ctx, "parts of a finished document not deleted", "error", cerr)
	}
	if aerr := r.ackCOPC(ctx, t, id); aerr != nil {
		return aerr
	}
	if finished != nil && (t.State == transfer.ContinueSent || t.State == transfer.ExtractReceived) {
		return r.finishLarge(ctx, t, finished)
	}
	return err
}

// copcSize is the size of what a COPC carried.
func copcSize(env *ebxml.Message) int {
	n := 0
	for _, a := range env.Attachments {
		n += len(a.Data)
	}
	return n
}

// lateCOPCCode is the code of the NACK of an attachment message after the
// transfer ended (protocol §3.4): 25 after a timeout, 99 when the request
// was refused, else 30.
func lateCOPCCode(t *transfer.Transfer) hl7.ReasonCode {
	switch c := hl7.ReasonCode(t.LastChange().Reason.Code); {
	case c == hl7.ReasonLargeMessageTimeout:
		return hl7.ReasonLargeMessageTimeout
	case t.State == transfer.Failed:
		return hl7.ReasonUnexpectedCondition
	}
	return hl7.ReasonLargeMessageFailure
}

func (r *receiver) ackCOPC(ctx context.Context, t *transfer.Transfer, ref string) error {
	return r.AskAck(ctx, toPeer(t, "copc-ack/"+hl7.NormalizeID(ref), gp2gpv1.AckPurpose_ACK_PURPOSE_COPC, hl7.AckAccept, "", ref))
}

func (r *receiver) nackCOPC(ctx context.Context, t *transfer.Transfer, ref string, code hl7.ReasonCode, detail string) error {
	r.Logger.WarnContext(ctx, "attachment message refused", "message_id", ref, "reason_code", code, "detail", detail)
	return r.AskAck(ctx, toPeer(t, "copc-nack/"+hl7.NormalizeID(ref), gp2gpv1.AckPurpose_ACK_PURPOSE_COPC, hl7.NackType(code), code, ref))
}

// failLarge ends a large transfer with a NACK of the extract.
func (r *receiver) failLarge(ctx context.Context, t *transfer.Transfer, code hl7.ReasonCode, detail string) error {
	extract, _ := t.MessageByRole(transfer.RoleEHRExtract, transfer.Inbound)
	if err := r.finalAck(ctx, extract.ID, t, hl7.NackType(code), code); err != nil {
		return err
	}
	_, err := r.Store.UpdateFrom(ctx, t, func(t *transfer.Transfer) error {
		delete(t.Deadlines, timerParts)
		if t.State != transfer.ContinueSent && t.State != transfer.ExtractReceived {
			return nil
		}
		return t.Transition(transfer.Rejected, transfer.Reason{Code: string(code), Detail: detail})
	})
	return err
}

// finishLarge turns a reassembled large message into the record: the
// skeleton's original extract takes the skeleton's place, the record is
// stored and handed over like a small one.
func (r *receiver) finishLarge(ctx context.Context, t *transfer.Transfer, a *largemsg.Assembly) error {
	conv := t.ConversationID
	rs, err := r.recordsOf(t)
	if err != nil {
		return err
	}
	payload, err := extractOf(ctx, rs, t, a)
	if err != nil {
		return err
	}
	ex, derr := hl7.DecodeExtract(payload)
	if derr != nil {
		return r.failLarge(ctx, t, hl7.ReasonExtractMalformed, "the reassembled extract: "+derr.Error())
	}
	summary, err := ehr.Summarize(ex.Content)
	if err != nil {
		return r.failLarge(ctx, t, hl7.ReasonExtractMalformed, "the reassembled extract: "+err.Error())
	}
	_, skeleton := a.SkeletonID()
	rec, err := storeRecord(ctx, rs, conv, payload, summary, !skeleton)
	if err != nil {
		return err
	}
	returning, err := r.returning(ctx, t)
	if err != nil {
		return err
	}
	rec.Issues = issuesOf(t, ex, summary, returning)
	if m := a.Missing(); !m.Empty() && !hasIssue(rec.Issues, gp2gpv1.RecordIssue_RECORD_ISSUE_ATTACHMENTS_ABSENT) {
		rec.Issues = append(rec.Issues, gp2gpv1.RecordIssue_RECORD_ISSUE_ATTACHMENTS_ABSENT.String())
	}
	rec.AutoIntegrated = r.cfg.AutoIntegrate && len(rec.Issues) == 0
	t, err = r.Store.UpdateFrom(ctx, t, func(t *transfer.Transfer) error {
		if t.State != transfer.ContinueSent && t.State != transfer.ExtractReceived {
			return nil // finished by another delivery
		}
		t.Record = rec
		delete(t.Deadlines, timerParts)
		if err := t.Transition(transfer.ReadyToIntegrate, transfer.Reason{
			Detail: fmt.Sprintf("record of %d bytes and %d documents handed to the practice's system", len(payload), len(a.Documents()))}); err != nil {
			return err
		}
		if rec.AutoIntegrated {
			return t.Transition(transfer.Integrated, transfer.Reason{Detail: "integrated automatically: demographics match, nothing degraded or missing"})
		}
		return nil
	})
	if err != nil && !errors.Is(err, transfer.ErrEventsPending) {
		return err
	}
	if t.Record == nil || t.Record.Object != rec.Object || (t.State != transfer.ReadyToIntegrate && t.State != transfer.Integrated) {
		return err
	}
	return r.handover(ctx, t, readyDocuments(rs, t, a, summary), payload, err)
}

// extractOf is the extract a finished assembly stands for, read from rs:
// the core itself, or the skeleton's original, gunzipped by the assembly.
// The original is either a whole message or an EhrExtract spliced into the
// core's wrapper.
func extractOf(ctx context.Context, rs records, t *transfer.Transfer, a *largemsg.Assembly) ([]byte, error) {
	core, err := rs.store.GetBytes(ctx, coreObject(t.ConversationID))
	if err != nil {
		return nil, fmt.Errorf("the extract as received: %w", err)
	}
	id, ok := a.SkeletonID()
	if !ok {
		return core, nil
	}
	var obj string
	for _, d := range a.Documents() {
		if d.ID == id {
			obj = d.Object
		}
	}
	rc, err := rs.parts().Open(ctx, obj)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	original, err := io.ReadAll(io.LimitReader(rc, recordLimit+1))
	if err != nil {
		return nil, err
	}
	if len(original) > recordLimit {
		return nil, bus.Permanentf("the skeleton's original extract is over %d bytes", recordLimit)
	}
	if ex, err := hl7.DecodeExtract(original); err == nil && ex != nil {
		return original, nil
	}
	// An EhrExtract alone: put it in the core's wrapper.
	doc, perr := xmldoc.Parse(original, xmldoc.Limits{MaxBytes: recordLimit})
	skel, derr := hl7.DecodeExtract(core)
	if perr != nil || derr != nil || doc.Root().Tag != "EhrExtract" {
		return original, nil // DecodeExtract reports what is wrong with it
	}
	skel.Content = doc.Root()
	return skel.Encode()
}

// coreObject is where a large extract is kept as received.
func coreObject(conv string) string { return conv + "/received/extract.xml" }

// storeRecord keeps the record's summary, and its HL7 unless it is the
// core already kept as received (coreStored), in rs.
func storeRecord(ctx context.Context, rs records, conv string, payload []byte, summary ehr.Summary, coreStored bool) (*transfer.Record, error) {
	object := conv + "/extract.xml"
	if coreStored {
		object = coreObject(conv)
	} else if _, err := rs.put(ctx, object, payload); err != nil {
		return nil, err
	}
	sum, err := json.Marshal(summary)
	if err != nil {
		return nil, err
	}
	if _, err := rs.put(ctx, conv+"/summary.json", sum); err != nil {
		return nil, err
	}
	return &transfer.Record{Object: object, Summary: conv + "/summary.json", Size: int64(len(payload))}, nil
}

// readyDocuments are the documents record-ready lists: every finished one
// (referenced in rs, where it was put together) but the skeleton's
// original, and those that never came (a placeholder stands in).
func readyDocuments(rs records, t *transfer.Transfer, a *largemsg.Assembly, summary ehr.Summary) []*gp2gpv1.Attachment {
	var out []*gp2gpv1.Attachment
	skel, _ := a.SkeletonID()
	absent := absentDocuments(summary)
	for _, d := range a.Documents() {
		if d.ID == skel {
			continue
		}
		doc := &gp2gpv1.Attachment{DocumentId: d.ID, Filename: d.Filename, ContentType: d.ContentType, Size: uint64(d.Size),
			Content: &gp2gpv1.Content{Content: &gp2gpv1.Content_Object{Object: rs.ref(d.Object, uint64(d.Size), d.SHA256)}}}
		if reason, ok := absent[hl7.NormalizeID(d.ID)]; ok {
			doc.Absent, doc.AbsentReason = true, reason
			delete(absent, hl7.NormalizeID(d.ID))
		}
		out = append(out, doc)
	}
	out = append(out, absentOnly(summary, absent)...)
	for _, d := range t.Documents {
		if d.Absent {
			out = append(out, &gp2gpv1.Attachment{DocumentId: d.ID, Filename: d.Filename, ContentType: d.ContentType,
				Absent: true, AbsentReason: d.AbsentReason})
		}
	}
	return out
}

// handleTimer ends the wait for a large message's parts: documents that
// came in part fail the transfer with 25; documents that never came fail it
// with 31, or, with the placeholder policy, are handed over as absent.
func (r *receiver) handleTimer(ctx context.Context, timer bus.Timer) error {
	if timer.Kind != timerParts {
		return bus.Permanentf("receiver: unknown timer kind %q", timer.Kind)
	}
	ctx = bus.WithConversationID(ctx, timer.ConversationID)
	t, err := r.Store.Get(ctx, transfer.Requesting, timer.Key)
	if errors.Is(err, transfer.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if !stage.Due(t, timer) || (t.State != transfer.ContinueSent && t.State != transfer.ExtractReceived) {
		return nil
	}
	a, err := assemblyOf(t)
	if err != nil {
		return err
	}
	missing := a.Missing()
	code := missing.Reason()
	switch {
	case code == "":
		return r.finishLarge(ctx, t, a)
	case code == hl7.ReasonAttachmentsNotReceived && r.cfg.MissingAttachments == MissingPlaceholder:
		return r.placeholders(ctx, t, a, missing)
	}
	return r.failLarge(ctx, t, code, describeMissing(missing, timer.Due))
}

// placeholders hands a record over without the documents that never came,
// each flagged absent.
func (r *receiver) placeholders(ctx context.Context, t *transfer.Transfer, a *largemsg.Assembly, missing largemsg.MissingReport) error {
	reason := "not received from the sending practice in time; a placeholder stands in"
	t, err := r.Store.UpdateFrom(ctx, t, func(t *transfer.Transfer) error {
		for _, m := range missing.Absent {
			for i := range t.Documents {
				if t.Documents[i].ID == m.ID {
					t.Documents[i].Absent, t.Documents[i].AbsentReason = true, reason
				}
			}
		}
		return nil
	})
	if err != nil && !errors.Is(err, transfer.ErrEventsPending) {
		return err
	}
	return r.finishLarge(ctx, t, a)
}

func describeMissing(m largemsg.MissingReport, due time.Time) string {
	var b bytes.Buffer
	fmt.Fprintf(&b, "by %s", due.UTC().Format(time.RFC3339))
	for _, d := range m.Partial {
		fmt.Fprintf(&b, "; %s (%s) has %d of %d fragments", d.ID, d.Filename, d.Received, d.Parts)
	}
	for _, d := range m.Absent {
		fmt.Fprintf(&b, "; %s (%s) never came", d.ID, d.Filename)
	}
	return b.String()
}

func hasIssue(issues []string, i gp2gpv1.RecordIssue) bool {
	for _, have := range issues {
		if have == i.String() {
			return true
		}
	}
	return false
}

func assemblyOf(t *transfer.Transfer) (*largemsg.Assembly, error) {
	var a largemsg.Assembly
	if err := json.Unmarshal(t.Assembly, &a); err != nil {
		return nil, bus.Permanentf("the reassembly state of %s cannot be read: %v", t.ConversationID, err)
	}
	return &a, nil
}

// documentsOf is the timeline's view of an assembly's documents.
func documentsOf(a *largemsg.Assembly) []transfer.Document {
	out := make([]transfer.Document, 0, len(a.Expected))
	skel, _ := a.SkeletonID()
	for _, d := range a.Expected {
		meta := d.Metadata()
		doc := transfer.Document{ID: d.ID, Filename: meta.Filename, ContentType: meta.ContentType, Size: meta.Length,
			Compressed: meta.Compressed, Skeleton: d.ID == skel, Inline: d.Inline, MessageID: d.MessageID}
		for _, c := range d.Children {
			doc.Fragments = append(doc.Fragments, c.MessageID)
		}
		if d.Stored != nil {
			doc.Done, doc.Size, doc.Object = true, d.Stored.Size, d.Stored.Object
		}
		out = append(out, doc)
	}
	return out
}

func missingCount(t *transfer.Transfer) int {
	return t.CountDocuments(func(d transfer.Document) bool { return !d.Done })
}

func setDeadline(t *transfer.Transfer, kind string, due time.Time) {
	if t.Deadlines == nil {
		t.Deadlines = map[string]time.Time{}
	}
	t.Deadlines[kind] = due
}
