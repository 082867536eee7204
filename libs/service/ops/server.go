package ops

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nhsengland/gp2gp/libs/transfer"
)

// Server is the ops HTTP handler of a service:
//
//	GET /healthz                      liveness: 200 "ok" while the process runs, 503 once it is stopping
//	GET /readyz                       readiness: every check, as JSON (Readiness); 200 if all pass, else 503
//	GET /metrics                      Prometheus text (with WithMetrics)
//	GET /transfers/{conversationId}   both sides and their timeline, as JSON (Status); 404 if neither exists
//	GET /transfers?state=&practice=&stuck=&side=&limit=
//	                                  a list, as JSON (TransferList); 400 for a bad parameter
//
// The transfer endpoints exist with WithTransfers. Query parameters are
// Filter's: state is a state name, "active" or "terminal"; practice an ODS
// code (the side's practice or its peer); stuck an age such as 24h or 3d
// (ParseAge); side requesting or sending; limit 1 to MaxLimit (default
// DefaultLimit).
type Server struct {
	mux             *http.ServeMux
	metrics         MetricsWriter
	transfers       TransferReader
	checks          []Check
	checkTimeout    time.Duration
	shutdownTimeout time.Duration
	logger          *slog.Logger
	stopping        atomic.Bool
}

// NewServer returns the ops handler configured by opts.
func NewServer(opts ...Option) (*Server, error) {
	s := &Server{checkTimeout: 2 * time.Second, shutdownTimeout: 5 * time.Second, logger: slog.New(slog.DiscardHandler)}
	for _, o := range opts {
		if err := o(s); err != nil {
			return nil, err
		}
	}
	s.mux = http.NewServeMux()
	s.mux.HandleFunc("GET /healthz", s.healthz)
	s.mux.HandleFunc("GET /readyz", s.readyz)
	if s.metrics != nil {
		s.mux.HandleFunc("GET /metrics", s.serveMetrics)
	}
	if s.transfers != nil {
		s.mux.HandleFunc("GET /transfers", s.listTransfers)
		s.mux.HandleFunc("GET /transfers/{conversationId}", s.getTransfer)
	}
	return s, nil
}

// ServeHTTP routes a request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// Serve listens on addr (host:port) and serves until ctx ends, then stops
// accepting requests, lets those in progress finish (up to the shutdown
// timeout) and returns nil. It fits service.Worker.
func (s *Server) Serve(ctx context.Context, addr string) error {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("ops: listen on %s: %w", addr, err)
	}
	return s.ServeListener(ctx, ln)
}

// ServeListener is Serve on a listener the caller opened; it closes ln.
func (s *Server) ServeListener(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           s,
		ReadHeaderTimeout: 5 * time.Second,
		// Requests outlive ctx by up to the shutdown timeout.
		BaseContext: func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
		ErrorLog:    slog.NewLogLogger(s.logger.Handler(), slog.LevelWarn),
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done:
		return fmt.Errorf("ops: serve on %s: %w", ln.Addr(), err)
	case <-ctx.Done():
	}
	s.stopping.Store(true)
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.shutdownTimeout)
	defer cancel()
	err := srv.Shutdown(sctx)
	if serr := <-done; !errors.Is(serr, http.ErrServerClosed) {
		err = errors.Join(err, serr)
	}
	if err != nil {
		return fmt.Errorf("ops: stop serving on %s: %w", ln.Addr(), err)
	}
	return nil
}

func (s *Server) healthz(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if s.stopping.Load() {
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte("stopping\n"))
		return
	}
	_, _ = w.Write([]byte("ok\n"))
}

// Readiness is the answer of GET /readyz.
type Readiness struct {
	// Ready is true when every check passed.
	Ready  bool          `json:"ready"`
	Checks []CheckResult `json:"checks"`
}

// CheckResult is the outcome of one check.
type CheckResult struct {
	Name  string `json:"name"`
	OK    bool   `json:"ok"`
	Error string `json:"error,omitempty"`
	// Millis is how long the check took, in milliseconds.
	Millis float64 `json:"ms"`
}

// Ready runs every check concurrently, each bounded by the check timeout,
// and reports them in the order they were added. A stopping server is not
// ready.
func (s *Server) Ready(ctx context.Context) Readiness {
	res := Readiness{Ready: true, Checks: make([]CheckResult, len(s.checks))}
	var wg sync.WaitGroup
	for i, c := range s.checks {
		wg.Go(func() {
			cctx, cancel := context.WithTimeout(ctx, s.checkTimeout)
			defer cancel()
			start := time.Now()
			err := runCheck(cctx, c)
			r := CheckResult{Name: c.Name, OK: err == nil, Millis: float64(time.Since(start).Microseconds()) / 1000}
			if err != nil {
				r.Error = err.Error()
			}
			res.Checks[i] = r
		})
	}
	wg.Wait()
	for _, r := range res.Checks {
		res.Ready = res.Ready && r.OK
	}
	if s.stopping.Load() {
		res.Ready = false
		res.Checks = append(res.Checks, CheckResult{Name: "stopping", Error: "the service is shutting down"})
	}
	return res
}

