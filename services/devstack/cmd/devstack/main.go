// Command devstack runs the whole gp2gp system in one process: an embedded
// NATS server with JetStream, every service and two simulated practices,
// and performs one transfer you can watch. `make run` starts it. Stop it
// with Ctrl-C; its data stays in GP2GP_DATA_DIR (default ./.devstack) for
// the next run.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/nhsengland/gp2gp/libs/service"
	"github.com/nhsengland/gp2gp/services/devstack"
)

func main() {
	service.Main(devstack.ConfigFromEnv, func(ctx context.Context, cfg devstack.Config, opts ...devstack.Option) error {
		return devstack.Run(ctx, cfg, append(opts, devstack.WithReady(func(url string) {
			fmt.Fprintf(os.Stderr, "gp2gp dev stack: NATS with JetStream at %s (data in %s); Ctrl-C to stop\n", url, cfg.DataDir)
		}))...)
	})
}
