package largemsg

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/nhsengland/gp2gp/libs/ebxml"
	"github.com/nhsengland/gp2gp/libs/hl7"
)

// ErrNotExtract is returned when Expect or StoreInline is given something
// that is not the extract of the assembly (nil, no ids, another extract).
var ErrNotExtract = errors.New("largemsg: not the extract of this assembly")

// AssemblyError is a reassembly failure, with the GP2GP reason code the
// negative acknowledgement should carry:
//
//   - hl7.ReasonLargeMessageFailure (30): a message that cannot be read or
//     does not belong (not a COPC, a Continue, a manifest naming a part it
//     lacks, an index nobody announced, a fragment id claimed twice), or an
//     extract whose manifest is inconsistent;
//   - hl7.ReasonReassemblyFailure (29): a document whose bytes do not
//     reassemble (bad base64, bad gzip, a Length that does not match,
//     base64 and binary fragments mixed).
//
// Both are permanent: receiving the same message again fails the same way.
type AssemblyError struct {
	// Code is the reason code for the negative acknowledgement.
	Code hl7.ReasonCode
	// MessageID is the message at fault (a COPC, or the extract), if known.
	MessageID string
	// Document is the id of the document at fault, if known.
	Document string
	// Reason says what is wrong.
	Reason string
	// Err is the underlying cause, if any.
	Err error
}

// Error describes the failure: "largemsg: reason <code>: message <id>:
// document <id>: <reason>[: <cause>]".
func (e *AssemblyError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "largemsg: reason %s", e.Code)
	if e.MessageID != "" {
		fmt.Fprintf(&b, ": message %s", e.MessageID)
	}
	if e.Document != "" {
		fmt.Fprintf(&b, ": document %s", e.Document)
	}
	b.WriteString(": ")
	b.WriteString(e.Reason)
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Unwrap returns the cause.
func (e *AssemblyError) Unwrap() error { return e.Err }

func asmUnreadable(msgID, format string, args ...any) *AssemblyError {
	return &AssemblyError{Code: hl7.ReasonLargeMessageFailure, MessageID: msgID, Reason: fmt.Sprintf(format, args...)}
}

// MaxOrphans bounds the parts an assembly keeps before a fragment index
// claims them (Assembly.Orphans). A sender sends a document's fragments
// and then its index, so orphans are the fragments of the few documents in
// flight; a thousand (gigabytes of fragments) is far more than any real
// sender leaves waiting, and keeps the assembly, which lives in the
// transfer record, well below the key-value store's value limit. A COPC
// beyond it is refused with code 30 and stores nothing: a flood of
// unannounced parts cannot fill the object store or the record.
const MaxOrphans = 1000

// Assembly is the reassembly state of one large extract (DESIGN.md,
// "Receiver"): which documents the extract announced, which of their parts
// have arrived, which are finished. It is a plain JSON value that the
// receiver keeps in the transfer record and updates with compare-and-set;
// the same state always marshals to the same bytes. The bytes themselves
// live in a Store:
//
//	<conv>/parts/<message id>          raw part carried by one COPC (base64 text if it travelled base64)
//	<conv>/parts/<index id>/<position> raw part carried inline by a fragment index
//	<conv>/attachments/<document id>   finished document
//
// where each id is path-escaped, so that one id is one name segment.
//
// An Assembly is not safe for concurrent use: each attempt of a
// compare-and-set loop works on its own copy (see Receive).
type Assembly struct {
	// Conversation is the conversation id of the transfer (upper-case).
	Conversation string `json:"conversation"`
	// ExtractID is the ebXML MessageId of the extract (upper-case).
	ExtractID string `json:"extractId"`
	// Expected lists every document the extract announced: its inline
	// attachments in order, then its mid: references in order.
	Expected []AssemblyDocument `json:"expected"`
	// Orphans are parts that came before the fragment index that claims
	// them, in order of arrival.
	Orphans []AssemblyPart `json:"orphans,omitempty"`
}

// AssemblyDocument is one document the extract announced and what has
// arrived of it.
type AssemblyDocument struct {
	// ID is the document id: the manifest eb:id without its leading "_"
	// (the content id or message id when there is none), made unique.
	ID string `json:"id"`
	// Description is the manifest description, written canonically
	// (ebxml.Description.String); Metadata parses it.
	Description string `json:"description"`
	// ContentType is the MIME part's content type of an inline document,
	// used when the description names none.
	ContentType string `json:"contentType,omitempty"`
	// Inline is set for an attachment carried by the extract itself.
	Inline bool `json:"inline,omitempty"`
	// ContentID is the content id of an inline document.
	ContentID string `json:"contentId,omitempty"`
	// MessageID is the id of the COPC that carries an external document
	// (its mid: reference), upper-case.
	MessageID string `json:"messageId,omitempty"`
	// Whole is set when that COPC carried the whole document.
	Whole *AssemblyPart `json:"whole,omitempty"`
	// Index is set when that COPC was a fragment index; Children are its
	// parts in order.
	Index    bool           `json:"index,omitempty"`
	Children []AssemblyPart `json:"children,omitempty"`
	// Stored is set once the document is finished.
	Stored *StoredDocument `json:"stored,omitempty"`
}

