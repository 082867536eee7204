package miapi_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nhsengland/gp2gp/libs/miapi"
	"github.com/nhsengland/gp2gp/libs/miapi/miapitest"
)

// The validator accepts every example of the contract.
func TestSchemaAcceptsSpecExamples(t *testing.T) {
	spec := miapitest.Load(t)
	examples := spec.Examples(t)
	require.GreaterOrEqual(t, len(examples), 2*len(miapi.EventTypes()))
	for _, ex := range examples {
		t.Run(ex.Source, func(t *testing.T) {
			assert.NoError(t, spec.Check(ex.Type, ex.Body))
		})
	}
}

// edit returns the OpenAPI example of typ changed by f.
func edit(t *testing.T, spec *miapitest.Spec, typ miapi.EventType, f func(body map[string]any)) []byte {
	t.Helper()
	for _, ex := range spec.Examples(t) {
		if ex.Type != typ || strings.HasPrefix(ex.Source, "postman") {
			continue
		}
		var body map[string]any
		require.NoError(t, json.Unmarshal(ex.Body, &body))
		f(body)
		out, err := json.Marshal(body)
		require.NoError(t, err)
		return out
	}
	t.Fatalf("no OpenAPI example of %s", typ)
	return nil
}

func sub(m map[string]any, path ...string) map[string]any {
	for _, p := range path {
		m = m[p].(map[string]any)
	}
	return m
}

