package spine

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nhsengland/gp2gp/libs/bus"
)

// Placeholders the loopback writes into an envelope that lacks them. With
// the MHS adaptor, the adaptor fills these from SDS; in loopback there is
// no SDS and no Spine to check them.
const (
	// LoopbackPartyPrefix prefixes the ASID to make a party id for an
	// envelope without one: LOOPBACK-<ASID>.
	LoopbackPartyPrefix = "LOOPBACK-"
	// LoopbackCPAID is the CPA id of an envelope without one.
	LoopbackCPAID = "LOOPBACK"
)

// Loopback is the default Transport, for a deployment that serves both
// practices of a transfer: Send publishes the message on the bus exactly
// as the inbound endpoint publishes one received from Spine, on
// gp2gp.spine.in.<ToASID>.<kind>, so the recipient's stages cannot tell
// the difference.
//
// Like the MHS adaptor, the loopback completes the envelope: it writes
// the interaction id Classify found as the Action, marks the message
// forward reliable (DuplicateElimination, AckRequested), and fills in an
// empty From or To party id (LoopbackPartyPrefix + FromASID or ToASID),
// CPA id (LoopbackCPAID) and Timestamp (now). Set the Timestamp to keep a
// resend byte-identical; it is stored once either way.
//
// The bus's topology must include the GP2GP_SPINE_IN stream and, for
// messages over the bus's inline limit, the bodies object store
// (bus.BodiesStore), as every stage topology does.
type Loopback struct {
	bus    *bus.Bus
	served func(asid string) bool
	now    func() time.Time
}

var _ Transport = (*Loopback)(nil)

// NewLoopback returns a loopback transport publishing on b. WithServed or
// WithServedASIDs restrict it to the practices the deployment serves.
func NewLoopback(b *bus.Bus, opts ...LoopbackOption) (*Loopback, error) {
	if b == nil {
		return nil, errors.New("spine: NewLoopback: nil bus")
	}
	l := &Loopback{bus: b, now: time.Now}
	for _, o := range opts {
		if o == nil {
			continue
		}
		if err := o.applyLoopback(l); err != nil {
			return nil, err
		}
	}
	return l, nil
}

// Send publishes out on the recipient's subject; see Transport for the
// contract. Errors are Permanent when out cannot be delivered as it is:
// no message, a recipient ASID that is not served (ErrNotServed) or not
// an ASID, an interaction Classify does not know, or a message the MHS
// inbound JSON cannot carry (ErrInvalidOutbound). A failure to publish is
// retryable. Sending a message id twice to one ASID stores it once.
func (l *Loopback) Send(ctx context.Context, out *Outbound) error {
	if out == nil || out.Message == nil {
		return bus.Permanent(fmt.Errorf("%w: no message", ErrInvalidOutbound))
	}
	if !validASID(out.ToASID) {
		return bus.Permanent(fmt.Errorf("%w: recipient ASID %.80q", ErrInvalidOutbound, out.ToASID))
	}
	if l.served != nil && !l.served(out.ToASID) {
		return bus.Permanent(fmt.Errorf("%w: no practice of this deployment has ASID %s, and the loopback transport can deliver nowhere else",
			ErrNotServed, out.ToASID))
	}
	kind, in, err := classify(out.Message, nil)
	if err != nil {
		return bus.Permanent(err)
	}
	m := *out.Message
	env := &m.Envelope
	env.Action = string(in)
	env.DuplicateElimination, env.AckRequested = true, true
	if env.From.ID == "" {
		if !validASID(out.FromASID) {
			return bus.Permanent(fmt.Errorf("%w: no From party id and no sender ASID to make one from", ErrInvalidOutbound))
		}
		env.From.ID = LoopbackPartyPrefix + out.FromASID
	}
	if env.To.ID == "" {
		env.To.ID = LoopbackPartyPrefix + out.ToASID
	}
	if env.CPAID == "" {
		env.CPAID = LoopbackCPAID
	}
	if env.Timestamp.IsZero() {
		env.Timestamp = l.now().UTC().Truncate(time.Second)
	}
	body, err := m.InboundJSON()
	if err != nil {
		return bus.Permanent(fmt.Errorf("%w: %w", ErrInvalidOutbound, err))
	}
	og, err := received{
		body: body, toASID: out.ToASID, kind: kind, interaction: string(in),
		conversationID: env.ConversationID, messageID: env.MessageID,
	}.outgoing()
	if err != nil {
		return bus.Permanent(err)
	}
	if _, err := l.bus.Publish(ctx, og); err != nil {
		return fmt.Errorf("spine: loopback %s: %w", og.Subject, err)
	}
	return nil
}
