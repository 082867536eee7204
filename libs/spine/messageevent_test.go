package spine_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"

	"github.com/nhsengland/gp2gp/libs/bus"
	"github.com/nhsengland/gp2gp/libs/hl7"
	"github.com/nhsengland/gp2gp/libs/spine"
	gp2gpv1 "github.com/nhsengland/gp2gp/proto/gp2gp/v1"
)

// messageEvent reads the one message event stored for messageID.
func (f *fixture) messageEvent(conv, messageID string) *gp2gpv1.MessageEvent {
	f.t.Helper()
	s, err := f.js.Stream(f.ctx, bus.StreamMessages)
	require.NoError(f.t, err)
	raw, err := s.GetLastMsgForSubject(f.ctx, bus.MessageSubject(conv))
	require.NoError(f.t, err)
	var ev gp2gpv1.MessageEvent
	require.NoError(f.t, proto.Unmarshal(raw.Data, &ev))
	require.Equal(f.t, messageID, ev.MessageId)
	return &ev
}

func TestInboundPublishesAMessageEventOfEachMessage(t *testing.T) {
	f := newFixture(t)
	h, err := spine.NewInbound(f.bus, spine.WithServedASIDs(requesterASID, senderASID))
	require.NoError(t, err)

	const nackID = "2EF64E40-526E-41EA-9384-E83935108FD5"
	nack := hl7.NewNack(hl7Wrapper(nackID, requesterASID, senderASID), "DFE22ED3-946B-4A2D-A827-5397C7673599", "06")
	data, err := nack.Encode()
	nackWire := wire{"nack", message(t, hl7.ApplicationAck, nackID, data, err), senderASID, requesterASID, requesterODS, bus.KindAck}

	for _, w := range append(wires(t), nackWire) {
		t.Run(w.name, func(t *testing.T) {
			body := inboundJSON(t, w)
			accepted(t, post(t, h, http.MethodPost, "application/json", body))
			accepted(t, post(t, h, http.MethodPost, "application/json", body)) // a re-post is one event

			ev := f.messageEvent(conversationID, w.msg.Envelope.MessageID)
			assert.Equal(t, conversationID, ev.ConversationId)
			assert.Equal(t, w.msg.Envelope.Action, ev.Interaction)
			assert.Equal(t, w.from, ev.SenderAsid)
			assert.Equal(t, w.to, ev.RecipientAsid)
			assert.Equal(t, gp2gpv1.MessageDirection_MESSAGE_DIRECTION_RECEIVED, ev.Direction)
			assert.False(t, ev.OccurredAt.AsTime().IsZero())
			switch w.name {
			case "application ack":
				assert.Equal(t, "DFE22ED3-946B-4A2D-A827-5397C7673599", ev.MessageRef)
				assert.Empty(t, ev.ErrorCode)
			case "nack":
				assert.Equal(t, "DFE22ED3-946B-4A2D-A827-5397C7673599", ev.MessageRef)
				assert.Equal(t, "06", ev.ErrorCode)
			default:
				assert.Empty(t, ev.MessageRef)
			}
		})
	}
	s, err := f.js.Stream(f.ctx, bus.StreamMessages)
	require.NoError(t, err)
	info, err := s.Info(f.ctx)
	require.NoError(t, err)
	assert.EqualValues(t, len(wires(t))+1, info.State.Msgs, "one event per message however often it is posted")
}
