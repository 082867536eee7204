package mireporter

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/nhsengland/gp2gp/libs/bus"
	"github.com/nhsengland/gp2gp/libs/mi"
	gp2gpv1 "github.com/nhsengland/gp2gp/proto/gp2gp/v1"
)

// The MI bucket's keys (bus.BucketMI):
//
//	m.<conversation>.<message>  one message event of an open conversation
//	t.<conversation>            the closed classification of a conversation
//	a.<asid>                    the ODS code a lifecycle event gave an ASID
//	f.<YYYY-MM>                 the month's figures, rewritten as they change
//
// Message keys are created, never overwritten: a redelivered event finds
// its key and is counted once. When a conversation's cutoff passes, its
// classification is written under t. and its message keys are deleted.
const (
	messageKeys    = "m."
	closedKeys     = "t."
	asidKeys       = "a."
	figuresKeys    = "f."
	keyTokenMaxLen = 64
)

// messageKey is the key of message id of conversation conv.
func messageKey(conv, id string) string { return messageKeys + keyToken(conv) + "." + keyToken(id) }

// closedKey is the key of conversation conv's closed classification.
func closedKey(conv string) string { return closedKeys + keyToken(conv) }

// keyToken makes id usable as one key token: ids that are not plain
// (letters, digits, '-', '_', at most 64 bytes) are replaced by a hash.
func keyToken(id string) string {
	id = strings.ToUpper(strings.TrimSpace(id))
	plain := id != "" && len(id) <= keyTokenMaxLen
	for i := 0; plain && i < len(id); i++ {
		c := id[i]
		plain = '0' <= c && c <= '9' || 'A' <= c && c <= 'Z' || c == '-' || c == '_'
	}
	if plain {
		return id
	}
	sum := sha256.Sum256([]byte(id))
	return "H_" + hex.EncodeToString(sum[:16])
}

// storedEvent is a message event as the MI bucket keeps it.
type storedEvent struct {
	Conversation string    `json:"conversation"`
	ID           string    `json:"id"`
	Interaction  string    `json:"interaction"`
	Sender       string    `json:"sender,omitempty"`
	Recipient    string    `json:"recipient,omitempty"`
	Ref          string    `json:"ref,omitempty"`
	Code         *int      `json:"code,omitempty"`
	At           time.Time `json:"at"`
	SenderODS    string    `json:"sender_ods,omitempty"`
	RecipientODS string    `json:"recipient_ods,omitempty"`
	FromSystem   string    `json:"from_system,omitempty"`
	ToSystem     string    `json:"to_system,omitempty"`
	// Seq is the event's sequence in the messages stream: it orders
	// events of the same time.
	Seq uint64 `json:"seq,omitempty"`
}

func (e storedEvent) event() mi.Event {
	return mi.Event{
		ConversationID: e.Conversation, MessageID: e.ID, Interaction: e.Interaction,
		Sender: e.Sender, Recipient: e.Recipient, MessageRef: e.Ref, ErrorCode: e.Code, Time: e.At,
		FromSystem: e.FromSystem, ToSystem: e.ToSystem,
	}
}

// closedRecord is a conversation's classification once its cutoff passed.
type closedRecord struct {
	Conversation string       `json:"conversation"`
	Transfer     *mi.Transfer `json:"transfer"` // nil: not a transfer
	ClosedAt     time.Time    `json:"closed_at"`
}

// storedEventOf reads a message event; a malformed one is a permanent
// error (dead-lettered with the reason).
func storedEventOf(ev *gp2gpv1.MessageEvent) (storedEvent, error) {
	conv, id := strings.ToUpper(strings.TrimSpace(ev.GetConversationId())), strings.ToUpper(strings.TrimSpace(ev.GetMessageId()))
	switch {
	case conv == "":
		return storedEvent{}, errors.New("message event without a conversation id")
	case id == "":
		return storedEvent{}, errors.New("message event without a message id")
	case ev.GetOccurredAt() == nil:
		return storedEvent{}, fmt.Errorf("message event %s without a time", id)
	}
	s := storedEvent{
		Conversation: conv, ID: id, Interaction: string(mi.ParseInteraction(ev.GetInteraction())),
		Sender: strings.TrimSpace(ev.GetSenderAsid()), Recipient: strings.TrimSpace(ev.GetRecipientAsid()),
		Ref: strings.ToUpper(strings.TrimSpace(ev.GetMessageRef())), At: ev.GetOccurredAt().AsTime().UTC(),
		SenderODS: ev.GetSenderOds(), RecipientODS: ev.GetRecipientOds(),
		FromSystem: ev.GetFromSystem(), ToSystem: ev.GetToSystem(),
	}
	if c := strings.TrimSpace(ev.GetErrorCode()); c != "" {
		n, err := strconv.Atoi(c)
		if err != nil || n < 0 {
			return storedEvent{}, fmt.Errorf("message event %s: error code %.20q is not a GP2GP reason code", id, c)
		}
		s.Code = &n
	}
	return s, nil
}

