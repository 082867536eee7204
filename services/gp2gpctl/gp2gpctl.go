// Package gp2gpctl is the operator's command line for gp2gp: inspecting
// message files, the status and list of transfers in a deployment (read
// from its NATS, configured by GP2GP_NATS_* as the services are) and
// resends; NHS MI reports from Spine message logs (mi report); the
// dead letters, and their replay (dlq list, show, replay).
package gp2gpctl

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/nhsengland/gp2gp/libs/natsauth"
	"github.com/nhsengland/gp2gp/libs/service"
	"github.com/nhsengland/gp2gp/services/gp2gpctl/internal/dlq"
	"github.com/nhsengland/gp2gp/services/gp2gpctl/internal/inspect"
	"github.com/nhsengland/gp2gp/services/gp2gpctl/internal/mireport"
	"github.com/nhsengland/gp2gp/services/gp2gpctl/internal/transfers"
)

const usage = `gp2gpctl: operate a gp2gp deployment

usage:
  gp2gpctl inspect [-pretty] FILE...   describe GP2GP message files (bare HL7 XML,
                                       MIME/HTTP captures, MHS inbound JSON) as JSON,
                                       one object per file
  gp2gpctl status CONVERSATION-ID [-json] [-nats URL]
                                       both sides of a transfer: state, practices,
                                       reason, deadlines, and the timeline of every
                                       state change and message
  gp2gpctl list [-state S] [-practice ODS] [-stuck AGE] [-side SIDE] [-limit N]
                [-json] [-nats URL]    transfers, one line each, most recent change
                                       first (with -stuck: longest stuck first)
      -state     a state (REQUEST_SENT, FAILED, …), active or terminal
      -practice  ODS code of the side's practice or of its peer
      -stuck     not finished and unchanged for longer than AGE (24h, 90m, 3d)
      -side      requesting or sending
      -limit     at most N lines (default 100; the count of all matches is shown)
  gp2gpctl resend CONVERSATION-ID [-side SIDE] [-reason TEXT] [-by NAME]
                [-wait D] [-json] [-nats URL]
                                       re-send what the protocol allows for one side
                                       of a transfer, and wait for it to be done:
                                       requesting side waiting for the extract: the
                                       EHR Request again (same ids); requesting side
                                       finished: its final acknowledgement again (same
                                       ids); sending side failed or refused (not 18):
                                       the record fetched again and a fresh EHR
                                       Extract sent (new ids, same conversation)
      -side      requesting or sending, when both sides could re-send
      -reason    why, for the timeline; -by who (default $USER)
      -wait      how long to wait for the stage to act (default 30s; 0: do not)
  gp2gpctl dlq list [-stream S] [-consumer C] [-conversation ID] [-limit N]
                [-json] [-nats URL]    dead letters (GP2GP_DLQ: messages no handler
                                       could process), one line each, oldest first:
                                       sequence, time, original stream, consumer and
                                       subject, deliveries, conversation, reason; and
                                       how many match (-limit: default 100)
  gp2gpctl dlq show SEQ [-json] [-nats URL]
                                       one dead letter: every header, and the body (a
                                       gp2gp.v1 contract as protojson, JSON or XML as
                                       it is, anything else base64) with its size
  gp2gpctl dlq replay (SEQ... | -all [-stream S] [-consumer C]) [-dry-run]
                [-json] [-nats URL]    after a fix: publish dead letters again on their
                                       original subjects with their original headers
                                       (a claim check as it is), then remove them from
                                       GP2GP_DLQ. A replay goes to EVERY consumer of
                                       its subject, not only the one that failed: the
                                       handlers are idempotent, so a consumer that had
                                       handled it does nothing. Replaying is
                                       idempotent too: the replay's Nats-Msg-Id is
                                       dlq-replay.<SEQ>, so a second replay of one
                                       dead letter within the stream's dedupe window
                                       (1h) is not stored again. A SEQ already
                                       replayed is reported (exit 1 when named, not
                                       with -all)
  gp2gpctl mi report --spine-csv DIR --ods-metadata FILE --start YYYY-MM-DD
                --end YYYY-MM-DD [--cutoff DAYS]
                                       NHS MI from Spine message logs: the transfers
                                       requested from start to end (UTC days),
                                       classified with a cutoff of DAYS (default 14)
                                       from the day files start..end+DAYS, attributed
                                       with the ODS metadata; prints one JSON report
                                       (transfers, national, practices, sicbls)
      --spine-csv     YYYY-MM-DD_spine_messages.csv[.gz] files, at any depth
      --ods-metadata  {"practices":[{"odsCode","name","asids"}],
                       "sicbls":[{"odsCode","name","practices"}]}
  gp2gpctl nats auth -spec FILE [-format helm|conf] [-tls-cert F -tls-key F -tls-ca F]
                                       the NATS users and permissions of a deployment
                                       (services, vendors, operators) from its spec
                                       (deploy/nats/auth-spec.json): as values for the
                                       NATS Helm chart (default), or as a nats-server
                                       configuration with the TLS block (conf)
  gp2gpctl help                        this text

status, list, resend and dlq connect to NATS as the services do: GP2GP_NATS_URL
(default nats://127.0.0.1:4222; -nats overrides it), GP2GP_NATS_CREDS,
GP2GP_NATS_TLS_CA, GP2GP_NATS_TLS_CERT and GP2GP_NATS_TLS_KEY. They read
every transfer record of the deployment: an operator's tool, not a monitor.

Exit codes: 0 done; 1 failed (for resend: refused, and why is printed;
for dlq replay: a dead letter not replayed, each named on stderr); 2 wrong
usage; 3 resend asked for but not acted on within -wait (it stays queued
for the stage).
`

