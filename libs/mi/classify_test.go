package mi_test

import (
	"bytes"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nhsengland/gp2gp/libs/mi"
)

const (
	requester = "200000000001"
	sender    = "200000000002"
	urn       = "urn:nhs:names:services:gp2gp/"
	day       = 24 * time.Hour
)

var t0 = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

// conv builds the events of one conversation; at is an offset from t0.
type conv struct {
	id  string
	evs []mi.Event
}

func newConv() *conv { return &conv{id: "conv-1"} }

func (c *conv) add(kind mi.Interaction, from string, at time.Duration, ref string, code *int) string {
	to := sender
	if from == sender {
		to = requester
	}
	id := fmt.Sprintf("msg-%d", len(c.evs)+1)
	c.evs = append(c.evs, mi.Event{
		ConversationID: c.id, MessageID: id, Interaction: urn + string(kind),
		Sender: from, Recipient: to, MessageRef: ref, ErrorCode: code, Time: t0.Add(at),
		FromSystem: "sys-" + from, ToSystem: "sys-" + to,
	})
	return id
}

func (c *conv) request() string {
	return c.add(mi.InteractionEHRRequest, requester, 0, "NotProvided", nil)
}
func (c *conv) extract(at time.Duration) string {
	return c.add(mi.InteractionEHRExtract, sender, at, "", nil)
}
func (c *conv) cont(at time.Duration) string {
	return c.add(mi.InteractionCOPC, requester, at, "", nil)
}
func (c *conv) fragment(at time.Duration) string {
	return c.add(mi.InteractionCOPC, sender, at, "", nil)
}

// ack acknowledges ref; the acker is the party that did not send ref.
func (c *conv) ack(ref string, at time.Duration, code *int) string {
	from := requester
	for _, e := range c.evs {
		if e.MessageID == ref && e.Sender == requester {
			from = sender
		}
	}
	return c.add(mi.InteractionAck, from, at, ref, code)
}

func classifyOne(t *testing.T, c *conv, cutoff time.Duration) mi.Transfer {
	t.Helper()
	got := mi.Classify(c.evs, cutoff)
	require.Len(t, got, 1)
	return got[0]
}

