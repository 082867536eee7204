package service

import (
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"syscall"
	"testing"

	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/assert"
)

func TestRetryableConnect(t *testing.T) {
	// What nats.Connect returns when the server was killed during the
	// handshake: seen in the chaos harness, where a service starting just
	// as the broker was killed exited instead of waiting for it.
	reset := &net.OpError{Op: "read", Net: "tcp", Err: &os.SyscallError{Syscall: "read", Err: syscall.ECONNRESET}}
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"no servers", nats.ErrNoServers, true},
		{"connection reset during the handshake", reset, true},
		{"connection refused", &net.OpError{Op: "dial", Net: "tcp", Err: &os.SyscallError{Syscall: "connect", Err: syscall.ECONNREFUSED}}, true},
		{"server closed the connection", fmt.Errorf("nats: %w", io.EOF), true},
		{"handshake timed out", nats.ErrTimeout, true},
		{"authorization violation", nats.ErrAuthorization, false},
		{"server certificate from an unknown CA", x509.UnknownAuthorityError{}, false},
		{"a plain error", errors.New("nats: invalid URL"), false},
		{"nil", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, retryableConnect(tt.err))
		})
	}
}
