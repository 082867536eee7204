package directory

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestValidNHSNumber(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"9442964410", true},  // check digit 0 from a remainder of 0 (11 → 0)
		{"9990001014", true},  // check digit 4
		{"9990001073", true},  // check digit 3
		{"9990001015", false}, // wrong check digit
		{"1234567890", false}, // remainder gives 10: never valid
		{"1234567881", true},  // check digit 1
		{"999000101", false},
		{"99900010140", false},
		{"999000101a", false},
		{"-990001014", false},
		{"", false},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			assert.Equal(t, tc.want, validNHSNumber(tc.in))
		})
	}
}

func TestRetryBackoffDoublesUpToTheCap(t *testing.T) {
	attempts := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		attempts++
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	c, err := NewPDSClient(srv.URL, WithRetries(6), WithRetryBackoff(5*time.Second))
	require.NoError(t, err)
	var waits []time.Duration
	c.http.cfg.sleep = func(ctx context.Context, d time.Duration) error {
		waits = append(waits, d)
		return nil
	}

	_, err = c.Registration(context.Background(), "9990001014")
	require.ErrorIs(t, err, ErrUnavailable)
	assert.Equal(t, 7, attempts)
	s := time.Second
	assert.Equal(t, []time.Duration{5 * s, 10 * s, 20 * s, 30 * s, 30 * s, 30 * s}, waits)
}

func TestRetryWaitEndsWithTheContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := sleepContext(ctx, time.Hour)
	require.ErrorIs(t, err, context.Canceled)
	require.NoError(t, sleepContext(context.Background(), time.Nanosecond))
}

func TestTTLMapSweepsExpiredEntries(t *testing.T) {
	var m ttlMap[string, int]
	start := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	for i := range minSweep {
		m.put(fmt.Sprint(i), i, start, time.Minute)
	}
	require.Len(t, m.m, minSweep)

	later := start.Add(time.Minute)
	m.put("fresh", 1, later, time.Minute)
	assert.Len(t, m.m, 1, "the expired entries went when the map reached the sweep size")
	v, ok := m.get("fresh", later)
	assert.True(t, ok)
	assert.Equal(t, 1, v)
	_, ok = m.get("0", later)
	assert.False(t, ok)
}

func TestTTLMapKeepsLiveEntries(t *testing.T) {
	var m ttlMap[int, int]
	now := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	for i := range 3 * minSweep {
		m.put(i, i, now, time.Hour)
	}
	assert.Len(t, m.m, 3*minSweep, "nothing expired, nothing dropped")
	assert.Equal(t, 4*minSweep, m.sweepAt, "the next sweep waits for the map to double")
}
