// Package largemsg holds GP2GP large messaging (protocol §3) apart from the
// bus: how a sender lays out a record that does not fit in one Spine
// message (inline and external documents, fragments, the skeleton extract)
// and streams documents out as base64 chunks, and how a receiver reassembles
// what arrives in any order. DESIGN.md describes the whole flow.
package largemsg
