// Package mi classifies GP2GP record transfers the way NHS England's
// management-information (MI) pipeline does, from Spine message events, and
// computes its monthly figures.
//
// The rules follow docs GP2GP-MI.md §1.1–1.7 and §2: events are grouped by
// conversation, cut off N days after the first message, paired with their
// acknowledgements, and each conversation that starts with an EHR request
// becomes one [Transfer] with one of four status labels and a failure reason
// ([Classify], or [Classifier] one conversation at a time). [Attribute] maps
// ASIDs to practices and Sub-ICB locations with ODS [Metadata];
// [BuildReport] counts transfers into the national and practice figures of
// each month ([Counts], [NationalOf], [RequestedTransfersOf]).
//
// The package does no I/O other than reading the [io.Reader]s handed to
// [ParseSpineCSV], [NewSpineReader] and [LoadMetadata] and writing the one
// handed to [Report.WriteJSON]. The same [Event] type serves events seen
// live on the bus and rows imported from Spine CSV logs.
package mi
