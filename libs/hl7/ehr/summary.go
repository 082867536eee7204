package ehr

import (
	"strings"

	"github.com/beevik/etree"

	"github.com/nhsengland/gp2gp/libs/xmldoc"
)

// Summary is what Summarize reports about an extract. Values are taken as
// written (trimmed of surrounding white space); what is missing is "".
type Summary struct {
	// ExtractID is EhrExtract/id/@root.
	ExtractID string
	// RequestID is inFulfillmentOf/priorEhrRequest/id/@root: the EHR
	// request the extract answers.
	RequestID string
	// NHSNumber is recordTarget/patient/id/@extension.
	NHSNumber string
	// AuthorODS is the sending practice's ODS code (author/AgentOrgSDS).
	AuthorODS string
	// DestinationODS is the requesting practice's ODS code
	// (destination/AgentOrgSDS).
	DestinationODS string
	// Compositions counts ehrComposition elements.
	Compositions int
	// Statements counts statement elements by class (ObservationStatement,
	// NarrativeStatement, MedicationStatement, PlanStatement,
	// RequestStatement, LinkSet, CompoundStatement, RegistrationStatement,
	// EhrEmpty) wherever they occur, nested ones included. Classes that do
	// not occur are absent.
	Statements map[string]int
	// Documents lists the external documents referenced, in document
	// order.
	Documents []Document
	// Degrades lists the coded entries with no SNOMED CT code, in document
	// order.
	Degrades []DegradeCandidate
	// NOPAT lists the entries marked with a NOPAT confidentialityCode, in
	// document order.
	NOPAT []Entry
	// Skeleton is true when the extract is a skeleton standing in for an
	// extract sent as a compressed attachment (protocol section 3.2): it
	// refers to an external document described as "Original RCMR_IN03
	// EhrExtract message". The NIA sender's skeleton holds nothing else;
	// the 2013 harness skeleton carries other statements beside it, so
	// only the reference's presence decides.
	Skeleton bool
}

// Entry identifies an element of the extract.
type Entry struct {
	// Type is the element's local name: a statement class
	// (ObservationStatement, …), EhrComposition or ExternalDocument.
	Type string
	// ID is the element's id/@root.
	ID string
}

// Document is an external document referenced from the extract
// (NarrativeStatement/reference/referredToExternalDocument).
type Document struct {
	// ID is the document id (referredToExternalDocument/id/@root); the
	// ebXML manifest names the attachment "_" + ID.
	ID string
	// StatementID is the id of the statement holding the reference.
	StatementID string
	// Reference is text/reference/@value as written, e.g.
	// "file://localhost/ABC_Attach1%20-%20Copy.jfif".
	Reference string
	// Filename is Reference decoded: "file://localhost/" removed and
	// percent-encoding undone (EMIS and TPP encode names). Other forms
	// (TPP's "urn:…", "cid:…", "mid:…") are kept as written.
	Filename string
	// MediaType is text/@mediaType.
	MediaType string
	// Code is the document's type code (e.g. SNOMED CT 37251000000104
	// "Other digital signal").
	Code Code
	// Absent is true when the reference is a placeholder for a document
	// the sender could not include (a file named AbsentAttachment…,
	// protocol section 4.5).
	Absent bool
	// Skeleton is true when the document is the compressed original
	// extract a skeleton stands for.
	Skeleton bool
}

// DegradeCandidate is a coded entry with no SNOMED CT code: its code's
// system is not SNOMED CT and no translation of it is. A receiver files
// such an entry under the transfer-degraded concept Degrade names.
type DegradeCandidate struct {
	Entry
	// Code is the entry's code (for a MedicationStatement, its
	// manufacturedMaterial's code).
	Code Code
	// Degrade is the category a receiver would degrade it to.
	Degrade Degrade
}