// Exit codes.
const (
	ExitOK      = 0
	ExitFailure = 1 // a file or operation failed; the others were still done
	ExitUsage   = 2
	ExitPending = 3 // a resend was asked for but not yet acted on
)

// Run runs the command line args (without the program name), writing
// results to stdout and problems to stderr, and returns the exit code.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return ExitUsage
	}
	switch args[0] {
	case "inspect":
		return runInspect(args[1:], stdout, stderr)
	case "status":
		return runTransfers(ctx, "status", transfers.Status, args[1:], stdout, stderr)
	case "list":
		return runTransfers(ctx, "list", transfers.List, args[1:], stdout, stderr)
	case "resend":
		return runTransfers(ctx, "resend", transfers.Resend, args[1:], stdout, stderr)
	case "mi":
		return runMI(ctx, args[1:], stdout, stderr)
	case "dlq":
		return runDLQ(ctx, args[1:], stdout, stderr)
	case "nats":
		return runNATS(args[1:], stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return ExitOK
	}
	fmt.Fprintf(stderr, "gp2gpctl: unknown command %q\n\n%s", args[0], usage)
	return ExitUsage
}

// runTransfers runs a command that reads a deployment's transfers.
func runTransfers(ctx context.Context, name string,
	cmd func(context.Context, service.NATSConfig, []string, io.Writer, io.Writer) error,
	args []string, stdout, stderr io.Writer,
) int {
	cfg, err := LoadConfig()
	if err != nil {
		fmt.Fprintf(stderr, "gp2gpctl %s: %v\n", name, err)
		return ExitFailure
	}
	err = cmd(ctx, cfg.NATS, args, stdout, stderr)
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return ExitOK
	case errors.Is(err, transfers.ErrUsage): // already explained on stderr
		return ExitUsage
	case errors.Is(err, transfers.ErrRefused): // why is on stdout
		return ExitFailure
	case errors.Is(err, transfers.ErrPending):
		return ExitPending
	}
	fmt.Fprintf(stderr, "gp2gpctl %s: %v\n", name, err)
	return ExitFailure
}

