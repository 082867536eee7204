package chaos

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/nhsengland/gp2gp/services/chaos/internal/proc"
)

// Broker is the name of the NATS server's process; the services are
// named as their binaries.
const Broker = "nats"

// Services are the five gp2gp services, each run as its own process.
var Services = []string{"requester", "sender", "receiver", "acknowledger", "mireporter"}

// cluster is the broker and the services, each an OS process on the
// loopback interface.
type cluster struct {
	dir     string
	natsURL string
	procs   map[string]*proc.Process
	// ops are the services' ops endpoints (host:port).
	ops map[string]string
}

// targets are the processes a kill can hit, in report order.
func targets() []string { return append([]string{Broker}, Services...) }

// findRoot is the directory holding go.work, from dir upwards.
func findRoot(dir string) (string, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.work")); err == nil {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("chaos: no go.work in %s or above it: run from the repository, or pass -root", dir)
		}
	}
}

// build compiles the five services and a nats-server into bin.
func build(ctx context.Context, root, bin string) error {
	pkgs := make([]string, len(Services))
	for i, s := range Services {
		pkgs[i] = "./services/" + s + "/cmd/" + s
	}
	steps := []struct {
		dir  string
		args []string
	}{
		{root, append([]string{"build", "-o", bin + string(filepath.Separator)}, pkgs...)},
		// The server from the module (a tool of this module), the same
		// code the production images of NATS run.
		{filepath.Join(root, "services", "chaos"), []string{"build", "-o", filepath.Join(bin, "nats-server"), "github.com/nats-io/nats-server/v2"}},
	}
	for _, s := range steps {
		cmd := exec.CommandContext(ctx, "go", s.args...)
		cmd.Dir = s.dir
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("chaos: go %s: %w\n%s", strings.Join(s.args, " "), err, out)
		}
	}
	return nil
}

// freePort is a TCP port on 127.0.0.1 nothing listens on now.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// newCluster writes the broker's configuration and the directory file
// into dir and prepares (without starting) every process.
func newCluster(dir, bin string, w *workload, splitThreshold int) (*cluster, error) {
	for _, d := range []string{"store", "logs"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o700); err != nil {
			return nil, err
		}
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	c := &cluster{dir: dir, natsURL: "nats://127.0.0.1:" + strconv.Itoa(port), procs: map[string]*proc.Process{}, ops: map[string]string{}}
	// The production profile of the store: every write synced before it
	// is acknowledged.
	conf := fmt.Sprintf("server_name: chaos\nlisten: 127.0.0.1:%d\njetstream {\n  store_dir: %q\n  sync_interval: always\n}\n",
		port, filepath.Join(dir, "store"))
	confPath := filepath.Join(dir, "nats.conf")
	if err := os.WriteFile(confPath, []byte(conf), 0o600); err != nil {
		return nil, err
	}
	dirPath := filepath.Join(dir, "directory.json")
	if err := w.writeDirectory(dirPath); err != nil {
		return nil, err
	}
	c.procs[Broker] = proc.New(proc.Spec{Name: Broker, Path: filepath.Join(bin, "nats-server"), Args: []string{"-c", confPath},
		Env: baseEnv(), Log: filepath.Join(dir, "logs", "nats.log")})

	practices := make([]string, len(w.practices))
	for i, p := range w.practices {
		practices[i] = p.ODS + ":" + p.ASID
	}
	for _, s := range Services {
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		c.ops[s] = "127.0.0.1:" + strconv.Itoa(port)
		env := append(baseEnv(),
			"GP2GP_NATS_URL="+c.natsURL,
			"GP2GP_PRACTICES="+strings.Join(practices, ","),
			"GP2GP_DIRECTORY_FILE="+dirPath,
			"GP2GP_OPS_ADDR="+c.ops[s],
			"GP2GP_LOG_FORMAT=json",
			"GP2GP_SHUTDOWN_TIMEOUT=5s",
			"GP2GP_TIMER_POLL=30s",
		)
		if s == "sender" && splitThreshold > 0 {
			env = append(env, "GP2GP_SPLIT_THRESHOLD="+strconv.Itoa(splitThreshold))
		}
		c.procs[s] = proc.New(proc.Spec{Name: s, Path: filepath.Join(bin, s), Env: env, Log: filepath.Join(dir, "logs", s+".log")})
	}
	return c, nil
}

// baseEnv is the harness's environment without any GP2GP_ variable, so
// that nothing of the caller's configuration leaks into the services.
func baseEnv() []string {
	return slices.DeleteFunc(os.Environ(), func(kv string) bool { return strings.HasPrefix(kv, "GP2GP_") })
}

// startBroker starts the NATS server and waits until it accepts
// connections.
func (c *cluster) startBroker(ctx context.Context) error {
	if err := c.procs[Broker].Start(); err != nil {
		return err
	}
	addr := strings.TrimPrefix(c.natsURL, "nats://")
	for {
		conn, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			conn.Close()
			return nil
		}
		if !c.procs[Broker].Running() {
			return fmt.Errorf("chaos: the NATS server stopped while starting (see %s)", filepath.Join(c.dir, "logs", "nats.log"))
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// start starts the process called name, waiting for the broker to accept
// connections when it is the broker.
func (c *cluster) start(ctx context.Context, name string) error {
	if name == Broker {
		return c.startBroker(ctx)
	}
	return c.procs[name].Start()
}

// waitReady waits until every service's /readyz answers 200 (connected,
// streams present).
func (c *cluster) waitReady(ctx context.Context, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	client := &http.Client{Timeout: 2 * time.Second}
	for _, s := range Services {
		for {
			err := get(ctx, client, "http://"+c.ops[s]+"/readyz")
			if err == nil {
				break
			}
			if !c.procs[s].Running() {
				return fmt.Errorf("chaos: %s stopped while starting (see %s)", s, filepath.Join(c.dir, "logs", s+".log"))
			}
			select {
			case <-ctx.Done():
				return fmt.Errorf("chaos: %s not ready: %w", s, err)
			case <-time.After(100 * time.Millisecond):
			}
		}
	}
	return nil
}

func get(ctx context.Context, client *http.Client, url string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return errors.New(resp.Status)
	}
	return nil
}

// stop stops the services (SIGTERM, so they drain), then the broker.
func (c *cluster) stop() {
	done := make(chan struct{})
	for _, s := range Services {
		go func() {
			c.procs[s].Stop(10 * time.Second)
			done <- struct{}{}
		}()
	}
	for range Services {
		<-done
	}
	c.procs[Broker].Stop(10 * time.Second)
}
