package devstack_test

import (
	"bytes"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nhsengland/gp2gp/libs/ebxml"
	"github.com/nhsengland/gp2gp/libs/hl7"
	"github.com/nhsengland/gp2gp/libs/practicesim"
	"github.com/nhsengland/gp2gp/libs/spine"
	"github.com/nhsengland/gp2gp/libs/transfer"
	gp2gpv1 "github.com/nhsengland/gp2gp/proto/gp2gp/v1"
	"github.com/nhsengland/gp2gp/services/receiver"
)

// copcKind tells the attachment messages to the new practice apart.
func copcKind(out *spine.Outbound) string {
	m := out.Message
	if out.ToASID != newASID || hl7.Interaction(m.Envelope.Action) != hl7.CommonContentCOPC {
		return ""
	}
	switch {
	case len(m.External) > 0:
		return "index"
	case len(m.Attachments) == 1 && strings.HasSuffix(m.Attachments[0].Description.Filename, ".messageattachment"):
		return "fragment"
	}
	return "document"
}

// wireScript runs a hook that acts on the nth message of a kind.
type wireScript struct {
	mu   sync.Mutex
	seen map[string]int
	act  func(kind string, n int, out *spine.Outbound) bool
}

func (w *wireScript) hook(out *spine.Outbound) bool {
	kind := copcKind(out)
	if kind == "" {
		return true
	}
	w.mu.Lock()
	if w.seen == nil {
		w.seen = map[string]int{}
	}
	w.seen[kind]++
	n := w.seen[kind]
	w.mu.Unlock()
	return w.act(kind, n, out)
}

// Fragments before their index, and a fragment delivered twice: the
// document is still whole and the transfer completes.
func TestFragmentsOutOfOrderAndDuplicated(t *testing.T) {
	var held *spine.Outbound
	var heldMu sync.Mutex
	script := &wireScript{act: func(kind string, n int, out *spine.Outbound) bool {
		if kind == "index" {
			heldMu.Lock()
			held = out
			heldMu.Unlock()
			return false // sent later, after its fragments
		}
		return true
	}}
	h := newHarness(t, withDocuments(0, 9_000_000), withWireHook(script.hook))
	h.start()
	conv := h.register()
	require.Eventually(t, func() bool { return countKind(h, conv, "fragment") == 3 }, largeWait, 20*time.Millisecond)

	// Fragment 1 again, as Spine may redeliver it after its dedupe window.
	h.redeliver(conv, func(m wireMessage) bool {
		return len(m.Env.Attachments) == 1 && strings.HasSuffix(m.Env.Attachments[0].Description.Filename, "_1.messageattachment")
	})
	require.Eventually(t, func() bool { return countKind(h, conv, "fragment") == 4 }, 10*time.Second, 20*time.Millisecond)
	req := h.get(transfer.Requesting, conv)
	assert.Equal(t, transfer.ContinueSent, req.State, "nothing is finished without the index")

	heldMu.Lock()
	index := held
	heldMu.Unlock()
	require.NotNil(t, index)
	loop, err := spine.NewLoopback(h.bus)
	require.NoError(t, err)
	require.NoError(t, loop.Send(h.ctx, index))

	h.waitStateWithin(transfer.Requesting, conv, transfer.Integrated, largeWait)
	h.waitStateWithin(transfer.Sending, conv, transfer.Completed, largeWait)
	answer, err := h.practice[oldODS].WaitAnswer(h.ctx, conv)
	require.NoError(t, err)
	record, err := h.practice[newODS].WaitRecord(h.ctx, conv)
	require.NoError(t, err)
	assertSameDocuments(t, answer.Documents, record.Documents)
}

// countKind counts the COPCs of a kind that reached the new practice.
func countKind(h *harness, conv, kind string) int {
	n := 0
	for _, m := range h.wire(conv) {
		if m.Interaction != hl7.CommonContentCOPC || m.Env == nil || len(m.Env.Attachments)+len(m.Env.External) == 0 {
			continue
		}
		switch {
		case kind == "index" && len(m.Env.External) > 0:
			n++
		case kind == "fragment" && len(m.Env.Attachments) == 1 && strings.HasSuffix(m.Env.Attachments[0].Description.Filename, ".messageattachment"):
			n++
		}
	}
	return n
}

