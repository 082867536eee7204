package ehr

import (
	"time"

	"github.com/beevik/etree"
)

// encounterKind is the sort of consultation an encounter records.
type encounterKind int

const (
	kindAcute encounterKind = iota
	kindReview
	kindNewProblem
	kindAllergy
	kindReferral
	kindRepeats
	kindLifestyle
)

// kindWeights are the relative frequencies of the kinds, in kind order.
func kindWeights() []int { return []int{30, 18, 10, 5, 10, 17, 10} }

// kind chooses encounter i's kind: the first encounters take each kind
// in turn, so that any extract of seven or more encounters holds every
// statement class; later ones are drawn by weight.
func (g *generator) kind(i int) encounterKind {
	weights := kindWeights()
	if i < len(weights) {
		return encounterKind(i)
	}
	total := 0
	for _, w := range weights {
		total += w
	}
	r := g.pick(total)
	for k, w := range weights {
		if r < w {
			return encounterKind(k)
		}
		r -= w
	}
	return kindAcute
}

// encounters appends the clinical encounters: WithEncounters of them, or
// as many as reach WithTargetSize.
func (g *generator) encounters(extract, folder *etree.Element) {
	if g.s.targetBytes > 0 {
		g.fill(extract, folder)
		return
	}
	n := g.s.encounters
	if n == 0 {
		n = defaultEncounters
	}
	for i := 0; i < n; i++ {
		g.encounter(folder, i, g.encounterTime(i, n))
	}
}

// encounterTime spreads encounter i of about n over the record, in
// surgery hours.
func (g *generator) encounterTime(i, n int) time.Time {
	from := g.start.AddDate(0, 0, 30)
	to := g.end.AddDate(0, 0, -1)
	if !to.After(from) {
		from = g.start
		to = g.end
	}
	step := to.Sub(from) / time.Duration(n)
	t := from.Add(step * time.Duration(i))
	if step > 0 {
		t = t.Add(time.Duration(g.rng.Int64N(int64(step))))
	}
	t = time.Date(t.Year(), t.Month(), t.Day(), 8, 0, 0, 0, t.Location()).Add(time.Duration(g.pick(600)) * time.Minute)
	if !t.Before(g.end) {
		t = g.end.Add(-time.Duration(1+g.pick(48)) * time.Hour)
	}
	return t
}

// encounter appends encounter i to folder and returns its component
// element.
func (g *generator) encounter(folder *etree.Element, i int, when time.Time) *etree.Element {
	consultation := g.cat.encounterTypes[0]
	if g.chance(0.2) {
		consultation = pickOf(g, g.cat.encounterTypes)
	}
	var comp *etree.Element
	switch g.kind(i) {
	case kindAcute:
		comp = g.composition(folder, consultation, when)
		g.narrative(comp, "History: "+pickOf(g, g.cat.histories), when)
		g.observation(comp, obs{c: pickOf(g, g.cat.symptoms), read: g.chance(0.3), when: when,
			note: "Examination: " + pickOf(g, g.cat.examinations)})
		if g.chance(0.5) {
			m := pickOf(g, g.cat.measures[3:7])
			g.observation(comp, obs{c: m.concept, read: g.chance(0.3), when: when, value: g.measurement(m)})
		}
		if g.chance(0.5) {
			a := g.authorise(comp, pickOf(g, g.cat.acuteDrugs), nil, when)
			g.issue(comp, a, when)
		}
		if g.chance(0.3) {
			g.plan(comp, pickOf(g, g.cat.plans[:2]), nil, "Review if not settling", when)
		}
		if g.chance(0.5) {
			g.narrative(comp, pickOf(g, g.cat.advice), when)
		}
	case kindReview:
		comp = g.composition(folder, consultation, when)
		g.narrative(comp, pickOf(g, g.cat.reviews), when)
		g.bloodPressure(comp, when)
		if g.chance(0.5) {
			m := g.cat.measures[0]
			g.observation(comp, obs{c: m.concept, read: g.chance(0.3), when: when, value: g.measurement(m)})
		}
		g.repeatIssues(comp, when, 1+g.pick(2))
		g.plan(comp, g.cat.plans[2], nil, "Bloods before next review: U&E, lipids, HbA1c", when)
	case kindNewProblem:
		comp = g.composition(folder, consultation, when)
		_, note := g.narrative(comp, "History: "+pickOf(g, g.cat.histories)+" "+pickOf(g, g.cat.examinations), when)
		_, diagnosis := g.observation(comp, obs{c: pickOf(g, g.cat.problems), read: g.chance(0.3), when: when})
		related := []ref{{"OBS", "EVN", note}}
		if g.chance(0.5) {
			related = append(related, ref{"BATTERY", "EVN", g.bloodPressure(comp, when)})
		}
		if g.chance(0.7) {
			a := g.authoriseRepeats(comp, pickOf(g, g.cat.drugs), nil, when, 6)
			g.issue(comp, a, when)
			g.keepRepeat(a)
			related = append(related, ref{"SBADM", "INT", a.msID})
		}
		g.problem(comp, diagnosis, related, when)
	case kindAllergy:
		comp = g.composition(folder, consultation, when)
		g.allergy(comp, when)
		if g.chance(0.5) {
			g.narrative(comp, "Allergy status reviewed and recorded. Patient advised to inform pharmacist.", when)
		}
	case kindReferral:
		comp = g.composition(folder, consultation, when)
		history := pickOf(g, g.cat.histories)
		g.narrative(comp, "History: "+history, when)
		specialty := pickOf(g, g.cat.specialties)
		g.request(comp, pickOf(g, g.cat.referrals), nil, "Referral to "+specialty+". "+history, when)
		if g.chance(0.3) {
			g.plan(comp, g.cat.plans[g.pick(len(g.cat.plans))], nil, "Awaiting "+specialty+" opinion", when)
		}
	case kindRepeats:
		comp = g.composition(folder, concept{"37351000000107", "Administration Note", ""}, when)
		g.repeatIssues(comp, when, 1+g.pick(3))
	default: // kindLifestyle
		comp = g.composition(folder, consultation, when)
		g.observation(comp, obs{c: pickOf(g, g.cat.smoking), read: g.chance(0.3), when: when})
		for _, m := range []measure{g.cat.measures[7], g.cat.measures[1], g.cat.measures[0], g.cat.measures[2]} {
			g.observation(comp, obs{c: m.concept, read: g.chance(0.3), when: when, value: g.measurement(m)})
		}
	}
	return comp.Parent()
}

// maxRepeats bounds the repeat medication a patient is on at once.
const maxRepeats = 4

func (g *generator) keepRepeat(a authorisation) {
	g.repeats = append(g.repeats, a)
	if len(g.repeats) > maxRepeats {
		g.repeats = g.repeats[1:]
	}
}

// repeatIssues issues up to n of the patient's repeat medicines, starting
// one first if there are none.
func (g *generator) repeatIssues(comp *etree.Element, when time.Time, n int) {
	if len(g.repeats) == 0 {
		g.keepRepeat(g.authoriseRepeats(comp, pickOf(g, g.cat.drugs), nil, when, 6))
	}
	for i := 0; i < n && i < len(g.repeats); i++ {
		g.issue(comp, g.repeats[(i+g.pick(len(g.repeats)))%len(g.repeats)], when)
	}
}
