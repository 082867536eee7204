// Package natsembed runs a nats-server with JetStream inside the current
// process. The dev stack uses it to run the whole system with no other
// install, and package natstest wraps it for tests.
//
// Production binaries never import this package: they connect to an
// external NATS cluster.
package natsembed

import (
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// Options configures an embedded server.
type Options struct {
	// Host to listen on. Defaults to 127.0.0.1: an embedded server is for one
	// machine.
	Host string
	// Port to listen on; -1 picks a free port. Defaults to -1.
	Port int
	// StoreDir holds JetStream's file store. Required.
	StoreDir string
	// SyncAlways makes JetStream fsync every write before acknowledging it
	// (the production setting sync_interval: always). Slower; off by
	// default for tests.
	SyncAlways bool
	// ServerName appears in logs and server info. Defaults to "gp2gp-embedded".
	ServerName string
	// ReadyTimeout bounds the wait for the server to accept connections.
	// Defaults to 10s.
	ReadyTimeout time.Duration
	// Logger, when set, receives the server's own log lines.
	Logger server.Logger
	// ConfigFile, when set, is a nats-server configuration file (for
	// example the TLS and authorization blocks gp2gp's permission set
	// renders) read before the options above, which override it.
	ConfigFile string
}

// Server is a running embedded nats-server.
type Server struct {
	srv *server.Server
}

// Start starts a nats-server with JetStream and waits until it accepts
// connections.
func Start(opts Options) (*Server, error) {
	if opts.StoreDir == "" {
		return nil, errors.New("natsembed: StoreDir is required")
	}
	if opts.Host == "" {
		opts.Host = "127.0.0.1"
	}
	if opts.Port == 0 {
		opts.Port = -1
	}
	if opts.ServerName == "" {
		opts.ServerName = "gp2gp-embedded"
	}
	if opts.ReadyTimeout <= 0 {
		opts.ReadyTimeout = 10 * time.Second
	}
	so := &server.Options{}
	if opts.ConfigFile != "" {
		var err error
		if so, err = server.ProcessConfigFile(opts.ConfigFile); err != nil {
			return nil, fmt.Errorf("natsembed: %w", err)
		}
	}
	so.ServerName, so.Host, so.Port = opts.ServerName, opts.Host, opts.Port
	so.JetStream, so.StoreDir, so.SyncAlways = true, opts.StoreDir, opts.SyncAlways
	so.NoSigs, so.NoLog = true, opts.Logger == nil
	srv, err := server.NewServer(so)
	if err != nil {
		return nil, fmt.Errorf("natsembed: configure server: %w", err)
	}
	if opts.Logger != nil {
		srv.SetLoggerV2(opts.Logger, false, false, false)
	}
	srv.Start()
	if !srv.ReadyForConnections(opts.ReadyTimeout) {
		srv.Shutdown()
		return nil, fmt.Errorf("natsembed: server not ready after %s", opts.ReadyTimeout)
	}
	return &Server{srv: srv}, nil
}

// URL is the client URL of the server, for nats.Connect.
func (s *Server) URL() string { return s.srv.ClientURL() }

// Port is the client port the server listens on.
func (s *Server) Port() int { return s.srv.Addr().(*net.TCPAddr).Port }

// Shutdown stops the server and waits for it to finish.
func (s *Server) Shutdown() {
	s.srv.Shutdown()
	s.srv.WaitForShutdown()
}