// Metadata returns the parsed Description.
func (d *AssemblyDocument) Metadata() ebxml.Description {
	return ebxml.ParseDescription(d.Description)
}

// AssemblyPart is one piece of a document's raw bytes.
type AssemblyPart struct {
	// MessageID is the COPC that carries it (upper-case); empty for a part
	// carried inline by a fragment index.
	MessageID string `json:"messageId,omitempty"`
	// Object is the Store name of its raw bytes.
	Object string `json:"object"`
	// Received is set once Object holds the part.
	Received bool `json:"received"`
	// Base64 is set when the part travelled base64 (Object holds the base64
	// text, white space removed).
	Base64 bool `json:"base64,omitempty"`
	// Size is the number of raw bytes stored.
	Size int64 `json:"size,omitempty"`
}

// StoredDocument is a finished document in the Store.
type StoredDocument struct {
	// ID is the document id.
	ID string `json:"id"`
	// Filename is the description's file name.
	Filename string `json:"filename,omitempty"`
	// ContentType is the description's content type (the MIME part's for
	// an inline document that names none).
	ContentType string `json:"contentType,omitempty"`
	// Size is the document's length in bytes, decoded and decompressed.
	Size int64 `json:"size"`
	// Object is its Store name, <conv>/attachments/<document id>.
	Object string `json:"object"`
	// SHA256 is the hex SHA-256 of its bytes, computed while writing them.
	SHA256 string `json:"sha256"`
	// Skeleton is set for the skeleton document: the real extract behind a
	// skeleton payload (DomainData "X-GP2GP-Skeleton: Yes"), still
	// wrapped.
	Skeleton bool `json:"skeleton,omitempty"`
}

// Expect starts the assembly of a large extract (the core): every inline
// attachment and every mid: reference becomes an expected document. It is
// pure; StoreInline then stores the inline attachments. An extract whose
// manifest is inconsistent (a mid: without a message id, or one message id
// announced twice) gives an *AssemblyError with code 30.
func Expect(core *ebxml.Message) (*Assembly, error) {
	if core == nil {
		return nil, fmt.Errorf("%w: no extract", ErrNotExtract)
	}
	a := &Assembly{
		Conversation: hl7.NormalizeID(core.Envelope.ConversationID),
		ExtractID:    hl7.NormalizeID(core.Envelope.MessageID),
		Expected:     make([]AssemblyDocument, 0, len(core.Attachments)+len(core.External)),
	}
	if a.Conversation == "" || a.ExtractID == "" {
		return nil, fmt.Errorf("%w: the extract has no conversation or message id", ErrNotExtract)
	}
	ids := map[string]bool{}
	for i, att := range core.Attachments {
		fallback := strings.TrimSpace(att.ContentID)
		if fallback == "" {
			fallback = "inline-" + strconv.Itoa(i)
		}
		a.Expected = append(a.Expected, AssemblyDocument{
			ID:          asmUniqueID(ids, att.DocumentID, fallback),
			Description: att.Description.String(),
			ContentType: att.ContentType,
			Inline:      true,
			ContentID:   att.ContentID,
		})
	}
	mids := map[string]bool{}
	for i, x := range core.External {
		mid := hl7.NormalizeID(x.MessageID)
		if mid == "" {
			return nil, asmUnreadable(a.ExtractID, "external attachment %d has no message id", i)
		}
		if mids[mid] || mid == a.ExtractID {
			return nil, asmUnreadable(a.ExtractID, "mid:%s is announced twice", mid)
		}
		mids[mid] = true
		a.Expected = append(a.Expected, AssemblyDocument{
			ID:          asmUniqueID(ids, x.DocumentID, mid),
			Description: x.Description.String(),
			MessageID:   mid,
		})
	}
	return a, nil
}

// asmUniqueID turns an eb:id into a document id: without its leading "_",
// or fallback when empty, with "-2", "-3"… appended when already taken.
func asmUniqueID(taken map[string]bool, ebID, fallback string) string {
	id := strings.TrimPrefix(strings.TrimSpace(ebID), "_")
	if id == "" {
		id = fallback
	}
	unique := id
	for n := 2; taken[unique]; n++ {
		unique = id + "-" + strconv.Itoa(n)
	}
	taken[unique] = true
	return unique
}

// StoreInline stores the extract's inline attachments as finished
// documents: ebxml has already decoded their base64, so each is gunzipped
// when its description says Compressed=Yes and written to
// <conv>/attachments/<document id>. core must be the extract given to
// Expect. Like Receive it changes a only on success, writes only
// idempotently (same names, same bytes) and may be retried; documents
// already stored are skipped. A document that does not decode gives an
// *AssemblyError with code 29.
func (a *Assembly) StoreInline(ctx context.Context, store Store, core *ebxml.Message) error {
	if core == nil || !hl7.SameID(core.Envelope.MessageID, a.ExtractID) {
		return fmt.Errorf("%w: expected extract %s", ErrNotExtract, a.ExtractID)
	}
	n := a.asmClone()
	next := 0
	for i := range n.Expected {
		d := &n.Expected[i]
		if !d.Inline {
			continue
		}
		if next >= len(core.Attachments) || !strings.EqualFold(core.Attachments[next].ContentID, d.ContentID) {
			return fmt.Errorf("%w: its attachments differ from the expected ones", ErrNotExtract)
		}
		att := &core.Attachments[next]
		next++
		if d.Stored != nil {
			continue
		}
		src := asmSource{open: func() (io.Reader, error) { return bytes.NewReader(att.Data), nil }, base64: false}
		stored, err := n.asmFinish(ctx, store, d, []asmSource{src}, a.ExtractID, asmWantLength(d, true))
		if err != nil {
			return err
		}
		d.Stored = &stored
	}
	*a = *n
	return nil
}

