// Command chaos runs gp2gp's fault-injection harness (chaos, the default)
// or its soak (soak): see package chaos and the README's "Reliability:
// chaos and soak". It exits 0 when every check passed, 1 when one failed
// or the run could not be carried out, 2 for a usage error.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/nhsengland/gp2gp/services/chaos"
)

func main() { os.Exit(run()) }

func run() int {
	cfg, err := chaos.Load(os.Args[1:], os.LookupEnv, os.Stderr)
	switch {
	case errors.Is(err, flag.ErrHelp):
		return 0
	case err != nil:
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if _, err := chaos.Run(ctx, cfg); err != nil {
		if !errors.Is(err, chaos.ErrChecksFailed) {
			fmt.Fprintln(os.Stderr, err)
		}
		return 1
	}
	return 0
}
