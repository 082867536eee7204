package ehr

import (
	"fmt"
	"regexp"
	"time"
	"unicode/utf8"
)

// Option configures Generate. Options validate their values: an unusable
// one makes Generate fail with an error wrapping ErrInvalidOption.
type Option func(*settings) error

// Attachment is a document the generated extract refers to.
type Attachment struct {
	// ID is the document id: the referredToExternalDocument id, which the
	// ebXML manifest carries as "_" + ID. Upper-case GUID, as vendors use.
	ID string
	// Filename is the attachment's file name; the extract refers to it as
	// EncodeFilename(Filename).
	Filename string
	// ContentType is the attachment's MIME type, e.g. "application/pdf".
	ContentType string
	// Absent marks a document the sender could not include: the extract
	// then refers to a text/plain placeholder named AbsentFilename(ID)
	// instead, as NIA's sending adaptor does.
	Absent bool
}

// AbsentFilename is the file name of the placeholder that stands for a
// missing document with the given id (protocol section 4.5).
func AbsentFilename(id string) string {
	return absentPrefix + id + ".txt"
}

// settings is what the options set.
type settings struct {
	seed          uint64
	nhsNumber     string
	sendingODS    string
	requestingODS string
	extractID     string
	requestID     string
	when          time.Time
	encounters    int
	targetBytes   int
	attachments   []Attachment
	nopat         int
	local         int
}

// defaultEncounters is the content when neither WithEncounters nor
// WithTargetSize is given: one encounter of each kind.
const defaultEncounters = 7

// defaultTime is the extract time when WithTime is not given: a fixed
// instant, so that output depends on the options only.
func defaultTime() time.Time {
	return time.Date(2024, time.March, 14, 10, 30, 0, 0, time.UTC)
}

func (s *settings) apply(opts []Option) error {
	for _, o := range opts {
		if o == nil {
			continue
		}
		if err := o(s); err != nil {
			return err
		}
	}
	if s.encounters > 0 && s.targetBytes > 0 {
		return fmt.Errorf("%w: WithEncounters and WithTargetSize both given", ErrInvalidOption)
	}
	seen := make(map[string]bool, len(s.attachments))
	for _, a := range s.attachments {
		if seen[a.ID] {
			return fmt.Errorf("%w: attachment id %s given twice", ErrInvalidOption, a.ID)
		}
		seen[a.ID] = true
	}
	return nil
}

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalidOption}, args...)...)
}

// WithSeed sets the seed: the same seed and options give the same
// extract, byte for byte. The default seed is 1.
func WithSeed(seed uint64) Option {
	return func(s *settings) error {
		s.seed = seed
		return nil
	}
}

// WithPatient sets the patient's NHS number (ten digits with a valid
// modulus-11 check digit). The extract can carry nothing else about the
// patient: RCMR_MT030101UK04's patient holds only an id. By default a
// number in the 999 test range is drawn from the seed.
func WithPatient(nhsNumber string) Option {
	return func(s *settings) error {
		if !validNHSNumber(nhsNumber) {
			return invalid("NHS number %q is not ten digits with a valid check digit", nhsNumber)
		}
		s.nhsNumber = nhsNumber
		return nil
	}
}

// odsPattern matches an ODS organisation code.
var odsPattern = regexp.MustCompile(`^[A-Z0-9]{3,10}$`)

// WithPractices sets the sending practice (the extract's author, the
// losing practice) and the requesting practice (its destination, the
// winning practice) by ODS code. By default both are drawn from the seed.
func WithPractices(sendingODS, requestingODS string) Option {
	return func(s *settings) error {
		for _, ods := range []string{sendingODS, requestingODS} {
			if !odsPattern.MatchString(ods) {
				return invalid("ODS code %q is not 3 to 10 upper-case letters and digits", ods)
			}
		}
		s.sendingODS, s.requestingODS = sendingODS, requestingODS
		return nil
	}
}

// uidPattern is the MIM's uid type: an OID, an upper-case UUID or an
// HL7 "ruid".
var uidPattern = regexp.MustCompile(`^(?:[0-9]+(?:\.[0-9]+)*|[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}|[A-Za-z][A-Za-z0-9-]*)$`)

func validUID(id string) bool {
	return uidPattern.MatchString(id)
}

// WithExtractID sets the EhrExtract id (by default drawn from the seed).
// It must be a valid HL7 uid; GP2GP uses upper-case GUIDs.
func WithExtractID(id string) Option {
	return func(s *settings) error {
		if !validUID(id) {
			return invalid("extract id %q is not an HL7 uid (upper-case GUID or OID)", id)
		}
		s.extractID = id
		return nil
	}
}