// runCheck runs c, giving up when ctx ends even if c does not.
func runCheck(ctx context.Context, c Check) (err error) {
	done := make(chan error, 1)
	go func() {
		defer func() {
			if p := recover(); p != nil {
				done <- fmt.Errorf("check panicked: %v", p)
			}
		}()
		done <- c.Run(ctx)
	}()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return fmt.Errorf("no answer: %w", ctx.Err())
	}
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	res := s.Ready(r.Context())
	code := http.StatusOK
	if !res.Ready {
		code = http.StatusServiceUnavailable
		for _, c := range res.Checks {
			if !c.OK {
				s.logger.WarnContext(r.Context(), "not ready", "check", c.Name, "error", c.Error)
			}
		}
	}
	writeJSON(w, code, res)
}

func (s *Server) serveMetrics(w http.ResponseWriter, r *http.Request) {
	var buf bytes.Buffer
	err := s.metrics.WritePrometheus(r.Context(), &buf)
	if err != nil && !errors.Is(err, ErrPartialMetrics) {
		s.logger.ErrorContext(r.Context(), "cannot collect metrics", "error", err)
		http.Error(w, "metrics unavailable", http.StatusServiceUnavailable)
		return
	}
	if err != nil {
		s.logger.WarnContext(r.Context(), "serving partial metrics", "error", err)
	}
	w.Header().Set("Content-Type", PrometheusContentType)
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(buf.Bytes())
}

func (s *Server) getTransfer(w http.ResponseWriter, r *http.Request) {
	st, err := GetStatus(r.Context(), s.transfers, r.PathValue("conversationId"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, st)
}

// TransferList is the answer of GET /transfers and the JSON of gp2gpctl
// list.
type TransferList struct {
	// Matched is how many sides matched; Transfers holds the first of them
	// up to the limit.
	Matched    int       `json:"matched"`
	Transfers  []Summary `json:"transfers"`
	Unreadable []string  `json:"unreadable,omitempty"`
}

// NewTransferList summarises r.
func NewTransferList(r *ListResult) TransferList {
	l := TransferList{Matched: r.Matched, Transfers: make([]Summary, 0, len(r.Transfers)), Unreadable: r.Unreadable}
	for _, t := range r.Transfers {
		l.Transfers = append(l.Transfers, NewSummary(t))
	}
	return l
}

func (s *Server) listTransfers(w http.ResponseWriter, r *http.Request) {
	f, err := filterFromQuery(r.URL.Query())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	res, err := s.transfers.List(r.Context(), f)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, NewTransferList(res))
}

// filterFromQuery reads a Filter from GET /transfers parameters.
func filterFromQuery(q url.Values) (Filter, error) {
	for k := range q {
		switch k {
		case "state", "practice", "stuck", "side", "limit":
		default:
			return Filter{}, fmt.Errorf("%w: unknown parameter %q (want state, practice, stuck, side, limit)", ErrInvalidFilter, k)
		}
	}
	f := Filter{Side: transfer.Side(q.Get("side")), State: q.Get("state"), Practice: q.Get("practice")}
	if v := q.Get("stuck"); v != "" {
		d, err := ParseAge(v)
		if err != nil {
			return Filter{}, err
		}
		f.Stuck = d
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return Filter{}, fmt.Errorf("%w: limit %q: want 1 to %d", ErrInvalidFilter, v, MaxLimit)
		}
		f.Limit = n
	}
	return f, f.Validate()
}

func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	code := http.StatusInternalServerError
	switch {
	case errors.Is(err, ErrInvalidFilter), errors.Is(err, transfer.ErrInvalid):
		code = http.StatusBadRequest
	case errors.Is(err, transfer.ErrNotFound):
		code = http.StatusNotFound
	case r.Context().Err() != nil:
		code = http.StatusServiceUnavailable
	}
	msg := err.Error()
	if code == http.StatusInternalServerError {
		s.logger.ErrorContext(r.Context(), "ops request failed", "path", r.URL.Path, "error", err)
		msg = "cannot read transfers: " + err.Error()
	}
	writeJSON(w, code, map[string]string{"error": msg})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		http.Error(w, "cannot encode the answer", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_, _ = w.Write(append(data, '\n'))
}
