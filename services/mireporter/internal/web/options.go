package web

import (
	"log/slog"
	"time"
)

// Option configures NewHandler.
type Option func(*handler)

// WithLogger sets the logger for source failures (default: slog.Default()).
// A nil logger is ignored.
func WithLogger(l *slog.Logger) Option {
	return func(h *handler) {
		if l != nil {
			h.log = l
		}
	}
}

// WithClock sets the clock that stamps generatedOn and decides which months
// are complete (default: time.Now). A nil clock is ignored.
func WithClock(now func() time.Time) Option {
	return func(h *handler) {
		if now != nil {
			h.now = now
		}
	}
}
