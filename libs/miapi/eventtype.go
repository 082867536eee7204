package miapi

// EventType names one of the API's nine v0.0.1 event types
// (GP2GP-MI.md §3.2). Each is posted to its own endpoint ([EventType.Path]).
type EventType string

// The event types of API v0.0.1.
const (
	// TypeRegistrations: the requesting practice completed a registration.
	TypeRegistrations EventType = "REGISTRATIONS"
	// TypeTransferCompatibilityStatuses: the requesting practice decided
	// whether an electronic transfer will be triggered.
	TypeTransferCompatibilityStatuses EventType = "TRANSFER_COMPATIBILITY_STATUSES"
	// TypeEHRRequests: the requesting practice sent the EHR request.
	TypeEHRRequests EventType = "EHR_REQUESTS"
	// TypeEHRResponses: the sending practice sent the EHR response.
	TypeEHRResponses EventType = "EHR_RESPONSES"
	// TypeDocumentResponses: the requesting practice processed and saved
	// one attachment.
	TypeDocumentResponses EventType = "DOCUMENT_RESPONSES"
	// TypeReadyToIntegrateStatuses: the EHR is available to the user to
	// integrate or reject.
	TypeReadyToIntegrateStatuses EventType = "READY_TO_INTEGRATE_STATUSES"
	// TypeEHRIntegrations: the user integrated or rejected the record.
	TypeEHRIntegrations EventType = "EHR_INTEGRATIONS"
	// TypeErrors: an error or negative acknowledgement, on either side.
	TypeErrors EventType = "ERRORS"
	// TypeDegrades: the degrades found in a received EHR. Its body must not
	// identify the transfer.
	TypeDegrades EventType = "DEGRADES"
)

// eventTypes lists the types in the order of GP2GP-MI.md §3.2 with their
// endpoints and the eventType the API stores.
var eventTypes = [...]struct {
	t      EventType
	path   string
	stored string
}{
	{TypeRegistrations, "/registrations", "REGISTRATIONS"},
	{TypeTransferCompatibilityStatuses, "/transfer-compatibility-statuses", "TRANSFER_COMPATIBILITY_STATUSES"},
	{TypeEHRRequests, "/ehr-requests", "EHR_REQUESTS"},
	{TypeEHRResponses, "/ehr-responses", "EHR_RESPONSES"},
	{TypeDocumentResponses, "/document-responses", "DOCUMENT_RESPONSES"},
	{TypeReadyToIntegrateStatuses, "/ready-to-integrate-statuses", "READY_TO_INTEGRATE_STATUSES"},
	{TypeEHRIntegrations, "/ehr-integrations", "EHR_INTEGRATIONS"},
	{TypeErrors, "/errors", "ERROR"},
	{TypeDegrades, "/ehr-degrades", "DEGRADES"},
}

// EventTypes returns the nine event types in the order of GP2GP-MI.md §3.2.
func EventTypes() []EventType {
	out := make([]EventType, len(eventTypes))
	for i, e := range eventTypes {
		out[i] = e.t
	}
	return out
}

// Valid reports whether t is one of the nine event types.
func (t EventType) Valid() bool { return t.Path() != "" }

// Path returns the endpoint of t relative to the API's base URL, for
// example "/ehr-degrades" for TypeDegrades, or "" for an unknown type.
func (t EventType) Path() string {
	for _, e := range eventTypes {
		if e.t == t {
			return e.path
		}
	}
	return ""
}

// Stored returns the eventType the API stores for t, which is also the
// one in its event id formula (see Event.ID): t itself, except "ERROR"
// (singular) for TypeErrors (GP2GP-MI.md §3.2). It is "" for an unknown
// type.
func (t EventType) Stored() string {
	for _, e := range eventTypes {
		if e.t == t {
			return e.stored
		}
	}
	return ""
}

// TypeForPath returns the event type posted to path ("/errors",
// "errors" or "/errors/"), and false when no type uses it.
func TypeForPath(path string) (EventType, bool) {
	for len(path) > 1 && path[len(path)-1] == '/' {
		path = path[:len(path)-1]
	}
	if path == "" || path[0] != '/' {
		path = "/" + path
	}
	for _, e := range eventTypes {
		if e.path == path {
			return e.t, true
		}
	}
	return "", false
}
