// Command acknowledger runs the gp2gp acknowledger service. It is configured
// from the environment (see the README) and stops cleanly on SIGINT or
// SIGTERM.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/nhsengland/gp2gp/services/acknowledger"
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
	cfg, err := acknowledger.ConfigFromEnv()
	if err != nil {
		return fmt.Errorf("acknowledger: %w", err)
	}
	return acknowledger.Run(ctx, cfg)
}
