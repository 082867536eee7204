package miapi

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		value string
		want  time.Duration
	}{
		{"", 0},
		{"0", 0},
		{"-3", 0},
		{"30", 30 * time.Second},
		{" 5 ", 5 * time.Second},
		{"999999999", 24 * time.Hour},
		{"Wed, 01 May 2024 12:02:00 GMT", 2 * time.Minute},
		{"Wed, 01 May 2024 11:00:00 GMT", 0},
		{"soon", 0},
		{"1.5", 0},
	} {
		t.Run(tc.value, func(t *testing.T) {
			assert.Equal(t, tc.want, parseRetryAfter(tc.value, now))
		})
	}
}
