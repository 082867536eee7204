package service_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nhsengland/gp2gp/libs/bus"
	"github.com/nhsengland/gp2gp/libs/natsauth"
	"github.com/nhsengland/gp2gp/libs/natsauth/natsauthtest"
	"github.com/nhsengland/gp2gp/libs/service"
)

// clientFiles writes a CA and a client certificate for cn it issued.
func clientFiles(t *testing.T, cn string) natsauth.Files {
	t.Helper()
	return natsauthtest.ClientFiles(t, natsauthtest.NewCA(t, "test CA"), cn)
}

// tlsServer starts an embedded server with gp2gp's permission set, TLS
// and verify_and_map, its certificate issued by ca.
func tlsServer(t *testing.T, ca *natsauth.CA) *natsauthtest.Server {
	t.Helper()
	users, err := natsauth.Spec{Practices: []bus.Practice{{ODS: "A12345", ASID: "200000000101"}}}.Users()
	require.NoError(t, err)
	return natsauthtest.Start(t, users, ca)
}

func TestServiceConnectsOverTLSWithItsCertificate(t *testing.T) {
	ca := natsauthtest.NewCA(t, "deployment CA")
	srv := tlsServer(t, ca)
	files := natsauthtest.ClientFiles(t, ca, "gp2gp-acknowledger")

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
	srv := tlsServer(t, natsauthtest.NewCA(t, "impostor CA"))
	files := natsauthtest.ClientFiles(t, natsauthtest.NewCA(t, "deployment CA"), "gp2gp-acknowledger")

	cfg := service.Defaults()
	cfg.NATS = service.NATSConfig{URL: srv.URL(), TLSCAFile: files.CA, TLSCertFile: files.Cert, TLSKeyFile: files.Key}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	start := time.Now()
	_, err := service.Start(ctx, "acknowledger", cfg, service.WithLogOutput(os.Stderr))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "certificate signed by unknown authority")
	assert.Less(t, time.Since(start), 10*time.Second, "a TLS failure is not retried until the deadline")
}
