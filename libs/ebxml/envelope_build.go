package ebxml

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/beevik/etree"
)

// timestampLayout is how Build writes eb:Timestamp and eb:TimeToLive: UTC,
// whole seconds, as TPP, Vision and the Spine harness do.
const timestampLayout = "2006-01-02T15:04:05Z"

// Validate reports the first reason Build would refuse e, as an *Error
// with Part PartEnvelope wrapping ErrInvalid.
func (e *Envelope) Validate() error {
	tokens := []struct{ name, value string }{
		{"From party id", e.From.ID},
		{"To party id", e.To.ID},
		{"CPAId", e.CPAID},
		{"ConversationId", e.ConversationID},
		{"Action", e.Action},
		{"MessageId", e.MessageID},
	}
	for _, f := range tokens {
		if err := checkToken(f.value); err != nil {
			return newError(PartEnvelope, ErrInvalid, nil, "%s %q: %s", f.name, f.value, err)
		}
	}
	optional := []struct{ name, value string }{
		{"From party type", e.From.Type},
		{"To party type", e.To.Type},
		{"Service", e.Service},
		{"RefToMessageId", e.RefToMessageID},
	}
	for _, f := range optional {
		if f.value == "" {
			continue
		}
		if err := checkToken(f.value); err != nil {
			return newError(PartEnvelope, ErrInvalid, nil, "%s %q: %s", f.name, f.value, err)
		}
	}
	if e.Timestamp.IsZero() {
		return newError(PartEnvelope, ErrInvalid, nil, "no Timestamp")
	}
	if y := e.Timestamp.UTC().Year(); y < 1 || y > 9999 {
		return newError(PartEnvelope, ErrInvalid, nil, "Timestamp year %d out of range", y)
	}
	if y := e.TimeToLive.UTC().Year(); !e.TimeToLive.IsZero() && (y < 1 || y > 9999) {
		return newError(PartEnvelope, ErrInvalid, nil, "TimeToLive year %d out of range", y)
	}
	payloads := 0
	for i, r := range e.Manifest {
		if err := r.validate(); err != nil {
			return newError(PartEnvelope, ErrInvalid, nil, "manifest reference %d: %s", i, err)
		}
		if r.Payload {
			payloads++
		}
	}
	if payloads > 1 {
		return newError(PartEnvelope, ErrInvalid, nil, "manifest has %d HL7 payload references, at most one is allowed", payloads)
	}
	return nil
}

func (r Reference) validate() error {
	if !r.IsCID() && !r.IsMID() {
		return fmt.Errorf("href %q is neither cid: nor mid:", r.Href)
	}
	if r.Href != strings.TrimSpace(r.Href) {
		return fmt.Errorf("href %q has surrounding space", r.Href)
	}
	if err := checkToken(r.Target()); err != nil {
		return fmt.Errorf("href %q: %s", r.Href, err)
	}
	if strings.ContainsAny(r.Target(), "<>") {
		return fmt.Errorf("href %q has angle brackets", r.Href)
	}
	if r.Payload && !r.IsCID() {
		return fmt.Errorf("HL7 payload reference %q is not cid:", r.Href)
	}
	if r.ID != "" && !isNCName(r.ID) {
		return fmt.Errorf("eb:id %q is not an XML NCName (prefix a document id with \"_\")", r.ID)
	}
	if err := checkText(r.Description, true); err != nil {
		return fmt.Errorf("description: %s", err)
	}
	if r.Description != strings.TrimSpace(r.Description) {
		return fmt.Errorf("description %q has surrounding space", r.Description)
	}
	for _, v := range []string{r.SchemaLocation, r.SchemaVersion} {
		if err := checkText(v, false); err != nil {
			return fmt.Errorf("schema: %s", err)
		}
	}
	return nil
}