// The validator rejects broken bodies, naming the field.
func TestSchemaRejectsBrokenBodies(t *testing.T) {
	spec := miapitest.Load(t)
	for _, tc := range []struct {
		name string
		typ  miapi.EventType
		edit func(body map[string]any)
		want string
	}{
		{"no conversation id", miapi.TypeEHRRequests, func(b map[string]any) { delete(b, "conversationId") }, "conversationId: is required"},
		{"no sending practice where required", miapi.TypeReadyToIntegrateStatuses, func(b map[string]any) { delete(b, "sendingPracticeOdsCode") }, "sendingPracticeOdsCode: is required"},
		{"date-time not RFC 3339", miapi.TypeEHRIntegrations, func(b map[string]any) { b["registrationEventDateTime"] = "08/02/2020" }, "registrationEventDateTime: must be an RFC 3339 date-time"},
		{"supplier a number", miapi.TypeEHRRequests, func(b map[string]any) { b["reportingSystemSupplier"] = 7 }, "reportingSystemSupplier: must be of type string"},
		{"no payload", miapi.TypeRegistrations, func(b map[string]any) { delete(b, "payload") }, "payload: is required"},
		{"null payload", miapi.TypeErrors, func(b map[string]any) { b["payload"] = nil }, "payload: must not be null"},
		{"no gpLinks", miapi.TypeRegistrations, func(b map[string]any) { delete(sub(b, "payload"), "gpLinks") }, "payload.gpLinks: is required"},
		{"registration type not in enum", miapi.TypeRegistrations, func(b map[string]any) { sub(b, "payload", "registration")["type"] = "TEMPORARY" }, "payload.registration.type: must be one of"},
		{"boolean as string", miapi.TypeTransferCompatibilityStatuses, func(b map[string]any) { sub(b, "payload", "transferCompatibilityStatus")["internalTransfer"] = "false" }, "payload.transferCompatibilityStatus.internalTransfer: must be of type boolean"},
		{"size not an integer", miapi.TypeDocumentResponses, func(b map[string]any) { sub(b, "payload", "attachment")["sizeBytes"] = 1.5 }, "payload.attachment.sizeBytes: must be of type integer"},
		{"placeholder reason not in enum", miapi.TypeEHRResponses, func(b map[string]any) {
			sub(b, "payload", "ehr")["placeholders"].([]any)[1].(map[string]any)["reason"] = "FILE_TOO_BIG"
		}, "payload.ehr.placeholders[1].reason: must be one of"},
		{"placeholders not a list", miapi.TypeEHRResponses, func(b map[string]any) { sub(b, "payload", "ehr")["placeholders"] = map[string]any{} }, "payload.ehr.placeholders: must be of type array"},
		{"no failure point", miapi.TypeErrors, func(b map[string]any) { delete(sub(b, "payload", "error"), "failurePoint") }, "payload.error.failurePoint: is required"},
		{"degrade without coding", miapi.TypeDegrades, func(b map[string]any) {
			delete(sub(b, "payload")["degrades"].([]any)[0].(map[string]any), "coding")
		}, "payload.degrades[0].coding: is required"},
		{"coding code a number", miapi.TypeDegrades, func(b map[string]any) {
			sub(b, "payload")["degrades"].([]any)[0].(map[string]any)["coding"].([]any)[0].(map[string]any)["code"] = 1676331000000110
		}, "payload.degrades[0].coding[0].code: must be of type string"},
		{"no supplier on degrades", miapi.TypeDegrades, func(b map[string]any) { delete(b, "reportingSystemSupplier") }, "reportingSystemSupplier: is required"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := spec.Check(tc.typ, edit(t, spec, tc.typ, tc.edit))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
	assert.Error(t, spec.Check(miapi.TypeEHRRequests, []byte(`{`)), "not JSON")
	assert.Error(t, spec.Check(miapi.TypeEHRRequests, []byte(`[]`)), "not an object")
}

// Every event the constructors make is a body its endpoint's schema
// accepts.
func TestSchemaAcceptsConstructed(t *testing.T) {
	spec := miapitest.Load(t)
	seen := map[miapi.EventType]bool{}
	for _, tc := range constructed() {
		seen[tc.event.Type] = true
		t.Run(tc.name, func(t *testing.T) {
			spec.Validate(t, tc.event)
		})
	}
	assert.Len(t, seen, len(miapi.EventTypes()), "every type is covered")
	miapitest.Validate(t, constructed()[0].event) // the one-call form
}

// Every enum constant is a value the schema allows: a misspelt constant
// fails here.
func TestSchemaAcceptsEveryEnumValue(t *testing.T) {
	spec := miapitest.Load(t)
	env := envelope()
	var events []miapi.Event
	for _, r := range []miapi.RegistrationType{miapi.RegistrationChangePatientType, miapi.RegistrationNewGP} {
		events = append(events, miapi.NewRegistrationEvent(env, miapi.Registration{Type: r}, miapi.DemographicTraceStatus{Matched: true}, miapi.GPLinks{}))
	}
	for _, c := range []miapi.ClinicalType{
		miapi.ClinicalScannedDocument, miapi.ClinicalOriginalTextDocument, miapi.ClinicalOCRTextDocument,
		miapi.ClinicalImage, miapi.ClinicalAudioDictation, miapi.ClinicalOtherAudio, miapi.ClinicalOtherDigitalSignal,
		miapi.ClinicalEDIMessage, miapi.ClinicalNotAvailable, miapi.ClinicalOther,
	} {
		events = append(events,
			miapi.NewDocumentResponseEvent(env, "", miapi.Attachment{ClinicalType: c, MimeType: "m"}, miapi.DocumentMigration{Successful: true}),
			miapi.NewEHRResponseEvent(env, miapi.EHR{Placeholders: []miapi.Placeholder{{GeneratedBy: miapi.GeneratedBySender, ClinicalType: c, Reason: miapi.PlaceholderFileLocked, OriginalMimeType: "m"}}}))
	}
	for _, g := range []miapi.GeneratedBy{miapi.GeneratedBySender, miapi.GeneratedByPreExisting} {
		for _, r := range []miapi.PlaceholderReason{
			miapi.PlaceholderFileTypeUnsupported, miapi.PlaceholderFileDeleted, miapi.PlaceholderFileNotFound,
			miapi.PlaceholderFileLocked, miapi.PlaceholderUnableToDetermineProblem,
		} {
			events = append(events, miapi.NewEHRResponseEvent(env, miapi.EHR{Placeholders: []miapi.Placeholder{{GeneratedBy: g, ClinicalType: miapi.ClinicalImage, Reason: r, OriginalMimeType: "m"}}}))
		}
	}
	for _, o := range []miapi.IntegrationOutcome{
		miapi.OutcomeIntegrated, miapi.OutcomeIntegratedAndSuppressed, miapi.OutcomeSuppressedAndReactivated,
		miapi.OutcomeFiledAsAttachment, miapi.OutcomeRejected, miapi.OutcomeInternalTransfer, miapi.OutcomeFailedToIntegrate,
	} {
		events = append(events, miapi.NewEHRIntegrationEvent(env, o))
	}
	for _, f := range []miapi.FailurePoint{
		miapi.FailurePatientTrace, miapi.FailureEndpointLookup, miapi.FailurePatientGeneralUpdate, miapi.FailureEHRRequested,
		miapi.FailureEHRResponse, miapi.FailureEHRReadyToIntegrate, miapi.FailureEHRIntegration, miapi.FailureOther,
	} {
		events = append(events, miapi.NewErrorEvent(env, "", miapi.ErrorDetail{Code: "99", Description: "d", FailurePoint: f}))
	}
	for _, d := range []miapi.DegradeType{
		miapi.DegradeMedication, miapi.DegradeNonDrugAllergy, miapi.DegradeDrugAllergy, miapi.DegradeReferral,
		miapi.DegradePlan, miapi.DegradeRequest, miapi.DegradeRecordEntry, miapi.DegradeOther,
	} {
		for _, r := range []miapi.DegradeReason{miapi.DegradeReasonCode, miapi.DegradeReasonNumericValue, miapi.DegradeReasonDrugName, miapi.DegradeReasonOther} {
			events = append(events, miapi.NewDegradesEvent("YGJ", "k", miapi.Degrade{Type: d, Reason: r}))
		}
	}
	for _, e := range events {
		require.NoError(t, e.Validate())
		spec.Validate(t, e)
	}
}
