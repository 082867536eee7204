package miapi

import "time"

// Envelope is the part of the body common to every event type except
// DEGRADES (the API's BaseEvent, GP2GP-MI.md §3.3).
type Envelope struct {
	// ConversationID joins the events of one registration and transfer:
	// generated at registration and reused as the GP2GP conversation id.
	ConversationID string
	// RegistrationEventDateTime is when the event happened at the
	// practice. It is sent in UTC to the second ("2020-02-08T08:30:25Z");
	// finer precision is dropped.
	RegistrationEventDateTime time.Time
	// ReportingSystemSupplier is the system supplier's ODS code.
	ReportingSystemSupplier string
	// ReportingPracticeODSCode is the practice sending the event: the
	// requesting or the sending practice.
	ReportingPracticeODSCode string
	// RequestingPracticeODSCode is the practice the patient registers at.
	RequestingPracticeODSCode string
	// SendingPracticeODSCode is the previous practice. It is required
	// except on REGISTRATIONS and ERRORS, where there may be none.
	SendingPracticeODSCode string
}

// Event is one MI event: its type, the envelope and the payload. One value
// holds any type, so an outbox needs no per-type storage. json.Marshal
// gives the request body of the type's endpoint (Key is not part of it);
// Unmarshal reads one.
//
// For DEGRADES only ReportingSystemSupplier of the envelope is sent, and
// the rest of the envelope must be empty: a degrade must not identify the
// transfer.
type Event struct {
	// Type selects the endpoint and the payload the event carries.
	Type EventType
	// Key tells apart events that would otherwise have the same id (see
	// ID): the document id of one of several DOCUMENT_RESPONSES in the same
	// second, or what distinguishes two ERRORS. It is required for DEGRADES,
	// whose id comes from it alone (see NewDegradesEvent for what it must
	// not be). It is not part of the body.
	Key string
	Envelope
	// Payload is the body's "payload" object, with the fields of Type set
	// and the others nil. It is nil for EHR_REQUESTS and
	// READY_TO_INTEGRATE_STATUSES, which have none.
	Payload *Payload
}

// Payload is the "payload" object of every event type. An event sets the
// fields of its type only:
//
//	REGISTRATIONS                   Registration, DemographicTraceStatus, GPLinks
//	TRANSFER_COMPATIBILITY_STATUSES TransferCompatibilityStatus
//	EHR_RESPONSES                   EHR
//	DOCUMENT_RESPONSES              Attachment, DocumentMigration
//	EHR_INTEGRATIONS                Integration
//	ERRORS                          Error
//	DEGRADES                        Degrades
type Payload struct {
	Registration                *Registration                `json:"registration,omitempty"`
	DemographicTraceStatus      *DemographicTraceStatus      `json:"demographicTraceStatus,omitempty"`
	GPLinks                     *GPLinks                     `json:"gpLinks,omitempty"`
	TransferCompatibilityStatus *TransferCompatibilityStatus `json:"transferCompatibilityStatus,omitempty"`
	EHR                         *EHR                         `json:"ehr,omitempty"`
	Attachment                  *Attachment                  `json:"attachment,omitempty"`
	DocumentMigration           *DocumentMigration           `json:"documentMigration,omitempty"`
	Integration                 *Integration                 `json:"integration,omitempty"`
	Error                       *ErrorDetail                 `json:"error,omitempty"`
	Degrades                    []Degrade                    `json:"degrades,omitempty"`
}

// Registration is payload.registration of a REGISTRATIONS event.
type Registration struct {
	Type RegistrationType `json:"type"`
	// ReturningPatient: the patient is on the practice's list of
	// previously regular patients.
	ReturningPatient bool `json:"returningPatient"`
	// MultifactorAuthenticationPresent: a smartcard or other multifactor
	// authentication was present during registration.
	MultifactorAuthenticationPresent bool `json:"multifactorAuthenticationPresent"`
}

// DemographicTraceStatus is the PDS trace: payload.demographicTraceStatus
// of a REGISTRATIONS event.
type DemographicTraceStatus struct {
	// Matched: the user selected a PDS match.
	Matched bool `json:"matched"`
	// Reason is required when not Matched, for example "No PDS trace
	// results returned", "Matches returned, not selected", "No PDS trace".
	Reason string `json:"reason,omitempty"`
	// MultifactorAuthenticationPresent: multifactor authentication was
	// present during the trace.
	MultifactorAuthenticationPresent bool `json:"multifactorAuthenticationPresent"`
}

// GPLinks is payload.gpLinks of a REGISTRATIONS event.
type GPLinks struct {
	// GPLinksComplete: the required GP Links information was completed.
	GPLinksComplete bool `json:"gpLinksComplete"`
}

// TransferCompatibilityStatus is payload.transferCompatibilityStatus of a
// TRANSFER_COMPATIBILITY_STATUSES event.
type TransferCompatibilityStatus struct {
	// InternalTransfer: the transfer stays within one system.
	InternalTransfer bool `json:"internalTransfer"`
	// TransferCompatible: the registration will start an electronic
	// transfer.
	TransferCompatible bool `json:"transferCompatible"`
	// Reason is required when not TransferCompatible.
	Reason string `json:"reason,omitempty"`
}

// EHR is payload.ehr of an EHR_RESPONSES event.
type EHR struct {
	// StructuredSizeBytes is the size of the structured part of the EHR,
	// attachments excluded; at least 0.
	StructuredSizeBytes int64 `json:"ehrStructuredSizeBytes"`
	// Placeholders lists the attachments of the record that were not sent.
	Placeholders []Placeholder `json:"placeholders,omitempty"`
}

