package directory

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// File is the file-backed directory: practices and patients read from a
// JSON file (see FileData for the format). It implements PDS and SDS, is
// safe for concurrent use, and can be reloaded while in use: lookups see
// either the old or the new contents, never a mixture.
//
// A practice listed with gp2gpEnabled false is known (Practice returns it
// with GP2GPEnabled false) but has no endpoints (Endpoint returns
// ErrNotFound), as SDS would have no GP2GP device for it. A GP2GP-enabled
// practice has endpoints for the five GP2GP interactions only.
//
// Make one with LoadFile or ParseFile; the zero value is not usable.
type File struct {
	path     string
	reloadMu sync.Mutex
	data     atomic.Pointer[fileSnapshot]
}

// FileData is the content of a directory file:
//
//	{"practices": [FilePractice...], "patients": [FilePatient...]}
//
// Unknown fields are refused, so that a misspelt field is reported rather
// than ignored.
type FileData struct {
	// Practices are the practices the directory knows.
	Practices []FilePractice `json:"practices"`
	// Patients are the patients the directory knows.
	Patients []FilePatient `json:"patients"`
}

// FilePractice is one practice of a directory file. Only ods is required,
// and asid as well when gp2gpEnabled is true.
type FilePractice struct {
	// ODS is the ODS code, 3 to 10 letters and digits (any case; stored
	// upper-case). Unique in the file.
	ODS string `json:"ods"`
	// Name is the practice's name.
	Name string `json:"name,omitempty"`
	// ASID is the practice system's ASID, digits only. Unique in the file.
	ASID string `json:"asid,omitempty"`
	// PartyKey is the MHS party key.
	PartyKey string `json:"partyKey,omitempty"`
	// CPAID is the CPA id.
	CPAID string `json:"cpaId,omitempty"`
	// MHSAddress is the MHS endpoint URL.
	MHSAddress string `json:"mhsAddress,omitempty"`
	// GP2GPEnabled says whether the practice takes part in GP2GP; missing
	// means false.
	GP2GPEnabled bool `json:"gp2gpEnabled"`
	// PersistDurations maps GP2GP interaction ids to ISO 8601 persist
	// durations, like {"RCMR_IN030000UK06": "PT4H10M"}.
	PersistDurations map[string]string `json:"persistDurations,omitempty"`
	// DefaultPersistDuration is the persist duration of the interactions
	// PersistDurations does not list; without it, theirs is zero.
	DefaultPersistDuration string `json:"defaultPersistDuration,omitempty"`
	// Retries is the MHS retry count of every interaction (not negative).
	Retries int `json:"retries,omitempty"`
	// RetryInterval is the ISO 8601 MHS retry interval of every interaction.
	RetryInterval string `json:"retryInterval,omitempty"`
}

// FilePatient is one patient of a directory file. nhsNumber and
// currentOds are required.
type FilePatient struct {
	// NHSNumber is ten digits with a valid check digit. Unique in the file.
	NHSNumber string `json:"nhsNumber"`
	// CurrentODS is the ODS code of the practice the patient is registered
	// with now. It need not be one of the file's practices.
	CurrentODS string `json:"currentOds"`
	// PreviousODS is the ODS code of the previous practice, if any.
	PreviousODS string `json:"previousOds,omitempty"`
	// GivenName is the first given name.
	GivenName string `json:"givenName,omitempty"`
	// FamilyName is the family name.
	FamilyName string `json:"familyName,omitempty"`
	// BirthDate is YYYY-MM-DD.
	BirthDate string `json:"birthDate,omitempty"`
	// Gender is male, female, other or unknown.
	Gender string `json:"gender,omitempty"`
}

var (
	_ PDS = (*File)(nil)
	_ SDS = (*File)(nil)
)

// fileSnapshot is one validated version of the file's contents.
type fileSnapshot struct {
	data      FileData
	practices map[string]filePractice // by upper-case ODS
	patients  map[string]Registration // by NHS number
}

