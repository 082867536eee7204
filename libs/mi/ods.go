package mi

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Metadata is the ODS organisation metadata that attributes ASIDs to
// practices and practices to Sub-ICB locations (§1.6). One Metadata
// applies to every month it is used for.
//
// LoadMetadata reads it from JSON of this shape (unknown members such as
// generatedOn, year or month are ignored):
//
//	{
//	  "practices": [
//	    {"odsCode": "A12345", "name": "Riverside Surgery", "asids": ["200000000101"]}
//	  ],
//	  "sicbls": [
//	    {"odsCode": "00L", "name": "NHS North East SICBL", "practices": ["A12345"]}
//	  ]
//	}
//
// The snake_case spelling of NHS England's organisationMetadata.json is
// accepted too: ods_code for odsCode, and ccgs for sicbls. Rules:
//   - every practice has a non-empty odsCode, unique among practices;
//     name may be empty; asids may be empty (the practice then attributes
//     nothing);
//   - an ASID belongs to at most one practice (the same ASID twice in
//     one practice is harmless);
//   - every SICBL has a non-empty odsCode, unique among SICBLs; a practice
//     belongs to at most one SICBL;
//   - a SICBL may name practices that are not in the practices list: ODS
//     lists every practice of a location, the metadata only those with
//     GP2GP ASIDs. These are reported by Warnings, not rejected.
type Metadata struct {
	byASID   map[string]Practice
	warnings []string
	counts   [2]int // practices, SICBLs
}

// MetadataError reports malformed ODS metadata. Path locates the problem
// inside the document, e.g. "practices[3].asids[0]"; it is empty for
// problems of the document as a whole.
type MetadataError struct {
	Path   string
	Reason string
	Err    error // the JSON decoding error, if any
}

// Error implements error.
func (e *MetadataError) Error() string {
	msg := e.Reason
	if e.Err != nil {
		msg = e.Err.Error()
		if e.Reason != "" {
			msg = e.Reason + ": " + msg
		}
	}
	if e.Path == "" {
		return "ods metadata: " + msg
	}
	return "ods metadata: " + e.Path + ": " + msg
}

// Unwrap returns the JSON decoding error, if any.
func (e *MetadataError) Unwrap() error { return e.Err }

// metadataJSON is the decoding shape: both spellings side by side.
type metadataJSON struct {
	Practices []practiceJSON `json:"practices"`
	SICBLs    []sicblJSON    `json:"sicbls"`
	CCGs      []sicblJSON    `json:"ccgs"`
}

type practiceJSON struct {
	ODSCode      *string  `json:"odsCode"`
	ODSCodeSnake *string  `json:"ods_code"`
	Name         string   `json:"name"`
	ASIDs        []string `json:"asids"`
}

type sicblJSON struct {
	ODSCode      *string  `json:"odsCode"`
	ODSCodeSnake *string  `json:"ods_code"`
	Name         string   `json:"name"`
	Practices    []string `json:"practices"`
}

// odsCode picks the one spelling present.
func odsCode(path string, camel, snake *string) (string, error) {
	switch {
	case camel != nil && snake != nil && strings.TrimSpace(*camel) != strings.TrimSpace(*snake):
		return "", &MetadataError{Path: path, Reason: fmt.Sprintf("odsCode %q and ods_code %q differ", *camel, *snake)}
	case camel != nil:
		return nonEmpty(path+".odsCode", *camel)
	case snake != nil:
		return nonEmpty(path+".ods_code", *snake)
	}
	return "", &MetadataError{Path: path, Reason: "no odsCode"}
}

func nonEmpty(path, s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", &MetadataError{Path: path, Reason: "empty"}
	}
	return s, nil
}

