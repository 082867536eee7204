// Package natstest runs an embedded nats-server with JetStream for a test,
// on a random port with its own store directory, and cleans it up when the
// test ends, in the manner of net/http/httptest.
package natstest

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/nhsengland/gp2gp/libs/natsembed"
)

// Server is a running test server.
type Server struct {
	*natsembed.Server
	t        testing.TB
	storeDir string
}

// NewServer starts a JetStream server for t; t.Cleanup stops it.
func NewServer(t testing.TB) *Server {
	t.Helper()
	dir := t.TempDir()
	srv, err := natsembed.Start(natsembed.Options{StoreDir: dir, ServerName: "natstest"})
	if err != nil {
		t.Fatalf("natstest: start server: %v", err)
	}
	s := &Server{Server: srv, t: t, storeDir: dir}
	// The server outlives every cleanup registered after it, also when
	// Restart has replaced it.
	t.Cleanup(func() { s.Server.Shutdown() })
	return s
}

// Restart stops the server and starts a new one on the same port and store
// directory, simulating a broker restart: clients reconnect by themselves.
func (s *Server) Restart() {
	s.t.Helper()
	port := s.Port()
	s.Server.Shutdown()
	srv, err := natsembed.Start(natsembed.Options{StoreDir: s.storeDir, ServerName: "natstest", Port: port})
	if err != nil {
		s.t.Fatalf("natstest: restart server: %v", err)
	}
	s.Server = srv
}

// Connect opens a client connection to the server, closed when the test
// ends.
func (s *Server) Connect() *nats.Conn {
	s.t.Helper()
	nc, err := nats.Connect(s.URL(), nats.Name(s.t.Name()))
	if err != nil {
		s.t.Fatalf("natstest: connect: %v", err)
	}
	s.t.Cleanup(nc.Close)
	return nc
}

// JetStream opens a client connection and returns its JetStream context.
func (s *Server) JetStream() jetstream.JetStream {
	s.t.Helper()
	js, err := jetstream.New(s.Connect())
	if err != nil {
		s.t.Fatalf("natstest: jetstream: %v", err)
	}
	return js
}

// Context returns a context cancelled when the test ends or after the
// timeout, whichever is first.
func Context(t testing.TB, timeout time.Duration) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	t.Cleanup(cancel)
	return ctx
}
