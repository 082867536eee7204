package transfers

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/google/uuid"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/nhsengland/gp2gp/libs/bus"
	"github.com/nhsengland/gp2gp/libs/service"
	"github.com/nhsengland/gp2gp/libs/transfer"
	gp2gpv1 "github.com/nhsengland/gp2gp/proto/gp2gp/v1"
	"github.com/nhsengland/gp2gp/services/gp2gpctl/internal/cli"
)

var (
	// ErrRefused: nothing can be re-sent for the transfer, or the stage
	// refused when it acted. Why has been written to stdout.
	ErrRefused = errors.New("resend refused")
	// ErrPending: the resend was asked for but no stage acted on it within
	// the wait; it stays queued for when one runs.
	ErrPending = errors.New("resend asked for, not yet acted on")
)

// protoSides are the bus contracts' sides.
var protoSides = map[transfer.Side]gp2gpv1.Side{
	transfer.Requesting: gp2gpv1.Side_SIDE_REQUESTING, transfer.Sending: gp2gpv1.Side_SIDE_SENDING,
}

// owners names the stage that acts on each side's resends.
var owners = map[transfer.Side]string{transfer.Requesting: "requester", transfer.Sending: "sender"}

// ResendResult is what resend printed, as JSON.
type ResendResult struct {
	ConversationID string                `json:"conversation_id"`
	Side           transfer.Side         `json:"side,omitempty"`
	Action         transfer.ResendAction `json:"action,omitempty"`
	CommandID      string                `json:"command_id,omitempty"`
	// Outcome is "done", "refused" or "pending".
	Outcome string    `json:"outcome"`
	Refused string    `json:"refused,omitempty"`
	At      time.Time `json:"at,omitzero"`
}

// resendPoll is how often resend looks for the stage's answer.
const resendPoll = 200 * time.Millisecond