// statusRules builds a conversation for each rule of §1.5.
var statusRules = []struct {
	name   string
	build  func(c *conv)
	status mi.Status
	reason mi.FailureReason
}{
	{"1 integrated on time", func(c *conv) {
		c.ack(c.request(), time.Minute, nil)
		c.ack(c.extract(time.Hour), 2*time.Hour, nil)
	}, mi.StatusIntegratedOnTime, mi.ReasonNone},
	{"1 integrated with 15 counts as success", func(c *conv) {
		c.ack(c.request(), time.Minute, nil)
		c.ack(c.extract(time.Hour), 2*time.Hour, mi.Code(15))
	}, mi.StatusIntegratedOnTime, mi.ReasonNone},
	{"1b integrated late", func(c *conv) {
		c.ack(c.request(), time.Minute, nil)
		c.ack(c.extract(time.Hour), time.Hour+8*day+time.Second, nil)
	}, mi.StatusProcessFailure, mi.ReasonIntegratedLate},
	{"2 final error", func(c *conv) {
		c.ack(c.request(), time.Minute, nil)
		c.ack(c.extract(time.Hour), 2*time.Hour, mi.Code(11))
	}, mi.StatusTechnicalFailure, mi.ReasonFinalError},
	{"2 final error beats COPC rules", func(c *conv) {
		c.ack(c.request(), time.Minute, nil)
		c.ack(c.extract(time.Hour), 3*time.Hour, mi.Code(31))
		c.cont(2 * time.Hour)
	}, mi.StatusTechnicalFailure, mi.ReasonFinalError},
	{"3a duplicate and an unacked extract", func(c *conv) {
		c.ack(c.request(), time.Minute, nil)
		c.ack(c.extract(time.Hour), 2*time.Hour, mi.Code(12))
		c.extract(3 * time.Hour)
		c.ack(c.fragment(4*time.Hour), 5*time.Hour, nil)
	}, mi.StatusUnclassifiedFailure, mi.ReasonAmbiguousCOPCs},
	{"3b fragment ack error, all fragments acked", func(c *conv) {
		c.ack(c.request(), time.Minute, nil)
		c.extract(time.Hour)
		c.cont(2 * time.Hour)
		c.ack(c.fragment(3*time.Hour), 4*time.Hour, mi.Code(29))
		c.ack(c.fragment(3*time.Hour), 4*time.Hour, nil)
	}, mi.StatusUnclassifiedFailure, mi.ReasonTransferredNotIntegratedWithError},
	{"3c continue without fragments", func(c *conv) {
		c.ack(c.request(), time.Minute, nil)
		c.extract(time.Hour)
		c.cont(2 * time.Hour)
	}, mi.StatusTechnicalFailure, mi.ReasonCOPCNotSent},
	{"3d fragment not acked", func(c *conv) {
		c.ack(c.request(), time.Minute, nil)
		c.extract(time.Hour)
		c.cont(2 * time.Hour)
		c.ack(c.fragment(3*time.Hour), 4*time.Hour, mi.Code(29))
		c.fragment(3 * time.Hour)
	}, mi.StatusTechnicalFailure, mi.ReasonCOPCNotAcknowledged},
	{"3e COPCs otherwise", func(c *conv) {
		c.ack(c.request(), time.Minute, mi.Code(7)) // fatal, but rule 3 comes first
		c.extract(time.Hour)
		c.cont(2 * time.Hour)
		c.ack(c.fragment(3*time.Hour), 4*time.Hour, nil)
	}, mi.StatusProcessFailure, mi.ReasonTransferredNotIntegrated},
	{"4 fatal sender error", func(c *conv) {
		r := c.request()
		c.ack(r, time.Minute, nil)
		c.ack(r, 2*time.Minute, mi.Code(30))
		c.extract(time.Hour)
	}, mi.StatusTechnicalFailure, mi.ReasonFatalSenderError},
	{"5 request not acknowledged", func(c *conv) {
		c.request()
		c.extract(time.Hour)
	}, mi.StatusTechnicalFailure, mi.ReasonRequestNotAcknowledged},
	{"6 core extract not sent", func(c *conv) {
		c.ack(c.request(), time.Minute, nil)
	}, mi.StatusTechnicalFailure, mi.ReasonCoreExtractNotSent},
	{"7 extract with non-fatal sender code", func(c *conv) {
		c.ack(c.request(), time.Minute, mi.Code(19))
		c.extract(time.Hour)
	}, mi.StatusUnclassifiedFailure, mi.ReasonTransferredNotIntegratedWithError},
	{"8 extract sent, no final ack", func(c *conv) {
		c.ack(c.request(), time.Minute, nil)
		c.extract(time.Hour)
	}, mi.StatusProcessFailure, mi.ReasonTransferredNotIntegrated},
	{"8 only duplicate final acks", func(c *conv) {
		c.ack(c.request(), time.Minute, nil)
		c.ack(c.extract(time.Hour), 2*time.Hour, mi.Code(12))
	}, mi.StatusProcessFailure, mi.ReasonTransferredNotIntegrated},
	{"UK07 counts as a core extract", func(c *conv) {
		c.ack(c.request(), time.Minute, nil)
		x := c.add(mi.InteractionEHRExtractRedacted, sender, time.Hour, "", nil)
		c.ack(x, 2*time.Hour, nil)
	}, mi.StatusIntegratedOnTime, mi.ReasonNone},
}

func TestClassifyStatusRules(t *testing.T) {
	for _, tt := range statusRules {
		t.Run(tt.name, func(t *testing.T) {
			c := newConv()
			tt.build(c)
			got := classifyOne(t, c, 14*day)
			assert.Equal(t, tt.status, got.Status)
			assert.Equal(t, tt.reason, got.FailureReason)
		})
	}
}

func TestClassifyErrorCodeGroups(t *testing.T) {
	c := newConv()
	r := c.request()
	c.ack(r, time.Minute, nil)
	c.ack(r, 2*time.Minute, mi.Code(7))
	x := c.extract(time.Hour)
	c.ack(x, 2*time.Hour, mi.Code(12))
	c.ack(x, 3*time.Hour, nil)
	f := c.fragment(90 * time.Minute)
	c.ack(f, 100*time.Minute, nil)
	c.ack(f, 110*time.Minute, mi.Code(29))
	c.ack(c.cont(80*time.Minute), 85*time.Minute, mi.Code(99)) // continue acks are in no group

	got := classifyOne(t, c, 0)
	assert.Equal(t, []*int{nil, mi.Code(7)}, got.SenderErrorCodes)
	assert.Equal(t, []*int{mi.Code(12), nil}, got.FinalErrorCodes)
	assert.Equal(t, []int{29}, got.IntermediateErrorCodes)
	assert.True(t, mi.IsFatalSenderCode(7))
	assert.False(t, mi.IsFatalSenderCode(11))
}

