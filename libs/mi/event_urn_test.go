package mi_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/nhsengland/gp2gp/libs/mi"
)

func TestInteractionURN(t *testing.T) {
	for _, i := range []mi.Interaction{mi.InteractionEHRRequest, mi.InteractionEHRExtract,
		mi.InteractionEHRExtractRedacted, mi.InteractionAck, mi.InteractionCOPC, "XXXX_IN000000UK00"} {
		urn := i.URN()
		assert.Equal(t, "urn:nhs:names:services:gp2gp/"+string(i), urn)
		assert.Equal(t, i, mi.ParseInteraction(urn))
	}
	assert.Zero(t, testing.AllocsPerRun(10, func() { _ = mi.InteractionAck.URN() }))
}
