package service_test

import (
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nhsengland/gp2gp/libs/bus"
	"github.com/nhsengland/gp2gp/libs/service"
)

func env(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestLoadDefaults(t *testing.T) {
	c, err := service.Load(env(nil))
	require.NoError(t, err)
	assert.Equal(t, service.Defaults(), c)
	assert.Equal(t, "nats://127.0.0.1:4222", c.NATS.URL)
	assert.Equal(t, bus.DevProfile, c.Profile)
	require.NoError(t, c.Validate())
	require.ErrorContains(t, c.RequirePractices(), "GP2GP_PRACTICES is required")
}

func TestLoadEverything(t *testing.T) {
	files := clientFiles(t, "gp2gp-requester")
	creds := filepath.Join(t.TempDir(), "nats.creds")
	require.NoError(t, os.WriteFile(creds, []byte("creds"), 0o600))
	c, err := service.Load(env(map[string]string{
		"GP2GP_NATS_URL":         "tls://nats.gp2gp.svc:4222",
		"GP2GP_NATS_CREDS":       creds,
		"GP2GP_NATS_TLS_CA":      files.CA,
		"GP2GP_NATS_TLS_CERT":    files.Cert,
		"GP2GP_NATS_TLS_KEY":     files.Key,
		"GP2GP_PRACTICES":        " a12345:200000000101 , B86041:200000000102",
		"GP2GP_CONSUMER_GROUP":   "north",
		"GP2GP_PROFILE":          "prod",
		"GP2GP_OTLP_ENDPOINT":    "http://collector:4318/v1/traces",
		"GP2GP_LOG_LEVEL":        "debug",
		"GP2GP_LOG_FORMAT":       "text",
		"GP2GP_SHUTDOWN_TIMEOUT": "45s",
	}))
	require.NoError(t, err)
	require.NoError(t, c.RequirePractices())
	assert.Equal(t, service.NATSConfig{URL: "tls://nats.gp2gp.svc:4222", CredsFile: creds,
		TLSCAFile: files.CA, TLSCertFile: files.Cert, TLSKeyFile: files.Key}, c.NATS)
	assert.Equal(t, []bus.Practice{{ODS: "A12345", ASID: "200000000101"}, {ODS: "B86041", ASID: "200000000102"}}, c.Practices)
	assert.Equal(t, "north", c.ConsumerGroup)
	assert.Equal(t, bus.ProdProfile, c.Profile)
	assert.Equal(t, slog.LevelDebug, c.LogLevel)
	assert.Equal(t, "text", c.LogFormat)
	assert.Equal(t, 45*time.Second, c.ShutdownTimeout)
}

func TestLoadAndValidateReportClearErrors(t *testing.T) {
	cases := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"practice without ASID", map[string]string{"GP2GP_PRACTICES": "A12345"}, "want ODS:ASID"},
		{"bad ODS", map[string]string{"GP2GP_PRACTICES": "A1:200000000101"}, "ODS code must be 3 to 10"},
		{"bad ASID", map[string]string{"GP2GP_PRACTICES": "A12345:12ab"}, "ASID must be 1 to 20 digits"},
		{"duplicate practice", map[string]string{"GP2GP_PRACTICES": "A12345:1,A12345:2"}, "listed twice"},
		{"unknown profile", map[string]string{"GP2GP_PROFILE": "staging"}, "unknown profile"},
		{"bad level", map[string]string{"GP2GP_LOG_LEVEL": "loud"}, "GP2GP_LOG_LEVEL"},
		{"bad duration", map[string]string{"GP2GP_SHUTDOWN_TIMEOUT": "soon"}, "GP2GP_SHUTDOWN_TIMEOUT"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := service.Load(env(tc.env))
			require.ErrorContains(t, err, tc.want)
		})
	}

	invalid := []struct {
		name   string
		modify func(*service.Config)
		want   string
	}{
		{"cert without key", func(c *service.Config) { c.NATS.TLSCertFile = "cert.pem" }, "go together"},
		{"group", func(c *service.Config) { c.ConsumerGroup = "North Region" }, "GP2GP_CONSUMER_GROUP"},
		{"log format", func(c *service.Config) { c.LogFormat = "xml" }, "want json or text"},
		{"no NATS", func(c *service.Config) { c.NATS.URL = "" }, "GP2GP_NATS_URL is required"},
		{"missing CA file", func(c *service.Config) { c.NATS.TLSCAFile = "/nonexistent/ca.crt" }, "GP2GP_NATS_TLS_CA: open /nonexistent/ca.crt"},
		{"CA file without certificates", func(c *service.Config) { c.NATS.TLSCAFile = "config_test.go" }, "GP2GP_NATS_TLS_CA: config_test.go holds no PEM certificate"},
		{"unusable client key pair", func(c *service.Config) { c.NATS.TLSCertFile, c.NATS.TLSKeyFile = "config_test.go", "config_test.go" }, "GP2GP_NATS_TLS_CERT/GP2GP_NATS_TLS_KEY"},
		{"missing credentials", func(c *service.Config) { c.NATS.CredsFile = "/nonexistent/user.creds" }, "GP2GP_NATS_CREDS: stat /nonexistent/user.creds"},
		{"bad inbox prefix", func(c *service.Config) { c.NATS.InboxPrefix = "_INBOX.>" }, "GP2GP_NATS_INBOX_PREFIX"},
	}
	for _, tc := range invalid {
		t.Run(tc.name, func(t *testing.T) {
			c := service.Defaults()
			tc.modify(&c)
			require.ErrorContains(t, c.Validate(), tc.want)
		})
	}
}
