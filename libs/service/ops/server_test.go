package ops_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nhsengland/gp2gp/libs/bus"
	"github.com/nhsengland/gp2gp/libs/service/ops"
	"github.com/nhsengland/gp2gp/libs/transfer"
)

func newServer(t *testing.T, opts ...ops.Option) *ops.Server {
	t.Helper()
	s, err := ops.NewServer(opts...)
	require.NoError(t, err)
	return s
}

// get serves one request and returns the status and body.
func get(t *testing.T, h http.Handler, target string) (int, string, http.Header) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, target, nil))
	return rec.Code, rec.Body.String(), rec.Header()
}

func readiness(t *testing.T, h http.Handler) (int, ops.Readiness) {
	t.Helper()
	code, body, hdr := get(t, h, "/readyz")
	assert.Equal(t, "application/json", hdr.Get("Content-Type"))
	var r ops.Readiness
	require.NoError(t, json.Unmarshal([]byte(body), &r), body)
	return code, r
}

func checkResult(t *testing.T, r ops.Readiness, name string) ops.CheckResult {
	t.Helper()
	for _, c := range r.Checks {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("no check %s in %+v", name, r)
	return ops.CheckResult{}
}

func TestHealthz(t *testing.T) {
	code, body, _ := get(t, newServer(t), "/healthz")
	assert.Equal(t, http.StatusOK, code)
	assert.Equal(t, "ok\n", body)
}

func TestReadyz(t *testing.T) {
	t.Run("ready with every check passing", func(t *testing.T) {
		f := newFixture(t)
		s := newServer(t, ops.WithChecks(ops.NATSConnected(f.nc), ops.StreamsPresent(f.js, bus.StreamLifecycle, bus.StreamDeadLetter)))
		code, r := readiness(t, s)
		assert.Equal(t, http.StatusOK, code)
		assert.True(t, r.Ready)
		assert.Equal(t, []string{"nats", "streams"}, []string{r.Checks[0].Name, r.Checks[1].Name})
		assert.True(t, r.Checks[0].OK)
		assert.True(t, r.Checks[1].OK)
	})
	t.Run("a missing stream", func(t *testing.T) {
		f := newFixture(t)
		s := newServer(t, ops.WithChecks(ops.NATSConnected(f.nc),
			ops.StreamsPresent(f.js, bus.StreamLifecycle, bus.StreamSpineIn, bus.StreamDeadLetter, bus.StreamTimers)))
		code, r := readiness(t, s)
		assert.Equal(t, http.StatusServiceUnavailable, code)
		assert.False(t, r.Ready)
		assert.True(t, checkResult(t, r, "nats").OK)
		streams := checkResult(t, r, "streams")
		assert.False(t, streams.OK)
		assert.Equal(t, "missing streams: GP2GP_SPINE_IN, GP2GP_TIMERS", streams.Error)
	})
	t.Run("a stream deleted while running", func(t *testing.T) {
		f := newFixture(t)
		s := newServer(t, ops.WithChecks(ops.StreamsPresent(f.js, bus.StreamDeadLetter)))
		code, _ := readiness(t, s)
		require.Equal(t, http.StatusOK, code)
		require.NoError(t, f.js.DeleteStream(f.ctx, bus.StreamDeadLetter))
		code, r := readiness(t, s)
		assert.Equal(t, http.StatusServiceUnavailable, code)
		assert.Equal(t, "missing streams: GP2GP_DLQ", checkResult(t, r, "streams").Error)
	})
	t.Run("NATS disconnected", func(t *testing.T) {
		f := newFixture(t)
		s := newServer(t, ops.WithChecks(ops.NATSConnected(f.nc), ops.StreamsPresent(f.js, bus.StreamDeadLetter)),
			ops.WithCheckTimeout(500*time.Millisecond))
		code, _ := readiness(t, s)
		require.Equal(t, http.StatusOK, code)

		f.srv.Shutdown()
		require.Eventually(t, func() bool { return !f.nc.IsConnected() }, 10*time.Second, 10*time.Millisecond)
		code, r := readiness(t, s)
		assert.Equal(t, http.StatusServiceUnavailable, code)
		nats := checkResult(t, r, "nats")
		assert.False(t, nats.OK)
		assert.Contains(t, nats.Error, "not connected to NATS")
		assert.False(t, checkResult(t, r, "streams").OK)
	})
	t.Run("a check that does not answer in time", func(t *testing.T) {
		release := make(chan struct{})
		t.Cleanup(func() { close(release) })
		// It ignores its context: readiness must not wait for it.
		hang := ops.Check{Name: "slow", Run: func(context.Context) error { <-release; return nil }}
		s := newServer(t, ops.WithChecks(hang), ops.WithCheckTimeout(20*time.Millisecond))
		start := time.Now()
		code, r := readiness(t, s)
		assert.Less(t, time.Since(start), 900*time.Millisecond)
		assert.Equal(t, http.StatusServiceUnavailable, code)
		assert.Contains(t, checkResult(t, r, "slow").Error, "no answer")
	})
	t.Run("a check that fails", func(t *testing.T) {
		s := newServer(t, ops.WithChecks(ops.Check{Name: "disk", Run: func(context.Context) error { return errors.New("full") }}))
		code, r := readiness(t, s)
		assert.Equal(t, http.StatusServiceUnavailable, code)
		assert.Equal(t, ops.CheckResult{Name: "disk", Error: "full", Millis: checkResult(t, r, "disk").Millis}, checkResult(t, r, "disk"))
	})
	t.Run("no checks", func(t *testing.T) {
		code, r := readiness(t, newServer(t))
		assert.Equal(t, http.StatusOK, code)
		assert.True(t, r.Ready)
	})
}

func TestMetricsEndpoint(t *testing.T) {
	mp := newMeterProvider(t)
	ins, err := ops.NewInstruments(mp.Meter(ops.ScopeName))
	require.NoError(t, err)
	ins.MessageReceived(context.Background(), "RCMR_IN010000UK05")

	code, body, hdr := get(t, newServer(t, ops.WithMetrics(mp)), "/metrics")
	assert.Equal(t, http.StatusOK, code)
	assert.Equal(t, ops.PrometheusContentType, hdr.Get("Content-Type"))
	e := parseExposition(t, body)
	assert.Equal(t, 1.0, e.value(t, "gp2gp_messages_received_total", map[string]string{"interaction": "RCMR_IN010000UK05"}))

	code, _, _ = get(t, newServer(t), "/metrics")
	assert.Equal(t, http.StatusNotFound, code, "no metrics without WithMetrics")

	require.NoError(t, mp.Shutdown(context.Background()))
	code, _, _ = get(t, newServer(t, ops.WithMetrics(mp)), "/metrics")
	assert.Equal(t, http.StatusServiceUnavailable, code)
}

func TestTransferEndpoints(t *testing.T) {
	f := newFixture(t)
	f.seed()
	s := newServer(t, ops.WithTransfers(f.reader()))

	t.Run("one conversation: both sides and the timeline", func(t *testing.T) {
		code, body, hdr := get(t, s, "/transfers/"+strings.ToLower(convDone))
		require.Equal(t, http.StatusOK, code, body)
		assert.Equal(t, "application/json", hdr.Get("Content-Type"))
		var st ops.Status
		require.NoError(t, json.Unmarshal([]byte(body), &st))
		assert.Equal(t, convDone, st.ConversationID)
		require.NotNil(t, st.Requesting)
		require.NotNil(t, st.Sending)
		assert.Equal(t, transfer.Integrated, st.Requesting.State)
		assert.Equal(t, transfer.Completed, st.Sending.State)
		assert.Equal(t, newPractice, st.Requesting.Practice)
		assert.Equal(t, oldPractice, st.Requesting.Peer)
		assert.Len(t, st.Requesting.History, 5)
		assert.Len(t, st.Requesting.Messages, 3)
		require.NotNil(t, st.Requesting.Registration)
		assert.Equal(t, "EV-1", st.Requesting.Registration.EventID)
		require.Len(t, st.Timeline, 15)
		assert.Equal(t, "started REGISTERED", st.Timeline[0].What)
		assert.Equal(t, "EXTRACT_SENT → COMPLETED (final)", st.Timeline[14].What)

		for _, secret := range []string{"9442964410", "Janet", "Smithson", "1970-03-04", "female", "nhs_number"} {
			assert.NotContains(t, body, secret, "the ops view leaves out who the patient is")
		}
	})
	t.Run("one side only", func(t *testing.T) {
		code, body, _ := get(t, s, "/transfers/"+convStuck)
		require.Equal(t, http.StatusOK, code, body)
		var raw map[string]json.RawMessage
		require.NoError(t, json.Unmarshal([]byte(body), &raw))
		assert.Contains(t, raw, "requesting")
		assert.NotContains(t, raw, "sending")
	})
	t.Run("unknown conversation", func(t *testing.T) {
		code, body, _ := get(t, s, "/transfers/66666666-0000-4000-8000-000000000006")
		assert.Equal(t, http.StatusNotFound, code)
		assert.JSONEq(t, `{"error":"transfer: not found: no transfer with conversation id 66666666-0000-4000-8000-000000000006"}`, body)
	})
	t.Run("malformed conversation id", func(t *testing.T) {
		code, _, _ := get(t, s, "/transfers/not%20an%20id")
		assert.Equal(t, http.StatusBadRequest, code)
	})

	list := func(t *testing.T, query string) (int, ops.TransferList, string) {
		t.Helper()
		code, body, _ := get(t, s, "/transfers"+query)
		var l ops.TransferList
		if code == http.StatusOK {
			require.NoError(t, json.Unmarshal([]byte(body), &l), body)
		}
		return code, l, body
	}
	ids := func(l ops.TransferList) []string {
		out := []string{}
		for _, sum := range l.Transfers {
			out = append(out, string(sum.Side)+" "+sum.ConversationID)
		}
		return out
	}
	t.Run("list filters", func(t *testing.T) {
		tests := []struct {
			query   string
			want    []string
			matched int
		}{
			{"", []string{reqOther, reqFailed, sendFail, sendDone, reqDone, reqStuck}, 6},
			{"?state=terminal&practice=a12345&limit=2", []string{reqFailed, sendFail}, 4},
			{"?state=REQUEST_SENT", []string{reqStuck}, 1},
			{"?side=sending", []string{sendFail, sendDone}, 2},
			{"?stuck=3d", []string{reqStuck}, 1},
			{"?stuck=12h&state=active", []string{reqStuck, reqOther}, 2},
		}
		for _, tt := range tests {
			t.Run(tt.query, func(t *testing.T) {
				code, l, body := list(t, tt.query)
				require.Equal(t, http.StatusOK, code, body)
				assert.Equal(t, tt.want, ids(l))
				assert.Equal(t, tt.matched, l.Matched)
			})
		}
	})
	t.Run("list summary fields", func(t *testing.T) {
		_, l, _ := list(t, "?state=FAILED")
		require.Len(t, l.Transfers, 1)
		assert.Equal(t, ops.Summary{
			ConversationID: convFailed, Side: transfer.Requesting, State: transfer.Failed, Terminal: true,
			Practice: "A12345", Peer: "B86041", LastChangeAt: t0.Add(8*24*time.Hour + 3*time.Second), ReasonCode: "06",
		}, l.Transfers[0])
	})
	t.Run("bad list parameters", func(t *testing.T) {
		for _, q := range []string{"?stuck=banana", "?stuck=-1h", "?limit=0", "?limit=x", "?side=both", "?state=DONE", "?colour=blue"} {
			code, _, body := list(t, q)
			assert.Equal(t, http.StatusBadRequest, code, q)
			assert.Contains(t, body, `"error"`, q)
		}
	})
	t.Run("no transfer views without WithTransfers", func(t *testing.T) {
		code, _, _ := get(t, newServer(t), "/transfers")
		assert.Equal(t, http.StatusNotFound, code)
	})
}

func TestServeStopsWhenContextEnds(t *testing.T) {
	s := newServer(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.ServeListener(ctx, ln) }()

	url := "http://" + ln.Addr().String() + "/healthz"
	resp, err := http.Get(url)
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "ok\n", string(body))

	cancel()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return after its context ended")
	}
	_, err = http.Get(url)
	assert.Error(t, err, "no longer listening")

	// Once stopping, the handler reports it.
	code, body2, _ := get(t, s, "/healthz")
	assert.Equal(t, http.StatusServiceUnavailable, code)
	assert.Equal(t, "stopping\n", body2)
	code, r := readiness(t, s)
	assert.Equal(t, http.StatusServiceUnavailable, code)
	assert.False(t, r.Ready)
}

func TestServeReportsListenErrors(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	err = newServer(t).Serve(context.Background(), ln.Addr().String())
	assert.ErrorContains(t, err, "listen on "+ln.Addr().String())
}

func TestNewServerRefusesBadOptions(t *testing.T) {
	ok := ops.Check{Name: "a", Run: func(context.Context) error { return nil }}
	for name, opt := range map[string]ops.Option{
		"nil metrics":          ops.WithMetrics(nil),
		"nil reader":           ops.WithTransfers(nil),
		"nil logger":           ops.WithLogger(nil),
		"unnamed check":        ops.WithChecks(ops.Check{Run: ok.Run}),
		"check with no func":   ops.WithChecks(ops.Check{Name: "b"}),
		"two checks, one name": ops.WithChecks(ok, ok),
		"zero check timeout":   ops.WithCheckTimeout(0),
		"negative shutdown":    ops.WithShutdownTimeout(-time.Second),
	} {
		t.Run(name, func(t *testing.T) {
			_, err := ops.NewServer(opt)
			assert.Error(t, err)
		})
	}
}
