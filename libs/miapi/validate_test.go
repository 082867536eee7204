package miapi_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nhsengland/gp2gp/libs/miapi"
)

func TestValidateConstructed(t *testing.T) {
	for _, tc := range constructed() {
		t.Run(tc.name, func(t *testing.T) {
			assert.NoError(t, tc.event.Validate())
		})
	}
}

func TestValidateErrors(t *testing.T) {
	env := envelope()
	okError := miapi.ErrorDetail{Code: "99", Description: "d", FailurePoint: miapi.FailureEHRResponse}
	withPayload := func(e miapi.Event, p *miapi.Payload) miapi.Event {
		e.Payload = p
		return e
	}
	for _, tc := range []struct {
		name  string
		event miapi.Event
		want  []string
	}{
		{"unknown type", miapi.Event{Type: "EHR_REQUESTED", Envelope: env}, []string{"eventType: must be one of REGISTRATIONS, "}},
		{"empty envelope", miapi.NewEHRRequestEvent(miapi.Envelope{}), []string{
			"reportingSystemSupplier: must not be empty",
			"conversationId: must not be empty",
			"registrationEventDateTime: must not be empty",
			"reportingPracticeOdsCode: must not be empty",
			"requestingPracticeOdsCode: must not be empty",
			"sendingPracticeOdsCode: must not be empty",
		}},
		{"blank supplier", miapi.NewEHRRequestEvent(func() miapi.Envelope { e := env; e.ReportingSystemSupplier = "  "; return e }()),
			[]string{"reportingSystemSupplier: must not be empty"}},
		{"payload on ehr requests", withPayload(miapi.NewEHRRequestEvent(env), &miapi.Payload{}), []string{"payload: must be absent for EHR_REQUESTS"}},
		{"no payload", withPayload(miapi.NewEHRIntegrationEvent(env, miapi.OutcomeIntegrated), nil), []string{"payload: must not be null"}},
		{"registration parts missing", withPayload(miapi.NewRegistrationEvent(env, miapi.Registration{}, miapi.DemographicTraceStatus{}, miapi.GPLinks{}),
			&miapi.Payload{GPLinks: &miapi.GPLinks{}, Error: &okError}), []string{
			"payload.registration: must not be null",
			"payload.demographicTraceStatus: must not be null",
			"payload.error: must be absent for REGISTRATIONS",
		}},
		{"registration enum and reason", miapi.NewRegistrationEvent(env, miapi.Registration{Type: "TEMPORARY"}, miapi.DemographicTraceStatus{Matched: false}, miapi.GPLinks{}), []string{
			`payload.registration.type: must be one of CHANGE_PATIENT_TYPE, NEW_GP_REGISTRATION (have "TEMPORARY")`,
			"payload.demographicTraceStatus.reason: must not be empty when matched is false",
		}},
		{"not compatible without reason", miapi.NewTransferCompatibilityEvent(env, miapi.TransferCompatibilityStatus{}),
			[]string{"payload.transferCompatibilityStatus.reason: must not be empty when transferCompatible is false"}},
		{"bad ehr", miapi.NewEHRResponseEvent(env, miapi.EHR{StructuredSizeBytes: -1, Placeholders: []miapi.Placeholder{
			{GeneratedBy: miapi.GeneratedBySender, ClinicalType: miapi.ClinicalImage, Reason: miapi.PlaceholderFileLocked, OriginalMimeType: "image/png"},
			{GeneratedBy: "RECEIVER", ClinicalType: "PHOTO"},
		}}), []string{
			"payload.ehr.ehrStructuredSizeBytes: must be greater than or equal to 0 (have -1)",
			`payload.ehr.placeholders[1].generatedBy: must be one of SENDER, PRE_EXISTING (have "RECEIVER")`,
			`payload.ehr.placeholders[1].clinicalType: must be one of SCANNED_DOCUMENT`,
			"payload.ehr.placeholders[1].reason: must not be empty",
			"payload.ehr.placeholders[1].originalMimeType: must not be empty",
		}},
		{"bad document", miapi.NewDocumentResponseEvent(env, "", miapi.Attachment{SizeBytes: -5}, miapi.DocumentMigration{}), []string{
			"payload.attachment.clinicalType: must not be empty",
			"payload.attachment.mimeType: must not be empty",
			"payload.attachment.sizeBytes: must be greater than or equal to 0 (have -5)",
			"payload.documentMigration.reason: must not be empty when successful is false",
		}},
		{"bad outcome", miapi.NewEHRIntegrationEvent(env, "MERGED"), []string{`payload.integration.outcome: must be one of INTEGRATED, `}},
		{"error code with a dash", miapi.NewErrorEvent(env, "", miapi.ErrorDetail{Code: "AB-1", Description: "d", FailurePoint: miapi.FailureOther}),
			[]string{`payload.error.errorCode: must be 1 to 50 letters, digits or underscores (have "AB-1")`}},
		{"error code too long", miapi.NewErrorEvent(env, "", miapi.ErrorDetail{Code: strings.Repeat("A", 51), Description: "d", FailurePoint: miapi.FailureOther}),
			[]string{"payload.error.errorCode: must be 1 to 50 letters"}},
		{"error code, description, failure point missing", miapi.NewErrorEvent(env, "", miapi.ErrorDetail{}), []string{
			`payload.error.errorCode: must be 1 to 50 letters, digits or underscores (have "")`,
			"payload.error.errorDescription: must not be empty",
			"payload.error.failurePoint: must not be empty",
		}},
		{"degrades naming the transfer, no key", func() miapi.Event {
			e := miapi.NewDegradesEvent("YGJ", "", miapi.Degrade{Type: "ALLERGY", Reason: "TEXT", Coding: []miapi.Coding{{}}})
			e.Envelope = env
			return e
		}(), []string{
			"conversationId: must be empty for DEGRADES",
			"registrationEventDateTime: must be empty for DEGRADES",
			"reportingPracticeOdsCode: must be empty for DEGRADES",
			"requestingPracticeOdsCode: must be empty for DEGRADES",
			"sendingPracticeOdsCode: must be empty for DEGRADES",
			"key: must not be empty for DEGRADES",
			`payload.degrades[0].type: must be one of MEDICATION, `,
			`payload.degrades[0].reason: must be one of CODE, NUMERIC_VALUE, DRUG_NAME, OTHER (have "TEXT")`,
			"payload.degrades[0].coding[0].code: must not be empty",
			"payload.degrades[0].coding[0].system: must not be empty",
		}},
		{"no degrades", miapi.NewDegradesEvent("YGJ", "k"), []string{"payload.degrades: must have at least one degrade"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.event.Validate()
			require.ErrorIs(t, err, miapi.ErrInvalidEvent)
			var ve *miapi.ValidationError
			require.True(t, errors.As(err, &ve))
			assert.Equal(t, tc.event.Type, ve.Type)
			got := make([]string, len(ve.Problems))
			for i, p := range ve.Problems {
				got[i] = p.String()
				assert.Contains(t, err.Error(), p.String())
			}
			require.Len(t, got, len(tc.want), "problems: %q", got)
			for i, want := range tc.want {
				assert.True(t, strings.HasPrefix(got[i], want), "problem %d: %q does not start with %q", i, got[i], want)
			}
		})
	}
}

