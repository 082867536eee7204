// Package transfer keeps the state of GP2GP transfers.
//
// A transfer has two sides, each with its own record: the requesting side
// (the new practice: requester, receiver, acknowledger) and the sending side
// (the previous practice: sender, acknowledger). When one deployment serves
// both practices, both records exist under the same conversation id.
//
// Each record is one entry in the JetStream key-value bucket
// bus.BucketTransfers, keyed "<side>.<CONVERSATION ID>" (conversation ids
// are stored upper-case; lookups ignore case). Every write is a
// compare-and-set on the entry's revision: a conflicting write is retried
// against the fresh record, so concurrent updates all apply and none is
// lost.
//
// States and transitions form one explicit machine (machine.go); a
// transition the machine does not allow is an error, never ignored.
// Moving to the state a record is already in is a no-op, so a redelivered
// message replays harmlessly.
//
// Every state change is published as a gp2gp.v1.TransferEvent on
// bus.LifecycleSubject. The change is first written to the record's
// outbox in the same compare-and-set as the state itself, then published
// with a deterministic dedupe id. It stays in the outbox until the
// record's next write, which first makes sure it is published (again
// under its dedupe id, or, once the stream may have forgotten the id,
// looked up in the stream) and then leaves it out; a terminal record's
// outbox is emptied as soon as its events are published. A crash between
// the write and the publish therefore leaves the event in the outbox,
// where the next update of that record, or Store.Flush at startup,
// publishes it. Events are published at least once and never lost;
// consumers key on (side, conversation id, sequence). Clearing the outbox
// with the next write rather than a write of its own saves a key-value
// write per state change.
//
// The state machine, per side:
//
//	requesting:
//	  REGISTERED           → REQUEST_SENT, FAILED
//	  REQUEST_SENT         → REQUEST_ACKNOWLEDGED, EXTRACT_RECEIVED, FAILED
//	  REQUEST_ACKNOWLEDGED → EXTRACT_RECEIVED, FAILED
//	  EXTRACT_RECEIVED     → CONTINUE_SENT, READY_TO_INTEGRATE, REJECTED
//	  CONTINUE_SENT        → READY_TO_INTEGRATE, REJECTED
//	  READY_TO_INTEGRATE   → INTEGRATED, REJECTED
//	  terminal: INTEGRATED, REJECTED, FAILED
//
//	sending:
//	  REQUEST_RECEIVED     → RECORD_REQUESTED, REQUEST_REJECTED
//	  RECORD_REQUESTED     → EXTRACT_SENT, REQUEST_REJECTED
//	  EXTRACT_SENT         → CONTINUE_RECEIVED, COMPLETED, FAILED
//	  CONTINUE_RECEIVED    → ATTACHMENTS_SENT, COMPLETED, FAILED
//	  ATTACHMENTS_SENT     → COMPLETED, FAILED
//	  terminal: REQUEST_REJECTED, COMPLETED, FAILED
//
// A requesting transfer starts REGISTERED, a sending one REQUEST_RECEIVED.
// REJECTED means this practice sent a negative final acknowledgement;
// FAILED means the other practice did (or a timeout fired) — see the
// reason code on the change that entered the state.
package transfer