// Summarize reports what extract holds. extract should be an EhrExtract
// element (any prefix); given any other element, Summarize reads the first
// EhrExtract found below it, so a whole RCMR_IN030000UK06 message works
// too. It returns ErrNoExtract when there is none. Summarize tolerates
// schema-invalid input: what it cannot find it leaves empty.
//
// Degrade candidates are looked for in the code of ObservationStatement,
// PlanStatement, RequestStatement, RegistrationStatement, LinkSet and
// CompoundStatement (except TOPIC and CATEGORY compounds and allergy
// headings, which organise other statements: EMIS writes Read codes for
// them that receivers do not file), and in the manufacturedMaterial code
// of MedicationStatement. A code counts as SNOMED CT when its codeSystem
// is SNOMED CT or one of its (possibly nested) translations is. The
// category is: medication for a MedicationStatement; plan for a
// PlanStatement; referral for a RequestStatement whose code or text
// mentions a referral, request otherwise; drug or non-drug allergy for an
// ObservationStatement inside an allergy CompoundStatement (Read 14L..00
// "H/O: drug allergy" or SNOMED CT 416098002 for drug allergies, Read
// SN53.00 or SNOMED CT 419199007 or any other "allergy" heading for
// non-drug ones); other for everything else.
func Summarize(extract *etree.Element) (Summary, error) {
	root := findExtract(extract)
	if root == nil {
		return Summary{}, ErrNoExtract
	}
	s := Summary{
		ExtractID:      idRoot(xmldoc.Child(root, "id")),
		RequestID:      idRoot(xmldoc.Path(root, "inFulfillmentOf", "priorEhrRequest", "id")),
		NHSNumber:      idExtension(xmldoc.Path(root, "recordTarget", "patient"), rootNHSNumber),
		AuthorODS:      idExtension(xmldoc.Path(root, "author", "AgentOrgSDS", "agentOrganizationSDS"), rootSDSOrg),
		DestinationODS: idExtension(xmldoc.Path(root, "destination", "AgentOrgSDS", "agentOrganizationSDS"), rootSDSOrg),
	}
	walk(root, func(el *etree.Element) {
		switch tag := el.Tag; {
		case tag == EhrComposition:
			s.Compositions++
		case isStatement(tag):
			if s.Statements == nil {
				s.Statements = make(map[string]int)
			}
			s.Statements[tag]++
			if d, ok := degradeCandidate(el); ok {
				s.Degrades = append(s.Degrades, d)
			}
		case tag == ExternalDocument:
			d := readDocument(el)
			s.Skeleton = s.Skeleton || d.Skeleton
			s.Documents = append(s.Documents, d)
		case tag == "confidentialityCode":
			if strings.EqualFold(attr(el, "code"), NOPAT) {
				if p := el.Parent(); p != nil {
					s.NOPAT = append(s.NOPAT, Entry{Type: p.Tag, ID: idRoot(xmldoc.Child(p, "id"))})
				}
			}
		}
	})
	return s, nil
}

// findExtract returns el if it is an EhrExtract, else the first EhrExtract
// below it, else nil.
func findExtract(el *etree.Element) *etree.Element {
	if el == nil {
		return nil
	}
	if el.Tag == "EhrExtract" {
		return el
	}
	var found *etree.Element
	walkUntil(el, func(c *etree.Element) bool {
		if c.Tag == "EhrExtract" {
			found = c
			return false
		}
		return true
	})
	return found
}

// walk calls fn for every element below root in document order. It keeps
// its own stack, so arbitrarily deep input cannot exhaust the goroutine
// stack.
func walk(root *etree.Element, fn func(*etree.Element)) {
	walkUntil(root, func(el *etree.Element) bool { fn(el); return true })
}

// walkUntil is walk stopping as soon as fn returns false.
func walkUntil(root *etree.Element, fn func(*etree.Element) bool) {
	stack := pushChildren(nil, root)
	for len(stack) > 0 {
		el := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if !fn(el) {
			return
		}
		stack = pushChildren(stack, el)
	}
}

// pushChildren pushes el's child elements onto stack, last first, so that
// they pop in document order.
func pushChildren(stack []*etree.Element, el *etree.Element) []*etree.Element {
	for i := len(el.Child) - 1; i >= 0; i-- {
		if c, ok := el.Child[i].(*etree.Element); ok && c != nil {
			stack = append(stack, c)
		}
	}
	return stack
}

// attr is xmldoc.Attr trimmed.
func attr(el *etree.Element, key string) string {
	return strings.TrimSpace(xmldoc.Attr(el, key))
}

// idRoot returns an II's root.
func idRoot(id *etree.Element) string {
	return attr(id, "root")
}

// idExtension returns the extension of el's id child with the given root,
// or of its first id child when none has that root.
func idExtension(el *etree.Element, root string) string {
	ids := xmldoc.Children(el, "id")
	for _, id := range ids {
		if attr(id, "root") == root {
			return attr(id, "extension")
		}
	}
	if len(ids) > 0 {
		return attr(ids[0], "extension")
	}
	return ""
}

// codeOf reads a CD-like element.
func codeOf(el *etree.Element) Code {
	return Code{Code: attr(el, "code"), System: attr(el, "codeSystem"), DisplayName: attr(el, "displayName")}
}

// maxTranslationDepth bounds how deep nested translations are searched.
const maxTranslationDepth = 8

// hasSNOMED reports whether code is in SNOMED CT or has a SNOMED CT
// translation (translations may nest).
func hasSNOMED(code *etree.Element) bool {
	return hasSNOMEDDepth(code, 0)
}

