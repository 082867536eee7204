// Package mi classifies GP2GP record transfers the way NHS England's
// management-information (MI) pipeline does, from Spine message events.
//
// The rules follow docs GP2GP-MI.md §1.1–1.7 and §2.1: events are grouped by
// conversation, cut off N days after the first message, paired with their
// acknowledgements, and each conversation that starts with an EHR request
// becomes one [Transfer] with one of four status labels and a failure reason.
//
// The package is pure: it does no I/O other than reading the [io.Reader]
// handed to [ParseSpineCSV]. The same [Event] type serves events seen live on
// the bus and rows imported from Spine CSV logs.
package mi
