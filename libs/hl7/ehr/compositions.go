package ehr

import (
	"strings"
	"time"

	"github.com/beevik/etree"
)

// composition appends a component holding an ehrComposition to folder and
// returns the composition, ready for statements.
func (g *generator) composition(folder *etree.Element, code concept, when time.Time) *etree.Element {
	comp := add(add(folder, "component", "typeCode", "COMP"), EhrComposition, "classCode", "COMPOSITION", "moodCode", "EVN")
	id := g.uuid()
	g.register(EhrComposition, id, comp)
	addID(comp, id)
	addCode(comp, "code", code, false)
	add(comp, "statusCode", "code", "COMPLETE")
	addCenter(comp, when)
	addValue(comp, "availabilityTime", ts(when))
	clinician := pickOf(g, g.clinicians)
	g.clinician = clinician
	author := add(comp, "author", "typeCode", "AUT", "contextControlCode", "OP")
	addValue(author, "time", ts(when))
	addAgentRef(author, clinician)
	place := add(add(add(comp, "location", "typeCode", "LOC"), "locatedEntity", "classCode", "LOCE"),
		"locatedPlace", "classCode", "PLC", "determinerCode", "INSTANCE")
	addText(place, "name", g.practice.name)
	addAgentRef(add(comp, "Participant2", "typeCode", "PRF", "contextControlCode", "OP"), clinician)
	return comp
}

// registration writes the composition recording the patient's
// registration at the sending practice.
func (g *generator) registration(folder *etree.Element) {
	comp := g.composition(folder, concept{"37351000000107", "Administration Note", ""}, g.start)
	reg := add(slot(comp), RegistrationStatement, "classCode", "OBS", "moodCode", "EVN")
	id := g.uuid()
	g.register(RegistrationStatement, id, reg)
	addID(reg, id)
	code := addSNOMED(reg, "code", "25891000000102", "GMS - Provisional")
	addText(code, "originalText", "Applied")
	add(reg, "statusCode", "code", "COMPLETE")
	addValue(add(reg, "effectiveTime"), "low", day(g.start))
	addValue(reg, "availabilityTime", day(g.start))
	addAgentRef(add(reg, "responsibleParty", "typeCode", "RESP"), g.clinicians[0])
	g.narrative(comp, "** Care started at "+g.practice.name+" (Applied) **", g.start)
}

// localCoded writes the WithLocalCodes entries.
func (g *generator) localCoded(folder *etree.Element) {
	if g.s.local == 0 {
		return
	}
	when := g.between(g.start, g.end)
	comp := g.composition(folder, concept{"196401000000100", "Non-consultation data", ""}, when)
	cycle := localCycle()
	for i := 0; i < g.s.local; i++ {
		kind := cycle[i%len(cycle)]
		entries := g.cat.local[kind]
		e := entries[(i/len(cycle))%len(entries)]
		code := Code{Code: e.code, System: SystemLocal, DisplayName: e.display}
		var typ, id string
		switch kind {
		case DegradeDrugAllergy, DegradeNonDrugAllergy:
			cs := g.allergyHeading(comp, kind == DegradeDrugAllergy, when)
			typ, id = g.observation(cs, obs{local: &code, when: when, note: "Reaction: " + pickOf(g, g.cat.reactions)})
		case DegradeMedication:
			d := drug{concept: concept{display: e.display}, dosage: "apply as directed", form: "pack", qty: 1}
			a := g.authorise(comp, d, &code, when)
			typ, id = MedicationStatement, a.msID
		case DegradePlan:
			typ, id = g.plan(comp, concept{}, &code, "Recall in 12 months", when)
		case DegradeReferral:
			typ, id = g.request(comp, concept{}, &code, "Referred: "+e.display, when)
		case DegradeRequest:
			typ, id = g.request(comp, concept{}, &code, e.display, when)
		default:
			typ, id = g.observation(comp, obs{local: &code, when: when})
		}
		g.sum.Degrades = append(g.sum.Degrades, DegradeCandidate{Entry: Entry{Type: typ, ID: id}, Code: code, Degrade: kind})
	}
}

// documentKinds are the descriptions generated document references carry.
func documentKinds() []string {
	return []string{"Discharge summary", "Outpatient clinic letter", "Scanned correspondence", "Radiology report", "Pathology report", "Photograph"}
}

// attachments writes one composition per attachment, each with a
// NarrativeStatement referring to the document.
func (g *generator) attachments(folder *etree.Element) {
	for _, a := range g.s.attachments {
		when := g.between(g.start, g.end)
		comp := g.composition(folder, concept{"24591000000103", "Other report", ""}, when)
		what := pickOf(g, documentKinds())
		filename, mediaType := a.Filename, a.ContentType
		text := what + " (" + when.Format("02-Jan-2006") + ")"
		if a.Absent {
			filename, mediaType = AbsentFilename(a.ID), "text/plain"
			text = what + ": the original document " + a.Filename + " could not be included; a placeholder was sent in its place."
		}
		code := documentCode(mediaType)
		ns := add(slot(comp), NarrativeStatement, "classCode", "OBS", "moodCode", "EVN")
		nsID := g.uuid()
		g.register(NarrativeStatement, nsID, ns)
		addID(ns, nsID)
		addText(ns, "text", text)
		add(ns, "statusCode", "code", "COMPLETE")
		addValue(ns, "availabilityTime", ts(when))
		doc := add(add(ns, "reference", "typeCode", "REFR"), ExternalDocument, "classCode", "DOC", "moodCode", "EVN")
		g.register(ExternalDocument, a.ID, doc)
		addID(doc, a.ID)
		addText(addSNOMED(doc, "code", code.Code, code.DisplayName), "originalText", what)
		reference := EncodeFilename(filename)
		add(add(doc, "text", "mediaType", mediaType), "reference", "value", reference)
		g.sum.Documents = append(g.sum.Documents, Document{
			ID: a.ID, StatementID: nsID, Reference: reference, Filename: filename,
			MediaType: mediaType, Code: code, Absent: a.Absent,
		})
	}
}

// documentCode is the document type code for a media type.
func documentCode(mediaType string) Code {
	switch {
	case strings.HasPrefix(mediaType, "image/"):
		return Code{"25831000000103", SystemSNOMED, "Image (document)"}
	case mediaType == "text/plain", mediaType == "application/pdf", mediaType == "application/msword",
		mediaType == "text/rtf", mediaType == "text/html":
		return Code{"25821000000100", SystemSNOMED, "Original text document"}
	default:
		return Code{"37251000000104", SystemSNOMED, "Other digital signal"}
	}
}

// between draws a time in [from, to).
func (g *generator) between(from, to time.Time) time.Time {
	d := to.Sub(from)
	if d <= time.Minute {
		return from
	}
	return from.Add(time.Duration(g.rng.Int64N(int64(d)))).Truncate(time.Minute)
}
