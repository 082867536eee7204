package service_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nhsengland/gp2gp/libs/bus"
	"github.com/nhsengland/gp2gp/libs/natsauth"
	"github.com/nhsengland/gp2gp/libs/natsembed"
	"github.com/nhsengland/gp2gp/libs/service"
)

// clientFiles writes a CA and a client certificate for cn it issued.
func clientFiles(t *testing.T, cn string) natsauth.Files {
	t.Helper()
	ca, err := natsauth.NewCA("test CA", time.Hour)
	require.NoError(t, err)
	kp, err := ca.IssueClient(cn, time.Hour)
	require.NoError(t, err)
	files, err := ca.Write(t.TempDir(), cn, kp)
	require.NoError(t, err)
	return files
}

// tlsServer starts an embedded server with gp2gp's permission set, TLS
// and verify_and_map, its certificate issued by ca.
func tlsServer(t *testing.T, ca *natsauth.CA) *natsembed.Server {
	t.Helper()
	users, err := natsauth.Spec{Practices: []bus.Practice{{ODS: "A12345", ASID: "200000000101"}}}.Users()
	require.NoError(t, err)
	dir := t.TempDir()
	kp, err := ca.IssueServer("nats", []string{"127.0.0.1"}, time.Hour)
	require.NoError(t, err)
	files, err := ca.Write(dir, "server", kp)
	require.NoError(t, err)
	conf := filepath.Join(dir, "nats.conf")
	f, err := os.Create(conf)
	require.NoError(t, err)
	require.NoError(t, natsauth.WriteServerConfig(f, users, &natsauth.TLS{CertFile: files.Cert, KeyFile: files.Key, CAFile: files.CA}))
	require.NoError(t, f.Close())
	srv, err := natsembed.Start(natsembed.Options{StoreDir: filepath.Join(dir, "js"), ConfigFile: conf})
	require.NoError(t, err)
	t.Cleanup(srv.Shutdown)
	return srv
}

func TestServiceConnectsOverTLSWithItsCertificate(t *testing.T) {
	ca, err := natsauth.NewCA("deployment CA", time.Hour)
	require.NoError(t, err)
	srv := tlsServer(t, ca)
	kp, err := ca.IssueClient("gp2gp-acknowledger", time.Hour)
	require.NoError(t, err)
	files, err := ca.Write(t.TempDir(), "acknowledger", kp)
	require.NoError(t, err)

	cfg := service.Defaults()
	cfg.NATS = service.NATSConfig{URL: srv.URL(), TLSCAFile: files.CA, TLSCertFile: files.Cert, TLSKeyFile: files.Key}
	cfg.Practices = []bus.Practice{{ODS: "A12345", ASID: "200000000101"}}
	require.NoError(t, cfg.RequirePractices())
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	rt, err := service.Start(ctx, "acknowledger", cfg, service.WithLogOutput(os.Stderr))
	require.NoError(t, err)
	defer rt.Close(ctx)
	assert.True(t, rt.Conn.TLSRequired())
	// Its permissions hold: it can ensure its own topology.
	require.NoError(t, bus.Ensure(ctx, rt.JS, bus.DevProfile, bus.AcknowledgerTopology("", cfg.Practices)))
}

func TestServiceRefusesAServerWithTheWrongCertificate(t *testing.T) {
	deployment, err := natsauth.NewCA("deployment CA", time.Hour)
	require.NoError(t, err)
	impostor, err := natsauth.NewCA("impostor CA", time.Hour)
	require.NoError(t, err)
	srv := tlsServer(t, impostor)
	kp, err := deployment.IssueClient("gp2gp-acknowledger", time.Hour)
	require.NoError(t, err)
	files, err := deployment.Write(t.TempDir(), "acknowledger", kp)
	require.NoError(t, err)

	cfg := service.Defaults()
	cfg.NATS = service.NATSConfig{URL: srv.URL(), TLSCAFile: files.CA, TLSCertFile: files.Cert, TLSKeyFile: files.Key}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	start := time.Now()
	_, err = service.Start(ctx, "acknowledger", cfg, service.WithLogOutput(os.Stderr))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "certificate signed by unknown authority")
	assert.Less(t, time.Since(start), 10*time.Second, "a TLS failure is not retried until the deadline")
}