func TestClassifyEffectivePair(t *testing.T) {
	tests := []struct {
		name      string
		build     func(c *conv)
		completed time.Duration // -1 = no effective ack
		status    mi.Status
	}{
		{"first no-code pair wins over earlier error", func(c *conv) {
			c.ack(c.request(), time.Minute, nil)
			c.ack(c.extract(time.Hour), 2*time.Hour, mi.Code(11))
			c.ack(c.extract(3*time.Hour), 4*time.Hour, nil)
		}, 4 * time.Hour, mi.StatusIntegratedOnTime},
		{"15 counts as no code", func(c *conv) {
			c.ack(c.request(), time.Minute, nil)
			c.ack(c.extract(time.Hour), 2*time.Hour, mi.Code(11))
			c.ack(c.extract(3*time.Hour), 5*time.Hour, mi.Code(15))
		}, 5 * time.Hour, mi.StatusIntegratedOnTime},
		{"else first non-12 pair", func(c *conv) {
			c.ack(c.request(), time.Minute, nil)
			c.ack(c.extract(time.Hour), 2*time.Hour, mi.Code(12))
			c.ack(c.extract(3*time.Hour), 6*time.Hour, mi.Code(25))
			c.ack(c.extract(7*time.Hour), 8*time.Hour, mi.Code(11))
		}, 6 * time.Hour, mi.StatusTechnicalFailure},
		{"12 only means no effective pair", func(c *conv) {
			c.ack(c.request(), time.Minute, nil)
			c.ack(c.extract(time.Hour), 2*time.Hour, mi.Code(12))
			c.ack(c.extract(3*time.Hour), 4*time.Hour, mi.Code(12))
		}, -1, mi.StatusProcessFailure},
		{"no acks means no effective pair", func(c *conv) {
			c.ack(c.request(), time.Minute, nil)
			c.extract(time.Hour)
		}, -1, mi.StatusProcessFailure},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newConv()
			tt.build(c)
			got := classifyOne(t, c, 0)
			assert.Equal(t, tt.status, got.Status)
			if tt.completed < 0 {
				assert.Nil(t, got.DateCompleted)
				assert.Nil(t, got.SLADuration)
				return
			}
			require.NotNil(t, got.DateCompleted)
			assert.Equal(t, t0.Add(tt.completed), *got.DateCompleted)
		})
	}
}

func TestClassifySLA(t *testing.T) {
	tests := []struct {
		name   string
		ackAt  time.Duration // after the extract
		want   uint64
		status mi.Status
	}{
		{"rounds down", 1400 * time.Millisecond, 1, mi.StatusIntegratedOnTime},
		{"rounds up", 1600 * time.Millisecond, 2, mi.StatusIntegratedOnTime},
		{"half to even", 2500 * time.Millisecond, 2, mi.StatusIntegratedOnTime},
		{"clamped at zero", -time.Minute, 0, mi.StatusIntegratedOnTime},
		{"exactly 8 days is on time", 691200 * time.Second, 691200, mi.StatusIntegratedOnTime},
		{"8 days and a second is late", 691201 * time.Second, 691201, mi.StatusProcessFailure},
		{"compared before rounding", 691200*time.Second + 400*time.Millisecond, 691200, mi.StatusProcessFailure},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newConv()
			c.ack(c.request(), time.Second, nil)
			c.ack(c.extract(time.Hour), time.Hour+tt.ackAt, nil)
			got := classifyOne(t, c, 0)
			require.NotNil(t, got.SLADuration)
			assert.Equal(t, tt.want, *got.SLADuration)
			assert.Equal(t, tt.status, got.Status)
		})
	}
}

func TestClassifyCutoff(t *testing.T) {
	tests := []struct {
		name   string
		ackAt  time.Duration
		cutoff time.Duration
		status mi.Status
	}{
		{"exactly at cutoff is kept", 2 * day, 2 * day, mi.StatusIntegratedOnTime},
		{"a second later is dropped", 2*day + time.Second, 2 * day, mi.StatusProcessFailure},
		{"zero cutoff keeps everything", 30 * day, 0, mi.StatusProcessFailure}, // late, but present
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newConv()
			c.ack(c.request(), time.Second, nil)
			c.ack(c.extract(time.Hour), tt.ackAt, nil)
			got := classifyOne(t, c, tt.cutoff)
			assert.Equal(t, tt.status, got.Status)
			if tt.cutoff == 0 {
				assert.Equal(t, mi.ReasonIntegratedLate, got.FailureReason)
			}
		})
	}
}

func TestClassifyIgnoresConversationNotStartingWithRequest(t *testing.T) {
	c := newConv()
	x := c.extract(0)
	c.add(mi.InteractionEHRRequest, requester, time.Second, "", nil)
	c.ack(x, time.Minute, nil)
	assert.Empty(t, mi.Classify(c.evs, 0))

	// Order is by time, not input order: the request here is first in time.
	d := newConv()
	d.id = "conv-2"
	d.extract(time.Hour)
	d.request()
	require.Len(t, mi.Classify(append(c.evs, d.evs...), 0), 1)
}