// filePractice is a practice with its durations parsed.
type filePractice struct {
	entry         FilePractice
	persist       map[string]time.Duration
	defaultPD     time.Duration
	retryInterval time.Duration
}

// LoadFile reads and validates the directory file at path. Reload reads
// the same path again. Validation errors match ErrInvalidFile.
func LoadFile(path string) (*File, error) {
	snap, err := loadSnapshot(path)
	if err != nil {
		return nil, err
	}
	f := &File{path: path}
	f.data.Store(snap)
	return f, nil
}

// ParseFile validates a directory file held in memory. The result cannot
// be reloaded. Validation errors match ErrInvalidFile.
func ParseFile(data []byte) (*File, error) {
	snap, err := parseSnapshot(data)
	if err != nil {
		return nil, fmt.Errorf("directory: %w", err)
	}
	f := &File{}
	f.data.Store(snap)
	return f, nil
}

// Reload reads the file's path again. If the file cannot be read or fails
// validation, the directory keeps its current contents and the error is
// returned. Lookups in progress are not disturbed. A File made by
// ParseFile has no path and cannot be reloaded.
func (f *File) Reload() error {
	if f.path == "" {
		return errors.New("directory: reload: the directory was parsed from memory, not loaded from a file")
	}
	f.reloadMu.Lock()
	defer f.reloadMu.Unlock()
	snap, err := loadSnapshot(f.path)
	if err != nil {
		return err
	}
	f.data.Store(snap)
	return nil
}

// Practices returns a copy of the practices, in file order, with ODS
// codes upper-cased.
func (f *File) Practices() []FilePractice {
	src := f.data.Load().data.Practices
	out := make([]FilePractice, len(src))
	for i, p := range src {
		p.PersistDurations = maps.Clone(p.PersistDurations)
		out[i] = p
	}
	return out
}

// Patients returns a copy of the patients, in file order, with ODS codes
// upper-cased.
func (f *File) Patients() []FilePatient {
	return slices.Clone(f.data.Load().data.Patients)
}

// Registration implements PDS. The file's previousOds is returned as
// PreviousODS.
func (f *File) Registration(ctx context.Context, nhsNumber string) (Registration, error) {
	if err := checkNHSNumber(nhsNumber); err != nil {
		return Registration{}, err
	}
	r, ok := f.data.Load().patients[nhsNumber]
	if !ok {
		return Registration{}, fmt.Errorf("%w: NHS number %s is not in the directory file", ErrPatientNotFound, nhsNumber)
	}
	return r, nil
}

// Endpoint implements SDS. The persist duration is the practice's entry
// for the interaction, else its default, else zero.
func (f *File) Endpoint(ctx context.Context, ods string, interaction string) (Endpoint, error) {
	if err := checkInteraction(interaction); err != nil {
		return Endpoint{}, err
	}
	p, err := f.practice(ods)
	if err != nil {
		return Endpoint{}, err
	}
	if !p.entry.GP2GPEnabled {
		return Endpoint{}, fmt.Errorf("%w: practice %s is not GP2GP enabled in the directory file", ErrNotFound, p.entry.ODS)
	}
	if !slices.Contains(gp2gpInteractions, interaction) {
		return Endpoint{}, fmt.Errorf("%w: %s is not a GP2GP interaction", ErrNotFound, interaction)
	}
	pd, ok := p.persist[interaction]
	if !ok {
		pd = p.defaultPD
	}
	return Endpoint{
		ODS:             p.entry.ODS,
		ASID:            p.entry.ASID,
		PartyKey:        p.entry.PartyKey,
		CPAID:           p.entry.CPAID,
		MHSAddress:      p.entry.MHSAddress,
		PersistDuration: pd,
		Retries:         p.entry.Retries,
		RetryInterval:   p.retryInterval,
	}, nil
}

