// Command devstack runs the whole gp2gp system in one process: an embedded
// NATS server with JetStream and every service. `make run` starts it.
// Stop it with Ctrl-C; its data stays in GP2GP_DATA_DIR (default
// ./.devstack) for the next run.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/nhsengland/gp2gp/services/devstack"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func run() error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cfg, err := devstack.ConfigFromEnv()
	if err != nil {
		return err
	}
	return devstack.Run(ctx, cfg, func(url string) {
		fmt.Fprintf(os.Stderr, "gp2gp dev stack: NATS with JetStream at %s (data in %s); Ctrl-C to stop\n", url, cfg.DataDir)
	})
}
