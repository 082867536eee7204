package ehr

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/beevik/etree"
)

// Generate builds a synthetic EhrExtract element (namespace urn:hl7-org:v3,
// classCode EXTRACT, moodCode EVN) from the options, and returns it with
// the Summary that Summarize reports for it — the generator's own account
// of what it wrote, for tests to compare against.
//
// The extract is deterministic: the same options give the same bytes.
// Placed as ControlActEvent/subject/EhrExtract of an RCMR_IN030000UK06
// message it validates against the MIM schema; with NOPAT entries
// (WithNOPAT) it needs RCMR_IN030000UK07 instead.
//
// Content, in folder order: a registration composition (RegistrationStatement
// and a "care started" NarrativeStatement); a "Non-consultation data"
// composition with the WithLocalCodes entries; one composition per
// attachment; then the encounters. Encounters are acute consultations,
// chronic disease reviews, new problems (a diagnosis ObservationStatement
// with a LinkSet naming it and linking the related entries), allergy
// records, referrals, repeat prescribing and lifestyle checks, drawing on
// SNOMED CT coded observations (some with values), blood pressure
// batteries, narrative notes, medication authorisations and issues, plans
// and referral requests.
func Generate(opts ...Option) (*etree.Element, Summary, error) {
	s := settings{seed: 1}
	if err := s.apply(opts); err != nil {
		return nil, Summary{}, err
	}
	g := newGenerator(s, s.seed)
	extract, folder := g.shell()
	g.registration(folder)
	g.localCoded(folder)
	g.attachments(folder)
	g.encounters(extract, folder)
	if err := g.markNOPAT(); err != nil {
		return nil, Summary{}, err
	}
	return extract, g.sum, nil
}

// generator holds one Generate call's state.
type generator struct {
	s   settings
	rng *rand.Rand
	cat *catalogue
	sum Summary

	// marks are the entries a NOPAT mark may go on, in document order.
	marks []*mark

	// Who and when.
	nhsNumber, sendingODS, requestingODS string
	extractID, requestID                 string
	end, start                           time.Time
	practice                             org
	clinicians                           []string // agent ids
	clinician                            string   // the current encounter's
	hospitals                            []org
	repeats                              []authorisation // active repeat medication
}

// mark is an element that may carry a confidentialityCode.
type mark struct {
	typ, id string
	el      *etree.Element
	nopat   bool
}

// org is an organisation in the agent directory.
type org struct {
	agentID, ods, name string
}

func newGenerator(s settings, seed uint64) *generator {
	g := &generator{
		s:   s,
		rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
		cat: newCatalogue(),
	}
	g.nhsNumber = s.nhsNumber
	if g.nhsNumber == "" {
		g.nhsNumber = g.testNHSNumber()
	}
	g.sendingODS, g.requestingODS = s.sendingODS, s.requestingODS
	if g.sendingODS == "" {
		g.sendingODS = g.practiceODS()
		for g.requestingODS = g.practiceODS(); g.requestingODS == g.sendingODS; {
			g.requestingODS = g.practiceODS()
		}
	}
	g.extractID, g.requestID = s.extractID, s.requestID
	if g.extractID == "" {
		g.extractID = g.uuid()
	}
	if g.requestID == "" {
		g.requestID = g.uuid()
	}
	g.end = s.when
	if g.end.IsZero() {
		g.end = defaultTime()
	}
	years := 3 + g.rng.IntN(18)
	g.start = g.end.AddDate(-years, -g.rng.IntN(12), -g.rng.IntN(28)).Truncate(time.Hour)
	g.sum = Summary{
		ExtractID:      g.extractID,
		RequestID:      g.requestID,
		NHSNumber:      g.nhsNumber,
		AuthorODS:      g.sendingODS,
		DestinationODS: g.requestingODS,
	}
	return g
}

// --- random values ---------------------------------------------------------

func (g *generator) uuid() string {
	hi, lo := g.rng.Uint64(), g.rng.Uint64()
	hi = hi&^0xf000 | 0x4000           // version 4
	lo = lo&^(0xc000<<48) | 0x8000<<48 // RFC 4122 variant
	return strings.ToUpper(fmt.Sprintf("%08x-%04x-%04x-%04x-%012x",
		hi>>32, (hi>>16)&0xffff, hi&0xffff, lo>>48, lo&0xffffffffffff))
}

