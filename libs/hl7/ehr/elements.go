package ehr

import (
	"time"

	"github.com/beevik/etree"
)

// Element helpers: small builders for the HL7 V3 elements the generator
// writes again and again.

// add appends a child element with attributes given as key, value pairs.
func add(parent *etree.Element, tag string, kv ...string) *etree.Element {
	el := parent.CreateElement(tag)
	for i := 0; i+1 < len(kv); i += 2 {
		el.CreateAttr(kv[i], kv[i+1])
	}
	return el
}

func addText(parent *etree.Element, tag, text string, kv ...string) *etree.Element {
	el := add(parent, tag, kv...)
	el.SetText(text)
	return el
}

func addID(parent *etree.Element, root string) {
	add(parent, "id", "root", root)
}

func addValue(parent *etree.Element, tag, value string) {
	add(parent, tag, "value", value)
}

// addCode writes a code element: SNOMED CT, or — when read is true and the
// concept has one — the Read v2 code with a SNOMED CT translation.
func addCode(parent *etree.Element, tag string, c concept, read bool) *etree.Element {
	if read && c.read != "" {
		el := add(parent, tag, "code", c.read, "codeSystem", SystemRead2, "displayName", c.display)
		add(el, "translation", "code", c.code, "codeSystem", SystemSNOMED, "displayName", c.display)
		return el
	}
	return add(parent, tag, "code", c.code, "codeSystem", SystemSNOMED, "displayName", c.display)
}

func addSNOMED(parent *etree.Element, tag, code, display string) *etree.Element {
	return add(parent, tag, "code", code, "codeSystem", SystemSNOMED, "displayName", display)
}

func addCenter(parent *etree.Element, t time.Time) {
	addValue(add(parent, "effectiveTime"), "center", ts(t))
}

func addAgentRef(parent *etree.Element, agentID string) {
	addID(add(parent, "agentRef", "classCode", "AGNT"), agentID)
}

// addParticipant writes a statement's performer.
func addParticipant(parent *etree.Element, agentID string) {
	addAgentRef(add(parent, "Participant", "typeCode", "PRF", "contextControlCode", "OP"), agentID)
}

// slot opens a component of container (a composition or a
// CompoundStatement) for one statement.
func slot(container *etree.Element) *etree.Element {
	c := add(container, "component", "typeCode", "COMP")
	if container.Tag == CompoundStatement {
		c.CreateAttr("contextConductionInd", "true")
	}
	return c
}
