package transfer

import (
	"fmt"
	"slices"
)

// Side is which practice's half of a transfer a record holds.
type Side string

const (
	// Requesting is the new practice, which requests and receives the record.
	Requesting Side = "requesting"
	// Sending is the previous practice, which sends the record.
	Sending Side = "sending"
)

// Valid reports whether s is a known side.
func (s Side) Valid() bool { return s == Requesting || s == Sending }

// State is a transfer's state on one side. The names match the
// gp2gp.v1.TransferState enum without its TRANSFER_STATE_ prefix.
type State string

// Requesting-side states.
const (
	Registered          State = "REGISTERED"
	RequestSent         State = "REQUEST_SENT"
	RequestAcknowledged State = "REQUEST_ACKNOWLEDGED"
	ExtractReceived     State = "EXTRACT_RECEIVED"
	ContinueSent        State = "CONTINUE_SENT"
	ReadyToIntegrate    State = "READY_TO_INTEGRATE"
	Integrated          State = "INTEGRATED"
	Rejected            State = "REJECTED"
)

// Sending-side states.
const (
	RequestReceived  State = "REQUEST_RECEIVED"
	RequestRejected  State = "REQUEST_REJECTED"
	RecordRequested  State = "RECORD_REQUESTED"
	ExtractSent      State = "EXTRACT_SENT"
	ContinueReceived State = "CONTINUE_RECEIVED"
	AttachmentsSent  State = "ATTACHMENTS_SENT"
	Completed        State = "COMPLETED"
)

// Failed is terminal on either side: the other practice rejected the
// transfer, or a timeout fired.
const Failed State = "FAILED"

// machine lists, per side, the states a transfer may move to from each
// state. A state absent as a key is terminal.
var machine = map[Side]map[State][]State{
	Requesting: {
		Registered:          {RequestSent, Failed},
		RequestSent:         {RequestAcknowledged, ExtractReceived, Failed},
		RequestAcknowledged: {ExtractReceived, Failed},
		ExtractReceived:     {ContinueSent, ReadyToIntegrate, Rejected},
		ContinueSent:        {ReadyToIntegrate, Rejected},
		ReadyToIntegrate:    {Integrated, Rejected},
		Integrated:          nil,
		Rejected:            nil,
		Failed:              nil,
	},
	Sending: {
		RequestReceived:  {RecordRequested, RequestRejected},
		RecordRequested:  {ExtractSent, RequestRejected},
		ExtractSent:      {ContinueReceived, Completed, Failed},
		ContinueReceived: {AttachmentsSent, Completed, Failed},
		AttachmentsSent:  {Completed, Failed},
		RequestRejected:  nil,
		Completed:        nil,
		Failed:           nil,
	},
}

// initial is the state each side's record starts in.
var initial = map[Side]State{Requesting: Registered, Sending: RequestReceived}

// InitialState is the state a new record of side s starts in.
func (s Side) InitialState() State { return initial[s] }

// States lists the states of side s.
func (s Side) States() []State {
	out := make([]State, 0, len(machine[s]))
	for st := range machine[s] {
		out = append(out, st)
	}
	slices.Sort(out)
	return out
}

// Has reports whether st is a state of side s.
func (s Side) Has(st State) bool {
	_, ok := machine[s][st]
	return ok
}

// Terminal reports whether nothing further can happen to side s in st.
func (s Side) Terminal(st State) bool {
	next, ok := machine[s][st]
	return ok && len(next) == 0
}

// Allows reports whether side s may move from one state to another.
func (s Side) Allows(from, to State) bool { return slices.Contains(machine[s][from], to) }

// TransitionError reports a transition the machine does not allow.
type TransitionError struct {
	Side     Side
	From, To State
}

func (e *TransitionError) Error() string {
	if !e.Side.Has(e.To) {
		return fmt.Sprintf("transfer: %s is not a %s state", e.To, e.Side)
	}
	if e.Side.Terminal(e.From) {
		return fmt.Sprintf("transfer: %s transfer is already %s, cannot move to %s", e.Side, e.From, e.To)
	}
	return fmt.Sprintf("transfer: %s transfer cannot move from %s to %s", e.Side, e.From, e.To)
}

// Is makes errors.Is(err, ErrIllegalTransition) true.
func (e *TransitionError) Is(target error) bool { return target == ErrIllegalTransition }
