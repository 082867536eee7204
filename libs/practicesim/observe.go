package practicesim

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/nhsengland/gp2gp/libs/hl7/ehr"
	gp2gpv1 "github.com/nhsengland/gp2gp/proto/gp2gp/v1"
)

// Answer is how the practice dealt with a record request.
type Answer int

// The answers.
const (
	// AnswerNone: the request was seen and deliberately left unanswered.
	AnswerNone Answer = iota
	// AnswerRecord: the record was sent.
	AnswerRecord
	// AnswerFailure: a RecordFailure was sent.
	AnswerFailure
)

// String names the answer: "none", "record" or "failure".
func (a Answer) String() string {
	switch a {
	case AnswerNone:
		return "none"
	case AnswerRecord:
		return "record"
	case AnswerFailure:
		return "failure"
	}
	return fmt.Sprintf("Answer(%d)", int(a))
}

// Document is one of a record's documents as the practice sent or
// received it.
type Document struct {
	// ID is the document id the extract refers to it by (upper-case GUID).
	ID string
	// Filename and ContentType are the attachment's.
	Filename    string
	ContentType string
	// Size is the document's length in bytes and SHA256 the lower-case hex
	// SHA-256 of its bytes, as the practice generated them (sending) or
	// read them (receiving; objects are read as a stream, never whole).
	// Zero for an absent document.
	Size   int64
	SHA256 string
	// InObjectStore is true when the document travelled through the
	// object store rather than inside the message.
	InObjectStore bool
	// Absent is true for a document the sender could not supply, and
	// AbsentReason says why. Only received records have absent documents.
	Absent       bool
	AbsentReason string
}

// AnsweredRequest is a record request the practice has dealt with. A
// request delivered more than once is listed once. Its Documents are
// shared: treat them as read-only.
type AnsweredRequest struct {
	// RequestID, ConversationID and NHSNumber are the request's.
	RequestID      string
	ConversationID string
	NHSNumber      string
	// RequestingODS is the practice that asked for the record.
	RequestingODS string
	Answer        Answer
	// Failure is the reason sent with AnswerFailure.
	Failure gp2gpv1.RecordFailureReason
	// Detail is the failure's free text.
	Detail string
	// ExtractBytes is the size of the EhrExtract sent with AnswerRecord.
	ExtractBytes int
	// InObjectStore is true when the extract went through the object store.
	InObjectStore bool
	// Attachments counts the documents sent with the record.
	Attachments int
	// Documents lists the documents sent with the record, in the order the
	// RecordResponse carries them.
	Documents []Document
	// Responses counts the RecordResponse messages published: 0, 1, or 2
	// for a duplicated answer.
	Responses int
	// At is when the practice answered (or decided not to), by its clock.
	At time.Time
}

// ReceivedRecord is a record the practice received to integrate, and what
// it reported. Its Summary and Documents are shared: treat them as
// read-only.
type ReceivedRecord struct {
	// ConversationID is the transfer's.
	ConversationID string
	// NHSNumber is the registered patient the record is for
	// (RecordReady.patient).
	NHSNumber string
	// SendingODS is the practice the record came from.
	SendingODS string
	// ExtractBytes is the size of the EHR Extract message received.
	ExtractBytes int
	// Summary is what the extract holds: its NHS number and practices,
	// statement counts by class, documents, NOPAT entries, entries to
	// degrade. Zero when the extract could not be read.
	Summary ehr.Summary
	// Attachments counts the record's documents; AbsentAttachments those
	// the sender could not supply.
	Attachments, AbsentAttachments int
	// Documents lists the record's documents in the order RecordReady
	// carries them, each as read and verified, absent ones with their
	// reason. When a document fails the checks the list ends before it.
	Documents []Document
	// Issues are the receiver's flags for the clinician.
	Issues []gp2gpv1.RecordIssue
	// AutoIntegrated is true when the receiver integrated the record
	// itself; the practice then reports nothing.
	AutoIntegrated bool
	// Problem says why the record failed the practice's checks (unreadable,
	// incomplete, another patient's); empty when it passed.
	Problem string
	// ReceivedAt is when the practice first read the record, by its clock.
	ReceivedAt time.Time
	// Reported is true once an IntegrationOutcome has been published, with
	// Result at ReportedAt.
	Reported   bool
	Result     gp2gpv1.IntegrationResult
	ReportedAt time.Time

	// verdict is the result the checks force, when Problem is set.
	verdict gp2gpv1.IntegrationResult
}