// Role is what a received COPC turned out to be.
type Role string

// The roles of a received COPC.
const (
	// RoleDocument: the whole of a document the extract announced.
	RoleDocument Role = "document"
	// RoleIndex: the fragment index of a document the extract announced.
	RoleIndex Role = "index"
	// RoleFragment: a fragment some index announced.
	RoleFragment Role = "fragment"
	// RoleOrphan: a message nobody announced yet, kept until an index
	// claims it (a fragment that came before its index).
	RoleOrphan Role = "orphan"
)

// Outcome is what Receive made of a COPC.
type Outcome struct {
	// MessageID is the COPC's ebXML MessageId (upper-case).
	MessageID string
	// Role is what the COPC was.
	Role Role
	// Document is the id of the document it belongs to (empty for an
	// orphan).
	Document string
	// Duplicate is set when the COPC had already been received: nothing
	// changed and nothing was written; acknowledge it again.
	Duplicate bool
	// Completed lists the documents this COPC finished.
	Completed []StoredDocument
	// Discard lists the part objects of the finished documents. Delete
	// them (Cleanup) only after the new state is committed.
	Discard []string
}

// Cleanup deletes the Discard objects. Call it once the state Receive
// produced is committed; deleting is idempotent.
func (o Outcome) Cleanup(ctx context.Context, store Store) error {
	var errs []error
	for _, name := range o.Discard {
		if err := store.Delete(ctx, name); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Receive takes one COPC of the transfer, keyed by its ebXML MessageId
// (compared without case):
//
//   - the id of a document the extract announced, carrying one
//     attachment: the whole document;
//   - the same, carrying more than one attachment or any mid: reference: a
//     fragment index, whose manifest references after the HL7 payload are
//     the document's parts in order (a cid: part is in this message and is
//     stored as <index id>/<position>, since EMIS reuses content ids; a
//     mid: part comes in its own COPC, or already came as an orphan);
//   - the id of a part some index announced: a fragment;
//   - an unknown id: a fragment that came before its index, stored as an
//     orphan (an unknown index is refused: nobody announced it);
//   - an id already received: a duplicate, which changes nothing.
//
// When all of a document's parts are stored the document is finished: the
// parts are read back in order as one stream, base64-decoded if they
// travelled base64, gunzipped if the description says Compressed=Yes, and
// written to <conv>/attachments/<document id> with its SHA-256 computed on
// the way; nothing holds a whole document in memory. Length= is checked
// only for a document that arrived whole (inline or in one COPC) and is
// not a LargeAttachment, against the bytes carried (after base64, before
// gunzip): EMIS gives the compressed length there and TPP the file length,
// which agree with that reading, while for fragmented documents vendors
// disagree (Vision's core repeats the first fragment's Length, TPP's is the
// sum of its fragments' Lengths), so neither a fragmented document's
// Length nor its fragments' are checked.
//
// # Compare-and-set contract
//
// Receive may be called inside a compare-and-set retry loop: load the
// record, call Receive on its Assembly, try to commit; on a conflict reload
// and call Receive again with the same message. This is safe because
//
//   - every write is idempotent: a part goes to a name derived from the
//     message id (and position) with bytes taken from the message, and a
//     finished document goes to a name derived from its id with bytes
//     derived from those parts, so a retry writes the same bytes to the
//     same names;
//   - the change to a is a function of the state, the message and those
//     objects only, and is made only when Receive succeeds: on an error a
//     is unchanged;
//   - Receive never deletes. Parts of finished documents are listed in
//     Outcome.Discard for Outcome.Cleanup after the commit, because a retry
//     from the old state still needs them.
//
// Errors: an *AssemblyError is permanent (code 30: NACK the COPC; code 29:
// the transfer fails). Any other error comes from the Store or the context
// and is transient: retry with a freshly loaded state. In particular a
// part that is gone (ErrNoObject) usually means a concurrent receiver
// finished the document and cleaned up; the fresh state shows it done.
//
// The caller routes messages by conversation; Receive does not compare the
// COPC's ConversationId with the assembly's.
func (a *Assembly) Receive(ctx context.Context, store Store, m *ebxml.Message) (Outcome, error) {
	if m == nil {
		return Outcome{}, asmUnreadable("", "no message")
	}
	id := hl7.NormalizeID(m.Envelope.MessageID)
	out := Outcome{MessageID: id}
	if id == "" {
		return out, asmUnreadable("", "the message has no ebXML MessageId")
	}
	if action := strings.TrimSpace(m.Envelope.Action); action != "" && !strings.EqualFold(action, string(hl7.CommonContentCOPC)) {
		return out, asmUnreadable(id, "%s is not a COPC", action)
	}
	copc, err := hl7.DecodeCOPC(m.Payload)
	if err != nil {
		return out, &AssemblyError{Code: hl7.ReasonLargeMessageFailure, MessageID: id, Reason: "unreadable COPC payload", Err: err}
	}
	if copc.Kind == hl7.KindContinue {
		return out, asmUnreadable(id, "a Continue carries no document")
	}
	refs, err := asmReferences(m)
	if err != nil {
		return out, &AssemblyError{Code: hl7.ReasonLargeMessageFailure, MessageID: id, Reason: "unreadable manifest", Err: err}
	}
	if len(refs) == 0 {
		return out, asmUnreadable(id, "the COPC carries no attachment")
	}
	index := len(refs) > 1 || refs[0].mid != ""

	n := a.asmClone()
	docIdx, childIdx, orphanIdx := n.asmLocate(id)
	switch {
	case docIdx >= 0 && childIdx < 0:
		d := &n.Expected[docIdx]
		out.Document = d.ID
		out.Role = RoleDocument
		if d.Index {
			out.Role = RoleIndex
		}
		if d.Whole != nil || d.Index || d.Stored != nil {
			out.Duplicate = true
			return out, nil
		}
		if index {
			out.Role = RoleIndex
			if err := n.asmTakeIndex(ctx, store, d, id, refs); err != nil {
				return out, err
			}
		} else {
			part, err := asmPutPart(ctx, store, n.asmPartObject(id), refs[0].att)
			if err != nil {
				return out, err
			}
			part.MessageID = id
			d.Whole = &part
		}
	case docIdx >= 0:
		d := &n.Expected[docIdx]
		c := &d.Children[childIdx]
		out.Document, out.Role = d.ID, RoleFragment
		if c.Received {
			out.Duplicate = true
			return out, nil
		}
		if index {
			return out, asmUnreadable(id, "fragment of document %s is itself an index", d.ID)
		}
		part, err := asmPutPart(ctx, store, c.Object, refs[0].att)
		if err != nil {
			return out, err
		}
		part.MessageID = id
		*c = part
	case orphanIdx >= 0:
		out.Role, out.Duplicate = RoleOrphan, true
		return out, nil
	default:
		if index {
			return out, asmUnreadable(id, "fragment index for a document the extract never announced")
		}
		if len(n.Orphans) >= MaxOrphans {
			return out, asmUnreadable(id, "%d parts already wait for a fragment index to claim them; no more are kept", MaxOrphans)
		}
		part, err := asmPutPart(ctx, store, n.asmPartObject(id), refs[0].att)
		if err != nil {
			return out, err
		}
		part.MessageID = id
		n.Orphans = append(n.Orphans, part)
		out.Role = RoleOrphan
		*a = *n
		return out, nil
	}

	d := &n.Expected[docIdx]
	if d.Stored == nil {
		if sources, ok := n.asmReady(ctx, store, d); ok {
			stored, err := n.asmFinish(ctx, store, d, sources, id, asmWantLength(d, d.Whole != nil))
			if err != nil {
				return out, err
			}
			d.Stored = &stored
			out.Completed = append(out.Completed, stored)
			out.Discard = asmPartObjects(d)
		}
	}
	*a = *n
	return out, nil
}

// asmLocate finds what id is: a document's COPC (child -1), one of a
// document's index parts, or an orphan. Missing: -1.
func (a *Assembly) asmLocate(id string) (doc, child, orphan int) {
	for i := range a.Expected {
		d := &a.Expected[i]
		if d.MessageID == id {
			return i, -1, -1
		}
		for j := range d.Children {
			if d.Children[j].MessageID == id {
				return i, j, -1
			}
		}
	}
	for i := range a.Orphans {
		if a.Orphans[i].MessageID == id {
			return -1, -1, i
		}
	}
	return -1, -1, -1
}

// asmTakeIndex records the fragment index id of document d: its parts in
// order, storing those it carries and adopting orphans.
func (a *Assembly) asmTakeIndex(ctx context.Context, store Store, d *AssemblyDocument, id string, refs []asmRef) error {
	seen := map[string]bool{}
	children := make([]AssemblyPart, 0, len(refs))
	adopted := map[string]bool{}
	for pos, r := range refs {
		if r.att != nil {
			part, err := asmPutPart(ctx, store, a.asmPartObject(id)+"/"+strconv.Itoa(pos), r.att)
			if err != nil {
				return err
			}
			children = append(children, part)
			continue
		}
		if seen[r.mid] || r.mid == id || r.mid == a.ExtractID {
			return asmUnreadable(id, "index of document %s names mid:%s twice", d.ID, r.mid)
		}
		seen[r.mid] = true
		if doc, _, orphan := a.asmLocate(r.mid); doc >= 0 {
			return asmUnreadable(id, "index of document %s names mid:%s, which belongs to document %s", d.ID, r.mid, a.Expected[doc].ID)
		} else if orphan >= 0 {
			children = append(children, a.Orphans[orphan])
			adopted[r.mid] = true
			continue
		}
		children = append(children, AssemblyPart{MessageID: r.mid, Object: a.asmPartObject(r.mid)})
	}
	a.Orphans = slices.DeleteFunc(a.Orphans, func(p AssemblyPart) bool { return adopted[p.MessageID] })
	if len(a.Orphans) == 0 {
		a.Orphans = nil
	}
	d.Index, d.Children = true, children
	return nil
}

// asmReady reports whether every part of d is stored and returns them as
// sources to read in order.
func (a *Assembly) asmReady(ctx context.Context, store Store, d *AssemblyDocument) ([]asmSource, bool) {
	var parts []AssemblyPart
	switch {
	case d.Whole != nil:
		parts = []AssemblyPart{*d.Whole}
	case d.Index:
		parts = d.Children
	default:
		return nil, false
	}
	sources := make([]asmSource, 0, len(parts))
	for _, p := range parts {
		if !p.Received {
			return nil, false
		}
		name := p.Object
		sources = append(sources, asmSource{
			open:   func() (io.Reader, error) { return store.Open(ctx, name) },
			base64: p.Base64,
		})
	}
	return sources, true
}

// asmWantLength is the Length= to check for d (-1: none): only for a
// document that arrived whole and is not a LargeAttachment.
func asmWantLength(d *AssemblyDocument, whole bool) int64 {
	desc := d.Metadata()
	if !whole || !desc.HasLength || desc.LargeAttachment {
		return -1
	}
	return desc.Length
}

// asmFinish writes document d from its sources and describes the result.
func (a *Assembly) asmFinish(ctx context.Context, store Store, d *AssemblyDocument, sources []asmSource, msgID string, wantLength int64) (StoredDocument, error) {
	desc := d.Metadata()
	name := a.asmAttachmentObject(d.ID)
	size, sum, err := asmWrite(ctx, store, name, sources, desc.Compressed, wantLength, defaultExpansion)
	if err != nil {
		var ae *AssemblyError
		if errors.As(err, &ae) {
			ae.MessageID, ae.Document = msgID, d.ID
		}
		return StoredDocument{}, err
	}
	contentType := desc.ContentType
	if contentType == "" {
		contentType = d.ContentType
	}
	return StoredDocument{
		ID:          d.ID,
		Filename:    desc.Filename,
		ContentType: contentType,
		Size:        size,
		Object:      name,
		SHA256:      sum,
		Skeleton:    desc.Skeleton(),
	}, nil
}

func asmPartObjects(d *AssemblyDocument) []string {
	if d.Whole != nil {
		return []string{d.Whole.Object}
	}
	names := make([]string, 0, len(d.Children))
	for _, c := range d.Children {
		names = append(names, c.Object)
	}
	return names
}

// PartObjects lists the Store names of every part the assembly knows of,
// received or not, finished or not, orphans included: what a final sweep
// deletes when the transfer ends (for instance if Cleanup never ran).
func (a *Assembly) PartObjects() []string {
	var names []string
	for i := range a.Expected {
		names = append(names, asmPartObjects(&a.Expected[i])...)
	}
	for _, o := range a.Orphans {
		names = append(names, o.Object)
	}
	return names
}

func (a *Assembly) asmPartObject(messageID string) string {
	return url.PathEscape(a.Conversation) + "/parts/" + url.PathEscape(messageID)
}

func (a *Assembly) asmAttachmentObject(docID string) string {
	return url.PathEscape(a.Conversation) + "/attachments/" + url.PathEscape(docID)
}

// asmPutPart stores an attachment's raw bytes: its base64 text if it
// travelled base64, else its content.
func asmPutPart(ctx context.Context, store Store, name string, att *ebxml.Attachment) (AssemblyPart, error) {
	raw := att.Data
	if att.Base64 {
		raw = att.Encoded
		if raw == nil {
			// Built in memory rather than parsed: encode the content.
			raw = base64.StdEncoding.AppendEncode(nil, att.Data)
		}
	}
	size, err := store.Put(ctx, name, bytes.NewReader(raw))
	if err != nil {
		return AssemblyPart{}, err
	}
	return AssemblyPart{Object: name, Received: true, Base64: att.Base64, Size: size}, nil
}

// asmRef is one manifest reference after the HL7 payload: an attachment
// of this message (cid:) or another message (mid:).
type asmRef struct {
	att *ebxml.Attachment
	mid string
}

// asmReferences lists m's attachments and mid: references in manifest
// order, leaving out the HL7 payload reference (the one marked Payload,
// else the one naming the payload part, else the first). Attachments the
// manifest does not name follow in their own order. A message built in
// memory has no received manifest: its attachments come first, then its
// external references.
func asmReferences(m *ebxml.Message) ([]asmRef, error) {
	used := make([]bool, len(m.Attachments))
	var refs []asmRef
	manifest := m.Envelope.Manifest
	if len(manifest) == 0 {
		for _, x := range m.External {
			mid := hl7.NormalizeID(x.MessageID)
			if mid == "" {
				return nil, errors.New("external attachment without a message id")
			}
			refs = append(refs, asmRef{mid: mid})
		}
	} else {
		payload := slices.IndexFunc(manifest, func(r ebxml.Reference) bool { return r.Payload })
		if payload < 0 && m.PayloadContentID != "" {
			payload = slices.IndexFunc(manifest, func(r ebxml.Reference) bool {
				return r.IsCID() && strings.EqualFold(r.Target(), m.PayloadContentID)
			})
		}
		if payload < 0 {
			payload = 0
		}
		for i, r := range manifest {
			switch {
			case i == payload:
			case r.IsMID():
				mid := hl7.NormalizeID(r.Target())
				if mid == "" {
					return nil, fmt.Errorf("manifest reference %d: empty mid:", i)
				}
				refs = append(refs, asmRef{mid: mid})
			case r.IsCID():
				k := asmMatchAttachment(m.Attachments, used, r.Target())
				if k < 0 {
					return nil, fmt.Errorf("manifest reference %d: no attachment for %s", i, r.Href)
				}
				used[k] = true
				refs = append(refs, asmRef{att: &m.Attachments[k]})
			default:
				return nil, fmt.Errorf("manifest reference %d: %q is neither cid: nor mid:", i, r.Href)
			}
		}
	}
	var inline []asmRef
	for k := range m.Attachments {
		if !used[k] {
			inline = append(inline, asmRef{att: &m.Attachments[k]})
		}
	}
	if len(manifest) == 0 {
		return append(inline, refs...), nil
	}
	return append(refs, inline...), nil
}

// asmMatchAttachment finds the unused attachment with content id cid, or
// else the first unused one.
func asmMatchAttachment(atts []ebxml.Attachment, used []bool, cid string) int {
	for k := range atts {
		if !used[k] && strings.EqualFold(strings.Trim(atts[k].ContentID, "<> "), cid) {
			return k
		}
	}
	for k := range atts {
		if !used[k] {
			return k
		}
	}
	return -1
}

func (a *Assembly) asmClone() *Assembly {
	n := *a
	n.Expected = make([]AssemblyDocument, len(a.Expected))
	for i, d := range a.Expected {
		if d.Whole != nil {
			w := *d.Whole
			d.Whole = &w
		}
		if d.Stored != nil {
			s := *d.Stored
			d.Stored = &s
		}
		d.Children = slices.Clone(d.Children)
		n.Expected[i] = d
	}
	n.Orphans = slices.Clone(a.Orphans)
	return &n
}

// Complete reports whether every expected document is finished.
func (a *Assembly) Complete() bool {
	for i := range a.Expected {
		if a.Expected[i].Stored == nil {
			return false
		}
	}
	return true
}

// Documents lists the finished documents, in the order the extract
// announced them.
func (a *Assembly) Documents() []StoredDocument {
	var docs []StoredDocument
	for i := range a.Expected {
		if s := a.Expected[i].Stored; s != nil {
			docs = append(docs, *s)
		}
	}
	return docs
}

// SkeletonID returns the id of the skeleton document, the one whose
// description carries DomainData "X-GP2GP-Skeleton: Yes": once it is
// finished, the caller unwraps it into the real extract.
func (a *Assembly) SkeletonID() (string, bool) {
	for i := range a.Expected {
		if a.Expected[i].Metadata().Skeleton() {
			return a.Expected[i].ID, true
		}
	}
	return "", false
}

// MissingReport says what has not arrived, for the transfer timeout.
type MissingReport struct {
	// Partial lists fragmented documents whose index came but not all of
	// their fragments (reason 25 on timeout).
	Partial []MissingDocument `json:"partial,omitempty"`
	// Absent lists documents of which nothing came: neither their COPC
	// nor, for inline documents, StoreInline (reason 31 on timeout).
	Absent []MissingDocument `json:"absent,omitempty"`
	// Orphans lists the message ids of parts no index claimed.
	Orphans []string `json:"orphans,omitempty"`
}

// MissingDocument is a document that is not finished.
type MissingDocument struct {
	// ID, Filename and MessageID identify the document and its COPC.
	ID        string `json:"id"`
	Filename  string `json:"filename,omitempty"`
	MessageID string `json:"messageId,omitempty"`
	// Parts is the number of parts its index announced (0 when absent).
	Parts int `json:"parts,omitempty"`
	// Received is how many of them are stored.
	Received int `json:"received,omitempty"`
	// MissingParts lists the message ids of the fragments not received.
	MissingParts []string `json:"missingParts,omitempty"`
}

// Empty reports whether nothing is missing.
func (r MissingReport) Empty() bool {
	return len(r.Partial) == 0 && len(r.Absent) == 0
}

// Reason is the reason code for failing the transfer on timeout: 25 when
// a fragmented document is partly there (that takes precedence: the
// sender started and stopped), else 31 when documents never came, else "".
func (r MissingReport) Reason() hl7.ReasonCode {
	switch {
	case len(r.Partial) > 0:
		return hl7.ReasonLargeMessageTimeout
	case len(r.Absent) > 0:
		return hl7.ReasonAttachmentsNotReceived
	}
	return ""
}

// Missing reports the documents that are not finished, split into those
// partly received and those not received at all, and the orphans.
func (a *Assembly) Missing() MissingReport {
	var r MissingReport
	for i := range a.Expected {
		d := &a.Expected[i]
		if d.Stored != nil {
			continue
		}
		md := MissingDocument{ID: d.ID, Filename: d.Metadata().Filename, MessageID: d.MessageID}
		switch {
		case d.Index:
			md.Parts = len(d.Children)
			for _, c := range d.Children {
				if c.Received {
					md.Received++
				} else {
					md.MissingParts = append(md.MissingParts, c.MessageID)
				}
			}
			r.Partial = append(r.Partial, md)
		case d.Whole != nil:
			// Stored but not finished: only if finishing failed and the
			// state was saved anyway.
			md.Parts, md.Received = 1, 1
			r.Partial = append(r.Partial, md)
		default:
			r.Absent = append(r.Absent, md)
		}
	}
	for _, o := range a.Orphans {
		r.Orphans = append(r.Orphans, o.MessageID)
	}
	return r
}

// asmSource is one part to read when finishing a document.
type asmSource struct {
	open   func() (io.Reader, error)
	base64 bool
}

// asmLazy opens its source on the first Read and closes it at its end, so
// that a document of many fragments holds one open object at a time.
type asmLazy struct {
	src  asmSource
	r    io.Reader
	done bool
}

func (l *asmLazy) Read(p []byte) (int, error) {
	if l.done {
		return 0, io.EOF
	}
	if l.r == nil {
		r, err := l.src.open()
		if err != nil {
			return 0, err
		}
		l.r = r
	}
	n, err := l.r.Read(p)
	if err == io.EOF {
		l.close()
	}
	return n, err
}

func (l *asmLazy) close() {
	if c, ok := l.r.(io.Closer); ok {
		_ = c.Close() // read-only: nothing to lose
	}
	l.r, l.done = nil, true
}

// asmTap remembers the first error other than io.EOF its reader returns,
// to tell where a failure comes from.
type asmTap struct {
	r   io.Reader
	err error
}

func (t *asmTap) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	if err != nil && err != io.EOF && t.err == nil {
		t.err = err
	}
	return n, err
}

// asmCounter counts the bytes read through it and, when want >= 0, fails
// at the end if the count differs.
type asmCounter struct {
	r    io.Reader
	n    int64
	want int64
}

func (c *asmCounter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	if err == io.EOF && c.want >= 0 && c.n != c.want {
		return n, asmLengthError(c.n, c.want)
	}
	return n, err
}

func asmLengthError(got, want int64) error {
	return fmt.Errorf("%d bytes carried where the description says Length=%d", got, want)
}

func asmReassembly(reason string, err error) *AssemblyError {
	return &AssemblyError{Code: hl7.ReasonReassemblyFailure, Reason: reason, Err: err}
}

// Decompression limits. A document marked Compressed=Yes is gunzipped as
// it is written, and gzip turns a few kilobytes into gigabytes (a
// "decompression bomb"), so what it may expand to is bounded:
//
//   - MaxDecompressedSize bounds the gunzipped document. Receiving
//     systems file any document over 100 MB as a placeholder (protocol
//     §3.1), and the receiver reads a skeleton's original extract back
//     whole up to the same 256 MiB;
//   - past ExpansionFloor bytes, the gunzipped document may be at most
//     MaxExpansion times the compressed bytes read so far. Real documents
//     expand a few times (EHR extracts about 13 times); only a stream of
//     nearly identical bytes expands hundreds of times, and gzip cannot
//     expand more than about 1,032 times, so a bomb is refused after
//     ExpansionFloor bytes rather than after MaxDecompressedSize.
//
// A document over either limit fails with reason 29, its partial object
// discarded.
const (
	MaxDecompressedSize = 256 << 20
	ExpansionFloor      = 16 << 20
	MaxExpansion        = 200
)

// ErrExpansion is the cause of the *AssemblyError (29) of a compressed
// document that expands past MaxDecompressedSize, or past ExpansionFloor
// at more than MaxExpansion times its compressed size.
var ErrExpansion = errors.New("largemsg: compressed document expands past the limit")

// expansionLimits are the limits asmWrite applies to a gunzipped document.
type expansionLimits struct {
	max, floor, ratio int64
}

var defaultExpansion = expansionLimits{max: MaxDecompressedSize, floor: ExpansionFloor, ratio: MaxExpansion}

// asmExpansion fails its reader's stream, the gunzipped document, once it
// breaks lim; carried counts the compressed bytes read so far.
type asmExpansion struct {
	r       io.Reader
	carried *asmCounter
	lim     expansionLimits
	n       int64
}

func (e *asmExpansion) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	e.n += int64(n)
	switch {
	case e.n > e.lim.max:
		return 0, fmt.Errorf("%w: over %d bytes gunzipped", ErrExpansion, e.lim.max)
	case e.n > e.lim.floor && e.n > e.lim.ratio*e.carried.n:
		return 0, fmt.Errorf("%w: %d bytes gunzipped from %d, more than %d times (a decompression bomb)",
			ErrExpansion, e.n, e.carried.n, e.lim.ratio)
	}
	return n, err
}

