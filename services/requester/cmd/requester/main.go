// Command requester runs the gp2gp requester service. It is configured
// from the environment (see the README) and stops cleanly on SIGINT or
// SIGTERM.
package main

import (
	"github.com/nhsengland/gp2gp/libs/service"
	"github.com/nhsengland/gp2gp/services/requester"
)

func main() { service.Main(requester.ConfigFromEnv, requester.Run) }
