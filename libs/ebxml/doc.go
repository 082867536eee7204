// Package ebxml reads and writes everything about a GP2GP message around
// its HL7 payload: the ebXML SOAP envelope (MessageHeader and Manifest),
// the attachment Description grammar, the multipart/related MIME body that
// travels through Spine, and the JSON bodies of the NHS MHS adaptor.
//
// One Message value ties them together:
//
//   - ParseMIME reads an HTTP/MIME capture; MarshalMIME writes one.
//   - ParseInboundJSON reads what the MHS adaptor puts on its inbound
//     queue; InboundJSON writes it (for stand-ins and tests).
//   - OutboundJSON and OutboundHeaders give the request to POST to the MHS
//     adaptor; ParseOutboundJSON and ParseOutboundHeaders read it back.
//
// Readers are tolerant, because real peers differ: elements are matched
// by local name whatever their prefix (SOAP:, soap:, SOAP-ENV:; hl7ebxml:
// or hl7ebXML:); ids are compared ignoring case and conversation and
// message ids are stored upper-case; MIME boundaries may be quoted or not,
// found in an HTTP or MIME Content-Type header, in binary junk before the
// body (TPP), or from the first "--" line (EMIS, Vision); lines may end in
// CRLF or LF; part headers may run straight into the content without a
// blank line (Vision); anything after the closing boundary is ignored.
// Descriptions are parsed leniently (see ParseDescription).
//
// Writers are strict: they validate ids, refuse what XML or the MHS
// adaptor cannot carry, enforce the MHS limits (MaxAttachments,
// MaxMHSChars) and emit the envelope shape the MHS adaptor and the GP
// system vendors emit.
//
// All XML is read with xmldoc.Parse, which refuses DOCTYPEs, duplicate
// attributes and over-deep documents; inputs over a size limit
// (DefaultMaxBytes, or WithMaxBytes) are refused before parsing. Every
// error is an *Error whose Part says which layer is at fault and which
// wraps one of the sentinel errors.
package ebxml
