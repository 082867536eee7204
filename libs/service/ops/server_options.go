package ops

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"
)

// Option configures a Server.
type Option func(*Server) error

// MetricsWriter writes the current metrics in the Prometheus text format;
// *MeterProvider is one. An error wrapping ErrPartialMetrics means what
// was written is still worth serving.
type MetricsWriter interface {
	WritePrometheus(ctx context.Context, w io.Writer) error
}

// WithMetrics serves GET /metrics from m.
func WithMetrics(m MetricsWriter) Option {
	return func(s *Server) error {
		if m == nil {
			return errors.New("ops: WithMetrics: nil metrics")
		}
		s.metrics = m
		return nil
	}
}

// WithChecks adds readiness checks, run by GET /readyz in the order given.
func WithChecks(checks ...Check) Option {
	return func(s *Server) error {
		for _, c := range checks {
			if c.Name == "" || c.Run == nil {
				return fmt.Errorf("ops: WithChecks: check %q needs a name and a function", c.Name)
			}
			for _, have := range s.checks {
				if have.Name == c.Name {
					return fmt.Errorf("ops: WithChecks: two checks named %q", c.Name)
				}
			}
			s.checks = append(s.checks, c)
		}
		return nil
	}
}

// WithCheckTimeout bounds each readiness check (default 2s).
func WithCheckTimeout(d time.Duration) Option {
	return func(s *Server) error {
		if d <= 0 {
			return fmt.Errorf("ops: WithCheckTimeout(%s): must be positive", d)
		}
		s.checkTimeout = d
		return nil
	}
}

// WithTransfers serves GET /transfers and GET /transfers/{conversationId}
// from r.
func WithTransfers(r TransferReader) Option {
	return func(s *Server) error {
		if r == nil {
			return errors.New("ops: WithTransfers: nil reader")
		}
		s.transfers = r
		return nil
	}
}

// WithLogger sets the logger for failed requests (default: discard).
func WithLogger(l *slog.Logger) Option {
	return func(s *Server) error {
		if l == nil {
			return errors.New("ops: WithLogger: nil logger")
		}
		s.logger = l
		return nil
	}
}

// WithShutdownTimeout bounds how long Serve waits for requests in progress
// when its context ends (default 5s).
func WithShutdownTimeout(d time.Duration) Option {
	return func(s *Server) error {
		if d <= 0 {
			return fmt.Errorf("ops: WithShutdownTimeout(%s): must be positive", d)
		}
		s.shutdownTimeout = d
		return nil
	}
}
