package largemsg_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nhsengland/gp2gp/libs/ebxml"
	"github.com/nhsengland/gp2gp/libs/hl7"
	"github.com/nhsengland/gp2gp/libs/largemsg"
	"github.com/nhsengland/gp2gp/libs/spectest"
)

func TestContinue(t *testing.T) {
	core := asmCore(t, nil, asmExternal("DOC", asmID(1), asmDesc("scan.tif")))
	id := hl7.DeriveID(asmConv, "continue")
	c, err := largemsg.Continue(core, id, asmTime)
	require.NoError(t, err)
	assert.Equal(t, hl7.KindContinue, c.Kind)
	assert.Equal(t, id, c.MessageID)
	assert.Equal(t, asmExtractID, c.AcknowledgedID, "messageRef is the extract's ebXML MessageId")
	assert.Equal(t, []string{"A91000"}, c.Recipients, "to the sending practice")
	assert.Equal(t, "B86041", c.From, "from the requesting practice")
	assert.Equal(t, "200000000119", c.ToASID, "to the extract's sender")
	assert.Equal(t, "200000000205", c.FromASID, "from the extract's recipient")

	payload, err := c.Encode()
	require.NoError(t, err)
	decoded, err := hl7.DecodeCOPC(payload)
	require.NoError(t, err)
	assert.Equal(t, hl7.KindContinue, decoded.Kind)
	assert.Equal(t, asmExtractID, decoded.AcknowledgedID)
	assert.Equal(t, hl7.ContinueSubject, decoded.Subject)
	assert.Equal(t, []string{"A91000"}, decoded.Recipients)
	assert.Equal(t, "B86041", decoded.From)

	again, err := largemsg.Continue(core, id, asmTime)
	require.NoError(t, err)
	payload2, err := again.Encode()
	require.NoError(t, err)
	assert.Equal(t, payload, payload2, "the same inputs give the same Continue")

	if _, ok := spectest.Lookup(); ok {
		require.NoError(t, spectest.Validate(t, spectest.SchemaCOPC, payload))
	}
}

func TestContinueRefuses(t *testing.T) {
	large := asmCore(t, nil, asmExternal("DOC", asmID(1), asmDesc("scan.tif")))
	noDestination := asmCore(t, nil, asmExternal("DOC", asmID(1), asmDesc("scan.tif")))
	noDestination.Payload = asmExtractXML(asmExtractID, "200000000205", "200000000119", "A91000", "")
	for _, tc := range []struct {
		name string
		core *ebxml.Message
		id   string
		when time.Time
		opts []largemsg.ContinueOption
		err  error
	}{
		{name: "small extract", core: asmCore(t, nil), id: asmID(2), when: asmTime, err: largemsg.ErrNotLarge},
		{name: "no extract", id: asmID(2), when: asmTime, err: largemsg.ErrNotExtract},
		{name: "no destination", core: noDestination, id: asmID(2), when: asmTime, err: largemsg.ErrNoAddress},
		{name: "no id", core: large, when: asmTime},
		{name: "no time", core: large, id: asmID(2)},
		{name: "bad option", core: large, id: asmID(2), when: asmTime, opts: []largemsg.ContinueOption{largemsg.WithRequestingODS(" ")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := largemsg.Continue(tc.core, tc.id, tc.when, tc.opts...)
			require.Error(t, err)
			if tc.err != nil {
				require.ErrorIs(t, err, tc.err)
			}
		})
	}

	t.Run("options fill in", func(t *testing.T) {
		c, err := largemsg.Continue(noDestination, asmID(2), asmTime, largemsg.WithRequestingODS("b86041"), largemsg.WithSendingODS("Y01234"))
		require.NoError(t, err)
		assert.Equal(t, "B86041", c.From)
		assert.Equal(t, []string{"Y01234"}, c.Recipients)
	})
}
