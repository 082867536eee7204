package service

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"

	"github.com/nats-io/nats.go"

	"github.com/nhsengland/gp2gp/libs/natsauth"
)

// ClientOptions are the nats.Options for c's credentials, TLS files and
// inbox prefix. The inbox prefix is c.InboxPrefix if set, else the one
// gp2gp's permissions give the user of the client certificate
// (_INBOX_<certificate CN>), else fallback: a user may subscribe only
// below its own prefix.
func (c NATSConfig) ClientOptions(fallbackInbox string) ([]nats.Option, error) {
	var opts []nats.Option
	if c.CredsFile != "" {
		opts = append(opts, nats.UserCredentials(c.CredsFile))
	}
	if c.TLSCAFile != "" {
		opts = append(opts, nats.RootCAs(c.TLSCAFile))
	}
	inbox := c.InboxPrefix
	if c.TLSCertFile != "" {
		opts = append(opts, nats.ClientCert(c.TLSCertFile, c.TLSKeyFile))
		if inbox == "" {
			cn, err := certificateCN(c.TLSCertFile, c.TLSKeyFile)
			if err != nil {
				return nil, err
			}
			inbox = natsauth.InboxPrefix(cn)
		}
	}
	if inbox == "" {
		inbox = fallbackInbox
	}
	if inbox != "" {
		opts = append(opts, nats.CustomInboxPrefix(inbox))
	}
	return opts, nil
}

// certificateCN loads the client key pair and returns its certificate's
// common name.
func certificateCN(certFile, keyFile string) (string, error) {
	pair, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return "", fmt.Errorf("%s/%s: %w", EnvNATSTLSCert, EnvNATSTLSKey, err)
	}
	cert, err := x509.ParseCertificate(pair.Certificate[0])
	if err != nil {
		return "", fmt.Errorf("%s %s: %w", EnvNATSTLSCert, certFile, err)
	}
	return cert.Subject.CommonName, nil
}

// checkFiles reports TLS and credentials files that cannot be used, so a
// service refuses to start with a message naming the variable rather than
// failing on its first connection.
func (c NATSConfig) checkFiles() error {
	var errs []error
	if c.CredsFile != "" {
		if _, err := os.Stat(c.CredsFile); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", EnvNATSCreds, err))
		}
	}
	if c.TLSCAFile != "" {
		pem, err := os.ReadFile(c.TLSCAFile)
		if err == nil && !x509.NewCertPool().AppendCertsFromPEM(pem) {
			err = fmt.Errorf("%s holds no PEM certificate", c.TLSCAFile)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", EnvNATSTLSCA, err))
		}
	}
	if c.TLSCertFile != "" && c.TLSKeyFile != "" {
		if _, err := certificateCN(c.TLSCertFile, c.TLSKeyFile); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
