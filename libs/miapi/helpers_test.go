package miapi_test

import (
	"time"

	"github.com/nhsengland/gp2gp/libs/miapi"
)

// at is the time of the OpenAPI examples.
var at = time.Date(2020, 2, 8, 8, 30, 25, 0, time.UTC)

func envelope() miapi.Envelope {
	return miapi.Envelope{
		ConversationID:            "4345-986959-4930-684038",
		RegistrationEventDateTime: at,
		ReportingSystemSupplier:   "YGJ",
		ReportingPracticeODSCode:  "A12345",
		RequestingPracticeODSCode: "A12345",
		SendingPracticeODSCode:    "B86041",
	}
}

func withoutSending(env miapi.Envelope) miapi.Envelope {
	env.SendingPracticeODSCode = ""
	return env
}

type namedEvent struct {
	name  string
	event miapi.Event
}

// constructed is at least one event of each type with every optional
// field set ("full") and one with as little as allowed ("minimal").
func constructed() []namedEvent {
	env := envelope()
	return []namedEvent{
		{"registrations full", miapi.NewRegistrationEvent(env,
			miapi.Registration{Type: miapi.RegistrationNewGP, ReturningPatient: true, MultifactorAuthenticationPresent: true},
			miapi.DemographicTraceStatus{Matched: false, Reason: "No PDS trace results returned", MultifactorAuthenticationPresent: true},
			miapi.GPLinks{GPLinksComplete: true})},
		{"registrations minimal", miapi.NewRegistrationEvent(withoutSending(env),
			miapi.Registration{Type: miapi.RegistrationChangePatientType},
			miapi.DemographicTraceStatus{Matched: true},
			miapi.GPLinks{})},
		{"transfer compatibility full", miapi.NewTransferCompatibilityEvent(env, miapi.TransferCompatibilityStatus{
			InternalTransfer: true, TransferCompatible: false, Reason: "Sending practice is the same as requesting practice"})},
		{"transfer compatibility minimal", miapi.NewTransferCompatibilityEvent(env, miapi.TransferCompatibilityStatus{TransferCompatible: true})},
		{"ehr requests", miapi.NewEHRRequestEvent(env)},
		{"ehr responses full", miapi.NewEHRResponseEvent(env, miapi.EHR{StructuredSizeBytes: 4096, Placeholders: []miapi.Placeholder{
			{GeneratedBy: miapi.GeneratedByPreExisting, ClinicalType: miapi.ClinicalScannedDocument, Reason: miapi.PlaceholderFileNotFound, OriginalMimeType: "application/pdf"},
			{GeneratedBy: miapi.GeneratedBySender, ClinicalType: miapi.ClinicalAudioDictation, Reason: miapi.PlaceholderFileDeleted, OriginalMimeType: "audio/mpeg"},
		}})},
		{"ehr responses minimal", miapi.NewEHRResponseEvent(env, miapi.EHR{})},
		{"document responses full", miapi.NewDocumentResponseEvent(env, "doc-1",
			miapi.Attachment{ClinicalType: miapi.ClinicalScannedDocument, MimeType: "application/pdf", SizeBytes: 3084322},
			miapi.DocumentMigration{Successful: false, Reason: "Large file size"})},
		{"document responses minimal", miapi.NewDocumentResponseEvent(env, "",
			miapi.Attachment{ClinicalType: miapi.ClinicalNotAvailable, MimeType: "text/plain"},
			miapi.DocumentMigration{Successful: true})},
		{"ready to integrate", miapi.NewReadyToIntegrateEvent(env)},
		{"ehr integrations", miapi.NewEHRIntegrationEvent(env, miapi.OutcomeIntegratedAndSuppressed)},
		{"errors full", miapi.NewErrorEvent(env, "nack-1", miapi.ErrorDetail{
			Code: "99", Description: "unexpected error", FailurePoint: miapi.FailureOther, OtherFailurePoint: "attachment decoding"})},
		{"errors minimal", miapi.NewErrorEvent(withoutSending(env), "", miapi.ErrorDetail{
			Code: "EHR_TIMEOUT", Description: "no EHR within 8 days", FailurePoint: miapi.FailureEHRRequested})},
		{"degrades full", miapi.NewDegradesEvent("YGJ", "6f1c2b0e-9d7a-4c55-8f0e-0b6a4b0e1c11",
			miapi.Degrade{Type: miapi.DegradeRecordEntry, Reason: miapi.DegradeReasonCode, Coding: []miapi.Coding{
				{Code: "1676331000000110", System: "http://snomed.info/sct"},
				{Code: "XaXcK", System: "2.16.840.1.113883.2.1.3.2.4.14"},
			}},
			miapi.Degrade{Type: miapi.DegradeMedication, Reason: miapi.DegradeReasonDrugName, Coding: []miapi.Coding{{Code: "x", System: "y"}}})},
		{"degrades minimal", miapi.NewDegradesEvent("YGJ", "k", miapi.Degrade{Type: miapi.DegradeOther, Reason: miapi.DegradeReasonOther})},
	}
}
