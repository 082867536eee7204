// Package ehr models the clinical content of a GP2GP EHR extract: the
// HL7 V3 EhrExtract (message type RCMR_MT030101UK04, or RCMR_MT030101UK05
// when entries carry a confidentialityCode) that travels inside the
// RCMR_IN030000UK06 and RCMR_IN030000UK07 interactions.
//
// It does two things.
//
// Generate builds realistic synthetic extracts for tests and benchmarks:
// a patient, an agent directory of people and organisations, and
// encounters (ehrComposition) holding the statement classes vendors send —
// coded observations with and without values, blood pressure batteries,
// narrative notes, medication authorisations and issues, allergies,
// problems (LinkSet), plans, referrals and references to external
// documents — optionally with NOPAT-marked entries, locally-coded entries
// a receiver would degrade, and AbsentAttachment placeholders. Output is
// deterministic for a seed, can be sized to a target number of bytes, and
// validates against the MIM schemas once placed in a message.
//
// Summarize reads any vendor's extract (TPP, EMIS, Vision, the NHS test
// harness; whatever the namespace prefixes, schema-valid or not) and
// reports its identifiers, statement counts, referenced documents, NOPAT
// entries, entries with no SNOMED CT code, and whether it is a skeleton.
// It never panics and reads elements by local name only.
//
// The package works on github.com/beevik/etree elements; parse untrusted
// input with github.com/nhsengland/gp2gp/libs/xmldoc first.
package ehr
