// Package natsconn is how gp2gpctl's commands reach a deployment's NATS:
// one connection attempt with the configured credentials, TLS files and
// inbox prefix, and URLs shown without their secrets.
package natsconn

import (
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/nhsengland/gp2gp/libs/service"
)

// ConnectTimeout bounds connecting to NATS.
const ConnectTimeout = 5 * time.Second

// Dial connects once (no reconnects: a command is short-lived) as cfg
// says, with extra options.
func Dial(cfg service.NATSConfig, extra ...nats.Option) (*nats.Conn, error) {
	auth, err := cfg.ClientOptions("")
	if err != nil {
		return nil, err
	}
	opts := append([]nats.Option{nats.Name("gp2gpctl"), nats.Timeout(ConnectTimeout), nats.NoReconnect()}, extra...)
	nc, err := nats.Connect(cfg.URL, append(opts, auth...)...)
	if err != nil {
		return nil, fmt.Errorf("cannot connect to NATS at %s: %w", Redact(cfg.URL), err)
	}
	return nc, nil
}

// Redact hides passwords and tokens in a comma-separated list of NATS
// URLs.
func Redact(urls string) string {
	parts := strings.Split(urls, ",")
	for i, p := range parts {
		u, err := url.Parse(strings.TrimSpace(p))
		if err != nil || u.User == nil {
			continue
		}
		if _, hasPassword := u.User.Password(); hasPassword {
			parts[i] = u.Redacted()
		} else {
			u.User = url.User("xxxxx") // a token
			parts[i] = u.String()
		}
	}
	return strings.Join(parts, ",")
}
