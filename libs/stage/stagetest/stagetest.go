// Package stagetest configures transfer stages for tests: the dev
// directory's two practices on an embedded NATS server, loopback Spine.
package stagetest

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

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

// Start runs a stage (run, its Run with the test's configuration) until the
// test ends, when it must stop cleanly, and returns once every consumer of
// its topology topo exists on js, so that what the test publishes next is
// consumed.
func Start(t testing.TB, ctx context.Context, js jetstream.JetStream, topo bus.Topology, run func(context.Context) error) {
	t.Helper()
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- run(runCtx) }()
	t.Cleanup(func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("stage stopped with %v", err)
		}
	})
	for _, c := range topo.Consumers {
		for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(10 * time.Millisecond) {
			if _, err := js.Consumer(ctx, c.Stream, c.Durable); err == nil {
				break
			} else if time.Now().After(deadline) {
				t.Fatalf("consumer %s: %v", c.Durable, err)
			}
		}
	}
}
