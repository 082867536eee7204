// Package hl7 reads and writes the five GP2GP HL7 V3 interactions: the EHR
// Request (RCMR_IN010000UK05), the EHR Extract (RCMR_IN030000UK06, and
// RCMR_IN030000UK07 when entries are marked NOPAT), the application
// acknowledgement (MCCI_IN010000UK13: AA, AE, AR) and COPC_IN000001UK01 in
// its uses (the Continue, and the attachment messages that carry
// documents, fragment indexes and fragments).
//
// The writer is strict: every message it produces validates against the
// official MIM schemas (the request against the project's stand-in
// schema), and it refuses to write a message with a required value
// missing. The reader is tolerant: it accepts what TPP, EMIS, Vision and
// the NHS test harness actually send, including schema-invalid messages;
// it matches elements by local name, whatever their prefix, and compares
// ids without case.
//
// Input is parsed with package xmldoc under hard limits (size, depth,
// attributes, no DOCTYPE). A message that cannot be read gives a
// *ValidationError naming the element path and the GP2GP reason code a
// negative acknowledgement should carry (18 for a request, 21 for an
// extract, 30 for a COPC).
//
// The common transmission wrapper (message id, creation time, interaction,
// sender and recipient ASIDs, ControlActEvent author) is one piece of code,
// Wrapper, shared by every message.
package hl7
