// Package natsauthtest runs an embedded nats-server with gp2gp's
// permission set, TLS and verify_and_map for a test, and issues the client
// certificates of its users, in the manner of natstest.
package natsauthtest

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/nhsengland/gp2gp/libs/natsauth"
	"github.com/nhsengland/gp2gp/libs/natsembed"
)

// Server is a running secure test server and the CA that issued its
// certificate.
type Server struct {
	*natsembed.Server
	CA *natsauth.CA
	// CAFile is the CA certificate clients verify the server with.
	CAFile string
}

// Start starts a server for t with users, its certificate issued by ca (a
// new CA if nil) for 127.0.0.1 and localhost; t.Cleanup stops it.
func Start(t testing.TB, users []natsauth.User, ca *natsauth.CA) *Server {
	t.Helper()
	if ca == nil {
		ca = NewCA(t, "gp2gp test CA")
	}
	dir := t.TempDir()
	kp, err := ca.IssueServer("nats", []string{"127.0.0.1", "localhost"}, time.Hour)
	check(t, err)
	files, err := ca.Write(filepath.Join(dir, "tls"), "server", kp)
	check(t, err)
	conf := filepath.Join(dir, "nats.conf")
	f, err := os.Create(conf)
	check(t, err)
	check(t, natsauth.WriteServerConfig(f, users, &natsauth.TLS{CertFile: files.Cert, KeyFile: files.Key, CAFile: files.CA}))
	check(t, f.Close())
	srv, err := natsembed.Start(natsembed.Options{StoreDir: filepath.Join(dir, "js"), ConfigFile: conf})
	check(t, err)
	t.Cleanup(srv.Shutdown)
	return &Server{Server: srv, CA: ca, CAFile: files.CA}
}

// NewCA makes a CA valid for an hour.
func NewCA(t testing.TB, cn string) *natsauth.CA {
	t.Helper()
	ca, err := natsauth.NewCA(cn, time.Hour)
	check(t, err)
	return ca
}

// ClientFiles writes a client certificate for cn issued by ca, its key and
// the CA certificate into a temporary directory.
func ClientFiles(t testing.TB, ca *natsauth.CA, cn string) natsauth.Files {
	t.Helper()
	kp, err := ca.IssueClient(cn, time.Hour)
	check(t, err)
	files, err := ca.Write(t.TempDir(), cn, kp)
	check(t, err)
	return files
}

// ClientFiles is ClientFiles with the server's CA.
func (s *Server) ClientFiles(t testing.TB, cn string) natsauth.Files {
	t.Helper()
	return ClientFiles(t, s.CA, cn)
}

func check(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("natsauthtest: %v", err)
	}
}
