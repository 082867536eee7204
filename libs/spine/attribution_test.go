package spine_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nhsengland/gp2gp/libs/bus"
	"github.com/nhsengland/gp2gp/libs/ebxml"
	"github.com/nhsengland/gp2gp/libs/hl7"
	"github.com/nhsengland/gp2gp/libs/spine"
)

// withJSONPayload is the inbound JSON of w with its payload replaced.
func withJSONPayload(t *testing.T, w wire, payload string) []byte {
	t.Helper()
	var body map[string]any
	require.NoError(t, json.Unmarshal(inboundJSON(t, w), &body))
	body["payload"] = payload
	data, err := json.Marshal(body)
	require.NoError(t, err)
	return data
}

// A payload that names no recipient it can read is attributed to the
// practice whose transfer its conversation is, when the deployment says
// which: it is published for that practice's stage to answer (with 21 for
// an extract), not refused with nobody told.
func TestInboundAttributesAnUnreadablePayloadByConversation(t *testing.T) {
	const doctype = `<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa">]><RCMR_IN030000UK06>&a;</RCMR_IN030000UK06>`
	type call struct {
		conv string
		kind bus.SpineKind
	}
	var calls []call
	lookup := func(held string, err error) func(context.Context, string, bus.SpineKind) (string, error) {
		return func(_ context.Context, conv string, kind bus.SpineKind) (string, error) {
			calls = append(calls, call{conv, kind})
			return held, err
		}
	}
	extract := extractWire(t, false)

	t.Run("the conversation's transfer is here", func(t *testing.T) {
		f := newFixture(t)
		calls = nil
		h, err := spine.NewInbound(f.bus, spine.WithServedASIDs(requesterASID), spine.WithConversationRecipient(lookup(requesterASID, nil)))
		require.NoError(t, err)
		body := withJSONPayload(t, extract, doctype)
		res := accepted(t, post(t, h, http.MethodPost, "application/json", body))
		assert.Equal(t, bus.SpineInSubject(requesterASID, bus.KindEHRExtract), res.Subject)
		assert.Equal(t, []call{{conversationID, bus.KindEHRExtract}}, calls)
		got, err := spine.Read(f.last(res.Subject))
		require.NoError(t, err)
		_, err = hl7.DecodeExtract(got.Payload)
		var ve *hl7.ValidationError
		require.ErrorAs(t, err, &ve, "the receiver finds the payload unreadable")
		assert.Equal(t, hl7.ReasonExtractMalformed, ve.Code)
	})
	t.Run("a readable payload is not looked up", func(t *testing.T) {
		f := newFixture(t)
		calls = nil
		h, err := spine.NewInbound(f.bus, spine.WithConversationRecipient(lookup(senderASID, nil)))
		require.NoError(t, err)
		res := accepted(t, post(t, h, http.MethodPost, "application/json", inboundJSON(t, extract)))
		assert.Equal(t, bus.SpineInSubject(requesterASID, bus.KindEHRExtract), res.Subject)
		assert.Empty(t, calls)
	})
	for _, tc := range []struct {
		name   string
		held   string
		err    error
		status int
		text   string
	}{
		{"no transfer for the conversation", "", nil, http.StatusBadRequest, "no recipient ASID"},
		{"the look-up fails", "", errors.New("bucket unavailable"), http.StatusServiceUnavailable, "post again later"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			h, err := spine.NewInbound(f.bus, spine.WithConversationRecipient(lookup(tc.held, tc.err)))
			require.NoError(t, err)
			rec := post(t, h, http.MethodPost, "application/json", withJSONPayload(t, extract, doctype))
			assert.Equal(t, tc.status, rec.Code, rec.Body.String())
			assert.Contains(t, rec.Body.String(), tc.text)
			assert.Zero(t, f.count())
		})
	}
	t.Run("nil look-up", func(t *testing.T) {
		_, err := spine.NewInbound(newBareFixture(t).bus, spine.WithConversationRecipient(nil))
		require.Error(t, err)
	})
}

// A message only an attachment of which is not base64 is published: its
// recipient answers it (the receiver NACKs the extract with 29), and Read
// gives the stage the message with the error.
func TestInboundPublishesAMessageWithAnUndecodableAttachment(t *testing.T) {
	f := newFixture(t)
	h, err := spine.NewInbound(f.bus)
	require.NoError(t, err)
	w := extractWire(t, false)
	var body map[string]any
	require.NoError(t, json.Unmarshal(inboundJSON(t, w), &body))
	body["attachments"].([]any)[0].(map[string]any)["payload"] = "SUkqAA!!!"
	data, err := json.Marshal(body)
	require.NoError(t, err)

	res := accepted(t, post(t, h, http.MethodPost, "application/json", data))
	got, err := spine.Read(f.last(res.Subject))
	require.ErrorIs(t, err, ebxml.ErrBase64)
	assert.True(t, bus.IsPermanent(err))
	require.NotNil(t, got)
	assert.Equal(t, w.msg.Envelope.MessageID, got.Envelope.MessageID)
	assert.Nil(t, got.Attachments[0].Data)
}

// JSON that is not UTF-8 is refused.
func TestInboundRefusesJSONThatIsNotUTF8(t *testing.T) {
	f := newFixture(t)
	h, err := spine.NewInbound(f.bus)
	require.NoError(t, err)
	raw := inboundJSON(t, ackWire(t))
	raw = append(raw[:len(raw)-1:len(raw)-1], []byte(`,"note":"Ren`+"\xe9"+`e"}`)...)
	rec := post(t, h, http.MethodPost, "application/json", raw)
	assert.Equal(t, http.StatusBadRequest, rec.Code, rec.Body.String())
	assert.Contains(t, rec.Body.String(), "invalid UTF-8")
	assert.Zero(t, f.count())
}
