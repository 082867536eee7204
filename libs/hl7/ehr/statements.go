package ehr

import (
	"fmt"
	"hash/fnv"
	"strconv"
	"time"

	"github.com/beevik/etree"
)

// Statement builders. Each appends one statement (in its component) to a
// container — an ehrComposition or a CompoundStatement — in the element
// order RCMR_MT030101UK04/UK05 require, registers it, and returns its
// class and id.

// obs describes an ObservationStatement.
type obs struct {
	c     concept
	read  bool  // write the Read v2 code with a SNOMED CT translation
	local *Code // code it only with this local code instead
	when  time.Time
	value *quantity
	note  string // pertinentInformation annotation
}

// quantity is a physical quantity value.
type quantity struct {
	value string
	unit  string // UCUM
}

func (g *generator) observation(container *etree.Element, o obs) (string, string) {
	el := add(slot(container), ObservationStatement, "classCode", "OBS", "moodCode", "EVN")
	id := g.uuid()
	g.register(ObservationStatement, id, el)
	addID(el, id)
	if o.local != nil {
		add(el, "code", "code", o.local.Code, "codeSystem", o.local.System, "displayName", o.local.DisplayName)
	} else {
		addCode(el, "code", o.c, o.read)
	}
	add(el, "statusCode", "code", "COMPLETE")
	addCenter(el, o.when)
	addValue(el, "availabilityTime", ts(o.when))
	if o.value != nil {
		add(el, "value", "xsi:type", "PQ", "value", o.value.value, "unit", o.value.unit)
	}
	if o.note != "" {
		pi := add(el, "pertinentInformation", "typeCode", "PERT")
		addValue(pi, "sequenceNumber", "+1")
		addText(add(pi, "pertinentAnnotation", "classCode", "OBS", "moodCode", "EVN"), "text", o.note)
	}
	addParticipant(el, g.clinician)
	return ObservationStatement, id
}

// measurement draws a value for m.
func (g *generator) measurement(m measure) *quantity {
	v := m.min + g.rng.Float64()*(m.max-m.min)
	return &quantity{value: strconv.FormatFloat(v, 'f', m.decimals, 64), unit: m.unit}
}

func (g *generator) narrative(container *etree.Element, text string, when time.Time) (string, string) {
	el := add(slot(container), NarrativeStatement, "classCode", "OBS", "moodCode", "EVN")
	id := g.uuid()
	g.register(NarrativeStatement, id, el)
	addID(el, id)
	addText(el, "text", text)
	add(el, "statusCode", "code", "COMPLETE")
	addValue(el, "availabilityTime", ts(when))
	addParticipant(el, g.clinician)
	return NarrativeStatement, id
}

// compound opens a CompoundStatement; callers add its components.
func (g *generator) compound(container *etree.Element, classCode string, code func(*etree.Element), when time.Time) (*etree.Element, string) {
	el := add(slot(container), CompoundStatement, "classCode", classCode, "moodCode", "EVN")
	id := g.uuid()
	g.register(CompoundStatement, id, el)
	addID(el, id)
	code(el)
	add(el, "statusCode", "code", "COMPLETE")
	addCenter(el, when)
	addValue(el, "availabilityTime", ts(when))
	return el, id
}

// allergyHeading opens the CATEGORY CompoundStatement vendors wrap an
// allergy in: Read 14L..00 "H/O: drug allergy" or SN53.00 "Allergy,
// unspecified".
func (g *generator) allergyHeading(container *etree.Element, drugAllergy bool, when time.Time) *etree.Element {
	code, display := "SN53.00", "Allergy, unspecified"
	if drugAllergy {
		code, display = "14L..00", "H/O: drug allergy"
	}
	cs, _ := g.compound(container, "CATEGORY", func(el *etree.Element) {
		add(el, "code", "code", code, "codeSystem", SystemRead2, "displayName", display)
	}, when)
	return cs
}

// allergy writes an allergy: the heading and its ObservationStatement.
func (g *generator) allergy(container *etree.Element, when time.Time) {
	drugAllergy := g.chance(0.6)
	c := pickOf(g, g.cat.otherAllergies)
	if drugAllergy {
		c = pickOf(g, g.cat.drugAllergies)
	}
	cs := g.allergyHeading(container, drugAllergy, when)
	g.observation(cs, obs{c: c, when: when, note: "Reaction: " + pickOf(g, g.cat.reactions)})
}

