package ehr

import (
	"fmt"

	"github.com/beevik/etree"
)

// nopatCycle is the order WithNOPAT spreads its marks over the classes.
func nopatCycle() []string {
	return []string{ObservationStatement, NarrativeStatement, MedicationStatement, PlanStatement, RequestStatement,
		CompoundStatement, LinkSet, EhrComposition, ExternalDocument, RegistrationStatement}
}

// confidentialityCode builds a NOPAT mark.
func confidentialityCode() *etree.Element {
	cc := etree.NewElement("confidentialityCode")
	cc.CreateAttr("code", NOPAT)
	cc.CreateAttr("codeSystem", SystemConfidentiality)
	cc.CreateAttr("displayName", "no disclosure to patient, family or caregivers without attending provider's authorization")
	return cc
}

// markNOPAT marks WithNOPAT entries, cycling through the classes and
// drawing an entry of each at random.
func (g *generator) markNOPAT() error {
	n := g.s.nopat
	if n == 0 {
		return nil
	}
	byClass := make(map[string][]*mark)
	classes := nopatCycle()
	markable := 0
	for _, m := range g.marks {
		byClass[m.typ] = append(byClass[m.typ], m)
	}
	for _, c := range classes {
		markable += len(byClass[c])
	}
	if n > markable {
		return fmt.Errorf("%w: %d NOPAT entries asked for, but the extract has only %d entries that can carry one", ErrInvalidOption, n, markable)
	}
	for marked, c := 0, 0; marked < n; c++ {
		class := classes[c%len(classes)]
		pool := byClass[class]
		if len(pool) == 0 {
			continue
		}
		i := g.pick(len(pool))
		pool[i].nopat = true
		pool[i] = pool[len(pool)-1]
		byClass[class] = pool[:len(pool)-1]
		marked++
	}
	for _, m := range g.marks {
		if m.nopat {
			insertConfidentiality(m)
			g.sum.NOPAT = append(g.sum.NOPAT, Entry{Type: m.typ, ID: m.id})
		}
	}
	return nil
}

// insertConfidentiality puts a NOPAT mark in its RCMR_MT030101UK05
// position: after text and effectiveTime in an ExternalDocument; after
// availabilityTime and priorityCode in a composition or statement.
func insertConfidentiality(m *mark) {
	after := [2]string{"availabilityTime", "priorityCode"}
	if m.typ == ExternalDocument {
		after = [2]string{"text", "effectiveTime"}
	}
	at := 0
	for i, t := range m.el.Child {
		if e, ok := t.(*etree.Element); ok && (e.Tag == after[0] || e.Tag == after[1]) {
			at = i + 1
		}
	}
	m.el.InsertChildAt(at, confidentialityCode())
}
