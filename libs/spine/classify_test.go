package spine_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nhsengland/gp2gp/libs/bus"
	"github.com/nhsengland/gp2gp/libs/ebxml"
	"github.com/nhsengland/gp2gp/libs/spine"
)

func TestClassifyEveryInteraction(t *testing.T) {
	for _, w := range wires(t) {
		t.Run(w.name, func(t *testing.T) {
			kind, err := spine.Classify(w.msg)
			require.NoError(t, err)
			assert.Equal(t, w.kind, kind)
		})
	}
}

func TestClassifyFallsBackToThePayloadRoot(t *testing.T) {
	for _, action := range []string{"", "Acknowledgment", "urn:nhs:names:services:gp2gp"} {
		for _, w := range wires(t) {
			t.Run(w.name+" with Action "+action, func(t *testing.T) {
				w.msg.Envelope.Action = action
				kind, err := spine.Classify(w.msg)
				require.NoError(t, err)
				assert.Equal(t, w.kind, kind)
			})
		}
	}
}

func TestClassifyReadsOddActions(t *testing.T) {
	cases := []struct {
		name   string
		action string
		wire   wire
		want   bus.SpineKind
	}{
		{"service URN", "urn:nhs:names:services:gp2gp/RCMR_IN010000UK05", requestWire(t), bus.KindEHRRequest},
		{"lower case", "mcci_in010000uk13", ackWire(t), bus.KindAck},
		{"surrounding space", "  COPC_IN000001UK01\n", continueWire(t), bus.KindContinue},
		// The Action is the routing key: it wins over the payload.
		{"Action names the extract", "RCMR_IN030000UK07", requestWire(t), bus.KindEHRExtract},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.wire.msg.Envelope.Action = tc.action
			kind, err := spine.Classify(tc.wire.msg)
			require.NoError(t, err)
			assert.Equal(t, tc.want, kind)
		})
	}
}

func TestClassifyTellsAContinueFromAnAttachment(t *testing.T) {
	cases := []struct {
		name    string
		payload string
		want    bus.SpineKind
	}{
		{"continue", string(continueWire(t).msg.Payload), bus.KindContinue},
		{"attachment", string(attachmentWire(t).msg.Payload), bus.KindCOPC},
		// A COPC too broken to read still goes to the receiver, which
		// answers it with NACK 30.
		{"unreadable", "<COPC_IN000001UK01", bus.KindCOPC},
		{"empty", "", bus.KindCOPC},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := continueWire(t).msg
			m.Payload = []byte(tc.payload)
			kind, err := spine.Classify(m)
			require.NoError(t, err)
			assert.Equal(t, tc.want, kind)
		})
	}
}

func TestClassifyRefusesWhatIsNotGP2GP(t *testing.T) {
	cases := []struct {
		name    string
		msg     *ebxml.Message
		payload string
	}{
		{"no message", nil, ""},
		{"PDS query", &ebxml.Message{Envelope: ebxml.Envelope{Action: "QUPA_IN000008UK02"}}, `<QUPA_IN000008UK02 xmlns="urn:hl7-org:v3"/>`},
		{"no Action, not XML", &ebxml.Message{}, "hello"},
		{"no Action, no payload", &ebxml.Message{}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.msg != nil {
				tc.msg.Payload = []byte(tc.payload)
			}
			_, err := spine.Classify(tc.msg)
			require.ErrorIs(t, err, spine.ErrUnknownInteraction)
		})
	}
}

func TestRecipientASID(t *testing.T) {
	for _, w := range wires(t) {
		t.Run(w.name, func(t *testing.T) {
			asid, err := spine.RecipientASID(w.msg)
			require.NoError(t, err)
			assert.Equal(t, w.to, asid)
		})
	}

	ack := string(ackWire(t).msg.Payload)
	bad := []struct{ name, payload string }{
		{"not XML", "hello"},
		{"not GP2GP", `<html/>`},
		{"no recipient", replaceOnce(t, ack, `extension="`+requesterASID+`"`, `extension=""`)},
		{"recipient with a dot", replaceOnce(t, ack, `extension="`+requesterASID+`"`, `extension="2000.0101"`)},
		{"recipient with a wildcard", replaceOnce(t, ack, `extension="`+requesterASID+`"`, `extension="*"`)},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			_, err := spine.RecipientASID(&ebxml.Message{Payload: []byte(tc.payload)})
			require.ErrorIs(t, err, spine.ErrNoRecipient)
		})
	}
	_, err := spine.RecipientASID(nil)
	require.ErrorIs(t, err, spine.ErrNoRecipient)
}
