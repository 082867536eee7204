package miapi

import "slices"

// RegistrationType is payload.registration.type of a REGISTRATIONS event.
type RegistrationType string

// Registration types.
const (
	// RegistrationChangePatientType: the patient was registered at the
	// practice as a non-regular type (temporary, private…) and becomes a
	// regular patient.
	RegistrationChangePatientType RegistrationType = "CHANGE_PATIENT_TYPE"
	// RegistrationNewGP: a new or returning patient who is not currently
	// registered as a non-regular patient.
	RegistrationNewGP RegistrationType = "NEW_GP_REGISTRATION"
)

var registrationTypes = []RegistrationType{RegistrationChangePatientType, RegistrationNewGP}

// Valid reports whether r is one of the API's registration types.
func (r RegistrationType) Valid() bool { return slices.Contains(registrationTypes, r) }

// ClinicalType is the kind of an attachment or of the attachment a
// placeholder stands for: the EhrAttachmentCode of the HL7
// ExternalDocument.
type ClinicalType string

// Clinical types.
const (
	ClinicalScannedDocument      ClinicalType = "SCANNED_DOCUMENT"
	ClinicalOriginalTextDocument ClinicalType = "ORIGINAL_TEXT_DOCUMENT"
	ClinicalOCRTextDocument      ClinicalType = "OCR_TEXT_DOCUMENT"
	ClinicalImage                ClinicalType = "IMAGE"
	ClinicalAudioDictation       ClinicalType = "AUDIO_DICTATION"
	ClinicalOtherAudio           ClinicalType = "OTHER_AUDIO"
	ClinicalOtherDigitalSignal   ClinicalType = "OTHER_DIGITAL_SIGNAL"
	ClinicalEDIMessage           ClinicalType = "EDI_MESSAGE"
	ClinicalNotAvailable         ClinicalType = "NOT_AVAILABLE"
	ClinicalOther                ClinicalType = "OTHER"
)

var clinicalTypes = []ClinicalType{
	ClinicalScannedDocument, ClinicalOriginalTextDocument, ClinicalOCRTextDocument,
	ClinicalImage, ClinicalAudioDictation, ClinicalOtherAudio, ClinicalOtherDigitalSignal,
	ClinicalEDIMessage, ClinicalNotAvailable, ClinicalOther,
}

// Valid reports whether c is one of the API's clinical types.
func (c ClinicalType) Valid() bool { return slices.Contains(clinicalTypes, c) }

// GeneratedBy says who made a placeholder.
type GeneratedBy string

// Placeholder origins.
const (
	// GeneratedBySender: the sending practice made the placeholder.
	GeneratedBySender GeneratedBy = "SENDER"
	// GeneratedByPreExisting: the placeholder was already in the EHR.
	GeneratedByPreExisting GeneratedBy = "PRE_EXISTING"
)

var generatedBys = []GeneratedBy{GeneratedBySender, GeneratedByPreExisting}

// Valid reports whether g is one of the API's placeholder origins.
func (g GeneratedBy) Valid() bool { return slices.Contains(generatedBys, g) }

// PlaceholderReason is why a placeholder replaced an attachment
// (NPFIT-PC-BLD-0099.04 GP2GP Handling Missing Attachments).
type PlaceholderReason string

// Placeholder reasons.
const (
	PlaceholderFileTypeUnsupported      PlaceholderReason = "FILE_TYPE_UNSUPPORTED"
	PlaceholderFileDeleted              PlaceholderReason = "FILE_DELETED"
	PlaceholderFileNotFound             PlaceholderReason = "FILE_NOT_FOUND"
	PlaceholderFileLocked               PlaceholderReason = "FILE_LOCKED"
	PlaceholderUnableToDetermineProblem PlaceholderReason = "UNABLE_TO_DETERMINE_PROBLEM"
)

var placeholderReasons = []PlaceholderReason{
	PlaceholderFileTypeUnsupported, PlaceholderFileDeleted, PlaceholderFileNotFound,
	PlaceholderFileLocked, PlaceholderUnableToDetermineProblem,
}

// Valid reports whether r is one of the API's placeholder reasons.
func (r PlaceholderReason) Valid() bool { return slices.Contains(placeholderReasons, r) }

// IntegrationOutcome is payload.integration.outcome of an EHR_INTEGRATIONS
// event.
type IntegrationOutcome string