// Placeholder is an attachment of the record that the transfer replaced
// with a placeholder.
type Placeholder struct {
	GeneratedBy  GeneratedBy       `json:"generatedBy"`
	ClinicalType ClinicalType      `json:"clinicalType"`
	Reason       PlaceholderReason `json:"reason"`
	// OriginalMimeType is the MIME type of the missing attachment.
	OriginalMimeType string `json:"originalMimeType"`
}

// Attachment is payload.attachment of a DOCUMENT_RESPONSES event.
type Attachment struct {
	ClinicalType ClinicalType `json:"clinicalType"`
	MimeType     string       `json:"mimeType"`
	// SizeBytes is at least 0.
	SizeBytes int64 `json:"sizeBytes"`
}

// DocumentMigration is payload.documentMigration of a DOCUMENT_RESPONSES
// event.
type DocumentMigration struct {
	Successful bool `json:"successful"`
	// Reason is an error code and/or description when not Successful.
	Reason string `json:"reason,omitempty"`
}

// Integration is payload.integration of an EHR_INTEGRATIONS event.
type Integration struct {
	Outcome IntegrationOutcome `json:"outcome"`
}

// ErrorDetail is payload.error of an ERRORS event.
type ErrorDetail struct {
	// Code is 1 to 50 letters, digits or underscores; a negative
	// acknowledgement's GP2GP response code, for example "99".
	Code string `json:"errorCode"`
	// Description is for people.
	Description  string       `json:"errorDescription"`
	FailurePoint FailurePoint `json:"failurePoint"`
	// OtherFailurePoint may describe where the failure happened when
	// FailurePoint is FailureOther.
	OtherFailurePoint string `json:"otherFailurePoint,omitempty"`
}

// Degrade is one degraded entry of a received EHR.
type Degrade struct {
	Type   DegradeType   `json:"type"`
	Reason DegradeReason `json:"reason"`
	// Coding lists the original codes that degraded. A nil Coding is sent
	// as an empty list.
	Coding []Coding `json:"coding"`
}

// Coding is an original code and its code system.
type Coding struct {
	Code   string `json:"code"`
	System string `json:"system"`
}

// NewRegistrationEvent returns a REGISTRATIONS event.
func NewRegistrationEvent(env Envelope, reg Registration, trace DemographicTraceStatus, links GPLinks) Event {
	return Event{Type: TypeRegistrations, Envelope: env, Payload: &Payload{
		Registration: &reg, DemographicTraceStatus: &trace, GPLinks: &links,
	}}
}

// NewTransferCompatibilityEvent returns a TRANSFER_COMPATIBILITY_STATUSES
// event.
func NewTransferCompatibilityEvent(env Envelope, status TransferCompatibilityStatus) Event {
	return Event{Type: TypeTransferCompatibilityStatuses, Envelope: env, Payload: &Payload{TransferCompatibilityStatus: &status}}
}

// NewEHRRequestEvent returns an EHR_REQUESTS event.
func NewEHRRequestEvent(env Envelope) Event {
	return Event{Type: TypeEHRRequests, Envelope: env}
}

// NewEHRResponseEvent returns an EHR_RESPONSES event.
func NewEHRResponseEvent(env Envelope, ehr EHR) Event {
	return Event{Type: TypeEHRResponses, Envelope: env, Payload: &Payload{EHR: &ehr}}
}

// NewDocumentResponseEvent returns a DOCUMENT_RESPONSES event. key (for
// example the document id) separates the ids of several documents of one
// transfer processed in the same second; see Event.ID.
func NewDocumentResponseEvent(env Envelope, key string, a Attachment, m DocumentMigration) Event {
	return Event{Type: TypeDocumentResponses, Key: key, Envelope: env, Payload: &Payload{Attachment: &a, DocumentMigration: &m}}
}

// NewReadyToIntegrateEvent returns a READY_TO_INTEGRATE_STATUSES event.
func NewReadyToIntegrateEvent(env Envelope) Event {
	return Event{Type: TypeReadyToIntegrateStatuses, Envelope: env}
}

// NewEHRIntegrationEvent returns an EHR_INTEGRATIONS event.
func NewEHRIntegrationEvent(env Envelope, outcome IntegrationOutcome) Event {
	return Event{Type: TypeEHRIntegrations, Envelope: env, Payload: &Payload{Integration: &Integration{Outcome: outcome}}}
}

// NewErrorEvent returns an ERRORS event. key separates the ids of several
// errors of one transfer in the same second (it may be "" for one); see
// Event.ID.
func NewErrorEvent(env Envelope, key string, detail ErrorDetail) Event {
	return Event{Type: TypeErrors, Key: key, Envelope: env, Payload: &Payload{Error: &detail}}
}

// NewDegradesEvent returns a DEGRADES event. Its body holds only supplier
// and the degrades; key, which must not be empty, is the source of its id.
// The id is sent (as X-Correlation-ID), so key must not be something the
// NHS could compute from the transfer: not the conversation id itself,
// but a random id kept with the event, or an HMAC of the conversation id
// under a secret of the deployment.
func NewDegradesEvent(supplier, key string, degrades ...Degrade) Event {
	return Event{
		Type:     TypeDegrades,
		Key:      key,
		Envelope: Envelope{ReportingSystemSupplier: supplier},
		Payload:  &Payload{Degrades: degrades},
	}
}
