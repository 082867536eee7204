// Package stagetest configures transfer stages for tests: the dev
// directory's two practices on an embedded NATS server, loopback Spine.
package stagetest

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/nhsengland/gp2gp/libs/bus"
	"github.com/nhsengland/gp2gp/libs/directory/devdirectory"
	"github.com/nhsengland/gp2gp/libs/service"
	"github.com/nhsengland/gp2gp/libs/spine"
	"github.com/nhsengland/gp2gp/libs/stage"
)

// Practices are the dev directory's practices.
var Practices = []bus.Practice{{ODS: "A12345", ASID: "200000000101"}, {ODS: "B86041", ASID: "200000000102"}}

// Config is a stage configuration for natsURL serving Practices, with the
// dev directory written to a file of the test's.
func Config(t testing.TB, natsURL string) stage.Config {
	t.Helper()
	path := filepath.Join(t.TempDir(), "directory.json")
	if err := os.WriteFile(path, devdirectory.JSON(), 0o600); err != nil {
		t.Fatal(err)
	}
	sp, err := spine.LoadConfig(func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	sc := service.Defaults()
	sc.NATS.URL = natsURL
	sc.Practices = Practices
	return stage.Config{
		Service:   sc,
		Spine:     sp,
		Directory: stage.DirectoryConfig{File: path},
		TimerPoll: 50 * time.Millisecond,
	}
}
