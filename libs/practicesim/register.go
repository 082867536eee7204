package practicesim

import (
	"context"
	"fmt"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/nhsengland/gp2gp/libs/bus"
	"github.com/nhsengland/gp2gp/libs/hl7"
	gp2gpv1 "github.com/nhsengland/gp2gp/proto/gp2gp/v1"
)

// ReportingSupplier is the reporting_system_supplier of the practice's
// registration events.
const ReportingSupplier = "SIMULATED"

// RegisterRequest is a patient registering at the practice.
type RegisterRequest struct {
	// NHSNumber of the patient: ten digits with a valid modulus-11 check
	// digit. Required.
	NHSNumber string
	// PreviousODS is the patient's previous practice, if the registration
	// captured it; when empty the requester asks PDS.
	PreviousODS string
	// ConversationID for the transfer (upper-case GUID); when empty a new
	// one is generated.
	ConversationID string
	// EventID of the registration event; when empty a new UUID. Registering
	// twice with the same EventID (within the stream's dedupe window, an
	// hour) stores one event.
	EventID string
	// Demographics, all optional. BirthDate is YYYY-MM-DD; Gender is
	// "male", "female", "other" or "unknown".
	GivenName, FamilyName, BirthDate, Gender, Postcode string
	// ReturningPatient is true when the patient was registered at this
	// practice before (A-B-A).
	ReturningPatient bool
}

// validate reports what makes r unusable for practice ods.
func (r RegisterRequest) validate(ods string) error {
	switch {
	case !hl7.ValidNHSNumber(r.NHSNumber):
		return fmt.Errorf("NHS number %q is not ten digits with a valid check digit", r.NHSNumber)
	case r.PreviousODS != "" && !odsPattern.MatchString(r.PreviousODS):
		return fmt.Errorf("previous practice %q is not an ODS code", r.PreviousODS)
	case r.PreviousODS == ods:
		return fmt.Errorf("previous practice %s is this practice", ods)
	case r.ConversationID != "" && !upperGUID.MatchString(r.ConversationID):
		return fmt.Errorf("conversation id %q is not an upper-case GUID", r.ConversationID)
	case r.Gender != "" && r.Gender != "male" && r.Gender != "female" && r.Gender != "other" && r.Gender != "unknown":
		return fmt.Errorf("gender %q is not male, female, other or unknown", r.Gender)
	}
	if r.BirthDate != "" {
		if _, err := time.Parse(time.DateOnly, r.BirthDate); err != nil {
			return fmt.Errorf("birth date %q is not YYYY-MM-DD", r.BirthDate)
		}
	}
	return nil
}

// Register publishes a registration event (a new GP registration) for the
// patient at this practice on RegistrationSubject, registered now by the
// practice's clock, and returns the transfer's conversation id. The
// registrations stream must exist: Run or Ensure creates it.
func (p *Practice) Register(ctx context.Context, r RegisterRequest) (conversationID string, err error) {
	if err := r.validate(p.cfg.ODS); err != nil {
		return "", fmt.Errorf("%w: %w", ErrInvalidRegistration, err)
	}
	if r.ConversationID == "" {
		r.ConversationID = newUUID()
	}
	if r.EventID == "" {
		r.EventID = newUUID()
	}
	ev := &gp2gpv1.RegistrationEvent{
		EventId:        r.EventID,
		ConversationId: r.ConversationID,
		Patient: &gp2gpv1.Patient{
			NhsNumber:  r.NHSNumber,
			GivenName:  r.GivenName,
			FamilyName: r.FamilyName,
			BirthDate:  r.BirthDate,
			Gender:     r.Gender,
			Postcode:   r.Postcode,
		},
		RequestingPracticeOds:   p.cfg.ODS,
		PreviousPracticeOds:     r.PreviousODS,
		RegisteredAt:            timestamppb.New(p.now()),
		Type:                    gp2gpv1.RegistrationType_REGISTRATION_TYPE_NEW_GP_REGISTRATION,
		ReturningPatient:        r.ReturningPatient,
		ReportingSystemSupplier: ReportingSupplier,
	}
	out := bus.Outgoing{
		Subject:  bus.RegistrationSubject(p.cfg.ODS),
		DedupeID: "registration." + p.cfg.ODS + "." + r.EventID,
		Headers:  bus.Headers{ConversationID: r.ConversationID},
	}
	if _, err := p.bus.PublishProto(ctx, out, ev); err != nil {
		return "", fmt.Errorf("practicesim: register %s at %s: %w", r.NHSNumber, p.cfg.ODS, err)
	}
	p.logger.InfoContext(bus.WithConversationID(ctx, r.ConversationID), "patient registered",
		"event_id", r.EventID, "previous_practice", r.PreviousODS, "returning", r.ReturningPatient)
	return r.ConversationID, nil
}
