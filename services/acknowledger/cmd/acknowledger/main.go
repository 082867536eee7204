// Command acknowledger runs the gp2gp acknowledger service. It is configured
// from the environment (see the README) and stops cleanly on SIGINT or
// SIGTERM.
package main

import (
	"github.com/nhsengland/gp2gp/libs/service"
	"github.com/nhsengland/gp2gp/services/acknowledger"
)

func main() { service.Main(acknowledger.ConfigFromEnv, acknowledger.Run) }
