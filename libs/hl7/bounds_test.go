package hl7_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nhsengland/gp2gp/libs/hl7"
)

// An identifying value of megabytes (an NHS number, an id, an ASID) is a
// validation error with the interaction's NACK code; the value is not
// returned, so it cannot reach a transfer record, a log line or a NACK,
// and the error names it by its length only. What else could be read is
// returned, so the NACK can still be addressed.
func TestDecodeRefusesOversizedValues(t *testing.T) {
	huge := strings.Repeat("9", 8<<20)
	req, err := request().Encode()
	require.NoError(t, err)
	ack, err := acks()["nack-ar-06.xml"].Encode()
	require.NoError(t, err)
	cont, err := copcs()["continue.xml"].Encode()
	require.NoError(t, err)
	ex, err := extract(t).Encode()
	require.NoError(t, err)

	for _, tc := range []struct {
		name  string
		data  string
		code  hl7.ReasonCode
		check func(t *testing.T, m hl7.Message)
	}{
		{"request: NHS number", replace(string(req), `extension="9442964410"`, `extension="`+huge+`"`), hl7.ReasonRequestMalformed,
			func(t *testing.T, m hl7.Message) {
				r := m.(*hl7.Request)
				assert.Empty(t, r.NHSNumber)
				assert.Equal(t, "DFE22ED3-946B-4A2D-A827-5397C7673599", r.MessageID)
				assert.Equal(t, "200000001161", r.FromASID, "the NACK can be addressed")
			}},
		{"request: message id", replace(string(req), `root="DFE22ED3-946B-4A2D-A827-5397C7673599"`, `root="`+huge+`"`), hl7.ReasonRequestMalformed,
			func(t *testing.T, m hl7.Message) { assert.Empty(t, m.Header().MessageID) }},
		{"request: sender ASID", replace(string(req), `extension="200000001161"`, `extension="`+huge+`"`), hl7.ReasonRequestMalformed,
			func(t *testing.T, m hl7.Message) { assert.Empty(t, m.Header().FromASID) }},
		{"extract: NHS number", replace(string(ex), `extension="9442964410"`, `extension="`+huge+`"`), hl7.ReasonExtractMalformed,
			func(t *testing.T, m hl7.Message) { assert.Empty(t, m.(*hl7.Extract).NHSNumber) }},
		{"ack: message reference", replace(string(ack), `root="A65AC703-0BE4-4314-8D91-BE57163E1BE5"`, `root="`+huge+`"`), "",
			func(t *testing.T, m hl7.Message) { assert.Empty(t, m.(*hl7.Ack).MessageRef) }},
		{"Continue: acknowledged extract", replace(string(cont), `685940E2-3119-4816-9F7E-6E3276E2E5D7`, huge), hl7.ReasonLargeMessageFailure,
			func(t *testing.T, m hl7.Message) { assert.Empty(t, m.(*hl7.COPC).AcknowledgedID) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := hl7.Decode([]byte(tc.data))
			var ve *hl7.ValidationError
			require.ErrorAs(t, err, &ve)
			assert.Equal(t, tc.code, ve.Code)
			assert.Contains(t, ve.Error(), "bytes is longer than 256")
			assert.Less(t, len(ve.Error()), 512, "the error does not carry the value")
			require.NotNil(t, m)
			tc.check(t, m)
		})
	}
}
