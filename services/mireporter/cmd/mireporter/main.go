// Command mireporter runs the gp2gp mireporter service. It is configured
// from the environment (see the README) and stops cleanly on SIGINT or
// SIGTERM.
package main

import (
	"github.com/nhsengland/gp2gp/libs/service"
	"github.com/nhsengland/gp2gp/services/mireporter"
)

func main() { service.Main(mireporter.ConfigFromEnv, mireporter.Run) }