// asmWrite streams the sources, in order, into the object name: the
// concatenated raw text, base64-decoded if the sources travelled base64
// (all or none of them), checked against wantLength (unless negative),
// gunzipped if compressed, within lim. It returns the written size and
// SHA-256. A failure of the data is an *AssemblyError (29, without ids); a
// failure of the store or the context is returned as it is.
func asmWrite(ctx context.Context, store Store, name string, sources []asmSource, compressed bool, wantLength int64, lim expansionLimits) (int64, string, error) {
	b64 := len(sources) > 0 && sources[0].base64
	readers := make([]io.Reader, len(sources))
	lazies := make([]*asmLazy, len(sources))
	for i, s := range sources {
		if s.base64 != b64 {
			return 0, "", asmReassembly("fragments mix base64 and binary transfer", nil)
		}
		lazies[i] = &asmLazy{src: s}
		readers[i] = lazies[i]
	}
	defer func() {
		for _, l := range lazies {
			l.close()
		}
	}()
	source := &asmTap{r: io.MultiReader(readers...)}
	var r io.Reader = source
	if b64 {
		r = &asmBase64{src: r}
	}
	carried := &asmCounter{r: r, want: wantLength}
	r = carried
	if compressed {
		zr, err := gzip.NewReader(r)
		if err != nil {
			if source.err != nil {
				return 0, "", source.err
			}
			return 0, "", asmReassembly("Compressed=Yes but not gzip", err)
		}
		defer zr.Close()
		r = &asmExpansion{r: zr, carried: carried, lim: lim}
	}
	hash := sha256.New()
	written := &asmCounter{r: io.TeeReader(r, hash), want: -1}
	out := &asmTap{r: written}
	if _, err := store.Put(ctx, name, out); err != nil {
		switch {
		case source.err != nil:
			return 0, "", source.err
		case errors.Is(out.err, ErrExpansion):
			return 0, "", asmReassembly("refused while gunzipping", out.err)
		case out.err != nil:
			return 0, "", asmReassembly("cannot decode", out.err)
		}
		return 0, "", err
	}
	if wantLength >= 0 && carried.n != wantLength {
		// The decoder stopped before the end (gzip without multistream
		// would): the attachment is wrong, take it back.
		_ = store.Delete(ctx, name) // best effort: the error below is what matters
		return 0, "", asmReassembly("length mismatch", asmLengthError(carried.n, wantLength))
	}
	return written.n, hex.EncodeToString(hash.Sum(nil)), nil
}

