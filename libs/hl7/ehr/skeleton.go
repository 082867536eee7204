package ehr

import (
	"errors"
	"fmt"
	"time"

	"github.com/beevik/etree"

	"github.com/nhsengland/gp2gp/libs/xmldoc"
)

// Skeleton document coding (protocol §3.2): the compressed original extract
// is an "EDI messages" document.
const (
	SkeletonCode         = "24891000000101"
	SkeletonDisplay      = "EDI messages"
	SkeletonOriginalText = "Original RCMR_IN03 EhrExtract message"
)

// SkeletonDocument names the document a skeleton extract stands in for.
type SkeletonDocument struct {
	// ID is the document id (referredToExternalDocument/id/@root, and the
	// manifest's "_" + ID).
	ID string
	// Filename is how the reference names it (file://localhost/<name>).
	Filename string
	// StatementID and CompositionID identify the skeleton's
	// NarrativeStatement and ehrComposition; upper-case GUIDs.
	StatementID, CompositionID string
	// Time is the skeleton composition's time.
	Time time.Time
}

// Skeleton returns a skeleton of extract, an EhrExtract too large to
// travel whole: a copy that keeps everything but the folder's compositions
// (header, author, destination, the folder with its agent directory,
// inFulfillmentOf, limitation) and holds one composition with one
// NarrativeStatement referring to doc, the compressed original. extract is
// not changed. The composition's author is the folder's first agent.
func Skeleton(extract *etree.Element, doc SkeletonDocument) (*etree.Element, error) {
	if extract == nil || extract.Tag != "EhrExtract" {
		return nil, errors.New("ehr: skeleton: not an EhrExtract")
	}
	switch {
	case !validUID(doc.ID), !validUID(doc.StatementID), !validUID(doc.CompositionID):
		return nil, fmt.Errorf("ehr: skeleton: document, statement and composition ids must be GUIDs (%q, %q, %q)",
			doc.ID, doc.StatementID, doc.CompositionID)
	case !validFilename(doc.Filename):
		return nil, fmt.Errorf("ehr: skeleton: filename %q", doc.Filename)
	case doc.Time.IsZero():
		return nil, errors.New("ehr: skeleton: no time")
	}
	// Copy the shell without the folder's compositions: copying the
	// whole extract first would double a record that is large by
	// definition.
	skel := shallowCopy(extract)
	var folder *etree.Element
	for _, ch := range extract.ChildElements() {
		if ch.Tag != "component" || xmldoc.Child(ch, "ehrFolder") == nil {
			skel.AddChild(ch.Copy())
			continue
		}
		comp := shallowCopy(ch)
		skel.AddChild(comp)
		orig := xmldoc.Child(ch, "ehrFolder")
		folder = shallowCopy(orig)
		comp.AddChild(folder)
		for _, fc := range orig.ChildElements() {
			if fc.Tag == "component" && xmldoc.Child(fc, EhrComposition) != nil {
				continue
			}
			folder.AddChild(fc.Copy())
		}
	}
	if folder == nil {
		return nil, errors.New("ehr: skeleton: the extract has no ehrFolder")
	}
	agent := xmldoc.Attr(xmldoc.Path(folder, "responsibleParty", "agentDirectory", "part", "Agent", "id"), "root")
	if agent == "" {
		return nil, errors.New("ehr: skeleton: the folder's agent directory names no agent")
	}

	space := folder.Space
	el := func(parent *etree.Element, tag string, kv ...string) *etree.Element {
		e := add(parent, tag, kv...)
		e.Space = space
		return e
	}
	when := ts(doc.Time.UTC())
	comp := el(el(folder, "component", "typeCode", "COMP"), EhrComposition, "classCode", "COMPOSITION", "moodCode", "EVN")
	el(comp, "id", "root", doc.CompositionID)
	el(comp, "code", "code", "24591000000103", "codeSystem", SystemSNOMED, "displayName", "Other report")
	el(comp, "statusCode", "code", "COMPLETE")
	el(el(comp, "effectiveTime"), "center", "value", when)
	el(comp, "availabilityTime", "value", when)
	author := el(comp, "author", "typeCode", "AUT", "contextControlCode", "OP")
	el(author, "time", "value", when)
	el(el(author, "agentRef", "classCode", "AGNT"), "id", "root", agent)
	el(el(comp, "Participant2", "typeCode", "PRF", "contextControlCode", "OP"), "agentRef", "classCode", "AGNT").
		CreateElement("id").CreateAttr("root", agent)
	ns := el(el(comp, "component", "typeCode", "COMP"), NarrativeStatement, "classCode", "OBS", "moodCode", "EVN")
	el(ns, "id", "root", doc.StatementID)
	el(ns, "text").SetText("The original EHR Extract is too large to send whole; it travels compressed as " + doc.Filename + ".")
	el(ns, "statusCode", "code", "COMPLETE")
	el(ns, "availabilityTime", "value", when)
	ref := el(el(ns, "reference", "typeCode", "REFR"), ExternalDocument, "classCode", "DOC", "moodCode", "EVN")
	el(ref, "id", "root", doc.ID)
	el(el(ref, "code", "code", SkeletonCode, "codeSystem", SystemSNOMED, "displayName", SkeletonDisplay), "originalText").
		SetText(SkeletonOriginalText)
	el(el(ref, "text", "mediaType", "text/xml"), "reference", "value", EncodeFilename(doc.Filename))
	fixSpace(comp, space)
	return skel, nil
}

// shallowCopy copies el's name and attributes, not its children.
func shallowCopy(el *etree.Element) *etree.Element {
	c := etree.NewElement(el.Tag)
	c.Space = el.Space
	c.Attr = append(c.Attr, el.Attr...)
	return c
}

// fixSpace gives every element under el without a prefix the prefix
// space, so a skeleton of a prefixed extract stays in one namespace.
func fixSpace(el *etree.Element, space string) {
	for _, ch := range el.ChildElements() {
		if ch.Space == "" {
			ch.Space = space
		}
		fixSpace(ch, space)
	}
}