// bloodPressure writes a BATTERY CompoundStatement of systolic and
// diastolic readings and returns its id.
func (g *generator) bloodPressure(container *etree.Element, when time.Time) string {
	read := g.chance(0.3)
	cs, id := g.compound(container, "BATTERY", func(el *etree.Element) {
		addCode(el, "code", concept{"163020007", "O/E - blood pressure reading", "246..00"}, read)
	}, when)
	systolic := 100 + g.pick(70)
	diastolic := 60 + g.pick(35)
	g.observation(cs, obs{c: concept{"163030003", "O/E - Systolic BP reading", "2469.00"}, read: read, when: when,
		value: &quantity{strconv.Itoa(systolic), "mm[Hg]"}})
	g.observation(cs, obs{c: concept{"163031004", "O/E - Diastolic BP reading", "246A.00"}, read: read, when: when,
		value: &quantity{strconv.Itoa(diastolic), "mm[Hg]"}})
	addParticipant(cs, g.clinician)
	return id
}

// authorisation carries the ids a medication authorisation was written
// with.
type authorisation struct {
	drug        drug
	msID        string // the MedicationStatement
	authoriseID string // its ehrSupplyAuthorise, which issues refer to
	multilex    bool   // material written TPP-style
	local       *Code  // material coded only locally
}

// addMaterial writes a MedicationStatement's consumable.
func addMaterial(ms *etree.Element, a authorisation) {
	mat := add(add(add(ms, "consumable", "typeCode", "CSM"), "manufacturedProduct", "classCode", "MANU"),
		"manufacturedMaterial", "classCode", "MMAT", "determinerCode", "KIND")
	switch {
	case a.local != nil:
		add(mat, "code", "code", a.local.Code, "codeSystem", a.local.System, "displayName", a.local.DisplayName)
	case a.multilex:
		code := add(mat, "code", "code", multilexCode(a.drug.code), "codeSystem", SystemMultilex, "displayName", a.drug.display)
		add(code, "translation", "code", a.drug.code, "codeSystem", SystemSNOMED, "displayName", a.drug.display)
	default:
		addSNOMED(mat, "code", a.drug.code, a.drug.display)
	}
}

// multilexCode invents a stable eight-digit drug dictionary code for a
// SNOMED CT concept, the shape TPP writes.
func multilexCode(snomed string) string {
	h := fnv.New32a()
	h.Write([]byte(snomed))
	return fmt.Sprintf("%08d", h.Sum32()%100_000_000)
}

// addQuantity writes a supply quantity the way TPP does.
func addQuantity(parent *etree.Element, d drug) {
	q := add(parent, "quantity", "value", strconv.Itoa(d.qty), "unit", "1")
	addText(add(q, "translation", "value", strconv.Itoa(d.qty)), "originalText", d.form)
}

func addDosage(ms *etree.Element, d drug) {
	pi := add(ms, "pertinentInformation", "typeCode", "PERT")
	addText(add(pi, "pertinentMedicationDosage", "classCode", "SBADM", "moodCode", "RMD"), "text", d.dosage)
}

// authorise writes a MedicationStatement (moodCode INT) holding an
// ehrSupplyAuthorise: a repeat when repeats > 0, an acute course
// otherwise. local, when set, is the only code of the medicine.
func (g *generator) authorise(container *etree.Element, d drug, local *Code, when time.Time) authorisation {
	return g.authoriseRepeats(container, d, local, when, 0)
}

func (g *generator) authoriseRepeats(container *etree.Element, d drug, local *Code, when time.Time, repeats int) authorisation {
	a := authorisation{drug: d, msID: g.uuid(), authoriseID: g.uuid(), local: local, multilex: local == nil && g.chance(0.35)}
	ms := add(slot(container), MedicationStatement, "classCode", "SBADM", "moodCode", "INT")
	g.register(MedicationStatement, a.msID, ms)
	addID(ms, a.msID)
	add(ms, "statusCode", "code", "COMPLETE")
	until := when.AddDate(0, 0, 28)
	if repeats > 0 {
		until = when.AddDate(0, 6, 0)
	}
	period := add(ms, "effectiveTime")
	addValue(period, "low", day(when))
	addValue(period, "high", day(until))
	addValue(ms, "availabilityTime", day(when))
	addMaterial(ms, a)
	auth := add(add(ms, "component", "typeCode", "COMP"), "ehrSupplyAuthorise", "classCode", "SPLY", "moodCode", "INT")
	addID(auth, a.authoriseID)
	addSNOMED(auth, "code", "394823007", "NHS prescription")
	add(auth, "statusCode", "code", "COMPLETE")
	ap := add(auth, "effectiveTime")
	addValue(ap, "low", day(when))
	addValue(ap, "high", day(until))
	addValue(auth, "availabilityTime", day(when))
	addValue(auth, "repeatNumber", strconv.Itoa(repeats))
	addQuantity(auth, d)
	addDosage(ms, d)
	addParticipant(ms, g.clinician)
	return a
}