// live keeps the MI bucket and the model in step.
type live struct {
	kv     jetstream.KeyValue
	model  *model
	logger *slog.Logger
	now    func() time.Time

	// pending reports how many message events the consumer has not yet
	// stored (delivered or not).
	pending func(ctx context.Context) (uint64, error)

	mu      sync.Mutex
	stale   []string // message keys of closed conversations, to delete
	applied uint64   // the last bucket revision the model has
}

// handleMessage stores one message event, once.
func (l *live) handleMessage(ctx context.Context, msg *bus.Msg) error {
	var ev gp2gpv1.MessageEvent
	if err := bus.Decode(msg, &ev); err != nil {
		return bus.Permanent(err)
	}
	s, err := storedEventOf(&ev)
	if err != nil {
		return bus.Permanent(err)
	}
	s.Seq = msg.Sequence
	// Wait for the bucket's replay: a nak would hide the event from the
	// pending count that closing conversations waits on.
	if err := l.model.waitReady(ctx); err != nil {
		return err
	}
	if l.model.isFinal(s.Conversation) {
		l.logger.DebugContext(ctx, "mireporter: message event after the conversation's cutoff, not counted",
			"conversation_id", s.Conversation, "message_id", s.ID)
		return nil
	}
	data, err := json.Marshal(s)
	if err != nil {
		return bus.Permanent(err)
	}
	_, err = l.kv.Create(ctx, messageKey(s.Conversation, s.ID), data)
	if errors.Is(err, jetstream.ErrKeyExists) {
		return nil // seen before: counted once
	}
	return err
}

// handleLifecycle learns the practices' ODS codes from a lifecycle event.
func (l *live) handleLifecycle(ctx context.Context, ev *gp2gpv1.TransferEvent) error {
	for _, p := range [][2]string{{ev.GetPracticeAsid(), ev.GetPracticeOds()}, {ev.GetPeerAsid(), ev.GetPeerOds()}} {
		asid, ods := strings.TrimSpace(p[0]), strings.ToUpper(strings.TrimSpace(p[1]))
		if asid == "" || ods == "" || l.model.knows(asid, ods) {
			continue
		}
		if _, err := l.kv.Put(ctx, asidKeys+keyToken(asid), []byte(asid+" "+ods)); err != nil {
			return err
		}
	}
	return nil
}

// watch feeds the model from the bucket until ctx ends.
func (l *live) watch(ctx context.Context) error {
	w, err := l.kv.WatchAll(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("%s: watch %s: %w", Name, bus.BucketMI, err)
	}
	defer func() { _ = w.Stop() }()
	for {
		select {
		case <-ctx.Done():
			return nil
		case e, ok := <-w.Updates():
			if !ok {
				if ctx.Err() != nil {
					return nil
				}
				return fmt.Errorf("%s: the watch of %s stopped", Name, bus.BucketMI)
			}
			if e == nil {
				l.model.setReady()
				continue
			}
			l.apply(e)
		}
	}
}

