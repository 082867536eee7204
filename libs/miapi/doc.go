// Package miapi is the client side of NHS England's GP Registrations
// Management Information API (enhanced MI, GP2GP-MI.md §3 and §5): the
// event types, their deterministic ids and the HTTP POST to the API.
//
// An [Event] carries its [EventType], the common [Envelope] and a
// [Payload], so one outbox can hold events of every type. json.Marshal of
// an Event gives exactly the request body of the type's endpoint
// ([EventType.Path]); [Unmarshal] reads such a body back. [Event.Validate]
// checks what the API's own validation checks, naming every bad field, and
// [Event.ID] is the event id the API assigns, computed before sending, so a
// re-sent event is recognisably the same one.
//
// [Client.Post] sends one event. Its errors say whether a retry can help:
// [IsPermanent] is true for an invalid event and for the 4xx answers that
// will not change, false for 408, 429, 5xx and network failures, where a
// [*StatusError] may carry the server's Retry-After.
//
// The package miapitest validates events against the API's OpenAPI
// contract in tests.
package miapi
