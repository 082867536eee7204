package ebxml

import (
	"bytes"
	"errors"
	"strings"
	"time"

	"github.com/beevik/etree"

	"github.com/nhsengland/gp2gp/libs/xmldoc"
)

// ParseEnvelope reads an ebXML SOAP envelope. It is tolerant: elements are
// matched by local name whatever their prefix, optional elements may be
// missing, surrounding whitespace is ignored. It requires a MessageHeader
// with a ConversationId, an Action and a MessageId. The XML is read with
// xmldoc.Parse (no DOCTYPE, bounded depth and attributes, no duplicate
// attributes).
func ParseEnvelope(data []byte, opts ...Option) (*Envelope, error) {
	o, err := buildOptions(opts)
	if err != nil {
		return nil, err
	}
	if err := o.checkSize(PartEnvelope, data); err != nil {
		return nil, err
	}
	return parseEnvelope(data, o)
}

var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

func parseEnvelope(data []byte, o options) (*Envelope, error) {
	data = bytes.TrimPrefix(bytes.TrimSpace(data), utf8BOM)
	if len(data) == 0 {
		return nil, newError(PartEnvelope, ErrNoEnvelope, nil, "empty envelope")
	}
	doc, err := xmldoc.Parse(data, o.xml)
	if err != nil {
		return nil, newError(PartEnvelope, ErrMalformed, err, "unreadable XML")
	}
	root := doc.Root()
	if root == nil || root.Tag != "Envelope" {
		tag := ""
		if root != nil {
			tag = root.Tag
		}
		return nil, newError(PartEnvelope, ErrNoEnvelope, nil, "root element is <%s>, not a SOAP Envelope", tag)
	}
	header := xmldoc.Child(root, "Header")
	mh := xmldoc.Child(header, "MessageHeader")
	if mh == nil {
		return nil, newError(PartEnvelope, ErrMalformed, nil, "no Header/MessageHeader")
	}
	md := xmldoc.Child(mh, "MessageData")
	e := &Envelope{
		From:                 parseParty(xmldoc.Child(mh, "From")),
		To:                   parseParty(xmldoc.Child(mh, "To")),
		CPAID:                xmldoc.Text(xmldoc.Child(mh, "CPAId")),
		ConversationID:       normID(xmldoc.Text(xmldoc.Child(mh, "ConversationId"))),
		Service:              xmldoc.Text(xmldoc.Child(mh, "Service")),
		Action:               xmldoc.Text(xmldoc.Child(mh, "Action")),
		MessageID:            normID(xmldoc.Text(xmldoc.Child(md, "MessageId"))),
		RefToMessageID:       normID(xmldoc.Text(xmldoc.Child(md, "RefToMessageId"))),
		DuplicateElimination: xmldoc.Child(mh, "DuplicateElimination") != nil,
		AckRequested:         xmldoc.Child(header, "AckRequested") != nil,
	}
	for _, req := range []struct{ name, value string }{
		{"ConversationId", e.ConversationID},
		{"Action", e.Action},
		{"MessageData/MessageId", e.MessageID},
	} {
		if req.value == "" {
			return nil, newError(PartEnvelope, ErrMalformed, nil, "MessageHeader has no %s", req.name)
		}
	}
	if e.Timestamp, err = parseTime(xmldoc.Text(xmldoc.Child(md, "Timestamp"))); err != nil {
		return nil, newError(PartEnvelope, ErrMalformed, err, "unreadable Timestamp")
	}
	if e.TimeToLive, err = parseTime(xmldoc.Text(xmldoc.Child(md, "TimeToLive"))); err != nil {
		return nil, newError(PartEnvelope, ErrMalformed, err, "unreadable TimeToLive")
	}
	for _, el := range xmldoc.Children(xmldoc.Path(root, "Body", "Manifest"), "Reference") {
		e.Manifest = append(e.Manifest, parseReference(el))
	}
	return e, nil
}

func parseParty(el *etree.Element) PartyID {
	p := xmldoc.Child(el, "PartyId")
	return PartyID{ID: xmldoc.Text(p), Type: xmldoc.Attr(p, "type")}
}

func parseReference(el *etree.Element) Reference {
	schema := xmldoc.Child(el, "Schema")
	return Reference{
		Href:           strings.TrimSpace(xmldoc.Attr(el, "href")),
		ID:             strings.TrimSpace(xmldoc.Attr(el, "id")),
		Description:    xmldoc.Text(xmldoc.Child(el, "Description")),
		Payload:        xmldoc.Child(el, "Payload") != nil,
		SchemaLocation: xmldoc.Attr(schema, "location"),
		SchemaVersion:  xmldoc.Attr(schema, "version"),
	}
}

// timeLayouts are the ebXML timestamp forms seen: ISO 8601 in UTC with or
// without fractional seconds, with an offset, or with no zone at all
// (read as UTC).
var timeLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05.999999999",
	"2006-01-02T15:04:05.999999999Z0700",
}

var errTimeFormat = errors.New("not an ISO 8601 date-time")

// parseTime reads an ebXML timestamp into UTC; "" gives the zero time.
func parseTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	for _, l := range timeLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, errTimeFormat
}
