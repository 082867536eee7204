package miapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"
)

// DateTimeLayout is how registrationEventDateTime is written: RFC 3339 in
// UTC, to the second, with "Z" (the API's examples: "2020-02-08T08:30:25Z").
const DateTimeLayout = "2006-01-02T15:04:05Z"

// FormatDateTime returns t as the API's registrationEventDateTime: UTC,
// truncated to the second, or "" for the zero time.
func FormatDateTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Truncate(time.Second).Format(DateTimeLayout)
}

// body is the request body of every type but DEGRADES. The envelope's
// required strings are always written, so a missing value shows as "" in
// the body and in the API's answer.
type body struct {
	ConversationID            string   `json:"conversationId"`
	RegistrationEventDateTime string   `json:"registrationEventDateTime,omitempty"`
	ReportingSystemSupplier   string   `json:"reportingSystemSupplier"`
	ReportingPracticeODSCode  string   `json:"reportingPracticeOdsCode"`
	RequestingPracticeODSCode string   `json:"requestingPracticeOdsCode"`
	SendingPracticeODSCode    *string  `json:"sendingPracticeOdsCode,omitempty"`
	Payload                   *Payload `json:"payload,omitempty"`
}

// degradesBody is the request body of DEGRADES: nothing that identifies
// the transfer.
type degradesBody struct {
	ReportingSystemSupplier string   `json:"reportingSystemSupplier"`
	Payload                 *Payload `json:"payload,omitempty"`
}

// optionalSending reports whether t may leave out sendingPracticeOdsCode.
func optionalSending(t EventType) bool {
	return t == TypeRegistrations || t == TypeErrors
}

// MarshalJSON returns the request body of e's endpoint. For DEGRADES it is
// only reportingSystemSupplier and payload, whatever else the envelope
// holds (Validate refuses such an event). sendingPracticeOdsCode is left
// out when empty on REGISTRATIONS and ERRORS, where it is optional. It does
// not validate e; an unknown Type is an error.
func (e Event) MarshalJSON() ([]byte, error) {
	switch {
	case !e.Type.Valid():
		return nil, fmt.Errorf("%w: unknown event type %q", ErrInvalidEvent, e.Type)
	case e.Type == TypeDegrades:
		return json.Marshal(degradesBody{ReportingSystemSupplier: e.ReportingSystemSupplier, Payload: e.Payload})
	}
	b := body{
		ConversationID:            e.ConversationID,
		RegistrationEventDateTime: FormatDateTime(e.RegistrationEventDateTime),
		ReportingSystemSupplier:   e.ReportingSystemSupplier,
		ReportingPracticeODSCode:  e.ReportingPracticeODSCode,
		RequestingPracticeODSCode: e.RequestingPracticeODSCode,
		Payload:                   e.Payload,
	}
	if e.SendingPracticeODSCode != "" || !optionalSending(e.Type) {
		b.SendingPracticeODSCode = &e.SendingPracticeODSCode
	}
	return json.Marshal(b)
}

// MarshalJSON writes a nil Coding as an empty list: the API requires the
// field.
func (d Degrade) MarshalJSON() ([]byte, error) {
	type plain Degrade
	if d.Coding == nil {
		d.Coding = []Coding{}
	}
	return json.Marshal(plain(d))
}

// Unmarshal reads the request body of an event of type t. Unknown fields
// are an error (for DEGRADES that includes any envelope field but
// reportingSystemSupplier), so nothing in the body is silently lost. It
// does not validate the event: call Validate. Errors match ErrInvalidBody.
func Unmarshal(t EventType, data []byte) (Event, error) {
	e := Event{Type: t}
	if err := e.UnmarshalJSON(data); err != nil {
		return Event{}, err
	}
	return e, nil
}

// UnmarshalJSON reads a request body into e according to e.Type, which
// must be set beforehand (Unmarshal does so); e.Key is kept.
func (e *Event) UnmarshalJSON(data []byte) error {
	if !e.Type.Valid() {
		return fmt.Errorf("%w: set Event.Type to a known type before decoding (have %q)", ErrInvalidBody, e.Type)
	}
	t, key := e.Type, e.Key
	if t == TypeDegrades {
		var b degradesBody
		if err := decodeStrict(data, &b); err != nil {
			return fmt.Errorf("%w: %s: %w", ErrInvalidBody, t, err)
		}
		*e = Event{Type: t, Key: key, Envelope: Envelope{ReportingSystemSupplier: b.ReportingSystemSupplier}, Payload: b.Payload}
		return nil
	}
	var b body
	if err := decodeStrict(data, &b); err != nil {
		return fmt.Errorf("%w: %s: %w", ErrInvalidBody, t, err)
	}
	var at time.Time
	if b.RegistrationEventDateTime != "" {
		var err error
		if at, err = time.Parse(time.RFC3339, b.RegistrationEventDateTime); err != nil {
			return fmt.Errorf("%w: %s: registrationEventDateTime: %w", ErrInvalidBody, t, err)
		}
	}
	*e = Event{Type: t, Key: key, Payload: b.Payload, Envelope: Envelope{
		ConversationID:            b.ConversationID,
		RegistrationEventDateTime: at,
		ReportingSystemSupplier:   b.ReportingSystemSupplier,
		ReportingPracticeODSCode:  b.ReportingPracticeODSCode,
		RequestingPracticeODSCode: b.RequestingPracticeODSCode,
	}}
	if b.SendingPracticeODSCode != nil {
		e.SendingPracticeODSCode = *b.SendingPracticeODSCode
	}
	return nil
}

// decodeStrict decodes one JSON value, refusing unknown fields and
// trailing data.
func decodeStrict(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errors.New("data after the JSON value")
	}
	return nil
}