// runDLQ runs "gp2gpctl dlq list|show|replay …".
func runDLQ(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	commands := map[string]func(context.Context, service.NATSConfig, []string, io.Writer, io.Writer) error{
		"list": dlq.List, "show": dlq.Show, "replay": dlq.Replay,
	}
	if len(args) == 0 || commands[args[0]] == nil {
		fmt.Fprintf(stderr, "gp2gpctl dlq: the dlq commands are list, show and replay\n\n%s", usage)
		return ExitUsage
	}
	name := "dlq " + args[0]
	cfg, err := LoadConfig()
	if err != nil {
		fmt.Fprintf(stderr, "gp2gpctl %s: %v\n", name, err)
		return ExitFailure
	}
	err = commands[args[0]](ctx, cfg.NATS, args[1:], stdout, stderr)
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return ExitOK
	case errors.Is(err, dlq.ErrUsage): // already explained on stderr
		return ExitUsage
	case errors.Is(err, dlq.ErrNotReplayed): // each named on stderr
		return ExitFailure
	}
	fmt.Fprintf(stderr, "gp2gpctl %s: %v\n", name, err)
	return ExitFailure
}

// runMI runs "gp2gpctl mi report …".
func runMI(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] != "report" {
		fmt.Fprintf(stderr, "gp2gpctl mi: the only mi command is report\n\n%s", usage)
		return ExitUsage
	}
	err := mireport.Run(ctx, args[1:], stdout, stderr)
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return ExitOK
	case errors.Is(err, mireport.ErrUsage): // already explained on stderr
		return ExitUsage
	}
	fmt.Fprintf(stderr, "gp2gpctl mi report: %v\n", err)
	return ExitFailure
}

// runNATS runs "gp2gpctl nats auth …".
func runNATS(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] != "auth" {
		fmt.Fprintf(stderr, "gp2gpctl nats: the only nats command is auth\n\n%s", usage)
		return ExitUsage
	}
	fs := flag.NewFlagSet("nats auth", flag.ContinueOnError)
	fs.SetOutput(stderr)
	specFile := fs.String("spec", "", "the deployment's users: practices, vendors, operators (JSON)")
	format := fs.String("format", "helm", "helm: values for the NATS Helm chart; conf: nats-server configuration")
	var tls natsauth.TLS
	fs.StringVar(&tls.CertFile, "tls-cert", "", "conf: the server's certificate file")
	fs.StringVar(&tls.KeyFile, "tls-key", "", "conf: the server's key file")
	fs.StringVar(&tls.CAFile, "tls-ca", "", "conf: the CA of the clients' certificates")
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return ExitOK
		}
		return ExitUsage
	}
	if *specFile == "" || fs.NArg() > 0 || (*format != "helm" && *format != "conf") {
		fmt.Fprintln(stderr, "gp2gpctl nats auth: want -spec FILE and -format helm or conf")
		return ExitUsage
	}
	spec, err := natsauth.ReadSpecFile(*specFile)
	var users []natsauth.User
	if err == nil {
		users, err = spec.Users()
	}
	if err == nil {
		if *format == "helm" {
			err = natsauth.WriteHelmValues(stdout, users, natsauth.HelmHeader(*specFile))
		} else {
			var t *natsauth.TLS
			if tls != (natsauth.TLS{}) {
				t = &tls
			}
			err = natsauth.WriteServerConfig(stdout, users, t)
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "gp2gpctl nats auth: %v\n", err)
		return ExitFailure
	}
	return ExitOK
}

func runInspect(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("inspect", flag.ContinueOnError)
	fs.SetOutput(stderr)
	pretty := fs.Bool("pretty", false, "indent the JSON")
	if err := fs.Parse(args); err != nil {
		return ExitUsage
	}
	if fs.NArg() == 0 {
		fmt.Fprintln(stderr, "gp2gpctl inspect: name at least one file")
		return ExitUsage
	}
	code := ExitOK
	for _, file := range fs.Args() {
		if err := inspectFile(file, *pretty, stdout); err != nil {
			fmt.Fprintf(stderr, "gp2gpctl inspect: %s: %v\n", file, err)
			code = ExitFailure
		}
	}
	return code
}

func inspectFile(file string, pretty bool, stdout io.Writer) error {
	data, err := os.ReadFile(file)
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return err
	}
	r, err := inspect.Inspect(data)
	if err != nil {
		return err
	}
	r.File = file
	out, err := r.JSON(pretty)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(stdout, "%s\n", out)
	return err
}
