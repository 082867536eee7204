package directory

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"time"
)

// The GP2GP interactions, as SDS knows them (the service name is
// "urn:nhs:names:services:gp2gp:" followed by the id).
const (
	// InteractionEHRRequest is the EHR Request; a practice that has a
	// device for it is GP2GP enabled.
	InteractionEHRRequest = "RCMR_IN010000UK05"
	// InteractionEHRExtract is the EHR Extract whose persist duration is
	// the A term of the requester's timeout.
	InteractionEHRExtract = "RCMR_IN030000UK06"
	// InteractionEHRExtractUK07 is the EHR Extract with redaction support.
	InteractionEHRExtractUK07 = "RCMR_IN030000UK07"
	// InteractionAck is the application acknowledgement.
	InteractionAck = "MCCI_IN010000UK13"
	// InteractionCOPC is the common content message (Continue, attachments,
	// fragments) whose persist duration is the B term of the timeout.
	InteractionCOPC = "COPC_IN000001UK01"
)

// gp2gpInteractions are the interactions a GP2GP practice has endpoints for.
var gp2gpInteractions = []string{
	InteractionEHRRequest, InteractionEHRExtract, InteractionEHRExtractUK07, InteractionAck, InteractionCOPC,
}

// PDS tells where a patient is registered. Implementations are safe for
// concurrent use.
type PDS interface {
	// Registration returns the registration of the patient with the given
	// NHS number (ten digits with a valid check digit).
	//
	// It returns ErrInvalidArgument, without a lookup, for a malformed NHS
	// number; ErrPatientNotFound if the service has no such patient;
	// ErrUnavailable (wrapping the cause) if the service is down, timed
	// out or failed; ErrBadResponse if it answered with something
	// unusable. If ctx ends first, the error wraps ctx.Err() instead.
	Registration(ctx context.Context, nhsNumber string) (Registration, error)
}

// SDS tells how to reach a practice's GP2GP system. Implementations are
// safe for concurrent use. ODS codes are matched without regard to case.
type SDS interface {
	// Endpoint returns the routing and reliability settings of the
	// practice with ODS code ods for the HL7 interaction (an id like
	// "RCMR_IN010000UK05").
	//
	// It returns ErrInvalidArgument, without a lookup, for a malformed ODS
	// code or interaction id; ErrNotFound if the practice has no GP2GP
	// device or endpoint for the interaction; ErrAmbiguous if it has more
	// than one (reason code 24 covers both); ErrUnavailable (wrapping the
	// cause) if the service is down; ErrBadResponse if it answered with
	// something unusable. A zero PersistDuration means the directory gave
	// none; the caller chooses a fallback.
	Endpoint(ctx context.Context, ods string, interaction string) (Endpoint, error)

	// Practice returns what is known about the practice with ODS code ods.
	//
	// It returns ErrNotFound when the directory knows no GP2GP system for
	// the practice: callers treat that as GP2GP not enabled (reason 07).
	// A directory that lists practices without GP2GP (File) may instead
	// return the Practice with GP2GPEnabled false and a nil error. Other
	// errors are as for Endpoint.
	Practice(ctx context.Context, ods string) (Practice, error)
}

// Registration is a patient's registration as PDS records it.
type Registration struct {
	// NHSNumber is the patient's NHS number. From the PDS FHIR API it is
	// the number PDS answered for, which differs from the one asked about
	// when that record was merged into another.
	NHSNumber string
	// CurrentODS is the ODS code of the practice the patient is registered
	// with now (Patient.generalPractitioner); empty if PDS gives none.
	CurrentODS string
	// PreviousODS is the ODS code of the practice the patient was
	// registered with before, if known (the file directory knows it, the
	// PDS FHIR API does not give it).
	PreviousODS string
	// GivenName is the first given name.
	GivenName string
	// FamilyName is the family name.
	FamilyName string
	// BirthDate is the date of birth, YYYY-MM-DD (PDS may give only a year
	// or year and month).
	BirthDate string
	// Gender is the FHIR administrative gender: male, female, other or unknown.
	Gender string
}

// Endpoint is how to reach one practice's GP2GP system for one interaction.
type Endpoint struct {
	// ODS is the practice's ODS code, upper-case.
	ODS string
	// ASID is the Accredited System id, for communicationFunctionRcv.
	ASID string
	// PartyKey is the MHS party key.
	PartyKey string
	// CPAID is the ebXML collaboration protocol agreement id.
	CPAID string
	// MHSAddress is the MHS endpoint URL.
	MHSAddress string
	// PersistDuration is how long Spine keeps trying to deliver a message
	// of this interaction (nhsMHSPersistDuration); zero if not known.
	PersistDuration time.Duration
	// Retries is how many times MHS retries delivery (nhsMHSRetries).
	Retries int
	// RetryInterval is the wait between delivery retries (nhsMHSRetryInterval).
	RetryInterval time.Duration
}

// Practice is what the directory knows about a practice.
type Practice struct {
	// ODS is the practice's ODS code, upper-case.
	ODS string
	// Name is the practice's name; it may be empty (SDS often has none).
	Name string
	// GP2GPEnabled reports whether the practice takes part in GP2GP.
	GP2GPEnabled bool
}

var (
	odsPattern         = regexp.MustCompile(`^[A-Z0-9]{3,10}$`)
	interactionPattern = regexp.MustCompile(`^[A-Z]{4}_IN[0-9]{6}UK[0-9]{2}$`)
)

// normaliseODS upper-cases an ODS code and checks its form.
func normaliseODS(ods string) (string, error) {
	up := strings.ToUpper(ods)
	if !odsPattern.MatchString(up) {
		return "", fmt.Errorf("%w: ODS code %q is not 3 to 10 letters and digits", ErrInvalidArgument, ods)
	}
	return up, nil
}

// checkInteraction checks the form of an HL7 interaction id.
func checkInteraction(interaction string) error {
	if !interactionPattern.MatchString(interaction) {
		return fmt.Errorf("%w: interaction %q is not an HL7 interaction id like %s",
			ErrInvalidArgument, interaction, InteractionEHRRequest)
	}
	return nil
}

// checkNHSNumber checks an NHS number asked about.
func checkNHSNumber(nhsNumber string) error {
	if !validNHSNumber(nhsNumber) {
		return fmt.Errorf("%w: %q is not a valid NHS number", ErrInvalidArgument, nhsNumber)
	}
	return nil
}

// validNHSNumber reports whether s is ten digits whose last is the
// modulus 11 check digit of the other nine: weights 10 down to 2, check
// digit 11 minus the remainder, where 11 stands for 0 and 10 is never
// valid.
func validNHSNumber(s string) bool {
	if len(s) != 10 {
		return false
	}
	sum := 0
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
		if i < 9 {
			sum += int(s[i]-'0') * (10 - i)
		}
	}
	check := 11 - sum%11
	if check == 11 {
		check = 0
	}
	return check != 10 && check == int(s[9]-'0')
}
