package ehr

import (
	"fmt"
	"strconv"

	"github.com/beevik/etree"
)

// addOrgSDS writes an SDS organisation (AgentOrgSDS) by ODS code.
func addOrgSDS(parent *etree.Element, ods string) {
	o := add(add(parent, "AgentOrgSDS", "classCode", "AGNT"), "agentOrganizationSDS", "classCode", "ORG", "determinerCode", "INSTANCE")
	add(o, "id", "root", rootSDSOrg, "extension", ods)
}

// directory fills the agent directory: the practice, its clinicians and
// the hospitals referrals go to.
func (g *generator) directory(dir *etree.Element) {
	town := pickOf(g, g.cat.towns)
	g.practice = org{agentID: g.uuid(), ods: g.sendingODS}
	switch g.pick(3) {
	case 0:
		g.practice.name = town + " Medical Practice"
	case 1:
		g.practice.name = pickOf(g, g.cat.streets) + " Surgery"
	default:
		g.practice.name = "The " + town + " Health Centre"
	}
	addr := []string{strconv.Itoa(1+g.pick(200)) + " " + pickOf(g, g.cat.streets), town, "West Yorkshire"}
	postcode := g.postcode()
	phone := g.phone()

	agent := g.agent(dir, g.practice.agentID, "394745000", "General practice (organisation)")
	g.organisation(add(agent, "agentOrganization", "classCode", "ORG", "determinerCode", "INSTANCE"), g.practice, phone, addr, postcode)

	roles := []concept{
		{"309394004", "General Practitioner Principal", ""},
		{"309394004", "General Practitioner Principal", ""},
		{"224535009", "Registered nurse", ""},
		{"158965000", "Medical practitioner", ""},
	}
	n := 2 + g.pick(3)
	for i := 0; i < n; i++ {
		role := roles[i%len(roles)]
		id := g.uuid()
		g.clinicians = append(g.clinicians, id)
		agent := add(add(dir, "part", "typeCode", "PART"), "Agent", "classCode", "AGNT")
		addID(agent, id)
		if role.code == "309394004" {
			add(agent, "id", "root", rootGMP, "extension", fmt.Sprintf("G%07d", g.pick(10_000_000)))
		}
		addSNOMED(agent, "code", role.code, role.display)
		name := add(add(agent, "agentPerson", "classCode", "PSN", "determinerCode", "INSTANCE"), "name", "use", "L")
		prefix := "Dr"
		if role.code == "224535009" {
			prefix = pickOf(g, []string{"Mrs", "Ms", "Mr"})
		}
		addText(name, "prefix", prefix)
		addText(name, "given", pickOf(g, g.cat.givenNames))
		addText(name, "family", pickOf(g, g.cat.familyNames))
		represented := add(agent, "representedOrganization", "classCode", "ORG", "determinerCode", "INSTANCE")
		add(represented, "id", "root", rootODS, "extension", g.practice.ods)
		addText(represented, "name", g.practice.name)
	}

	for i, n := 0, 1+g.pick(2); i < n; i++ {
		town := pickOf(g, g.cat.towns)
		h := org{agentID: g.uuid(), ods: fmt.Sprintf("R%c%c", 'A'+rune(g.pick(26)), '0'+rune(g.pick(10))), name: town + " General Hospital"}
		g.hospitals = append(g.hospitals, h)
		agent := g.agent(dir, h.agentID, "1101121000000108", "Healthcare related organisation")
		g.organisation(add(agent, "agentOrganization", "classCode", "ORG", "determinerCode", "INSTANCE"),
			h, g.phone(), []string{"Hospital Lane", town}, g.postcode())
	}
}

// agent opens a directory part with an Agent of the given id and role.
func (g *generator) agent(dir *etree.Element, id, code, display string) *etree.Element {
	agent := add(add(dir, "part", "typeCode", "PART"), "Agent", "classCode", "AGNT")
	addID(agent, id)
	addSNOMED(agent, "code", code, display)
	return agent
}

func (g *generator) organisation(o *etree.Element, what org, phone string, lines []string, postcode string) {
	add(o, "id", "root", rootODS, "extension", what.ods)
	addText(o, "name", what.name)
	add(o, "telecom", "use", "WP", "value", phone)
	a := add(o, "addr", "use", "WP")
	for _, l := range lines {
		addText(a, "streetAddressLine", l)
	}
	addText(a, "postalCode", postcode)
}
