// Command receiver runs the gp2gp receiver service. It is configured
// from the environment (see the README) and stops cleanly on SIGINT or
// SIGTERM.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/nhsengland/gp2gp/services/receiver"
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
	cfg, err := receiver.ConfigFromEnv()
	if err != nil {
		return fmt.Errorf("receiver: %w", err)
	}
	return receiver.Run(ctx, cfg)
}
