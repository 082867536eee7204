package transfers

import (
	"bufio"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/nhsengland/gp2gp/libs/hl7"
	"github.com/nhsengland/gp2gp/libs/service/ops"
	"github.com/nhsengland/gp2gp/libs/transfer"
	"github.com/nhsengland/gp2gp/services/gp2gpctl/internal/cli"
)

// timeFormat is how times are printed: UTC, to the millisecond, so the
// order of close events shows.
const timeFormat = "2006-01-02T15:04:05.000Z07:00"

func formatTime(t time.Time) string { return t.UTC().Format(timeFormat) }

// WriteStatus prints st for a person: each side's state, practices,
// reason, deadlines and last change (ages relative to now), then the
// timeline, one line per state change or message.
func WriteStatus(w io.Writer, st *ops.Status, now time.Time) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "conversation %s\n\n", st.ConversationID)
	writeSide(bw, transfer.Requesting, st.Requesting, now)
	writeSide(bw, transfer.Sending, st.Sending, now)

	fmt.Fprintln(bw, "\ntimeline")
	rows := [][]string{{"TIME", "SIDE", "KIND", "WHAT", "REASON", "DETAIL"}}
	for _, e := range st.Timeline {
		rows = append(rows, []string{formatTime(e.At), string(e.Side), string(e.Kind), e.What, reasonLabel(e.ReasonCode), oneLine(e.Detail)})
	}
	if err := cli.WriteTable(bw, rows); err != nil {
		return err
	}
	return bw.Flush()
}

func writeSide(w io.Writer, side transfer.Side, v *ops.View, now time.Time) {
	const indent = "            "
	if v == nil {
		fmt.Fprintf(w, "%-12sno record (this deployment does not hold the %s side)\n", side, side)
		return
	}
	state := string(v.State)
	if v.Terminal {
		state += " (final)"
	}
	fmt.Fprintf(w, "%-12s%s\n", side, state)
	fmt.Fprintf(w, "%spractice %s, peer %s\n", indent, practice(v.Practice), practice(v.Peer))
	fmt.Fprintf(w, "%slast change %s (%s ago)\n", indent, formatTime(v.LastChange.At), ops.FormatAge(now.Sub(v.LastChange.At)))
	if v.ReasonCode != "" {
		line := "reason " + v.ReasonCode
		if d := hl7.ReasonCode(v.ReasonCode).Display(); d != "" {
			line += " " + d
		}
		if d := reasonDetail(v); d != "" {
			line += " — " + oneLine(d)
		}
		fmt.Fprintf(w, "%s%s\n", indent, line)
	}
	kinds := make([]string, 0, len(v.Deadlines))
	for k := range v.Deadlines {
		kinds = append(kinds, k)
	}
	slices.Sort(kinds)
	for _, k := range kinds {
		at := v.Deadlines[k]
		when := "in " + ops.FormatAge(at.Sub(now))
		if at.Before(now) {
			when = ops.FormatAge(now.Sub(at)) + " overdue"
		}
		fmt.Fprintf(w, "%sdeadline %s %s (%s)\n", indent, k, formatTime(at), when)
	}
	if v.PendingEvents > 0 {
		fmt.Fprintf(w, "%s%d lifecycle events not yet published\n", indent, v.PendingEvents)
	}
}

// reasonDetail is the detail of the most recent change with v's reason
// code.
func reasonDetail(v *ops.View) string {
	for i := len(v.History) - 1; i >= 0; i-- {
		if v.History[i].Reason.Code == v.ReasonCode {
			return v.History[i].Reason.Detail
		}
	}
	return ""
}

func practice(p transfer.Practice) string {
	switch {
	case p.ODS == "" && p.ASID == "":
		return "not known yet"
	case p.ASID == "":
		return p.ODS
	}
	return p.ODS + " (ASID " + p.ASID + ")"
}

// reasonLabel is a reason code with the short label NHS dashboards use.
func reasonLabel(code string) string {
	if code == "" {
		return ""
	}
	if r, ok := hl7.ReasonCode(code).Info(); ok {
		return code + " " + r.Label
	}
	return code
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// WriteList prints one line per transfer side: conversation id, side,
// state, practice → peer, age of the last state change (relative to now)
// and the last reason code, then how many more matched if the list was
// cut short.
func WriteList(w io.Writer, l ops.TransferList, now time.Time) error {
	rows := [][]string{{"CONVERSATION", "SIDE", "STATE", "PRACTICE → PEER", "AGE", "REASON"}}
	for _, s := range l.Transfers {
		peer := s.Peer
		if peer == "" {
			peer = "?"
		}
		rows = append(rows, []string{s.ConversationID, string(s.Side), string(s.State), s.Practice + " → " + peer,
			ops.FormatAge(now.Sub(s.LastChangeAt)), reasonLabel(s.ReasonCode)})
	}
	if err := cli.WriteTable(w, rows); err != nil {
		return err
	}
	if more := l.Matched - len(l.Transfers); more > 0 {
		_, err := fmt.Fprintf(w, "… and %d more (%d matched); use -limit to see more\n", more, l.Matched)
		return err
	}
	return nil
}