// WithRequestID sets the id of the EHR request the extract fulfils
// (inFulfillmentOf/priorEhrRequest, which the schema requires); by
// default drawn from the seed.
func WithRequestID(id string) Option {
	return func(s *settings) error {
		if !validUID(id) {
			return invalid("request id %q is not an HL7 uid (upper-case GUID or OID)", id)
		}
		s.requestID = id
		return nil
	}
}

// WithTime sets the extract's time (availabilityTime and author time);
// the clinical content is dated before it. Times are written in t's
// location. The default is a fixed instant in March 2024.
func WithTime(t time.Time) Option {
	return func(s *settings) error {
		if t.Year() < 1990 || t.Year() > 9999 {
			return invalid("time %v is outside 1990 to 9999", t)
		}
		s.when = t
		return nil
	}
}

// WithEncounters sets how many clinical encounters (ehrComposition) the
// extract holds, besides the registration composition, one per
// attachment and one holding locally-coded entries. The first seven are
// one of each kind (so seven or more give every statement class); the
// default is seven, about 40 KB. It cannot be combined with
// WithTargetSize.
func WithEncounters(n int) Option {
	return func(s *settings) error {
		if n < 1 {
			return invalid("encounters %d: at least one is needed", n)
		}
		s.encounters = n
		return nil
	}
}

// WithTargetSize asks for an extract of n bytes, as written by
// (*etree.Element).WriteTo with default settings (no indentation):
// Generate adds whole encounters while they fit, then one consultation
// whose free-text note makes up the difference, so the size lands on n
// to within a few bytes — unless n is below the smallest extract the
// other options allow (one encounter and the note). It cannot be combined
// with WithEncounters.
func WithTargetSize(n int) Option {
	return func(s *settings) error {
		if n < 1 {
			return invalid("target size %d bytes", n)
		}
		s.targetBytes = n
		return nil
	}
}

// mediaTypePattern matches a MIME type without parameters.
var mediaTypePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*$`)

// WithAttachments adds documents the extract refers to, each from a
// NarrativeStatement in a composition of its own, in the order given.
func WithAttachments(docs ...Attachment) Option {
	return func(s *settings) error {
		for _, d := range docs {
			if !validUID(d.ID) {
				return invalid("attachment id %q is not an HL7 uid (upper-case GUID)", d.ID)
			}
			if !validFilename(d.Filename) {
				return invalid("attachment %s file name %q is empty, not UTF-8 or holds control characters", d.ID, d.Filename)
			}
			if !mediaTypePattern.MatchString(d.ContentType) {
				return invalid("attachment %s content type %q is not a MIME type", d.ID, d.ContentType)
			}
		}
		s.attachments = append(s.attachments, docs...)
		return nil
	}
}

// WithNOPAT marks n entries with confidentialityCode NOPAT, spread over
// the classes that allow it (compositions, the statement classes and
// document references), each in its schema position. An extract with
// NOPAT entries must travel as RCMR_IN030000UK07. Generate fails if the
// extract has fewer than n markable entries.
func WithNOPAT(n int) Option {
	return func(s *settings) error {
		if n < 0 {
			return invalid("NOPAT count %d", n)
		}
		s.nopat = n
		return nil
	}
}

// WithLocalCodes adds n entries coded only in a local (non-SNOMED CT) code
// system, cycling through the degrade categories: other observation, drug
// allergy, non-drug allergy, medication, plan, referral, request. They sit
// in one "Non-consultation data" composition, as EMIS files such entries.
func WithLocalCodes(n int) Option {
	return func(s *settings) error {
		if n < 0 {
			return invalid("local code count %d", n)
		}
		s.local = n
		return nil
	}
}

// validFilename reports whether name is usable as an attachment's file
// name: non-empty UTF-8 without control characters (the name appears in
// narrative text, where XML cannot carry them).
func validFilename(name string) bool {
	if name == "" || !utf8.ValidString(name) {
		return false
	}
	for _, r := range name {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == 0xfffe || r == 0xffff {
			return false
		}
	}
	return true
}

// validNHSNumber reports whether s is ten digits ending in the modulus-11
// check digit of the first nine.
func validNHSNumber(s string) bool {
	if len(s) != 10 {
		return false
	}
	for i := 0; i < 10; i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	check, ok := nhsCheckDigit(s[:9])
	return ok && int(s[9]-'0') == check
}

// nhsCheckDigit computes the modulus-11 check digit of nine digits; ok is
// false when none exists (the remainder gives 10).
func nhsCheckDigit(nine string) (int, bool) {
	sum := 0
	for i := 0; i < 9; i++ {
		sum += int(nine[i]-'0') * (10 - i)
	}
	switch check := 11 - sum%11; check {
	case 11:
		return 0, true
	case 10:
		return 0, false
	default:
		return check, true
	}
}