// Practice implements SDS. A listed practice is returned even when it is
// not GP2GP enabled; ErrNotFound means it is not listed.
func (f *File) Practice(ctx context.Context, ods string) (Practice, error) {
	p, err := f.practice(ods)
	if err != nil {
		return Practice{}, err
	}
	return Practice{ODS: p.entry.ODS, Name: p.entry.Name, GP2GPEnabled: p.entry.GP2GPEnabled}, nil
}

func (f *File) practice(ods string) (filePractice, error) {
	up, err := normaliseODS(ods)
	if err != nil {
		return filePractice{}, err
	}
	p, ok := f.data.Load().practices[up]
	if !ok {
		return filePractice{}, fmt.Errorf("%w: practice %s is not in the directory file", ErrNotFound, up)
	}
	return p, nil
}

func loadSnapshot(path string) (*fileSnapshot, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("directory: %w", err)
	}
	snap, err := parseSnapshot(data)
	if err != nil {
		return nil, fmt.Errorf("directory: %s: %w", path, err)
	}
	return snap, nil
}

// parseSnapshot decodes and validates a file, reporting every problem.
func parseSnapshot(data []byte) (*fileSnapshot, error) {
	var fd FileData
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&fd); err != nil {
		return nil, fmt.Errorf("%w: %s", ErrInvalidFile, describeJSONError(data, err))
	}
	if _, err := dec.Token(); err == nil {
		return nil, fmt.Errorf("%w: data after the JSON object at %s", ErrInvalidFile, lineCol(data, dec.InputOffset()))
	}
	v := validator{
		snap: &fileSnapshot{
			data:      fd,
			practices: make(map[string]filePractice, len(fd.Practices)),
			patients:  make(map[string]Registration, len(fd.Patients)),
		},
		odsAt: map[string]string{},
		asids: map[string]string{},
		nhsAt: map[string]string{},
	}
	for i := range fd.Practices {
		v.practice(i, &fd.Practices[i])
	}
	for i := range fd.Patients {
		v.patient(i, &fd.Patients[i])
	}
	if len(v.errs) > 0 {
		return nil, errors.Join(v.errs...)
	}
	return v.snap, nil
}

// validator collects the problems of one file.
type validator struct {
	snap  *fileSnapshot
	odsAt map[string]string // ODS code -> entry that has it
	asids map[string]string // ASID -> entry that has it
	nhsAt map[string]string // NHS number -> entry that has it
	errs  []error
}

func (v *validator) fail(entry, key, field, format string, args ...any) {
	v.errs = append(v.errs, &ValidationError{Entry: entry, Key: key, Field: field, Reason: fmt.Sprintf(format, args...)})
}

func (v *validator) practice(i int, p *FilePractice) {
	entry := fmt.Sprintf("practices[%d]", i)
	p.ODS = strings.ToUpper(p.ODS)
	key := p.ODS
	switch {
	case p.ODS == "":
		v.fail(entry, key, "ods", "missing")
	case !odsPattern.MatchString(p.ODS):
		v.fail(entry, key, "ods", "must be 3 to 10 letters and digits")
	case v.odsAt[p.ODS] != "":
		v.fail(entry, key, "ods", "duplicate ODS code, also %s", v.odsAt[p.ODS])
	default:
		v.odsAt[p.ODS] = entry
	}
	switch {
	case p.ASID == "" && p.GP2GPEnabled:
		v.fail(entry, key, "asid", "missing (required when gp2gpEnabled is true)")
	case p.ASID == "":
	case !allDigits(p.ASID) || len(p.ASID) > 20:
		v.fail(entry, key, "asid", "%q must be 1 to 20 digits", p.ASID)
	case v.asids[p.ASID] != "":
		v.fail(entry, key, "asid", "duplicate ASID %s, also %s", p.ASID, v.asids[p.ASID])
	default:
		v.asids[p.ASID] = entry
	}
	if p.Retries < 0 {
		v.fail(entry, key, "retries", "must not be negative")
	}
	rec := filePractice{entry: *p, persist: make(map[string]time.Duration, len(p.PersistDurations))}
	for _, interaction := range slices.Sorted(maps.Keys(p.PersistDurations)) {
		field := "persistDurations." + interaction
		if !slices.Contains(gp2gpInteractions, interaction) {
			v.fail(entry, key, field, "not a GP2GP interaction (want one of %s)", strings.Join(gp2gpInteractions, ", "))
			continue
		}
		if d, ok := v.duration(entry, key, field, p.PersistDurations[interaction]); ok {
			rec.persist[interaction] = d
		}
	}
	if p.DefaultPersistDuration != "" {
		rec.defaultPD, _ = v.duration(entry, key, "defaultPersistDuration", p.DefaultPersistDuration)
	}
	if p.RetryInterval != "" {
		rec.retryInterval, _ = v.duration(entry, key, "retryInterval", p.RetryInterval)
	}
	v.snap.practices[p.ODS] = rec
}