func TestValidateOptionalSending(t *testing.T) {
	for _, e := range []miapi.Event{
		miapi.NewRegistrationEvent(withoutSending(envelope()), miapi.Registration{Type: miapi.RegistrationNewGP}, miapi.DemographicTraceStatus{Matched: true}, miapi.GPLinks{}),
		miapi.NewErrorEvent(withoutSending(envelope()), "", miapi.ErrorDetail{Code: "99", Description: "d", FailurePoint: miapi.FailureOther}),
	} {
		assert.NoError(t, e.Validate(), e.Type)
	}
	for _, typ := range miapi.EventTypes() {
		if typ == miapi.TypeRegistrations || typ == miapi.TypeErrors || typ == miapi.TypeDegrades {
			continue
		}
		e := miapi.Event{Type: typ, Envelope: withoutSending(envelope())}
		err := e.Validate()
		require.Error(t, err, typ)
		assert.Contains(t, err.Error(), "sendingPracticeOdsCode: must not be empty", typ)
	}
}

func TestValidateErrorCodes(t *testing.T) {
	for _, code := range []string{"99", "FD34", "EHR_TIMEOUT", "a", strings.Repeat("9", 50)} {
		e := miapi.NewErrorEvent(envelope(), "", miapi.ErrorDetail{Code: code, Description: "d", FailurePoint: miapi.FailureOther})
		assert.NoError(t, e.Validate(), code)
	}
	for _, code := range []string{"", " 99", "99 ", "é", "a.b", strings.Repeat("9", 51)} {
		e := miapi.NewErrorEvent(envelope(), "", miapi.ErrorDetail{Code: code, Description: "d", FailurePoint: miapi.FailureOther})
		assert.Error(t, e.Validate(), code)
	}
}

func TestValidateTime(t *testing.T) {
	e := miapi.NewEHRRequestEvent(envelope())
	e.RegistrationEventDateTime = time.Time{}
	require.ErrorContains(t, e.Validate(), "registrationEventDateTime: must not be empty")
}
