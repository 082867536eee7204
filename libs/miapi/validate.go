package miapi

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// errorCodePattern is what the API allows as payload.error.errorCode.
var errorCodePattern = regexp.MustCompile(`^[A-Za-z0-9_]{1,50}$`)

// Validate checks e against the API contract and returns a
// *ValidationError naming every bad field, or nil. It checks what the
// OpenAPI schema of the endpoint requires (required fields, enums, the
// errorCode pattern) and what the API's documentation asks for on top:
// required strings not empty, reason present when a trace is not matched
// or a transfer not compatible, sizes ≥ 0, only the payload fields of the
// type, no payload on EHR_REQUESTS and READY_TO_INTEGRATE_STATUSES, and
// for DEGRADES at least one degrade, a Key, and no envelope field but
// reportingSystemSupplier.
func (e Event) Validate() error {
	v := &validator{}
	if !e.Type.Valid() {
		v.add("eventType", "must be one of %s", joinTypes())
		return v.err(e.Type)
	}
	v.nonEmpty("reportingSystemSupplier", e.ReportingSystemSupplier)
	if e.Type == TypeDegrades {
		v.degradesEnvelope(e)
	} else {
		v.nonEmpty("conversationId", e.ConversationID)
		if e.RegistrationEventDateTime.IsZero() {
			v.add("registrationEventDateTime", "must not be empty")
		}
		v.nonEmpty("reportingPracticeOdsCode", e.ReportingPracticeODSCode)
		v.nonEmpty("requestingPracticeOdsCode", e.RequestingPracticeODSCode)
		if !optionalSending(e.Type) {
			v.nonEmpty("sendingPracticeOdsCode", e.SendingPracticeODSCode)
		}
	}
	v.payload(e.Type, e.Payload)
	return v.err(e.Type)
}

type validator struct {
	problems []FieldError
}

func (v *validator) add(field, format string, args ...any) {
	v.problems = append(v.problems, FieldError{Field: field, Reason: fmt.Sprintf(format, args...)})
}

func (v *validator) err(t EventType) error {
	if len(v.problems) == 0 {
		return nil
	}
	return &ValidationError{Type: t, Problems: v.problems}
}

func (v *validator) nonEmpty(field, value string) {
	if strings.TrimSpace(value) == "" {
		v.add(field, "must not be empty")
	}
}

func (v *validator) enum(field string, valid bool, value string, allowed string) {
	switch {
	case value == "":
		v.add(field, "must not be empty")
	case !valid:
		v.add(field, "must be one of %s (have %q)", allowed, value)
	}
}

func (v *validator) notNegative(field string, n int64) {
	if n < 0 {
		v.add(field, "must be greater than or equal to 0 (have %d)", n)
	}
}

func (v *validator) degradesEnvelope(e Event) {
	const why = "must be empty for DEGRADES (a degrade must not identify the transfer)"
	if e.ConversationID != "" {
		v.add("conversationId", why)
	}
	if !e.RegistrationEventDateTime.IsZero() {
		v.add("registrationEventDateTime", why)
	}
	if e.ReportingPracticeODSCode != "" {
		v.add("reportingPracticeOdsCode", why)
	}
	if e.RequestingPracticeODSCode != "" {
		v.add("requestingPracticeOdsCode", why)
	}
	if e.SendingPracticeODSCode != "" {
		v.add("sendingPracticeOdsCode", why)
	}
	if e.Key == "" {
		v.add("key", "must not be empty for DEGRADES (the event id is derived from it)")
	}
}

// payloadFields names the payload fields each type sets.
var payloadFields = map[EventType][]string{
	TypeRegistrations:                 {"registration", "demographicTraceStatus", "gpLinks"},
	TypeTransferCompatibilityStatuses: {"transferCompatibilityStatus"},
	TypeEHRResponses:                  {"ehr"},
	TypeDocumentResponses:             {"attachment", "documentMigration"},
	TypeEHRIntegrations:               {"integration"},
	TypeErrors:                        {"error"},
	TypeDegrades:                      {"degrades"},
}

