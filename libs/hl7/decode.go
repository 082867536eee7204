package hl7

import (
	"errors"

	"github.com/beevik/etree"

	"github.com/nhsengland/gp2gp/libs/xmldoc"
)

// Limits bound the input the decoders accept (see xmldoc.Limits). The
// default allows decompressed extracts of up to 128 MiB.
var Limits = xmldoc.DefaultLimits

// Decode reads any GP2GP message and returns a *Request, *Extract, *Ack or
// *COPC. On a *ValidationError it returns what it could read (nil if the
// message is not even well-formed).
func Decode(data []byte) (Message, error) {
	root, err := parse(data, "")
	if err != nil {
		return nil, err
	}
	in := Interaction(root.Tag)
	r := &reader{in: in}
	var m Message
	switch {
	case in == EHRRequest:
		m = readRequest(root, r)
	case in.IsExtract():
		m = readExtract(root, in, r)
	case in == ApplicationAck:
		m = readAck(root, r)
	case in == CommonContentCOPC:
		m = readCOPC(root, r)
	}
	return m, r.result()
}

// parse reads data and checks its root is a GP2GP interaction, and the one
// expected when expect is set (either extract interaction satisfies an
// extract).
func parse(data []byte, expect Interaction) (*etree.Element, error) {
	doc, err := xmldoc.Parse(data, Limits)
	if err != nil {
		ve := &ValidationError{Interaction: expect, Reason: err.Error(), Code: expect.NackCode(), Err: err}
		var xe *xmldoc.Error
		if errors.As(err, &xe) {
			ve.Path, ve.Reason = xe.Path, xe.Reason
		}
		return nil, ve
	}
	root := doc.Root()
	in := Interaction(root.Tag)
	switch {
	case !in.Known():
		return nil, &ValidationError{Interaction: expect, Path: "/" + root.Tag, Reason: "not a GP2GP message: root element <" + root.Tag + ">", Code: expect.NackCode()}
	case expect == "" || in == expect || (expect.IsExtract() && in.IsExtract()):
		return root, nil
	}
	return nil, &ValidationError{Interaction: expect, Path: "/" + root.Tag, Reason: "expected " + string(expect) + ", got " + string(in), Code: expect.NackCode()}
}