// A fragment that never comes: when the wait for the parts runs out the
// extract is NACKed with 25 and both sides end.
func TestMissingFragmentTimesOutWith25(t *testing.T) {
	script := &wireScript{act: func(kind string, n int, _ *spine.Outbound) bool { return !(kind == "fragment" && n == 2) }}
	h := newHarness(t, withDocuments(0, 9_000_000), withWireHook(script.hook))
	h.start()
	conv := h.register()
	req := h.waitStateWithin(transfer.Requesting, conv, transfer.ContinueSent, largeWait)
	require.Eventually(t, func() bool { return countKind(h, conv, "fragment") == 2 }, largeWait, 20*time.Millisecond)
	due := req.Deadlines["parts"]
	require.False(t, due.IsZero())
	assert.Equal(t, req.LastChange().At.Add(2*(4*time.Hour+10*time.Minute)), due,
		"A × pd(UK06) + B × 1 document × pd(COPC), PT4H10M each in the dev directory")

	// The wait is durable: it runs out with every stage and the broker
	// restarted.
	h.stop(stages...)
	h.srv.Restart()
	h.clock.Advance(due.Sub(h.clock.Now()) + time.Minute)
	h.start(stages...)
	req = h.waitStateWithin(transfer.Requesting, conv, transfer.Rejected, largeWait)
	assert.Equal(t, "25", req.LastChange().Reason.Code)
	snd := h.waitStateWithin(transfer.Sending, conv, transfer.Failed, largeWait)
	assert.Equal(t, "25", snd.LastChange().Reason.Code)
	final := ackOf(acks(h.wire(conv)), snd.ExtractID)
	if final == nil {
		m, _ := snd.MessageByRole(transfer.RoleEHRExtract, transfer.Outbound)
		final = ackOf(acks(h.wire(conv)), m.ID)
	}
	require.NotNil(t, final, "the NACK refers to the extract")
	assert.Equal(t, hl7.ReasonLargeMessageTimeout, final.Reason)
}

// A whole document that never comes: 31 by default; with the placeholder
// policy the record is handed over with the document flagged absent.
func TestMissingDocument(t *testing.T) {
	lose := func() *wireScript {
		return &wireScript{act: func(kind string, n int, _ *spine.Outbound) bool { return !(kind == "document" && n == 1) }}
	}
	t.Run("31", func(t *testing.T) {
		h := newHarness(t, withDocuments(100), withWireHook(lose().hook))
		h.start()
		conv := h.register()
		req := h.waitStateWithin(transfer.Requesting, conv, transfer.ContinueSent, largeWait)
		require.Eventually(t, func() bool { return len(h.get(transfer.Requesting, conv).Messages) >= 5 }, largeWait, 20*time.Millisecond)
		h.clock.Advance(req.Deadlines["parts"].Sub(h.clock.Now()) + time.Minute)
		req = h.waitStateWithin(transfer.Requesting, conv, transfer.Rejected, largeWait)
		assert.Equal(t, "31", req.LastChange().Reason.Code)
		assert.Contains(t, req.LastChange().Reason.Detail, "never came")
		// 101 documents take longer than the sender's 8 days: it gave up
		// first (99), and the NACK still tells it why.
		snd := h.waitStateWithin(transfer.Sending, conv, transfer.Failed, largeWait)
		nack := ackOf(acks(h.wire(conv)), req.ExtractID)
		if m, ok := snd.MessageByRole(transfer.RoleEHRExtract, transfer.Outbound); ok && nack == nil {
			nack = ackOf(acks(h.wire(conv)), m.ID)
		}
		require.NotNil(t, nack)
		assert.Equal(t, hl7.ReasonAttachmentsNotReceived, nack.Reason)
	})
	t.Run("placeholder", func(t *testing.T) {
		readies := make(chan *readyDocs, 1)
		h := newHarness(t, withDocuments(100), withWireHook(lose().hook), withMissingAttachments(receiver.MissingPlaceholder),
			withIntegrationFunc(captureReady(readies)))
		h.start()
		conv := h.register()
		req := h.waitStateWithin(transfer.Requesting, conv, transfer.ContinueSent, largeWait)
		require.Eventually(t, func() bool { return len(h.get(transfer.Requesting, conv).Messages) >= 5 }, largeWait, 20*time.Millisecond)
		h.clock.Advance(req.Deadlines["parts"].Sub(h.clock.Now()) + time.Minute)
		req = h.waitStateWithin(transfer.Requesting, conv, transfer.ReadyToIntegrate, largeWait)
		assert.Contains(t, req.Record.Issues, "RECORD_ISSUE_ATTACHMENTS_ABSENT")
		got := <-readies
		assert.Equal(t, 100, got.total)
		assert.Equal(t, 1, got.absent)
	})
}

