// Package proc runs the processes of a fault-injection run: each one an OS
// process started from a binary with its own environment and log file,
// that can be killed with SIGKILL and started again, and whose memory is
// read from /proc while it runs.
package proc

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// Spec is how to start a process.
type Spec struct {
	// Name identifies the process in reports ("nats", "sender", …).
	Name string
	// Path is the binary; Args its arguments.
	Path string
	Args []string
	// Env is the whole environment of the process.
	Env []string
	// Log is the file standard output and error are appended to.
	Log string
}

// Exit is a process ending that nobody asked for.
type Exit struct {
	Name string
	PID  int
	// Err is what Wait returned (nil: exit status 0).
	Err error
	At  time.Time
}

// Process is one supervised process. Its methods are safe for concurrent
// use.
type Process struct {
	spec Spec

	mu     sync.Mutex
	cmd    *exec.Cmd
	done   chan struct{} // closed when the current process has been waited for
	ending bool          // the current process is being killed or stopped
	starts int
	kills  int
	// peakKiB is the highest VmHWM seen across every start.
	peakKiB int64
	// exits are the unexpected ends.
	exits []Exit
}

// New returns a process that is not started.
func New(spec Spec) *Process { return &Process{spec: spec} }

// Name is the spec's name.
func (p *Process) Name() string { return p.spec.Name }

// Start starts the process. It fails if it is already running.
func (p *Process) Start() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd != nil {
		return fmt.Errorf("proc: %s is already running (pid %d)", p.spec.Name, p.cmd.Process.Pid)
	}
	log, err := os.OpenFile(p.spec.Log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("proc: %s: log: %w", p.spec.Name, err)
	}
	cmd := exec.Command(p.spec.Path, p.spec.Args...)
	cmd.Env = p.spec.Env
	cmd.Stdout, cmd.Stderr = log, log
	// Its own process group, so a terminal's Ctrl-C reaches the harness
	// alone, which then stops everything in order.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		log.Close()
		return fmt.Errorf("proc: start %s: %w", p.spec.Name, err)
	}
	fmt.Fprintf(log, "--- chaos: started %s pid %d at %s\n", p.spec.Name, cmd.Process.Pid, time.Now().UTC().Format(time.RFC3339Nano))
	done := make(chan struct{})
	p.cmd, p.done, p.ending = cmd, done, false
	p.starts++
	go func() {
		err := cmd.Wait()
		log.Close()
		p.mu.Lock()
		defer p.mu.Unlock()
		if !p.ending {
			p.exits = append(p.exits, Exit{Name: p.spec.Name, PID: cmd.Process.Pid, Err: err, At: time.Now()})
		}
		if p.cmd == cmd {
			p.cmd = nil
		}
		close(done)
	}()
	return nil
}

// Running reports whether the process is running.
func (p *Process) Running() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cmd != nil
}

// PID is the running process's id, 0 when it is not running.
func (p *Process) PID() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil {
		return 0
	}
	return p.cmd.Process.Pid
}

// Kill sends SIGKILL to the running process and waits for it to end. Its
// peak memory is read first. Killing a process that is not running does
// nothing and returns false.
func (p *Process) Kill() bool {
	return p.end(syscall.SIGKILL, 0, true)
}

// Dump sends SIGQUIT, on which a Go program writes every goroutine's
// stack to its standard error (the log) and exits, and waits up to grace
// for it to end.
func (p *Process) Dump(grace time.Duration) {
	p.end(syscall.SIGQUIT, grace, false)
}

// Stop sends SIGTERM and waits up to grace for the process to end, then
// kills it.
func (p *Process) Stop(grace time.Duration) {
	p.end(syscall.SIGTERM, grace, false)
}

func (p *Process) end(sig syscall.Signal, grace time.Duration, counted bool) bool {
	p.mu.Lock()
	cmd, done := p.cmd, p.done
	if cmd == nil {
		p.mu.Unlock()
		return false
	}
	p.ending = true
	if counted {
		p.kills++
	}
	p.mu.Unlock()
	p.Sample()
	_ = cmd.Process.Signal(sig)
	if sig != syscall.SIGKILL {
		select {
		case <-done:
			return true
		case <-time.After(grace):
			_ = cmd.Process.Kill()
		}
	}
	<-done
	return true
}

// Memory is a reading of /proc/<pid>/status.
type Memory struct {
	// RSSKiB is VmRSS, PeakKiB VmHWM (the process's peak resident set).
	RSSKiB, PeakKiB int64
	Threads         int
}

// Sample reads the running process's memory and folds its peak into the
// process's peak across starts. ok is false when it is not running.
func (p *Process) Sample() (m Memory, ok bool) {
	pid := p.PID()
	if pid == 0 {
		return Memory{}, false
	}
	m, err := ReadMemory(pid)
	if err != nil {
		return Memory{}, false
	}
	p.mu.Lock()
	p.peakKiB = max(p.peakKiB, m.PeakKiB)
	p.mu.Unlock()
	return m, true
}

// Stats is what happened to the process over the run.
type Stats struct {
	Starts, Kills int
	// PeakKiB is the highest VmHWM seen over every start.
	PeakKiB int64
	// Exits are the ends nobody asked for.
	Exits []Exit
}

// Stats returns the process's counts so far.
func (p *Process) Stats() Stats {
	p.mu.Lock()
	defer p.mu.Unlock()
	return Stats{Starts: p.starts, Kills: p.kills, PeakKiB: p.peakKiB, Exits: append([]Exit(nil), p.exits...)}
}

// ReadMemory reads VmRSS, VmHWM and Threads of process pid.
func ReadMemory(pid int) (Memory, error) {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return Memory{}, err
	}
	var m Memory
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		key, val, ok := bytes.Cut(sc.Bytes(), []byte(":"))
		if !ok {
			continue
		}
		fields := bytes.Fields(val)
		if len(fields) == 0 {
			continue
		}
		n, err := strconv.ParseInt(string(fields[0]), 10, 64)
		if err != nil {
			continue
		}
		switch string(key) {
		case "VmRSS":
			m.RSSKiB = n
		case "VmHWM":
			m.PeakKiB = n
		case "Threads":
			m.Threads = int(n)
		}
	}
	if m.RSSKiB == 0 && m.PeakKiB == 0 {
		return Memory{}, errors.New("proc: no VmRSS in /proc/" + strconv.Itoa(pid) + "/status")
	}
	return m, nil
}
