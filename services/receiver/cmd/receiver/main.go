// Command receiver runs the gp2gp receiver service. It is configured
// from the environment (see the README) and stops cleanly on SIGINT or
// SIGTERM.
package main

import (
	"github.com/nhsengland/gp2gp/libs/service"
	"github.com/nhsengland/gp2gp/services/receiver"
)

func main() { service.Main(receiver.ConfigFromEnv, receiver.Run) }
