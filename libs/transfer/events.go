package transfer

import (
	"google.golang.org/protobuf/types/known/timestamppb"

	gp2gpv1 "github.com/nhsengland/gp2gp/proto/gp2gp/v1"
)

// ProtoState is st as the gp2gp.v1 enum; UNSPECIFIED for "" or an unknown
// state.
func ProtoState(st State) gp2gpv1.TransferState {
	if st == "" {
		return gp2gpv1.TransferState_TRANSFER_STATE_UNSPECIFIED
	}
	return gp2gpv1.TransferState(gp2gpv1.TransferState_value["TRANSFER_STATE_"+string(st)])
}

// ProtoSide is s as the gp2gp.v1 enum.
func ProtoSide(s Side) gp2gpv1.Side {
	switch s {
	case Requesting:
		return gp2gpv1.Side_SIDE_REQUESTING
	case Sending:
		return gp2gpv1.Side_SIDE_SENDING
	}
	return gp2gpv1.Side_SIDE_UNSPECIFIED
}

// Event is the lifecycle event for change c of t.
func Event(t *Transfer, c Change) *gp2gpv1.TransferEvent {
	return &gp2gpv1.TransferEvent{
		ConversationId: t.ConversationID,
		Side:           ProtoSide(t.Side),
		Sequence:       c.Seq,
		PreviousState:  ProtoState(c.From),
		State:          ProtoState(c.To),
		OccurredAt:     timestamppb.New(c.At),
		ReasonCode:     c.Reason.Code,
		Detail:         c.Reason.Detail,
		PracticeOds:    t.Practice.ODS,
		PracticeAsid:   t.Practice.ASID,
		PeerOds:        t.Peer.ODS,
		PeerAsid:       t.Peer.ASID,
		Terminal:       t.Side.Terminal(c.To),
	}
}
