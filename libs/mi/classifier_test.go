package mi_test

import (
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nhsengland/gp2gp/libs/mi"
)

// TestClassifierMatchesClassify runs every status rule through one
// Classifier, one conversation after another (reusing its memory), and
// compares each transfer with Classify's.
func TestClassifierMatchesClassify(t *testing.T) {
	for _, cutoff := range []time.Duration{0, 14 * day, time.Hour} {
		cl := mi.NewClassifier(cutoff)
		for range 2 {
			for _, tt := range statusRules {
				c := newConv()
				tt.build(c)
				in := slices.Clone(c.evs)
				want := mi.Classify(c.evs, cutoff)
				got, ok := cl.Conversation(c.evs)
				assert.Equal(t, in, c.evs, "%s: input not modified", tt.name)
				if len(want) == 0 {
					assert.False(t, ok, tt.name)
					continue
				}
				require.True(t, ok, tt.name)
				assert.Equal(t, want[0], got, "%s cutoff %v", tt.name, cutoff)
			}
		}
	}
}

func TestClassifierNotARequest(t *testing.T) {
	cl := mi.NewClassifier(0)
	_, ok := cl.Conversation(nil)
	assert.False(t, ok)
	c := newConv()
	c.extract(0)
	c.request()
	c.evs[1].Time = t0.Add(time.Minute)
	_, ok = cl.Conversation(c.evs)
	assert.False(t, ok, "the first message is an extract")
}

// TestClassifyManyMessages covers conversations long enough that
// messages are found through a map rather than by scanning.
func TestClassifyManyMessages(t *testing.T) {
	c := newConv()
	c.ack(c.request(), time.Minute, nil)
	x := c.extract(time.Hour)
	c.cont(2 * time.Hour)
	for i := range 80 {
		f := c.fragment(3*time.Hour + time.Duration(i)*time.Second)
		c.ack(f, 4*time.Hour, nil)
	}
	c.ack(x, 5*time.Hour, nil)
	got := classifyOne(t, c, 0)
	assert.Equal(t, mi.StatusIntegratedOnTime, got.Status)
	assert.Empty(t, got.IntermediateErrorCodes)
	tr, ok := mi.NewClassifier(0).Conversation(c.evs)
	require.True(t, ok)
	assert.Equal(t, got, tr)
}

func TestParseInteraction(t *testing.T) {
	for in, want := range map[string]mi.Interaction{
		"urn:nhs:names:services:gp2gp/RCMR_IN010000UK05":   mi.InteractionEHRRequest,
		"urn:nhs:names:services:gp2gp/MCCI_IN010000UK13":   mi.InteractionAck,
		" urn:nhs:names:services:gp2gp/copc_in000001uk01 ": mi.InteractionCOPC,
		"RCMR_IN030000UK07": mi.InteractionEHRExtractRedacted,
		"urn:nhs:names:services:gp2gp/XXXX_IN000000UK00": "XXXX_IN000000UK00",
	} {
		assert.Equal(t, want, mi.ParseInteraction(in), in)
	}
}