// Answered returns the record requests dealt with so far, oldest first.
func (p *Practice) Answered() []AnsweredRequest {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]AnsweredRequest, len(p.answered))
	for i, a := range p.answered {
		out[i] = *a
	}
	return out
}

// Received returns the records received so far, oldest first.
func (p *Practice) Received() []ReceivedRecord {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]ReceivedRecord, len(p.received))
	for i, r := range p.received {
		out[i] = *r
	}
	return out
}

// WaitAnswer waits until the practice has dealt with a record request of
// conversation conversationID (answered it, or decided not to) and
// returns the latest such request. It returns an error when ctx ends
// first.
func (p *Practice) WaitAnswer(ctx context.Context, conversationID string) (AnsweredRequest, error) {
	var out AnsweredRequest
	err := p.wait(ctx, "an answer in conversation "+conversationID, func() bool {
		for _, a := range slices.Backward(p.answered) {
			if a.ConversationID == conversationID {
				out = *a
				return true
			}
		}
		return false
	})
	return out, err
}

// WaitRecord waits until the practice has received the record of
// conversation conversationID, and returns it. It returns an error when
// ctx ends first.
func (p *Practice) WaitRecord(ctx context.Context, conversationID string) (ReceivedRecord, error) {
	var out ReceivedRecord
	err := p.wait(ctx, "the record of conversation "+conversationID, func() bool {
		r, ok := p.receivedBy[conversationID]
		if ok {
			out = *r
		}
		return ok
	})
	return out, err
}

// WaitOutcome waits until the practice has reported the integration
// outcome of conversation conversationID, and returns the record with its
// result. It returns an error when ctx ends first (as it does for a record
// that is auto-integrated or never reported on).
func (p *Practice) WaitOutcome(ctx context.Context, conversationID string) (ReceivedRecord, error) {
	var out ReceivedRecord
	err := p.wait(ctx, "the outcome of conversation "+conversationID, func() bool {
		r, ok := p.receivedBy[conversationID]
		if ok && r.Reported {
			out = *r
			return true
		}
		return false
	})
	return out, err
}

// wait calls found, under p.mu, each time what the practice has done
// changes, until it returns true or ctx ends.
func (p *Practice) wait(ctx context.Context, what string, found func() bool) error {
	for {
		p.mu.Lock()
		ok, changed := found(), p.changed
		p.mu.Unlock()
		if ok {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("practicesim: waiting for %s: %w", what, context.Cause(ctx))
		case <-changed:
		}
	}
}

// update runs fn under p.mu and wakes the waiters.
func (p *Practice) update(fn func()) {
	p.mu.Lock()
	defer p.mu.Unlock()
	fn()
	close(p.changed)
	p.changed = make(chan struct{})
}

// noteAnswer records a, replacing an earlier answer to the same request.
func (p *Practice) noteAnswer(a AnsweredRequest) {
	p.update(func() {
		if old, ok := p.answers[a.RequestID]; ok {
			*old = a
			return
		}
		p.answers[a.RequestID] = &a
		p.answered = append(p.answered, &a)
	})
}

// receivedRecord returns the record of a conversation already received.
func (p *Practice) receivedRecord(conversationID string) (ReceivedRecord, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	r, ok := p.receivedBy[conversationID]
	if !ok {
		return ReceivedRecord{}, false
	}
	return *r, true
}

// noteReceived records r unless its conversation's record is already
// known, and returns the one kept.
func (p *Practice) noteReceived(r ReceivedRecord) ReceivedRecord {
	var kept ReceivedRecord
	p.update(func() {
		if old, ok := p.receivedBy[r.ConversationID]; ok {
			kept = *old
			return
		}
		p.receivedBy[r.ConversationID] = &r
		p.received = append(p.received, &r)
		kept = r
	})
	return kept
}

// noteReported records that the outcome of a conversation was reported.
func (p *Practice) noteReported(conversationID string, result gp2gpv1.IntegrationResult, at time.Time) {
	p.update(func() {
		if r, ok := p.receivedBy[conversationID]; ok && !r.Reported {
			r.Reported, r.Result, r.ReportedAt = true, result, at
		}
	})
}