// Resend runs "gp2gpctl resend CONVERSATION-ID [-side SIDE] [-reason
// TEXT] [-by NAME] [-wait D] [-json] [-nats URL]" with args after the
// command name: it asks the stage owning the side of the transfer for
// what the protocol allows to be re-sent (transfer.PlanResend), and waits
// for it to be done.
func Resend(ctx context.Context, cfg service.NATSConfig, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("resend", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var side transfer.Side
	fs.Func("side", "requesting or sending (needed only when both sides could re-send)", func(s string) error {
		side = transfer.Side(s)
		if !side.Valid() {
			return errors.New("want requesting or sending")
		}
		return nil
	})
	reason := fs.String("reason", "", "why, for the transfer's timeline")
	by := fs.String("by", defaultUser(), "who asks, for the transfer's timeline")
	wait := fs.Duration("wait", 30*time.Second, "how long to wait for the stage to act (0: do not wait)")
	asJSON := fs.Bool("json", false, "print JSON instead of text")
	fs.StringVar(&cfg.URL, "nats", cfg.URL, "NATS server URL (default from "+service.EnvNATSURL+")")
	ids, err := cli.Parse(fs, args)
	if err != nil {
		return err
	}
	if len(ids) != 1 {
		return usage(stderr, "resend", "name one conversation id")
	}
	if *wait < 0 {
		return usage(stderr, "resend", "-wait must not be negative")
	}
	conv := transfer.NormalizeID(ids[0])
	d, err := connect(ctx, cfg)
	if err != nil {
		return err
	}
	defer d.close()

	t, action, err := chooseResend(ctx, d.store, conv, side)
	res := ResendResult{ConversationID: conv}
	if errors.As(err, new(*refusal)) {
		res.Outcome, res.Refused = "refused", err.Error()
		if t != nil {
			res.Side = t.Side
		}
		return finish(stdout, res, *asJSON)
	}
	if errors.Is(err, errBothSides) {
		return usage(stderr, "resend", err.Error())
	}
	if err != nil {
		return err
	}
	res.Side, res.Action = t.Side, action

	cmd := &gp2gpv1.ResendCommand{
		CommandId: strings.ToUpper(uuid.NewString()), ConversationId: conv, Side: protoSides[t.Side],
		PracticeOds: t.Practice.ODS, RequestedBy: *by, Reason: *reason, RequestedAt: timestamppb.Now(),
	}
	res.CommandID = cmd.CommandId
	_, err = d.bus.PublishProto(ctx, bus.Outgoing{
		Subject:  bus.CommandSubject(string(t.Side), t.Practice.ODS, bus.CommandResend),
		DedupeID: "resend." + cmd.CommandId,
		Headers:  bus.Headers{ConversationID: conv},
	}, cmd)
	if err != nil {
		return fmt.Errorf("ask the %s to resend: %w", owners[t.Side], err)
	}
	if !*asJSON {
		fmt.Fprintf(stdout, "asked the %s serving %s to %s for the %s side of %s (command %s)\n",
			owners[t.Side], t.Practice.ODS, action.Describe(), t.Side, conv, cmd.CommandId)
	}
	if *wait == 0 {
		res.Outcome = "pending"
		return finish(stdout, res, *asJSON)
	}
	r, err := awaitResend(ctx, d.store, t.Side, conv, cmd.CommandId, *wait)
	switch {
	case errors.Is(err, ErrPending):
		res.Outcome = "pending"
		if !*asJSON {
			fmt.Fprintf(stdout, "not acted on within %s: is the %s serving %s running? It acts on the request when it runs; "+
				"gp2gpctl status %s shows the outcome\n", *wait, owners[t.Side], t.Practice.ODS, conv)
		}
	case err != nil:
		return err
	case r.Refused != "":
		res.Outcome, res.Refused, res.At = "refused", r.Refused, r.At
	default:
		res.Outcome, res.At = "done", r.At
	}
	return finish(stdout, res, *asJSON)
}

// finish prints res and returns the error its outcome calls for.
func finish(stdout io.Writer, res ResendResult, asJSON bool) error {
	if asJSON {
		if err := cli.WriteJSON(stdout, res); err != nil {
			return err
		}
	} else {
		switch res.Outcome {
		case "done":
			fmt.Fprintf(stdout, "done at %s\n", formatTime(res.At))
		case "refused":
			fmt.Fprintf(stdout, "refused: %s\n", res.Refused)
		}
	}
	switch res.Outcome {
	case "refused":
		return ErrRefused
	case "pending":
		return ErrPending
	}
	return nil
}

// refusal: nothing can be re-sent; the message says why.
type refusal struct{ msg string }

func (r *refusal) Error() string { return r.msg }

var errBothSides = errors.New("both sides of the transfer can re-send something: choose one with -side requesting or -side sending")

// chooseResend reads the sides of conv (only side, if given) and picks the
// one with something to re-send.
func chooseResend(ctx context.Context, store *transfer.Store, conv string, side transfer.Side) (*transfer.Transfer, transfer.ResendAction, error) {
	sides := []transfer.Side{transfer.Requesting, transfer.Sending}
	if side != "" {
		sides = []transfer.Side{side}
	}
	var found []*transfer.Transfer
	var why []string
	var picked *transfer.Transfer
	var action transfer.ResendAction
	for _, s := range sides {
		t, err := store.Get(ctx, s, conv)
		if errors.Is(err, transfer.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, "", err
		}
		found = append(found, t)
		a, err := transfer.PlanResend(t)
		if err != nil {
			why = append(why, strings.TrimPrefix(err.Error(), transfer.ErrNotResendable.Error()+": "))
			continue
		}
		if picked != nil {
			return nil, "", errBothSides
		}
		picked, action = t, a
	}
	switch {
	case len(found) == 0 && side != "":
		return nil, "", fmt.Errorf("%w %s on the %s side", ErrNotFound, conv, side)
	case len(found) == 0:
		return nil, "", fmt.Errorf("%w %s (on either side)", ErrNotFound, conv)
	case picked == nil:
		return found[0], "", &refusal{"nothing can be re-sent: " + strings.Join(why, "; ")}
	}
	return picked, action, nil
}

// awaitResend waits until the stage has recorded command id on side of
// conv, for at most wait.
func awaitResend(ctx context.Context, store *transfer.Store, side transfer.Side, conv, id string, wait time.Duration) (transfer.Resend, error) {
	ctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	tick := time.NewTicker(resendPoll)
	defer tick.Stop()
	for {
		t, err := store.Get(ctx, side, conv)
		if err == nil {
			if r, ok := t.FindResend(id); ok {
				return r, nil
			}
		} else if ctx.Err() == nil {
			return transfer.Resend{}, err
		}
		select {
		case <-ctx.Done():
			return transfer.Resend{}, ErrPending
		case <-tick.C:
		}
	}
}

func defaultUser() string {
	for _, k := range []string{"GP2GP_OPERATOR", "USER", "LOGNAME"} {
		if v := os.Getenv(k); v != "" {
			return v
		}
	}
	return "gp2gpctl"
}