// Integration outcomes.
const (
	// OutcomeIntegrated: the record was integrated (or merged, for a
	// returning patient).
	OutcomeIntegrated IntegrationOutcome = "INTEGRATED"
	// OutcomeIntegratedAndSuppressed: integrated, and the existing record
	// suppressed (returning patients only).
	OutcomeIntegratedAndSuppressed IntegrationOutcome = "INTEGRATED_AND_SUPPRESSED"
	// OutcomeSuppressedAndReactivated: the incoming record integrated and
	// suppressed, the old one reactivated (returning patients only).
	OutcomeSuppressedAndReactivated IntegrationOutcome = "SUPPRESSED_AND_REACTIVATED"
	// OutcomeFiledAsAttachment: GP2GP 1.1a only.
	OutcomeFiledAsAttachment IntegrationOutcome = "FILED_AS_ATTACHMENT"
	// OutcomeRejected: the user rejected the record.
	OutcomeRejected IntegrationOutcome = "REJECTED"
	// OutcomeInternalTransfer: the transfer stayed within one system, using
	// neither GP2GP nor GP Connect.
	OutcomeInternalTransfer IntegrationOutcome = "INTERNAL_TRANSFER"
	// OutcomeFailedToIntegrate: integration failed (an ERRORS event should
	// say why).
	OutcomeFailedToIntegrate IntegrationOutcome = "FAILED_TO_INTEGRATE"
)

var integrationOutcomes = []IntegrationOutcome{
	OutcomeIntegrated, OutcomeIntegratedAndSuppressed, OutcomeSuppressedAndReactivated,
	OutcomeFiledAsAttachment, OutcomeRejected, OutcomeInternalTransfer, OutcomeFailedToIntegrate,
}

// Valid reports whether o is one of the API's integration outcomes.
func (o IntegrationOutcome) Valid() bool { return slices.Contains(integrationOutcomes, o) }

// FailurePoint is where an error happened: payload.error.failurePoint of
// an ERRORS event.
type FailurePoint string

// Failure points.
const (
	FailurePatientTrace         FailurePoint = "PATIENT_TRACE"
	FailureEndpointLookup       FailurePoint = "ENDPOINT_LOOKUP"
	FailurePatientGeneralUpdate FailurePoint = "PATIENT_GENERAL_UPDATE"
	FailureEHRRequested         FailurePoint = "EHR_REQUESTED"
	FailureEHRResponse          FailurePoint = "EHR_RESPONSE"
	FailureEHRReadyToIntegrate  FailurePoint = "EHR_READY_TO_INTEGRATE"
	FailureEHRIntegration       FailurePoint = "EHR_INTEGRATION"
	// FailureOther: anywhere else; ErrorDetail.OtherFailurePoint may say
	// where.
	FailureOther FailurePoint = "OTHER"
)

var failurePoints = []FailurePoint{
	FailurePatientTrace, FailureEndpointLookup, FailurePatientGeneralUpdate, FailureEHRRequested,
	FailureEHRResponse, FailureEHRReadyToIntegrate, FailureEHRIntegration, FailureOther,
}

// Valid reports whether f is one of the API's failure points.
func (f FailurePoint) Valid() bool { return slices.Contains(failurePoints, f) }

// DegradeType is the category of a degraded entry (NPFIT-PC-BLD-0132.03
// Structured Degrade Handling).
type DegradeType string

// Degrade types.
const (
	DegradeMedication     DegradeType = "MEDICATION"
	DegradeNonDrugAllergy DegradeType = "NON_DRUG_ALLERGY"
	DegradeDrugAllergy    DegradeType = "DRUG_ALLERGY"
	DegradeReferral       DegradeType = "REFERRAL"
	DegradePlan           DegradeType = "PLAN"
	DegradeRequest        DegradeType = "REQUEST"
	DegradeRecordEntry    DegradeType = "RECORD_ENTRY"
	DegradeOther          DegradeType = "OTHER"
)

var degradeTypes = []DegradeType{
	DegradeMedication, DegradeNonDrugAllergy, DegradeDrugAllergy, DegradeReferral,
	DegradePlan, DegradeRequest, DegradeRecordEntry, DegradeOther,
}

// Valid reports whether d is one of the API's degrade types.
func (d DegradeType) Valid() bool { return slices.Contains(degradeTypes, d) }

// DegradeReason is why an entry was degraded.
type DegradeReason string

// Degrade reasons.
const (
	// DegradeReasonCode: the code could not be mapped.
	DegradeReasonCode DegradeReason = "CODE"
	// DegradeReasonNumericValue: a numeric value was degraded to text.
	DegradeReasonNumericValue DegradeReason = "NUMERIC_VALUE"
	// DegradeReasonDrugName: a drug name was made textual.
	DegradeReasonDrugName DegradeReason = "DRUG_NAME"
	// DegradeReasonOther: any other reason.
	DegradeReasonOther DegradeReason = "OTHER"
)

var degradeReasons = []DegradeReason{DegradeReasonCode, DegradeReasonNumericValue, DegradeReasonDrugName, DegradeReasonOther}

// Valid reports whether r is one of the API's degrade reasons.
func (r DegradeReason) Valid() bool { return slices.Contains(degradeReasons, r) }