func (v *validator) duration(entry, key, field, s string) (time.Duration, bool) {
	d, err := durationError(s)
	if err != nil {
		v.fail(entry, key, field, "%v", err)
		return 0, false
	}
	return d, true
}

func (v *validator) patient(i int, p *FilePatient) {
	entry := fmt.Sprintf("patients[%d]", i)
	key := p.NHSNumber
	switch {
	case p.NHSNumber == "":
		v.fail(entry, key, "nhsNumber", "missing")
	case !validNHSNumber(p.NHSNumber):
		v.fail(entry, key, "nhsNumber", "not a valid NHS number (ten digits with a modulus 11 check digit)")
	case v.nhsAt[p.NHSNumber] != "":
		v.fail(entry, key, "nhsNumber", "duplicate NHS number, also %s", v.nhsAt[p.NHSNumber])
	default:
		v.nhsAt[p.NHSNumber] = entry
	}
	p.CurrentODS = strings.ToUpper(p.CurrentODS)
	switch {
	case p.CurrentODS == "":
		v.fail(entry, key, "currentOds", "missing")
	case !odsPattern.MatchString(p.CurrentODS):
		v.fail(entry, key, "currentOds", "%q must be 3 to 10 letters and digits", p.CurrentODS)
	}
	p.PreviousODS = strings.ToUpper(p.PreviousODS)
	if p.PreviousODS != "" && !odsPattern.MatchString(p.PreviousODS) {
		v.fail(entry, key, "previousOds", "%q must be 3 to 10 letters and digits", p.PreviousODS)
	}
	if p.BirthDate != "" {
		if _, err := time.Parse(time.DateOnly, p.BirthDate); err != nil {
			v.fail(entry, key, "birthDate", "%q is not a date YYYY-MM-DD", p.BirthDate)
		}
	}
	switch p.Gender {
	case "", "male", "female", "other", "unknown":
	default:
		v.fail(entry, key, "gender", "%q is not one of male, female, other, unknown", p.Gender)
	}
	v.snap.patients[p.NHSNumber] = Registration{
		NHSNumber:   p.NHSNumber,
		CurrentODS:  p.CurrentODS,
		PreviousODS: p.PreviousODS,
		GivenName:   p.GivenName,
		FamilyName:  p.FamilyName,
		BirthDate:   p.BirthDate,
		Gender:      p.Gender,
	}
}

func allDigits(s string) bool {
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// describeJSONError adds the line and column to a decoding error.
func describeJSONError(data []byte, err error) string {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		return fmt.Sprintf("%s: %v", lineCol(data, syntax.Offset), err)
	case errors.As(err, &typ):
		return fmt.Sprintf("%s: %v", lineCol(data, typ.Offset), err)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "not a complete JSON object"
	}
	return err.Error()
}

// lineCol renders a byte offset as "line L, column C".
func lineCol(data []byte, offset int64) string {
	offset = min(max(offset, 0), int64(len(data)))
	before := data[:offset]
	line := bytes.Count(before, []byte("\n")) + 1
	col := int(offset) - bytes.LastIndexByte(before, '\n')
	return fmt.Sprintf("line %d, column %d", line, col)
}