func TestClassifyDropsUnmatchedAck(t *testing.T) {
	var logs bytes.Buffer
	c := newConv()
	c.request()
	c.add(mi.InteractionAck, sender, time.Minute, "no-such-message", mi.Code(7))
	c.add(mi.InteractionAck, sender, time.Minute, "NotProvided", nil)
	got := mi.Classify(c.evs, 0, mi.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	require.Len(t, got, 1)
	assert.Empty(t, got[0].SenderErrorCodes)
	assert.Equal(t, mi.ReasonRequestNotAcknowledged, got[0].FailureReason)
	assert.Equal(t, 2, bytes.Count(logs.Bytes(), []byte("level=WARN")))
}

func TestClassifyPartiesAndSuppliers(t *testing.T) {
	c := newConv()
	c.ack(c.request(), time.Minute, nil)
	c.ack(c.extract(time.Hour), 2*time.Hour, nil)
	c.add(mi.InteractionCOPC, sender, 3*time.Hour, "", nil) // after the final ack
	for i := range c.evs {
		if c.evs[i].Kind() != mi.InteractionEHRRequest {
			c.evs[i].FromSystem, c.evs[i].ToSystem = "other", "other"
		}
	}
	c.evs[0].FromSystem, c.evs[0].ToSystem = "EMIS", "TPP"

	got := classifyOne(t, c, 0)
	assert.Equal(t, requester, got.RequestingPracticeASID)
	assert.Equal(t, sender, got.SendingPracticeASID)
	assert.Equal(t, "EMIS", got.RequestingSupplier)
	assert.Equal(t, "TPP", got.SendingSupplier)
	assert.Equal(t, t0, got.DateRequested)
	require.NotNil(t, got.LastSenderMessageTimestamp)
	assert.Equal(t, t0.Add(time.Hour), *got.LastSenderMessageTimestamp, "integrated: only up to the final ack")
}

func TestClassifyLastSenderMessageNotIntegrated(t *testing.T) {
	c := newConv()
	c.ack(c.request(), time.Minute, nil)
	c.extract(time.Hour)
	c.add(mi.InteractionEHRExtract, sender, 5*time.Hour, "", nil)
	got := classifyOne(t, c, 0)
	require.NotNil(t, got.LastSenderMessageTimestamp)
	assert.Equal(t, t0.Add(5*time.Hour), *got.LastSenderMessageTimestamp)

	d := newConv()
	d.request()
	assert.Nil(t, classifyOne(t, d, 0).LastSenderMessageTimestamp)
}

func TestClassifyBareInteractionAndOrder(t *testing.T) {
	a := newConv()
	a.id = "b"
	a.ack(a.request(), time.Minute, nil)
	b := newConv()
	b.id = "a"
	b.request()
	for i := range a.evs {
		a.evs[i].Interaction = string(a.evs[i].Kind()) // bare id
	}
	got := mi.Classify(append(a.evs, b.evs...), 0)
	require.Len(t, got, 2)
	assert.Equal(t, "a", got[0].ConversationID) // same time: by conversation id
	assert.Equal(t, mi.ReasonCoreExtractNotSent, got[1].FailureReason)
}

func TestTransferMonth(t *testing.T) {
	tests := []struct {
		name string
		at   time.Time
		want string
	}{
		{"last second of January UTC", time.Date(2026, 1, 31, 23, 59, 59, 0, time.UTC), "2026-01"},
		{"BST wall time in April is March UTC", time.Date(2026, 4, 1, 0, 30, 0, 0, time.FixedZone("BST", 3600)), "2026-03"},
		{"first second of February", time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC), "2026-02"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newConv()
			c.request()
			c.evs[0].Time = tt.at
			assert.Equal(t, tt.want, classifyOne(t, c, 0).Month().String())
		})
	}
	assert.Equal(t, mi.Month{Year: 2025, Month: time.December}, mi.Month{Year: 2026, Month: time.January}.Previous())
}

func TestAttribute(t *testing.T) {
	c := newConv()
	c.request()
	transfers := mi.Classify(c.evs, 0)
	var months []mi.Month
	mi.Attribute(transfers, func(asid string, m mi.Month) (mi.Practice, bool) {
		months = append(months, m)
		if asid == requester {
			return mi.Practice{ODSCode: "A12345", Name: "Req", SICBLODSCode: "00L", SICBLName: "ICB"}, true
		}
		return mi.Practice{}, false
	})
	require.NotNil(t, transfers[0].RequestingPractice)
	assert.Equal(t, "A12345", transfers[0].RequestingPractice.ODSCode)
	assert.Nil(t, transfers[0].SendingPractice)
	assert.Equal(t, []mi.Month{{Year: 2026, Month: time.March}, {Year: 2026, Month: time.March}}, months)
}