// A compressed fragment corrupted on the way: the document cannot be put
// together, and the extract is NACKed with 29.
func TestCorruptCompressedFragmentFailsWith29(t *testing.T) {
	script := &wireScript{act: func(kind string, n int, out *spine.Outbound) bool {
		if kind == "fragment" && n == 2 {
			a := &out.Message.Attachments[0]
			data := bytes.Clone(a.Data)
			for i := len(data) / 3; i < len(data)/3+64 && i < len(data); i++ {
				data[i] ^= 0x5A
			}
			a.Data = data
		}
		return true
	}}
	// A 1.5 MB extract over a 100 KB threshold: a skeleton whose gzip
	// travels in fragments.
	h := newHarness(t, withSplitThreshold(20_000), withRecordSize(1_500_000), withWireHook(script.hook))
	h.start()
	conv := h.register()
	req := h.waitStateWithin(transfer.Requesting, conv, transfer.Rejected, largeWait)
	assert.Equal(t, "29", req.LastChange().Reason.Code)
	snd := h.waitStateWithin(transfer.Sending, conv, transfer.Failed, largeWait)
	assert.Equal(t, "29", snd.LastChange().Reason.Code)
}

type readyDocs struct{ total, absent int }

func captureReady(ch chan *readyDocs) func(*gp2gpv1.RecordReady) practicesim.IntegrationBehaviour {
	return func(r *gp2gpv1.RecordReady) practicesim.IntegrationBehaviour {
		got := &readyDocs{total: len(r.GetAttachments())}
		for _, a := range r.GetAttachments() {
			if a.GetAbsent() {
				got.absent++
			}
		}
		select {
		case ch <- got:
		default:
		}
		return practicesim.NeverReport()
	}
}

// An attachment message that cannot be read gets NACK 30 and changes
// nothing. (One the extract did not announce is kept: it may be a fragment
// that came before its index.)
func TestUnreadableCOPCIsRefusedWith30(t *testing.T) {
	script := &wireScript{act: func(kind string, n int, _ *spine.Outbound) bool { return kind != "document" }}
	h := newHarness(t, withDocuments(100), withWireHook(script.hook))
	h.start()
	conv := h.register()
	h.waitStateWithin(transfer.Requesting, conv, transfer.ContinueSent, largeWait)

	stray := &hl7.COPC{
		Wrapper: hl7.Wrapper{MessageID: hl7.NewID(), CreationTime: h.clock.Now(), ToASID: newASID, FromASID: oldASID},
		Kind:    hl7.KindAttachment, Recipients: []string{newODS}, From: oldODS, Reference: "file://localhost/stray.txt",
	}
	payload, err := stray.Encode()
	require.NoError(t, err)
	payload = payload[:len(payload)/2] // cut off
	loop, err := spine.NewLoopback(h.bus)
	require.NoError(t, err)
	require.NoError(t, loop.Send(h.ctx, &spine.Outbound{Message: &ebxml.Message{
		Envelope: ebxml.Envelope{ConversationID: conv, MessageID: stray.MessageID, Action: string(hl7.CommonContentCOPC), Timestamp: h.clock.Now()},
		Payload:  payload,
		Attachments: []ebxml.Attachment{{ContentType: "text/plain", Base64: true, DocumentID: "_" + hl7.NewID(), Data: []byte("stray"),
			Description: ebxml.Description{Filename: "stray.txt", ContentType: "text/plain", Length: 5, HasLength: true}}},
	}, FromASID: oldASID, ToASID: newASID}))

	require.Eventually(t, func() bool { return ackOf(acks(h.wire(conv)), stray.MessageID) != nil }, largeWait, 20*time.Millisecond)
	nack := ackOf(acks(h.wire(conv)), stray.MessageID)
	assert.Equal(t, hl7.ReasonLargeMessageFailure, nack.Reason)
	assert.Equal(t, transfer.ContinueSent, h.get(transfer.Requesting, conv).State, "the transfer goes on")
}