// asmBase64Values maps a base64 character to its value; asmInvalid marks
// characters that are not base64, asmSpace white space and asmPad '='.
var asmBase64Values = func() (t [256]byte) {
	for i := range t {
		t[i] = asmInvalid
	}
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	for i := 0; i < len(alphabet); i++ {
		t[alphabet[i]] = byte(i)
	}
	for _, c := range []byte(" \t\r\n\f\v") {
		t[c] = asmSpace
	}
	t['='] = asmPad
	return t
}()

const (
	asmInvalid = 0xFF
	asmSpace   = 0xFE
	asmPad     = 0xFD
)

// asmBase64 decodes a stream of base64 text. It skips white space and,
// like ebxml, tolerates missing or short padding at the end (the last
// fragment of a document is a slice of a longer text); padding may also
// close a quantum in the middle, where two separately encoded fragments
// meet. Anything else that is not base64 is an error.
type asmBase64 struct {
	src    io.Reader
	in     [3 << 10]byte
	buf    [3<<10/4*3 + 3]byte
	out    []byte
	q      [4]byte
	nq     int
	padded bool
	offset int64
	err    error
}

func (d *asmBase64) Read(p []byte) (int, error) {
	for len(d.out) == 0 {
		if d.err != nil {
			return 0, d.err
		}
		n, err := d.src.Read(d.in[:])
		d.out = d.decode(d.in[:n], d.buf[:0])
		switch {
		case d.err != nil:
		case err == io.EOF:
			d.out = d.flush(d.out)
			if d.err == nil {
				d.err = io.EOF
			}
		case err != nil:
			d.err = err
		}
	}
	n := copy(p, d.out)
	d.out = d.out[n:]
	return n, nil
}

