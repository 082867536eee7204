// Package directory answers what the GP2GP services need to know about
// practices and patients: where a patient is registered (PDS) and how to
// reach a practice's GP2GP system (SDS: ASID, MHS party key, CPA id,
// address and the reliability settings whose persist durations drive the
// requester's timeouts).
//
// The services depend on two small interfaces, PDS and SDS. Three
// implementations are provided:
//
//   - File, a JSON file read at start-up and reloadable while running
//     (the default, used by the dev stack, the tests and suppliers who
//     keep their own directory). It implements both interfaces.
//   - PDSClient, a client for the NHS PDS FHIR API (GET /Patient/{id}).
//   - SDSClient, a client for the NHS SDS FHIR API (the Device then
//     Endpoint searches of the GP2GP protocol, section 5.3).
//
// CachedSDS wraps any SDS to avoid repeating the same lookups within a
// transfer; ParseISODuration reads the persist durations SDS publishes;
// ExtractTimeout applies the requester-side timeout formula.
//
// Errors are matched with errors.Is against the sentinels in errors.go.
// ErrPatientNotFound, ErrNotFound and ErrAmbiguous are answers: an SDS
// lookup with no result or several is what reason code 24 describes, and
// ErrNotFound from Practice means GP2GP is not enabled (reason code 07).
// ErrUnavailable means "try again later" (and, in the end, reason code
// 20). ErrInvalidArgument means the caller asked with a malformed NHS
// number, ODS code or interaction id, and ErrBadResponse that a remote
// service answered with something unusable.
// ODS codes are compared without regard to case and returned upper-case.
package directory