// testNHSNumber draws a valid NHS number in the 999 range reserved for
// test patients.
func (g *generator) testNHSNumber() string {
	for {
		nine := fmt.Sprintf("999%06d", g.rng.IntN(1_000_000))
		if check, ok := nhsCheckDigit(nine); ok {
			return nine + strconv.Itoa(check)
		}
	}
}

// practiceODS draws a GP practice code: a letter and five digits.
func (g *generator) practiceODS() string {
	return fmt.Sprintf("%c%05d", 'A'+rune(g.rng.IntN(25)), g.rng.IntN(100_000))
}

func (g *generator) pick(n int) int { return g.rng.IntN(n) }

func (g *generator) chance(p float64) bool { return g.rng.Float64() < p }

func pickOf[T any](g *generator, xs []T) T { return xs[g.pick(len(xs))] }

func (g *generator) postcode() string {
	letters := "ABCDEFGHJKLMNPRSTUWXYZ"
	return fmt.Sprintf("%c%c%d %d%c%c", letters[g.pick(len(letters))], letters[g.pick(len(letters))],
		1+g.pick(29), g.pick(10), letters[g.pick(len(letters))], letters[g.pick(len(letters))])
}

func (g *generator) phone() string {
	return fmt.Sprintf("tel:01%03d%06d", g.pick(1000), g.pick(1_000_000))
}

// ts writes an HL7 timestamp to the second.
func ts(t time.Time) string { return t.Format("20060102150405") }

// day writes an HL7 date.
func day(t time.Time) string { return t.Format("20060102") }

// register records a new element for the summary and as a NOPAT
// candidate. Called as each element is created, which is document order.
func (g *generator) register(typ, id string, el *etree.Element) {
	switch {
	case typ == EhrComposition:
		g.sum.Compositions++
	case isStatement(typ):
		if g.sum.Statements == nil {
			g.sum.Statements = make(map[string]int)
		}
		g.sum.Statements[typ]++
	}
	g.marks = append(g.marks, &mark{typ: typ, id: id, el: el})
}

// shell builds the EhrExtract down to the folder's agent directory and
// returns the extract and the folder to fill.
func (g *generator) shell() (extract, folder *etree.Element) {
	extract = etree.NewElement("EhrExtract")
	extract.CreateAttr("xmlns", hl7Namespace)
	extract.CreateAttr("xmlns:xsi", xsiNamespace)
	extract.CreateAttr("classCode", "EXTRACT")
	extract.CreateAttr("moodCode", "EVN")
	addID(extract, g.extractID)
	add(extract, "statusCode", "code", "COMPLETE")
	addValue(extract, "availabilityTime", ts(g.end))
	patient := add(add(extract, "recordTarget", "typeCode", "RCT"), "patient", "classCode", "PAT")
	add(patient, "id", "root", rootNHSNumber, "extension", g.nhsNumber)
	author := add(extract, "author", "typeCode", "AUT")
	addValue(author, "time", ts(g.end))
	addOrgSDS(author, g.sendingODS)
	addOrgSDS(add(extract, "destination", "typeCode", "DST"), g.requestingODS)

	folder = add(add(extract, "component", "typeCode", "COMP"), "ehrFolder", "classCode", "FOLDER", "moodCode", "EVN")
	addID(folder, g.uuid())
	add(folder, "statusCode", "code", "COMPLETE")
	span := add(folder, "effectiveTime")
	addValue(span, "low", day(g.start))
	addValue(span, "high", ts(g.end))
	addValue(folder, "availabilityTime", ts(g.end))
	fa := add(folder, "author", "typeCode", "AUT")
	addValue(fa, "time", ts(g.end))
	addOrgSDS(fa, g.sendingODS)
	g.directory(add(add(folder, "responsibleParty", "typeCode", "RESP"), "agentDirectory", "classCode", "AGNT"))

	// inFulfillmentOf and limitation follow the folder's component.
	prior := add(add(extract, "inFulfillmentOf", "typeCode", "FLFS"), "priorEhrRequest", "classCode", "EXTRACT", "moodCode", "RQO")
	addID(prior, g.requestID)
	spec := add(add(extract, "limitation", "typeCode", "LIMIT", "inversionInd", "true"),
		"limitingEhrExtractSpecification", "classCode", "OBS", "moodCode", "DEF")
	addID(spec, g.uuid())
	addSNOMED(spec, "code", "37241000000102", "Entire record available to originator")
	return extract, folder
}