// Build writes e as a SOAP 1.1 envelope carrying an ebXML 2.0
// MessageHeader and Manifest, in the form the NHS MHS adaptor and the GP
// system vendors emit: SOAP:mustUnderstand="1" eb:version="2.0",
// eb:PartyId with eb:type, an empty eb:DuplicateElimination, eb:AckRequested
// for the next MSH, xlink:href references with eb:Description and an
// hl7ebxml:Payload marker on the HL7 payload reference. It refuses an
// envelope that Validate refuses. Ids are written upper-case, timestamps
// in UTC to the second; an empty Service or party type gets the GP2GP
// value.
func (e *Envelope) Build() ([]byte, error) {
	if err := e.Validate(); err != nil {
		return nil, err
	}
	doc := etree.NewDocument()
	doc.WriteSettings.CanonicalText = true // Filename="x", not Filename=&quot;x&quot;
	doc.CreateProcInst("xml", `version="1.0" encoding="UTF-8"`)
	env := doc.CreateElement("SOAP:Envelope")
	env.CreateAttr("xmlns:SOAP", NamespaceSOAP)
	env.CreateAttr("xmlns:eb", NamespaceEB)
	env.CreateAttr("xmlns:hl7ebxml", NamespaceHL7ebXML)
	env.CreateAttr("xmlns:xlink", NamespaceXLink)

	header := env.CreateElement("SOAP:Header")
	mh := header.CreateElement("eb:MessageHeader")
	mh.CreateAttr("SOAP:mustUnderstand", "1")
	mh.CreateAttr("eb:version", "2.0")
	writeParty(mh.CreateElement("eb:From"), e.From)
	writeParty(mh.CreateElement("eb:To"), e.To)
	mh.CreateElement("eb:CPAId").SetText(e.CPAID)
	mh.CreateElement("eb:ConversationId").SetText(normID(e.ConversationID))
	mh.CreateElement("eb:Service").SetText(orDefault(e.Service, ServiceGP2GP))
	mh.CreateElement("eb:Action").SetText(e.Action)
	md := mh.CreateElement("eb:MessageData")
	md.CreateElement("eb:MessageId").SetText(normID(e.MessageID))
	md.CreateElement("eb:Timestamp").SetText(e.Timestamp.UTC().Format(timestampLayout))
	if e.RefToMessageID != "" {
		md.CreateElement("eb:RefToMessageId").SetText(normID(e.RefToMessageID))
	}
	if !e.TimeToLive.IsZero() {
		md.CreateElement("eb:TimeToLive").SetText(e.TimeToLive.UTC().Format(timestampLayout))
	}
	if e.DuplicateElimination {
		mh.CreateElement("eb:DuplicateElimination")
	}
	if e.AckRequested {
		ack := header.CreateElement("eb:AckRequested")
		ack.CreateAttr("SOAP:mustUnderstand", "1")
		ack.CreateAttr("eb:version", "2.0")
		ack.CreateAttr("eb:signed", "false")
		ack.CreateAttr("SOAP:actor", ActorNextMSH)
	}

	body := env.CreateElement("SOAP:Body")
	if len(e.Manifest) > 0 {
		man := body.CreateElement("eb:Manifest")
		man.CreateAttr("SOAP:mustUnderstand", "1")
		man.CreateAttr("eb:version", "2.0")
		for _, r := range e.Manifest {
			writeReference(man.CreateElement("eb:Reference"), r)
		}
	}

	indent := etree.NewIndentSettings()
	indent.Spaces = 4
	indent.PreserveLeafWhitespace = true
	doc.IndentWithSettings(indent)
	out, err := doc.WriteToBytes()
	if err != nil {
		return nil, newError(PartEnvelope, ErrInvalid, err, "writing XML")
	}
	return out, nil
}

func writeParty(el *etree.Element, p PartyID) {
	id := el.CreateElement("eb:PartyId")
	id.CreateAttr("eb:type", orDefault(p.Type, PartyTypeServiceInstance))
	id.SetText(p.ID)
}

func writeReference(el *etree.Element, r Reference) {
	el.CreateAttr("xlink:href", r.Href)
	if r.ID != "" {
		el.CreateAttr("eb:id", r.ID)
	}
	if r.SchemaLocation != "" || r.SchemaVersion != "" {
		s := el.CreateElement("eb:Schema")
		if r.SchemaLocation != "" {
			s.CreateAttr("eb:location", r.SchemaLocation)
		}
		if r.SchemaVersion != "" {
			s.CreateAttr("eb:version", r.SchemaVersion)
		}
	}
	if r.Description != "" {
		d := el.CreateElement("eb:Description")
		d.CreateAttr("xml:lang", "en")
		d.SetText(r.Description)
	}
	if r.Payload {
		p := el.CreateElement("hl7ebxml:Payload")
		p.CreateAttr("style", "HL7")
		p.CreateAttr("encoding", "XML")
		p.CreateAttr("version", "3.0")
	}
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// checkToken accepts a non-empty value with no whitespace and only
// characters XML can carry.
func checkToken(s string) error {
	if s == "" {
		return fmt.Errorf("missing")
	}
	if strings.IndexFunc(s, unicode.IsSpace) >= 0 {
		return fmt.Errorf("contains whitespace")
	}
	return checkText(s, false)
}

// checkText accepts valid UTF-8 made of XML characters, with no control
// characters other than tab and newline (and those only when multiline).
// A carriage return is refused: XML parsers turn it into a newline.
func checkText(s string, multiline bool) error {
	for i, r := range s {
		switch {
		case r == utf8.RuneError && !strings.HasPrefix(s[i:], "\uFFFD"):
			return fmt.Errorf("invalid UTF-8 at byte %d", i)
		case (r == '\t' || r == '\n') && multiline:
		case r < 0x20 || r == 0x7F || (r >= 0x80 && r <= 0x9F):
			return fmt.Errorf("control character %U at byte %d", r, i)
		case !isXMLChar(r):
			return fmt.Errorf("character %U not allowed in XML at byte %d", r, i)
		}
	}
	return nil
}

// isXMLChar is the XML 1.0 Char production.
func isXMLChar(r rune) bool {
	return r == 0x09 || r == 0x0A || r == 0x0D ||
		(r >= 0x20 && r <= 0xD7FF) ||
		(r >= 0xE000 && r <= 0xFFFD) ||
		(r >= 0x10000 && r <= 0x10FFFF)
}

// isNCName reports whether s is an XML NCName (the type of eb:id), limited
// to ASCII name characters plus letters and digits.
func isNCName(s string) bool {
	for i, r := range s {
		switch {
		case r == '_' || unicode.IsLetter(r):
		case i > 0 && (r == '-' || r == '.' || unicode.IsDigit(r)):
		default:
			return false
		}
	}
	return s != ""
}
