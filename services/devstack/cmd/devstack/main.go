// Command devstack runs the whole gp2gp system in one process: an embedded
// NATS server with JetStream, every service and two simulated practices,
// and performs one transfer you can watch. `make run` starts it. Stop it
// with Ctrl-C; its data stays in GP2GP_DATA_DIR (default ./.devstack) for
// the next run.
//
// `devstack register [-nats URL] [-wait D] [NHS-NUMBER]` starts another
// transfer on a running dev stack: the patient's current practice
// registers them, and the transfer's timeline is printed when it ends.
// With GP2GP_DEV_SECURITY=true it connects with the certificates the
// secure dev stack wrote to GP2GP_DATA_DIR/tls.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/nhsengland/gp2gp/libs/service"
	"github.com/nhsengland/gp2gp/services/devstack"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "register" {
		os.Exit(register(os.Args[2:]))
	}
	service.Main(devstack.ConfigFromEnv, func(ctx context.Context, cfg devstack.Config, opts ...devstack.Option) error {
		return devstack.Run(ctx, cfg, append(opts, devstack.WithReady(func(url string) {
			fmt.Fprintf(os.Stderr, "gp2gp dev stack: NATS with JetStream at %s (data in %s); Ctrl-C to stop\n", url, cfg.DataDir)
		}))...)
	})
}

func register(args []string) int {
	fs := flag.NewFlagSet("register", flag.ContinueOnError)
	url := fs.String("nats", envOr(service.EnvNATSURL, "nats://127.0.0.1:4222"), "the dev stack's NATS URL")
	wait := fs.Duration("wait", 30*time.Second, "how long to wait for the transfer to finish")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: devstack register [-nats URL] [-wait D] [NHS-NUMBER]\n\n"+
			"Registers a dev patient (default: the first) at their current practice on a running dev stack\n"+
			"and prints the transfer's timeline when it ends.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 1 {
		fs.Usage()
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	tlsDir := ""
	if secure, _ := strconv.ParseBool(os.Getenv(devstack.EnvSecurity)); secure {
		tlsDir = devstack.TLSDir(envOr(devstack.EnvDataDir, ".devstack"))
	}
	if _, err := devstack.Register(ctx, *url, tlsDir, fs.Arg(0), *wait, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "devstack register:", err)
		return 1
	}
	return 0
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}