func (v *validator) payload(t EventType, p *Payload) {
	want := payloadFields[t]
	if len(want) == 0 {
		if p != nil {
			v.add("payload", "must be absent for %s", t)
		}
		return
	}
	if p == nil {
		v.add("payload", "must not be null")
		return
	}
	present := map[string]bool{
		"registration":                p.Registration != nil,
		"demographicTraceStatus":      p.DemographicTraceStatus != nil,
		"gpLinks":                     p.GPLinks != nil,
		"transferCompatibilityStatus": p.TransferCompatibilityStatus != nil,
		"ehr":                         p.EHR != nil,
		"attachment":                  p.Attachment != nil,
		"documentMigration":           p.DocumentMigration != nil,
		"integration":                 p.Integration != nil,
		"error":                       p.Error != nil,
		"degrades":                    len(p.Degrades) > 0,
	}
	for _, name := range []string{
		"registration", "demographicTraceStatus", "gpLinks", "transferCompatibilityStatus", "ehr",
		"attachment", "documentMigration", "integration", "error", "degrades",
	} {
		wanted := slices.Contains(want, name)
		switch {
		case wanted && !present[name] && name == "degrades":
			v.add("payload.degrades", "must have at least one degrade")
		case wanted && !present[name]:
			v.add("payload."+name, "must not be null")
		case !wanted && present[name]:
			v.add("payload."+name, "must be absent for %s", t)
		}
	}
	if r := p.Registration; r != nil && slices.Contains(want, "registration") {
		v.enum("payload.registration.type", r.Type.Valid(), string(r.Type), joinValues(registrationTypes))
	}
	if d := p.DemographicTraceStatus; d != nil && slices.Contains(want, "demographicTraceStatus") && !d.Matched {
		if strings.TrimSpace(d.Reason) == "" {
			v.add("payload.demographicTraceStatus.reason", "must not be empty when matched is false")
		}
	}
	if s := p.TransferCompatibilityStatus; s != nil && slices.Contains(want, "transferCompatibilityStatus") && !s.TransferCompatible {
		if strings.TrimSpace(s.Reason) == "" {
			v.add("payload.transferCompatibilityStatus.reason", "must not be empty when transferCompatible is false")
		}
	}
	if ehr := p.EHR; ehr != nil && slices.Contains(want, "ehr") {
		v.notNegative("payload.ehr.ehrStructuredSizeBytes", ehr.StructuredSizeBytes)
		for i, ph := range ehr.Placeholders {
			f := fmt.Sprintf("payload.ehr.placeholders[%d].", i)
			v.enum(f+"generatedBy", ph.GeneratedBy.Valid(), string(ph.GeneratedBy), joinValues(generatedBys))
			v.enum(f+"clinicalType", ph.ClinicalType.Valid(), string(ph.ClinicalType), joinValues(clinicalTypes))
			v.enum(f+"reason", ph.Reason.Valid(), string(ph.Reason), joinValues(placeholderReasons))
			v.nonEmpty(f+"originalMimeType", ph.OriginalMimeType)
		}
	}
	if a := p.Attachment; a != nil && slices.Contains(want, "attachment") {
		v.enum("payload.attachment.clinicalType", a.ClinicalType.Valid(), string(a.ClinicalType), joinValues(clinicalTypes))
		v.nonEmpty("payload.attachment.mimeType", a.MimeType)
		v.notNegative("payload.attachment.sizeBytes", a.SizeBytes)
	}
	if m := p.DocumentMigration; m != nil && slices.Contains(want, "documentMigration") && !m.Successful {
		if strings.TrimSpace(m.Reason) == "" {
			v.add("payload.documentMigration.reason", "must not be empty when successful is false")
		}
	}
	if in := p.Integration; in != nil && slices.Contains(want, "integration") {
		v.enum("payload.integration.outcome", in.Outcome.Valid(), string(in.Outcome), joinValues(integrationOutcomes))
	}
	if d := p.Error; d != nil && slices.Contains(want, "error") {
		if !errorCodePattern.MatchString(d.Code) {
			v.add("payload.error.errorCode", "must be 1 to 50 letters, digits or underscores (have %q)", d.Code)
		}
		v.nonEmpty("payload.error.errorDescription", d.Description)
		v.enum("payload.error.failurePoint", d.FailurePoint.Valid(), string(d.FailurePoint), joinValues(failurePoints))
	}
	if slices.Contains(want, "degrades") {
		for i, d := range p.Degrades {
			f := fmt.Sprintf("payload.degrades[%d].", i)
			v.enum(f+"type", d.Type.Valid(), string(d.Type), joinValues(degradeTypes))
			v.enum(f+"reason", d.Reason.Valid(), string(d.Reason), joinValues(degradeReasons))
			for j, c := range d.Coding {
				v.nonEmpty(fmt.Sprintf("%scoding[%d].code", f, j), c.Code)
				v.nonEmpty(fmt.Sprintf("%scoding[%d].system", f, j), c.System)
			}
		}
	}
}

func joinValues[T ~string](values []T) string {
	s := make([]string, len(values))
	for i, v := range values {
		s[i] = string(v)
	}
	return strings.Join(s, ", ")
}

func joinTypes() string { return joinValues(EventTypes()) }