func hasSNOMEDDepth(code *etree.Element, depth int) bool {
	if attr(code, "codeSystem") == SystemSNOMED && attr(code, "code") != "" {
		return true
	}
	if depth >= maxTranslationDepth {
		return false
	}
	for _, t := range xmldoc.Children(code, "translation") {
		if hasSNOMEDDepth(t, depth+1) {
			return true
		}
	}
	return false
}

// uncoded reports whether code carries a code but none in SNOMED CT.
func uncoded(code *etree.Element) bool {
	return code != nil && attr(code, "code") != "" && !hasSNOMED(code)
}

// degradeCandidate checks one statement element.
func degradeCandidate(el *etree.Element) (DegradeCandidate, bool) {
	entry := Entry{Type: el.Tag, ID: idRoot(xmldoc.Child(el, "id"))}
	switch el.Tag {
	case MedicationStatement:
		for _, c := range xmldoc.Children(el, "consumable") {
			code := xmldoc.Path(c, "manufacturedProduct", "manufacturedMaterial", "code")
			if uncoded(code) {
				return DegradeCandidate{Entry: entry, Code: codeOf(code), Degrade: DegradeMedication}, true
			}
		}
		return DegradeCandidate{}, false
	case NarrativeStatement, EhrEmpty:
		return DegradeCandidate{}, false
	case CompoundStatement:
		switch strings.ToUpper(attr(el, "classCode")) {
		case "TOPIC", "CATEGORY":
			return DegradeCandidate{}, false
		}
		if allergyHeading(el) != "" {
			return DegradeCandidate{}, false
		}
	}
	code := xmldoc.Child(el, "code")
	if !uncoded(code) {
		return DegradeCandidate{}, false
	}
	return DegradeCandidate{Entry: entry, Code: codeOf(code), Degrade: degradeOf(el)}, true
}

// degradeOf chooses the degrade category of a statement other than a
// MedicationStatement.
func degradeOf(el *etree.Element) Degrade {
	switch el.Tag {
	case PlanStatement:
		return DegradePlan
	case RequestStatement:
		code := xmldoc.Child(el, "code")
		words := strings.ToLower(attr(code, "displayName") + " " + xmldoc.Text(xmldoc.Child(code, "originalText")) + " " + xmldoc.Text(xmldoc.Child(el, "text")))
		if strings.Contains(words, "referr") || strings.Contains(words, "refer to") {
			return DegradeReferral
		}
		return DegradeRequest
	case ObservationStatement:
		for p := el.Parent(); p != nil && p.Tag != EhrComposition; p = p.Parent() {
			if p.Tag == CompoundStatement {
				if d := allergyHeading(p); d != "" {
					return d
				}
				break
			}
		}
	}
	return DegradeOther
}

// allergyHeading returns the allergy category a CompoundStatement heads,
// or "" when it is not an allergy.
func allergyHeading(cs *etree.Element) Degrade {
	code := xmldoc.Child(cs, "code")
	if code == nil {
		return ""
	}
	codes := []*etree.Element{code}
	codes = append(codes, xmldoc.Children(code, "translation")...)
	for _, c := range codes {
		switch attr(c, "code") {
		case "14L..00", "416098002":
			return DegradeDrugAllergy
		case "SN53.00", "419199007":
			return DegradeNonDrugAllergy
		}
	}
	words := strings.ToLower(attr(code, "displayName") + " " + xmldoc.Text(xmldoc.Child(code, "originalText")))
	switch {
	case strings.Contains(words, "drug allergy"):
		return DegradeDrugAllergy
	case strings.Contains(words, "allerg"):
		return DegradeNonDrugAllergy
	}
	return ""
}

// skeletonText is how the NIA sender (and the 2013 harness) describe the
// document a skeleton stands for.
const skeletonText = "original rcmr_in03"

// absentPrefix starts the file name of a placeholder for a missing
// document.
const absentPrefix = "AbsentAttachment"

// readDocument reads a referredToExternalDocument.
func readDocument(el *etree.Element) Document {
	code := xmldoc.Child(el, "code")
	text := xmldoc.Child(el, "text")
	ref := attr(xmldoc.Child(text, "reference"), "value")
	d := Document{
		ID:        idRoot(xmldoc.Child(el, "id")),
		Reference: ref,
		Filename:  DecodeFilename(ref),
		MediaType: attr(text, "mediaType"),
		Code:      codeOf(code),
	}
	for p := el.Parent(); p != nil; p = p.Parent() {
		if isStatement(p.Tag) {
			d.StatementID = idRoot(xmldoc.Child(p, "id"))
			break
		}
	}
	d.Absent = strings.Contains(strings.ToLower(d.Filename), strings.ToLower(absentPrefix))
	d.Skeleton = strings.Contains(strings.ToLower(xmldoc.Text(xmldoc.Child(code, "originalText"))), skeletonText)
	return d
}