// apply brings one bucket change into the model.
func (l *live) apply(e jetstream.KeyValueEntry) {
	l.mu.Lock()
	l.applied = max(l.applied, e.Revision())
	l.mu.Unlock()
	key, put := e.Key(), e.Operation() == jetstream.KeyValuePut
	switch {
	case strings.HasPrefix(key, messageKeys) && put:
		// A message key is deleted only once its conversation is closed,
		// when the model has already let go of its events.
		var s storedEvent
		if err := json.Unmarshal(e.Value(), &s); err != nil {
			l.logger.Error("mireporter: unreadable message event in the MI bucket", "key", key, "error", err)
			return
		}
		l.model.learn(s.Sender, s.SenderODS)
		l.model.learn(s.Recipient, s.RecipientODS)
		if !l.model.addEvent(s.event(), s.Seq) {
			l.mu.Lock()
			l.stale = append(l.stale, key)
			l.mu.Unlock()
		}
	case strings.HasPrefix(key, closedKeys) && put:
		var r closedRecord
		if err := json.Unmarshal(e.Value(), &r); err != nil {
			l.logger.Error("mireporter: unreadable classification in the MI bucket", "key", key, "error", err)
			return
		}
		// Events still held are keys a close did not get to delete (it was
		// interrupted, or this is the replay of its classification).
		if ids := l.model.setFinal(r.Conversation, r.Transfer); len(ids) > 0 {
			l.mu.Lock()
			for _, id := range ids {
				l.stale = append(l.stale, messageKey(r.Conversation, id))
			}
			l.mu.Unlock()
		}
	case strings.HasPrefix(key, asidKeys) && put:
		if asid, ods, ok := strings.Cut(string(e.Value()), " "); ok {
			l.model.learn(asid, ods)
		}
	}
}

// classifyEvery is how often changed conversations are classified again
// and closed ones written.
const classifyEvery = 500 * time.Millisecond

// classify classifies changed conversations, closes those past their
// cutoff and writes the month figures that changed, until ctx ends.
func (l *live) classify(ctx context.Context, every time.Duration, figures func(context.Context) error) error {
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
		if !l.model.isReady() {
			continue
		}
		due := l.model.reclassify()
		if len(due) > 0 {
			caughtUp, err := l.caughtUp(ctx)
			if err != nil && ctx.Err() == nil {
				l.logger.Warn("mireporter: cannot tell whether every message event is in; closing conversations waits", "error", err)
			}
			if !caughtUp {
				due = nil
			}
		}
		for _, c := range due {
			if err := l.close(ctx, c); err != nil && ctx.Err() == nil {
				l.logger.Warn("mireporter: closing a conversation failed; it is retried", "conversation_id", c.conv, "error", err)
			}
		}
		l.mu.Lock()
		stale := l.stale
		l.stale = nil
		l.mu.Unlock()
		for _, k := range stale {
			if err := l.kv.Delete(ctx, k); err != nil && ctx.Err() == nil {
				l.logger.Warn("mireporter: deleting a message key of a closed conversation failed", "key", k, "error", err)
			}
		}
		if figures != nil {
			if err := figures(ctx); err != nil && ctx.Err() == nil {
				l.logger.Warn("mireporter: writing the month figures failed; they are retried", "error", err)
			}
		}
	}
}

// caughtUp reports whether every message event published so far is in
// the model: the consumer has none pending and the model has every
// revision of the bucket. A conversation is closed only then, so a backlog
// (the mireporter was down for days) cannot close a conversation before
// the events within its cutoff are counted.
func (l *live) caughtUp(ctx context.Context) (bool, error) {
	if l.pending != nil {
		n, err := l.pending(ctx)
		if err != nil || n > 0 {
			return false, err
		}
	}
	st, err := l.kv.Status(ctx)
	if err != nil {
		return false, err
	}
	bs, ok := st.(*jetstream.KeyValueBucketStatus)
	if !ok {
		return false, fmt.Errorf("unexpected status %T of %s", st, bus.BucketMI)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.applied >= bs.StreamInfo().State.LastSeq, nil
}

// close writes a conversation's final classification, then deletes its
// message keys. Both steps are idempotent: message keys a crash between
// them leaves are found when the classification is replayed at the next
// start, and deleted then.
func (l *live) close(ctx context.Context, c closing) error {
	data, err := json.Marshal(closedRecord{Conversation: c.conv, Transfer: c.transfer, ClosedAt: l.now().UTC()})
	if err != nil {
		return err
	}
	// The ids are taken before the classification is written: the watcher
	// may apply it (and forget the events) before Put returns.
	ids := l.model.openIDs(c.conv)
	if _, err := l.kv.Put(ctx, closedKey(c.conv), data); err != nil {
		return err
	}
	// From here a message event of the conversation is not counted: one
	// whose key appears after this is deleted as stale. The model has
	// every key created before (closing waits until it is caught up).
	ids = append(ids, l.model.setFinal(c.conv, c.transfer)...)
	slices.Sort(ids)
	ids = slices.Compact(ids)
	l.logger.Debug("mireporter: closed a conversation", "conversation_id", c.conv, "message_keys", len(ids))
	var errs []error
	for _, id := range ids {
		if err := l.kv.Delete(ctx, messageKey(c.conv, id)); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
