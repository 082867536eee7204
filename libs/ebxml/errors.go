package ebxml

import (
	"errors"
	"fmt"
	"strings"
)

// Part names the layer of a message an *Error is about, so that callers
// can tell a malformed envelope from a malformed MIME body.
type Part string

// The parts of a GP2GP message an *Error can be about.
const (
	// PartEnvelope is the ebXML SOAP envelope (MessageHeader and Manifest).
	PartEnvelope Part = "envelope"
	// PartMIME is the multipart/related body and its part headers.
	PartMIME Part = "mime"
	// PartJSON is an MHS adaptor JSON body.
	PartJSON Part = "json"
	// PartAttachment is one attachment's content (encoding, limits).
	PartAttachment Part = "attachment"
	// PartDescription is a manifest Description text.
	PartDescription Part = "description"
	// PartMessage is the message as a whole (input size, consistency of
	// its parts, values refused when building).
	PartMessage Part = "message"
)

var (
	// ErrTooLarge: the input is over the size limit (WithMaxBytes) or has
	// more parts than allowed (WithMaxParts).
	ErrTooLarge = errors.New("ebxml: input too large")
	// ErrNoBoundary: no multipart boundary could be found, or the declared
	// boundary never appears in the body.
	ErrNoBoundary = errors.New("ebxml: no multipart boundary")
	// ErrTruncated: the MIME body ends before its closing boundary.
	ErrTruncated = errors.New("ebxml: truncated MIME body")
	// ErrNoEnvelope: there is no ebXML SOAP envelope (no MIME part at all,
	// no "ebXML" JSON member, or a root element that is not an Envelope).
	ErrNoEnvelope = errors.New("ebxml: missing ebXML envelope")
	// ErrNoPayload: the manifest names an HL7 payload part that is absent.
	ErrNoPayload = errors.New("ebxml: missing HL7 payload")
	// ErrMalformed: the input is syntactically broken (bad XML, bad JSON,
	// bad MIME headers, a JSON member of the wrong type, an unreadable
	// timestamp, a required element missing).
	ErrMalformed = errors.New("ebxml: malformed input")
	// ErrBase64: content declared base64 is not valid base64.
	ErrBase64 = errors.New("ebxml: invalid base64")
	// ErrInvalid: a value given for building a message is refused (missing,
	// not allowed, or not representable).
	ErrInvalid = errors.New("ebxml: invalid value")
	// ErrLimit: building would break an MHS adaptor or Spine limit (more
	// than 98 attachments, payload or attachment over 5,000,000 characters).
	ErrLimit = errors.New("ebxml: over MHS limit")
	// ErrOption: an Option was given an unusable value.
	ErrOption = errors.New("ebxml: invalid option")
)

// Error is every error this package returns. Part says which layer of the
// message is at fault; Err wraps one of the sentinels above (match with
// errors.Is) and, where there is one, the underlying cause (for example an
// *xmldoc.Error or a *json.SyntaxError, reachable with errors.As).
type Error struct {
	// Part of the message the error is about.
	Part Part
	// Reason in words.
	Reason string
	// Err is the sentinel, possibly joined with the underlying cause.
	Err error
}

// Error describes the failure: "ebxml <part>: <reason>[: <cause>]".
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("ebxml ")
	b.WriteString(string(e.Part))
	b.WriteString(": ")
	b.WriteString(e.Reason)
	if c := cause(e.Err); c != nil {
		b.WriteString(": ")
		b.WriteString(c.Error())
	}
	return b.String()
}

// Unwrap gives errors.Is and errors.As access to the sentinel and cause.
func (e *Error) Unwrap() error { return e.Err }

// causeErr pairs a sentinel with the error that caused it.
type causeErr struct {
	sentinel, cause error
}

func (c *causeErr) Error() string   { return c.sentinel.Error() + ": " + c.cause.Error() }
func (c *causeErr) Unwrap() []error { return []error{c.sentinel, c.cause} }

// cause returns the non-sentinel part of an Error's Err, if any.
func cause(err error) error {
	if c, ok := err.(*causeErr); ok {
		return c.cause
	}
	return nil
}

// newError builds an *Error whose Err is sentinel, joined with cause when
// cause is not nil.
func newError(part Part, sentinel, cause error, format string, args ...any) *Error {
	err := sentinel
	if cause != nil {
		err = &causeErr{sentinel: sentinel, cause: cause}
	}
	return &Error{Part: part, Reason: fmt.Sprintf(format, args...), Err: err}
}