func (d *asmBase64) decode(in, out []byte) []byte {
	for _, c := range in {
		d.offset++
		switch v := asmBase64Values[c]; v {
		case asmSpace:
		case asmPad:
			if d.padded {
				continue
			}
			if d.nq < 2 {
				d.err = fmt.Errorf("base64: padding at offset %d", d.offset-1)
				return out
			}
			out = d.flush(out)
			d.padded = true
		case asmInvalid:
			d.err = fmt.Errorf("base64: illegal character %q at offset %d", c, d.offset-1)
			return out
		default:
			d.padded = false
			d.q[d.nq] = v
			d.nq++
			if d.nq == 4 {
				out = append(out, d.q[0]<<2|d.q[1]>>4, d.q[1]<<4|d.q[2]>>2, d.q[2]<<6|d.q[3])
				d.nq = 0
			}
		}
	}
	return out
}

// flush decodes a short final quantum (2 or 3 characters).
func (d *asmBase64) flush(out []byte) []byte {
	switch d.nq {
	case 0:
	case 1:
		d.err = fmt.Errorf("base64: text ends with a single character at offset %d", d.offset)
	case 2:
		out = append(out, d.q[0]<<2|d.q[1]>>4)
	case 3:
		out = append(out, d.q[0]<<2|d.q[1]>>4, d.q[1]<<4|d.q[2]>>2)
	}
	d.nq = 0
	return out
}
