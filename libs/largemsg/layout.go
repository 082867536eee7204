package largemsg

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/nhsengland/gp2gp/libs/ebxml"
)

// Spine limits (protocol §3.1).
const (
	// DefaultSplitThreshold is the largest base64 text of one document, or
	// of one fragment, in one message, and the largest extract payload
	// that travels whole (NIA-send's thresholds).
	DefaultSplitThreshold = 4_500_000
	// DefaultMessageBudget is the largest message: the MHS adaptor refuses
	// a request to Spine over 4,999,600 bytes; the rest of the 5,000,000 is
	// left for its headers.
	DefaultMessageBudget = 4_999_600
	// partOverhead is what one inline attachment adds to a message beside
	// its base64 text: its JSON members or MIME headers and its manifest
	// reference with the description.
	partOverhead = 1024
	// envelopeOverhead is the ebXML envelope and the JSON around the
	// payload.
	envelopeOverhead = 8 << 10
)

// Limits bound what one Spine message carries.
type Limits struct {
	// SplitThreshold: the largest base64 text of a document (or fragment)
	// in one message, and the largest extract payload sent whole.
	SplitThreshold int
	// MessageBudget: the largest whole message.
	MessageBudget int
	// MaxInline: the most inline attachments in one message.
	MaxInline int
}

// DefaultLimits are the protocol's.
func DefaultLimits() Limits {
	return Limits{SplitThreshold: DefaultSplitThreshold, MessageBudget: DefaultMessageBudget, MaxInline: ebxml.MaxAttachments}
}

// Validate reports limits no message could be laid out under.
func (l Limits) Validate() error {
	switch {
	case l.SplitThreshold < 4096:
		return fmt.Errorf("largemsg: split threshold %d: at least 4096", l.SplitThreshold)
	case l.MessageBudget < l.SplitThreshold+envelopeOverhead+partOverhead:
		return fmt.Errorf("largemsg: message budget %d: at least the split threshold (%d) plus %d for the envelope and one part",
			l.MessageBudget, l.SplitThreshold, envelopeOverhead+partOverhead)
	case l.MessageBudget > DefaultMessageBudget:
		return fmt.Errorf("largemsg: message budget %d: over Spine's %d", l.MessageBudget, DefaultMessageBudget)
	case l.MaxInline < 0 || l.MaxInline > ebxml.MaxAttachments:
		return fmt.Errorf("largemsg: %d inline attachments: 0 to %d", l.MaxInline, ebxml.MaxAttachments)
	}
	return nil
}

// chunkChars is the base64 length of a fragment: the threshold rounded
// down to whole base64 quanta, so every fragment but the last decodes
// alone and their concatenation is the document's base64 text.
func (l Limits) chunkChars() int64 { return int64(l.SplitThreshold) / 4 * 4 }

// ChunkBytes is how many bytes of a document one fragment carries.
func (l Limits) ChunkBytes() int64 { return l.chunkChars() / 4 * 3 }

// Base64Len is the length of the base64 text of n bytes.
func Base64Len(n int64) int64 { return (n + 2) / 3 * 4 }

// Document is one document of a record, as the layout sees it.
type Document struct {
	// ID is the document id, without the manifest's leading underscore.
	ID string
	// Size is the length in bytes of what travels (compressed, for a
	// compressed document), before base64.
	Size int64
}

// Placement says how one document travels.
type Placement struct {
	Document
	// Inline: in the extract itself (cid:). Otherwise external (mid:).
	Inline bool
	// MessageID is the message id of the COPC carrying an external
	// document, or its fragment index.
	MessageID string
	// Fragments are the message ids of the COPCs carrying its fragments, in
	// order, when the document is too large for one message.
	Fragments []string
}

// Fragmented reports whether p travels as a fragment index and fragments.
func (p Placement) Fragmented() bool { return len(p.Fragments) > 0 }

// Plan is the layout of a record's documents, in the order given.
type Plan struct {
	Documents []Placement
	// ChunkBytes is the size of each fragment but the last.
	ChunkBytes int64
}

// External lists the documents that travel in COPCs, in order.
func (p Plan) External() []Placement {
	var out []Placement
	for _, d := range p.Documents {
		if !d.Inline {
			out = append(out, d)
		}
	}
	return out
}

// Large reports whether anything travels after the extract, so the
// sender must wait for a Continue.
func (p Plan) Large() bool { return len(p.External()) > 0 }

// Messages counts the COPCs the plan sends after the Continue.
func (p Plan) Messages() int {
	n := 0
	for _, d := range p.External() {
		n += 1 + len(d.Fragments)
	}
	return n
}

// MessageID names the message ids of external documents and fragments:
// purpose is "copc/<document id>" for a document and
// "copc/<document id>/<n>" for its fragment n (from 1). It must be
// deterministic (hl7.DeriveID over the conversation and attempt), so that
// laying out the same record again announces the same ids.
type MessageID func(purpose string) string

// ErrTooManyDocuments reports a record whose documents cannot all be
// announced in one extract's manifest.
var ErrTooManyDocuments = errors.New("largemsg: too many documents for one extract")

// maxDocuments bounds the manifest: the MHS adaptor carries any number of
// external attachments, but one extract naming more than this is not a
// record any practice system produces.
const maxDocuments = 10_000

// Layout decides how docs travel beside a payload of payloadSize bytes (as
// it travels: JSON-escaped for the MHS adaptor), in order: a document goes
// inline while its base64 text is within the split threshold, fewer than
// MaxInline are inline and the message stays within the budget; any other
// is external, and fragmented when its base64 text is over the threshold.
func Layout(payloadSize int, docs []Document, l Limits, id MessageID) (Plan, error) {
	if err := l.Validate(); err != nil {
		return Plan{}, err
	}
	if len(docs) > maxDocuments {
		return Plan{}, fmt.Errorf("%w: %d (at most %d)", ErrTooManyDocuments, len(docs), maxDocuments)
	}
	plan := Plan{ChunkBytes: l.ChunkBytes()}
	used := int64(payloadSize) + envelopeOverhead
	inline := 0
	seen := map[string]bool{}
	for _, d := range docs {
		if d.ID == "" || seen[d.ID] {
			return Plan{}, fmt.Errorf("largemsg: document id %q is empty or repeated", d.ID)
		}
		if d.Size < 0 {
			return Plan{}, fmt.Errorf("largemsg: document %s has a negative size", d.ID)
		}
		seen[d.ID] = true
		text := Base64Len(d.Size)
		p := Placement{Document: d}
		if text <= int64(l.SplitThreshold) && inline < l.MaxInline && used+text+partOverhead <= int64(l.MessageBudget) {
			p.Inline = true
			used += text + partOverhead
			inline++
		} else {
			p.MessageID = id("copc/" + d.ID)
			if text > int64(l.SplitThreshold) {
				n := (d.Size + plan.ChunkBytes - 1) / plan.ChunkBytes
				for i := int64(1); i <= n; i++ {
					p.Fragments = append(p.Fragments, id("copc/"+d.ID+"/"+strconv.FormatInt(i, 10)))
				}
			}
		}
		plan.Documents = append(plan.Documents, p)
	}
	return plan, nil
}
