package stage

import (
	"context"
	"errors"

	"github.com/nhsengland/gp2gp/libs/bus"
	"github.com/nhsengland/gp2gp/libs/transfer"
)

// conversationRecipient is the ASID of the served practice whose transfer
// a received message of kind, in conversation conv, belongs to: the
// requesting side's for an extract or a COPC, the sending side's for a
// Continue; "" when there is none here (or for other kinds: a request
// starts a conversation, an unreadable acknowledgement is answered by
// nobody). The inbound endpoint asks it for a message whose HL7 payload
// names no recipient it can read, so that the practice's stage can answer
// it (spine.WithConversationRecipient).
func (s *Stage) conversationRecipient(ctx context.Context, conv string, kind bus.SpineKind) (string, error) {
	var side transfer.Side
	switch kind {
	case bus.KindEHRExtract, bus.KindCOPC:
		side = transfer.Requesting
	case bus.KindContinue:
		side = transfer.Sending
	default:
		return "", nil
	}
	t, err := s.Store.Get(ctx, side, conv)
	switch {
	case errors.Is(err, transfer.ErrNotFound), errors.Is(err, transfer.ErrInvalid):
		return "", nil
	case err != nil:
		return "", err
	}
	if _, served := s.PracticeByASID(t.Practice.ASID); !served {
		return "", nil
	}
	return t.Practice.ASID, nil
}