// issue writes a MedicationStatement (moodCode ORD) holding an
// ehrSupplyPrescribe that fulfils authorisation a.
func (g *generator) issue(container *etree.Element, a authorisation, when time.Time) string {
	id := g.uuid()
	ms := add(slot(container), MedicationStatement, "classCode", "SBADM", "moodCode", "ORD")
	g.register(MedicationStatement, id, ms)
	addID(ms, id)
	add(ms, "statusCode", "code", "COMPLETE")
	addCenter(ms, when)
	addValue(ms, "availabilityTime", day(when))
	addMaterial(ms, a)
	rx := add(add(ms, "component", "typeCode", "COMP"), "ehrSupplyPrescribe", "classCode", "SPLY", "moodCode", "RQO")
	addID(rx, g.uuid())
	addSNOMED(rx, "code", "394823007", "NHS prescription")
	add(rx, "statusCode", "code", "COMPLETE")
	addValue(rx, "availabilityTime", day(when))
	addQuantity(rx, a.drug)
	addID(add(add(rx, "inFulfillmentOf", "typeCode", "FLFS"), "priorMedicationRef", "classCode", "SBADM", "moodCode", "INT"), a.authoriseID)
	addDosage(ms, a.drug)
	addParticipant(ms, g.clinician)
	return id
}

// plan writes a PlanStatement (moodCode INT) for c, or for local when set.
func (g *generator) plan(container *etree.Element, c concept, local *Code, text string, when time.Time) (string, string) {
	el := add(slot(container), PlanStatement, "classCode", "OBS", "moodCode", "INT")
	id := g.uuid()
	g.register(PlanStatement, id, el)
	addID(el, id)
	if local != nil {
		add(el, "code", "code", local.Code, "codeSystem", local.System, "displayName", local.DisplayName)
	} else {
		addCode(el, "code", c, false)
	}
	addText(el, "text", text)
	add(el, "statusCode", "code", "ACTIVE")
	addCenter(el, when.AddDate(0, 0, 7+g.pick(80)))
	addValue(el, "availabilityTime", ts(when))
	addParticipant(el, g.clinician)
	return PlanStatement, id
}

// request writes a RequestStatement (moodCode RQO): a referral to one of
// the directory's hospitals, coded c, or local when set.
func (g *generator) request(container *etree.Element, c concept, local *Code, text string, when time.Time) (string, string) {
	el := add(slot(container), RequestStatement, "classCode", "OBS", "moodCode", "RQO")
	id := g.uuid()
	g.register(RequestStatement, id, el)
	addID(el, id)
	if local != nil {
		add(el, "code", "code", local.Code, "codeSystem", local.System, "displayName", local.DisplayName)
	} else {
		addCode(el, "code", c, false)
	}
	addText(el, "text", text)
	add(el, "statusCode", "code", "COMPLETE")
	addCenter(el, when)
	addValue(el, "availabilityTime", ts(when))
	if local == nil {
		if g.chance(0.3) {
			addSNOMED(el, "priorityCode", "394849002", "High priority")
		} else {
			addSNOMED(el, "priorityCode", "394848005", "Normal priority")
		}
	}
	addAgentRef(add(el, "responsibleParty", "typeCode", "RESP"), pickOf(g, g.hospitals).agentID)
	addParticipant(el, g.clinician)
	return RequestStatement, id
}

// ref is a statement a problem links to.
type ref struct {
	classCode, moodCode, id string
}

// problem writes a LinkSet naming the diagnosis observation and linking
// the related statements.
func (g *generator) problem(container *etree.Element, diagnosis string, related []ref, when time.Time) {
	el := add(slot(container), LinkSet, "classCode", "OBS", "moodCode", "EVN")
	id := g.uuid()
	g.register(LinkSet, id, el)
	addID(el, id)
	active := g.chance(0.75)
	status := concept{"394774009", "Active problem", ""}
	if !active {
		status = concept{"394775005", "Inactive problem", ""}
	}
	code := addCode(el, "code", status, false)
	significance := add(code, "qualifier", "inverted", "false")
	if g.chance(0.5) {
		addSNOMED(significance, "name", "386134007", "Significant")
	} else {
		addSNOMED(significance, "name", "394847000", "Unspecified significance")
	}
	add(el, "statusCode", "code", "COMPLETE")
	period := add(el, "effectiveTime")
	addValue(period, "low", day(when))
	if !active {
		high := when.AddDate(0, 1+g.pick(12), 0)
		if high.After(g.end) {
			high = g.end
		}
		addValue(period, "high", day(high))
	}
	addValue(el, "availabilityTime", ts(when))
	for _, r := range related {
		addID(add(add(el, "component", "typeCode", "COMP"), "statementRef", "classCode", r.classCode, "moodCode", r.moodCode), r.id)
	}
	named := add(add(el, "conditionNamed", "typeCode", "NAME", "inversionInd", "true"), "namedStatementRef", "classCode", "OBS", "moodCode", "EVN")
	addID(named, diagnosis)
	addParticipant(el, g.clinician)
}
