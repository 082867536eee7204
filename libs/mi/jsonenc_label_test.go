package mi

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestAppendJSONLabel: every status and failure reason, and any other
// string, as encoding/json writes it.
func TestAppendJSONLabel(t *testing.T) {
	for _, s := range []string{
		string(StatusIntegratedOnTime), string(StatusTechnicalFailure), string(StatusProcessFailure),
		string(StatusUnclassifiedFailure), string(ReasonIntegratedLate), string(ReasonFinalError),
		string(ReasonAmbiguousCOPCs), string(ReasonTransferredNotIntegratedWithError), string(ReasonCOPCNotSent),
		string(ReasonCOPCNotAcknowledged), string(ReasonTransferredNotIntegrated), string(ReasonFatalSenderError),
		string(ReasonRequestNotAcknowledged), string(ReasonCoreExtractNotSent), "", "<other> & \"odd\"",
	} {
		want, err := json.Marshal(s)
		require.NoError(t, err)
		assert.Equal(t, string(want), string(appendJSONLabel(nil, s)), s)
	}
}