// LoadMetadata reads ODS metadata in the JSON format described on
// Metadata. Malformed input returns a *MetadataError naming where in the
// document the problem is.
func LoadMetadata(r io.Reader) (*Metadata, error) {
	dec := json.NewDecoder(r)
	var doc metadataJSON
	if err := dec.Decode(&doc); err != nil {
		return nil, decodeError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, &MetadataError{Reason: "more than one JSON value"}
	}
	sicbls, sicblKey := doc.SICBLs, "sicbls"
	switch {
	case doc.SICBLs != nil && doc.CCGs != nil:
		return nil, &MetadataError{Reason: "both sicbls and ccgs present"}
	case doc.CCGs != nil:
		sicbls, sicblKey = doc.CCGs, "ccgs"
	}

	m := &Metadata{byASID: make(map[string]Practice), counts: [2]int{len(doc.Practices), len(sicbls)}}
	practiceAt := make(map[string]int, len(doc.Practices)) // ODS code → index
	for i, p := range doc.Practices {
		path := fmt.Sprintf("practices[%d]", i)
		ods, err := odsCode(path, p.ODSCode, p.ODSCodeSnake)
		if err != nil {
			return nil, err
		}
		if j, dup := practiceAt[ods]; dup {
			return nil, &MetadataError{Path: path, Reason: fmt.Sprintf("practice %s already listed at practices[%d]", ods, j)}
		}
		practiceAt[ods] = i
		for k, asid := range p.ASIDs {
			asidPath := fmt.Sprintf("%s.asids[%d]", path, k)
			asid, err := nonEmpty(asidPath, asid)
			if err != nil {
				return nil, err
			}
			if other, dup := m.byASID[asid]; dup && other.ODSCode != ods {
				return nil, &MetadataError{Path: asidPath, Reason: fmt.Sprintf(
					"ASID %s already belongs to practice %s (practices[%d])", asid, other.ODSCode, practiceAt[other.ODSCode])}
			}
			m.byASID[asid] = Practice{ODSCode: ods, Name: strings.TrimSpace(p.Name)}
		}
	}

	type membership struct {
		code, name string
		index      int
	}
	sicblOf := make(map[string]membership) // practice ODS code → its SICBL
	seen := make(map[string]int, len(sicbls))
	for i, s := range sicbls {
		path := fmt.Sprintf("%s[%d]", sicblKey, i)
		code, err := odsCode(path, s.ODSCode, s.ODSCodeSnake)
		if err != nil {
			return nil, err
		}
		if j, dup := seen[code]; dup {
			return nil, &MetadataError{Path: path, Reason: fmt.Sprintf("Sub-ICB location %s already listed at %s[%d]", code, sicblKey, j)}
		}
		seen[code] = i
		for k, ods := range s.Practices {
			memberPath := fmt.Sprintf("%s.practices[%d]", path, k)
			ods, err := nonEmpty(memberPath, ods)
			if err != nil {
				return nil, err
			}
			if other, dup := sicblOf[ods]; dup && other.code != code {
				return nil, &MetadataError{Path: memberPath, Reason: fmt.Sprintf(
					"practice %s already belongs to Sub-ICB location %s (%s[%d])", ods, other.code, sicblKey, other.index)}
			}
			if _, known := practiceAt[ods]; !known {
				m.warnings = append(m.warnings, fmt.Sprintf(
					"ods metadata: %s: practice %s of Sub-ICB location %s is not in practices", memberPath, ods, code))
			}
			sicblOf[ods] = membership{code: code, name: strings.TrimSpace(s.Name), index: i}
		}
	}
	for asid, p := range m.byASID {
		if s, ok := sicblOf[p.ODSCode]; ok {
			p.SICBLODSCode, p.SICBLName = s.code, s.name
			m.byASID[asid] = p
		}
	}
	return m, nil
}

// decodeError turns a JSON decoding error into a *MetadataError, with the
// byte offset and, for a value of the wrong type, the member path.
func decodeError(err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return &MetadataError{Reason: fmt.Sprintf("malformed JSON at byte %d", syn.Offset), Err: err}
	case errors.As(err, &typ):
		return &MetadataError{Path: typ.Field, Reason: fmt.Sprintf("%s where %s expected (byte %d)", typ.Value, typ.Type, typ.Offset)}
	case errors.Is(err, io.EOF):
		return &MetadataError{Reason: "empty document"}
	case errors.Is(err, io.ErrUnexpectedEOF):
		return &MetadataError{Reason: "document ends early", Err: err}
	}
	return &MetadataError{Reason: "reading", Err: err}
}

// Lookup returns the ASID → practice lookup of the metadata, the
// practice's Sub-ICB location filled when it belongs to one. The month is
// ignored: one Metadata applies to every month.
func (m *Metadata) Lookup() PracticeLookup {
	return func(asid string, _ Month) (Practice, bool) {
		p, ok := m.byASID[asid]
		return p, ok
	}
}

// Warnings lists what was accepted but looks wrong: Sub-ICB locations
// naming practices that the practices list lacks.
func (m *Metadata) Warnings() []string { return m.warnings }

// Len reports how many practices and Sub-ICB locations were read.
func (m *Metadata) Len() (practices, sicbls int) { return m.counts[0], m.counts[1] }
