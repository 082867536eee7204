// Package practicesim is a simulated GP practice clinical system: the
// practice end of gp2gp's bus contracts, as a vendor's system would run it.
//
// A Practice talks to gp2gp only through the documented contracts
// (gp2gp.v1 messages on the gp2gp.practice.<ODS>.* subjects, large
// content in its own records object store, gp2gp_records_<ODS>, and no
// other practice's):
//
//   - As the new practice it publishes registration events (Register),
//     receives records ready to integrate, checks them (the extract parses,
//     names the registered patient, its documents are all there, objects
//     streamed from the store and verified against their references' size
//     and SHA-256) and reports an integration outcome.
//   - As the previous practice it answers record requests with a synthetic
//     but realistic record (libs/hl7/ehr), inline when small and through the
//     object store when large, or with a failure. A record can hold up to
//     MaxAttachments small documents (WithAttachments), inline while the
//     RecordResponse has room and in the object store beyond, and large
//     documents of up to MaxLargeAttachmentSize (WithLargeAttachments),
//     generated into the object store as a stream, never whole in memory.
//
// It is deterministic: a patient's record depends only on the NHS number,
// the two practices, the request and the options, so the same request gives
// the same bytes from any instance. It is controllable: policies
// (WithRecords, WithIntegration) choose per patient or per record whether
// to answer, fail, stay silent, answer late or twice, and what integration
// outcome to report, so end-to-end tests can drive every positive and
// negative path. Tests and demonstrations observe what it did with
// Answered and Received (each listing the documents sent or received, with
// their sizes and SHA-256) and wait for it with WaitAnswer, WaitRecord and
// WaitOutcome.
//
// The dev stack runs two: one holding records and sending them, the other
// registering patients (Patients lists a fixed set of synthetic people) and
// integrating what arrives.
package practicesim
