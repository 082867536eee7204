// Command sender runs the gp2gp sender service. It is configured
// from the environment (see the README) and stops cleanly on SIGINT or
// SIGTERM.
package main

import (
	"github.com/nhsengland/gp2gp/libs/service"
	"github.com/nhsengland/gp2gp/services/sender"
)

func main() { service.Main(sender.ConfigFromEnv, sender.Run) }
