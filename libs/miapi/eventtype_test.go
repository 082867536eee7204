package miapi_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/nhsengland/gp2gp/libs/miapi"
)

func TestEventTypePaths(t *testing.T) {
	want := map[miapi.EventType]string{
		miapi.TypeRegistrations:                 "/registrations",
		miapi.TypeTransferCompatibilityStatuses: "/transfer-compatibility-statuses",
		miapi.TypeEHRRequests:                   "/ehr-requests",
		miapi.TypeEHRResponses:                  "/ehr-responses",
		miapi.TypeDocumentResponses:             "/document-responses",
		miapi.TypeReadyToIntegrateStatuses:      "/ready-to-integrate-statuses",
		miapi.TypeEHRIntegrations:               "/ehr-integrations",
		miapi.TypeErrors:                        "/errors",
		miapi.TypeDegrades:                      "/ehr-degrades",
	}
	assert.Len(t, miapi.EventTypes(), len(want))
	for _, typ := range miapi.EventTypes() {
		t.Run(string(typ), func(t *testing.T) {
			assert.True(t, typ.Valid())
			assert.Equal(t, want[typ], typ.Path())
			got, ok := miapi.TypeForPath(typ.Path())
			assert.True(t, ok)
			assert.Equal(t, typ, got)
		})
	}
}

func TestEventTypeStored(t *testing.T) {
	assert.Equal(t, "ERROR", miapi.TypeErrors.Stored(), "the API stores ERRORS as ERROR")
	assert.Equal(t, "DOCUMENT_RESPONSES", miapi.TypeDocumentResponses.Stored())
	assert.Equal(t, "", miapi.EventType("ERROR").Stored())
}

func TestTypeForPath(t *testing.T) {
	for _, tc := range []struct {
		path string
		want miapi.EventType
		ok   bool
	}{
		{"/errors", miapi.TypeErrors, true},
		{"errors", miapi.TypeErrors, true},
		{"/ehr-degrades/", miapi.TypeDegrades, true},
		{"/degrades", "", false},
		{"", "", false},
		{"/", "", false},
	} {
		t.Run(tc.path, func(t *testing.T) {
			got, ok := miapi.TypeForPath(tc.path)
			assert.Equal(t, tc.ok, ok)
			assert.Equal(t, tc.want, got)
		})
	}
	assert.False(t, miapi.EventType("EHR_REQUESTED").Valid())
	assert.Empty(t, miapi.EventType("EHR_REQUESTED").Path())
}
