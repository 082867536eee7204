package chaos

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/nhsengland/gp2gp/libs/transfer"
	gp2gpv1 "github.com/nhsengland/gp2gp/proto/gp2gp/v1"
)

// wireOf builds what a conversation put on the wire: each message as
// kind/id, stored once unless listed twice.
func wireOf(msgs ...[2]string) *conversationWire {
	c := newConversationWire()
	for _, m := range msgs {
		kind, id := m[0], m[1]
		if c.ids[kind] == nil {
			c.ids[kind] = map[string]bool{}
		}
		c.ids[kind][id] = true
		c.stored["300000000101/"+id]++
	}
	return c
}

func (c *conversationWire) ack(id, ref string) *conversationWire {
	if c.acks[ref] == nil {
		c.acks[ref] = map[string]bool{}
	}
	c.acks[ref][id] = true
	return c
}

func TestWireDuplicates(t *testing.T) {
	small := &plannedTransfer{ConversationID: "C"}
	large := &plannedTransfer{ConversationID: "C", Large: true}
	req := &transfer.Transfer{State: transfer.Integrated}
	send := &transfer.Transfer{State: transfer.Completed, ExtractID: "X1"}
	clean := func() *conversationWire {
		return wireOf([2]string{"ehr-request", "R1"}, [2]string{"ehr-extract", "X1"}, [2]string{"ack", "A1"}, [2]string{"ack", "A2"}).
			ack("A1", "R1").ack("A2", "X1")
	}
	tests := []struct {
		name string
		t    *plannedTransfer
		wire *conversationWire
		want int
	}{
		{"a clean small transfer", small, clean(), 0},
		{"a second extract", small, func() *conversationWire {
			c := clean()
			c.ids["ehr-extract"]["X2"] = true
			return c
		}(), 1},
		{"a message stored twice (a send the dedupe window missed)", small, func() *conversationWire {
			c := clean()
			c.stored["300000000101/R1"]++
			return c
		}(), 1},
		{"two final acks", small, clean().ack("A3", "X1"), 1},
		{"no request AA", small, func() *conversationWire {
			c := clean()
			delete(c.acks, "R1")
			return c
		}(), 1},
		{"a large transfer without its Continue and COPCs", large, clean(), 2},
		{"a large transfer with one COPC too many", large, func() *conversationWire {
			c := clean()
			c.ids["continue"] = map[string]bool{"K1": true}
			c.ids["copc"] = map[string]bool{"P1": true, "P2": true, "P3": true}
			return c
		}(), 1},
	}
	refused := &plannedTransfer{ConversationID: "C", Refused: true}
	nack := func() *conversationWire {
		return wireOf([2]string{"ehr-request", "R1"}, [2]string{"ack", "N1"}).ack("N1", "R1")
	}
	tests = append(tests, []struct {
		name string
		t    *plannedTransfer
		wire *conversationWire
		want int
	}{
		{"a clean refusal", refused, nack(), 0},
		{"a refusal with an extract", refused, func() *conversationWire {
			c := nack()
			c.ids["ehr-extract"] = map[string]bool{"X1": true}
			return c
		}(), 1},
		{"a refusal never sent", refused, wireOf([2]string{"ehr-request", "R1"}), 1},
	}...)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, send := req, send
			if tt.t.Refused {
				req, send = &transfer.Transfer{State: transfer.Failed}, &transfer.Transfer{State: transfer.RequestRejected}
			}
			got := wireDuplicates(tt.t, tt.wire, req, send, 2, true)
			assert.Len(t, got, tt.want, "%q", got)
		})
	}
}

func TestEventGaps(t *testing.T) {
	c := wireOf([2]string{"ehr-request", "R1"}, [2]string{"ehr-extract", "X1"})
	c.events["R1"], c.eventCopies["R1"] = &gp2gpv1.MessageEvent{MessageId: "R1"}, 1
	c.events["Z9"], c.eventCopies["Z9"] = &gp2gpv1.MessageEvent{MessageId: "Z9"}, 2
	assert.Equal(t, []string{
		"message X1 went on the wire without a message event",
		"message event Z9 () with no message on the wire",
		"message event Z9 stored 2 times",
	}, eventGaps(c))
}

func TestCheckDeadLetters(t *testing.T) {
	r := &run{w: &workload{poison: []poison{newPoison(0, "9993000000"), newPoison(1, "9993000019")}}}
	c := r.checkDeadLetters([]deadLetter{{MsgID: "chaos-poison-0"}, {MsgID: "chaos-poison-0"}, {MsgID: "registration.C81003.x", Reason: "boom"}}, &Report{})
	assert.True(t, c.Failed)
	assert.Len(t, c.Details, 3, "an unexpected dead letter, poison 0 twice, poison 1 missing: %q", c.Details)

	c = r.checkDeadLetters([]deadLetter{{MsgID: "chaos-poison-1"}, {MsgID: "chaos-poison-0"}}, &Report{})
	assert.False(t, c.Failed, "%q", c.Details)
}
