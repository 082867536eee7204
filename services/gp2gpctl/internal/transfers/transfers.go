// Package transfers is gp2gpctl's status and list commands: it reads
// transfer records from a deployment's JetStream and prints them for the
// on-call engineer, as text or JSON.
package transfers

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/nhsengland/gp2gp/libs/bus"
	"github.com/nhsengland/gp2gp/libs/service"
	"github.com/nhsengland/gp2gp/libs/service/ops"
	"github.com/nhsengland/gp2gp/libs/transfer"
	"github.com/nhsengland/gp2gp/services/gp2gpctl/internal/cli"
	"github.com/nhsengland/gp2gp/services/gp2gpctl/internal/natsconn"
)

// ErrUsage: the command line is wrong. What is wrong has been written to
// stderr already.
var ErrUsage = cli.ErrUsage

// ErrNotFound: no transfer has the conversation id asked for.
var ErrNotFound = errors.New("no transfer with conversation id")

// Status runs "gp2gpctl status CONVERSATION-ID [-json] [-nats URL]" with
// args after the command name.
func Status(ctx context.Context, cfg service.NATSConfig, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("status", flag.ContinueOnError)
	fs.SetOutput(stderr)
	asJSON := fs.Bool("json", false, "print JSON instead of text")
	fs.StringVar(&cfg.URL, "nats", cfg.URL, "NATS server URL (default from "+service.EnvNATSURL+")")
	ids, err := cli.Parse(fs, args)
	if err != nil {
		return err
	}
	if len(ids) != 1 {
		return usage(stderr, "status", "name one conversation id")
	}
	r, closeConn, err := open(ctx, cfg)
	if err != nil {
		return err
	}
	defer closeConn()
	st, err := ops.GetStatus(ctx, r, ids[0])
	if errors.Is(err, transfer.ErrNotFound) {
		return fmt.Errorf("%w %s (on either side)", ErrNotFound, transfer.NormalizeID(ids[0]))
	}
	if err != nil {
		return err
	}
	if *asJSON {
		return cli.WriteJSON(stdout, st)
	}
	return WriteStatus(stdout, st, time.Now())
}

// List runs "gp2gpctl list [-state S] [-practice ODS] [-stuck AGE] [-side
// SIDE] [-limit N] [-json] [-nats URL]" with args after the command name.
func List(ctx context.Context, cfg service.NATSConfig, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("list", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var f ops.Filter
	fs.StringVar(&f.State, "state", "", "a state (REQUEST_SENT, FAILED, …), active or terminal")
	fs.StringVar(&f.Practice, "practice", "", "an ODS code: the side's practice or its peer")
	fs.Func("stuck", "only sides not finished whose state has not changed for this long (24h, 3d)", func(s string) error {
		d, err := ops.ParseAge(s)
		f.Stuck = d
		return err
	})
	fs.Func("side", "requesting or sending", func(s string) error {
		f.Side = transfer.Side(s)
		if !f.Side.Valid() {
			return errors.New("want requesting or sending")
		}
		return nil
	})
	fs.IntVar(&f.Limit, "limit", ops.DefaultLimit, "show at most this many")
	asJSON := fs.Bool("json", false, "print JSON instead of text")
	fs.StringVar(&cfg.URL, "nats", cfg.URL, "NATS server URL (default from "+service.EnvNATSURL+")")
	rest, err := cli.Parse(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usage(stderr, "list", fmt.Sprintf("unexpected argument %q", rest[0]))
	}
	if f.Limit < 1 {
		return usage(stderr, "list", "-limit must be at least 1")
	}
	if err := f.Validate(); err != nil {
		return usage(stderr, "list", err.Error())
	}
	r, closeConn, err := open(ctx, cfg)
	if err != nil {
		return err
	}
	defer closeConn()
	res, err := r.List(ctx, f)
	if err != nil {
		return err
	}
	l := ops.NewTransferList(res)
	for _, k := range l.Unreadable {
		fmt.Fprintf(stderr, "gp2gpctl list: warning: cannot read the record under key %s\n", k)
	}
	if *asJSON {
		return cli.WriteJSON(stdout, l)
	}
	if len(l.Transfers) == 0 {
		fmt.Fprintln(stderr, "gp2gpctl list: no transfers match")
		return nil
	}
	return WriteList(stdout, l, time.Now())
}

// usage explains a wrong command line on stderr and returns ErrUsage.
func usage(stderr io.Writer, command, problem string) error {
	fmt.Fprintf(stderr, "gp2gpctl %s: %s (gp2gpctl help shows the usage)\n", command, problem)
	return ErrUsage
}

// open connects to NATS and returns a reader of the transfers bucket and
// a function that closes the connection.
func open(ctx context.Context, cfg service.NATSConfig) (*ops.KVTransferReader, func(), error) {
	d, err := connect(ctx, cfg)
	if err != nil {
		return nil, nil, err
	}
	return d.reader, d.close, nil
}

// deployment is a connection to a deployment's NATS: its bus, transfer
// store and a reader of its transfers.
type deployment struct {
	bus    *bus.Bus
	store  *transfer.Store
	reader *ops.KVTransferReader
	close  func()
}

func connect(ctx context.Context, cfg service.NATSConfig) (*deployment, error) {
	nc, err := natsconn.Dial(cfg)
	if err != nil {
		return nil, err
	}
	fail := func(err error) (*deployment, error) {
		nc.Close()
		return nil, err
	}
	js, err := jetstream.New(nc)
	if err != nil {
		return fail(fmt.Errorf("JetStream: %w", err))
	}
	kv, err := js.KeyValue(ctx, bus.BucketTransfers)
	if errors.Is(err, jetstream.ErrBucketNotFound) {
		return fail(fmt.Errorf("NATS at %s has no %s bucket: no gp2gp service has run there", natsconn.Redact(cfg.URL), bus.BucketTransfers))
	}
	if err != nil {
		return fail(fmt.Errorf("open bucket %s at %s: %w", bus.BucketTransfers, natsconn.Redact(cfg.URL), err))
	}
	b, err := bus.New(js)
	if err != nil {
		return fail(err)
	}
	store, err := transfer.NewStore(ctx, b)
	if err != nil {
		return fail(err)
	}
	r, err := ops.NewKVTransferReader(kv, store)
	if err != nil {
		return fail(err)
	}
	return &deployment{bus: b, store: store, reader: r, close: nc.Close}, nil
}
