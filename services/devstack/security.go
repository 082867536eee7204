package devstack

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/nhsengland/gp2gp/libs/bus"
	"github.com/nhsengland/gp2gp/libs/natsauth"
	"github.com/nhsengland/gp2gp/libs/service"
)

// With security switched on (GP2GP_DEV_SECURITY=true) the dev stack runs
// as production does: its NATS server requires TLS with client
// certificates (verify_and_map) and loads gp2gp's permission set
// (libs/natsauth, the one deployed with the NATS Helm chart), every
// service connects as its own user, each simulated practice as a vendor
// serving that practice alone, and the tools (devstack register, gp2gpctl)
// as the operator "dev". The certificates, issued by a CA made at each
// start, are written to <data dir>/tls.

// TLSDir is where a secure dev stack with data directory dataDir writes its
// CA, certificates and keys.
func TLSDir(dataDir string) string { return filepath.Join(dataDir, "tls") }

// OperatorCN is the certificate CN of the secure dev stack's operator user
// (gp2gpctl and devstack register use its certificate).
var OperatorCN = natsauth.CommonName("operator-dev")

// VendorCN is the certificate CN of the simulated clinical system of
// practice ods in a secure dev stack.
func VendorCN(ods string) string { return natsauth.CommonName(vendorName(ods)) }

func vendorName(ods string) string { return "vendor-practice-" + strings.ToLower(ods) }

// security is a secure dev stack's certificates and server configuration.
type security struct {
	dir  string
	conf string
}

// setUpSecurity issues the server's and every user's certificates and
// writes the server configuration, for practices ps served by consumer
// group group.
func setUpSecurity(dataDir string, ps []bus.Practice, group string) (*security, error) {
	spec := natsauth.Spec{Practices: ps, Group: group, Operators: []string{"dev"}}
	for _, p := range ps {
		spec.Vendors = append(spec.Vendors, natsauth.VendorSpec{Name: strings.TrimPrefix(vendorName(p.ODS), "vendor-"), ODS: []string{p.ODS}})
	}
	users, err := spec.Users()
	if err != nil {
		return nil, fmt.Errorf("devstack: permissions: %w", err)
	}
	const validity = 30 * 24 * time.Hour
	ca, err := natsauth.NewCA("gp2gp dev stack CA", validity)
	if err != nil {
		return nil, err
	}
	s := &security{dir: TLSDir(dataDir), conf: filepath.Join(dataDir, "nats-secure.conf")}
	kp, err := ca.IssueServer("gp2gp dev stack NATS", []string{"127.0.0.1", "localhost", "::1"}, validity)
	if err != nil {
		return nil, err
	}
	server, err := ca.Write(s.dir, "server", kp)
	if err != nil {
		return nil, fmt.Errorf("devstack: certificates: %w", err)
	}
	for _, u := range users {
		kp, err := ca.IssueClient(u.CommonName, validity)
		if err != nil {
			return nil, err
		}
		if _, err := ca.Write(s.dir, u.CommonName, kp); err != nil {
			return nil, fmt.Errorf("devstack: certificates: %w", err)
		}
	}
	f, err := os.OpenFile(s.conf, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return nil, fmt.Errorf("devstack: server configuration: %w", err)
	}
	err = natsauth.WriteServerConfig(f, users, &natsauth.TLS{CertFile: server.Cert, KeyFile: server.Key, CAFile: server.CA})
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("devstack: server configuration: %w", err)
	}
	return s, nil
}

// Client is how the user with certificate CN cn reaches the server at url.
func (s *security) client(url, cn string) service.NATSConfig {
	return clientConfig(s.dir, url, cn)
}

func clientConfig(dir, url, cn string) service.NATSConfig {
	return service.NATSConfig{
		URL:         url,
		TLSCAFile:   filepath.Join(dir, "ca.crt"),
		TLSCertFile: filepath.Join(dir, cn+".crt"), TLSKeyFile: filepath.Join(dir, cn+".key"),
	}
}

// violationLogger is the embedded server's logger in a secure dev stack:
// it logs the server's warnings and errors and reports every permissions
// violation (a service or practice doing what its permissions refuse).
type violationLogger struct {
	logger    *slog.Logger
	violation func(string)
}

func (l violationLogger) Noticef(string, ...any) {}
func (l violationLogger) Debugf(string, ...any)  {}
func (l violationLogger) Tracef(string, ...any)  {}
func (l violationLogger) Warnf(format string, v ...any) {
	l.logger.Warn(fmt.Sprintf(format, v...))
}
func (l violationLogger) Fatalf(format string, v ...any) { l.Errorf(format, v...) }
func (l violationLogger) Errorf(format string, v ...any) {
	line := fmt.Sprintf(format, v...)
	l.logger.Error(line)
	if strings.Contains(line, "Violation") && l.violation != nil {
		l.violation(line)
	}
}
