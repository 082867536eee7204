package web

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"mime"
	"net/http"
	"time"

	"github.com/nhsengland/gp2gp/libs/mi"
)

// handler serves the API and the dashboard. It holds no mutable state.
type handler struct {
	src    Source
	log    *slog.Logger
	now    func() time.Time
	assets assets
	mux    *http.ServeMux
}

// NewHandler returns the mireporter's HTTP API and dashboard over src (the
// routes are listed in the package documentation). src must not be nil.
func NewHandler(src Source, opts ...Option) http.Handler {
	h := &handler{src: src, log: slog.Default(), now: time.Now, assets: loadAssets()}
	for _, o := range opts {
		o(h)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v1/months", h.months)
	mux.HandleFunc("GET /api/v1/national", h.national)
	mux.HandleFunc("GET /api/v1/national.csv", h.nationalCSV)
	mux.HandleFunc("GET /api/v1/practices", h.practices)
	mux.HandleFunc("GET /api/v1/practices.csv", h.practicesCSV)
	mux.HandleFunc("GET /api/v1/practices/{ods}", h.practice)
	mux.HandleFunc("GET /api/v1/transfers/{conversationId}", h.transfer)
	mux.HandleFunc("GET /{$}", h.dashboard)
	mux.HandleFunc("GET /dashboard/", h.dashboard)
	mux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) {
		writeError(w, http.StatusNotFound, "no such route")
	})
	h.mux = mux
	return h
}

// allowedMethods is the Allow header of every route.
const allowedMethods = "GET, HEAD"

// ServeHTTP refuses every method but GET and HEAD, then routes.
func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", allowedMethods)
		writeError(w, http.StatusMethodNotAllowed, "method not allowed: use GET or HEAD")
		return
	}
	if r.RequestURI == "*" { // the mux would answer 400 without a body
		writeError(w, http.StatusBadRequest, "the request target must be a path")
		return
	}
	h.mux.ServeHTTP(w, r)
}

// monthsResponse is GET /api/v1/months.
type monthsResponse struct {
	Months []string `json:"months"`
}

// nationalResponse is GET /api/v1/national: one month, in a list like
// NHS England's nationalMetrics.json.
type nationalResponse struct {
	GeneratedOn time.Time          `json:"generatedOn"`
	Metrics     []mi.NationalMonth `json:"metrics"`
}

// practicesResponse is GET /api/v1/practices.
type practicesResponse struct {
	GeneratedOn time.Time            `json:"generatedOn"`
	Practices   []mi.PracticeMetrics `json:"practices"`
	SICBLs      []mi.SICBL           `json:"sicbls"`
}

// practiceResponse is GET /api/v1/practices/{ods}.
type practiceResponse struct {
	GeneratedOn time.Time          `json:"generatedOn"`
	Practice    mi.PracticeMetrics `json:"practice"`
}

func (h *handler) months(w http.ResponseWriter, r *http.Request) {
	months, err := h.src.Months(r.Context())
	if err != nil {
		h.sourceFailed(w, r, err)
		return
	}
	resp := monthsResponse{Months: make([]string, 0, len(months))}
	for _, m := range months {
		resp.Months = append(resp.Months, m.String())
	}
	writeJSON(w, resp)
}

func (h *handler) national(w http.ResponseWriter, r *http.Request) {
	n, ok := h.nationalOf(w, r)
	if !ok {
		return
	}
	writeJSON(w, nationalResponse{GeneratedOn: h.generatedOn(), Metrics: []mi.NationalMonth{n}})
}

func (h *handler) nationalCSV(w http.ResponseWriter, r *http.Request) {
	n, ok := h.nationalOf(w, r)
	if !ok {
		return
	}
	m := mi.Month{Year: n.Year, Month: time.Month(n.Month)}
	writeCSV(w, "gp2gp-national-"+m.String()+".csv", [][]string{NationalCSVHeader(), nationalRow(n)})
}

// nationalOf reads the national figures of the requested month, or writes
// the error response and reports false.
func (h *handler) nationalOf(w http.ResponseWriter, r *http.Request) (mi.NationalMonth, bool) {
	m, ok := h.month(w, r)
	if !ok {
		return mi.NationalMonth{}, false
	}
	n, err := h.src.National(r.Context(), m)
	if err != nil {
		h.sourceFailed(w, r, err)
		return mi.NationalMonth{}, false
	}
	return n, true
}

func (h *handler) practices(w http.ResponseWriter, r *http.Request) {
	practices, sicbls, _, ok := h.practicesOf(w, r)
	if !ok {
		return
	}
	if sicbls == nil {
		sicbls = []mi.SICBL{}
	}
	writeJSON(w, practicesResponse{GeneratedOn: h.generatedOn(), Practices: practices, SICBLs: sicbls})
}

func (h *handler) practicesCSV(w http.ResponseWriter, r *http.Request) {
	practices, _, m, ok := h.practicesOf(w, r)
	if !ok {
		return
	}
	writeCSV(w, "gp2gp-practices-"+m.String()+".csv", practiceRecords(practices))
}

// practicesOf reads the practices of the requested month in the requested
// order, or writes the error response and reports false. The practice list
// is never nil.
func (h *handler) practicesOf(w http.ResponseWriter, r *http.Request) ([]mi.PracticeMetrics, []mi.SICBL, mi.Month, bool) {
	order, err := parseOrder(r.URL.Query().Get("sort"))
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return nil, nil, mi.Month{}, false
	}
	m, ok := h.month(w, r)
	if !ok {
		return nil, nil, mi.Month{}, false
	}
	practices, sicbls, err := h.src.Practices(r.Context(), m)
	if err != nil {
		h.sourceFailed(w, r, err)
		return nil, nil, mi.Month{}, false
	}
	return sortPractices(practices, m, order), sicbls, m, true
}

func (h *handler) practice(w http.ResponseWriter, r *http.Request) {
	ods := r.PathValue("ods")
	if !validODS(ods) {
		writeError(w, http.StatusBadRequest, "an ODS code is 1 to 16 letters and digits, e.g. A12345")
		return
	}
	p, found, err := h.src.Practice(r.Context(), ods)
	switch {
	case err != nil:
		h.sourceFailed(w, r, err)
	case !found:
		writeError(w, http.StatusNotFound, "no practice with figures has ODS code "+ods)
	default:
		if p.Metrics == nil {
			p.Metrics = []mi.PracticeMonth{}
		}
		writeJSON(w, practiceResponse{GeneratedOn: h.generatedOn(), Practice: p})
	}
}

func (h *handler) transfer(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("conversationId")
	t, found, err := h.src.Transfer(r.Context(), id)
	switch {
	case err != nil:
		h.sourceFailed(w, r, err)
	case !found:
		writeError(w, http.StatusNotFound, "no classified transfer has that conversation id")
	default:
		writeJSON(w, t)
	}
}

// month is the month query parameter, or the default month when it is
// absent or empty. On error it writes the response and reports false.
func (h *handler) month(w http.ResponseWriter, r *http.Request) (mi.Month, bool) {
	if q := r.URL.Query().Get("month"); q != "" {
		m, err := parseMonth(q)
		if err != nil {
			writeError(w, http.StatusBadRequest, err.Error())
			return mi.Month{}, false
		}
		return m, true
	}
	months, err := h.src.Months(r.Context())
	if err != nil {
		h.sourceFailed(w, r, err)
		return mi.Month{}, false
	}
	return defaultMonth(months, mi.MonthOf(h.now())), true
}

// generatedOn is the time stamped on figures: now, in UTC, to the second.
func (h *handler) generatedOn() time.Time { return h.now().UTC().Truncate(time.Second) }

// sourceFailed logs a Source error and answers 500 without its detail.
func (h *handler) sourceFailed(w http.ResponseWriter, r *http.Request, err error) {
	level := slog.LevelError
	if errors.Is(err, context.Canceled) && r.Context().Err() != nil {
		level = slog.LevelDebug // the client went away
	}
	h.log.Log(r.Context(), level, "mi figures could not be read", "path", r.URL.Path, "err", err)
	writeError(w, http.StatusInternalServerError, "the MI figures could not be read")
}

// validODS reports whether s can be an ODS code: 1 to 16 ASCII letters and
// digits.
func validODS(s string) bool {
	if s == "" || len(s) > 16 {
		return false
	}
	for _, c := range []byte(s) {
		if !('0' <= c && c <= '9' || 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z') {
			return false
		}
	}
	return true
}

// errorResponse is the body of every error.
type errorResponse struct {
	Error string `json:"error"`
}

// writeError answers status with a JSON error message.
func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSONStatus(w, status, errorResponse{Error: msg})
}

// writeJSON answers 200 with v as JSON.
func writeJSON(w http.ResponseWriter, v any) { writeJSONStatus(w, http.StatusOK, v) }

// writeJSONStatus encodes v before writing anything, so an encoding failure
// is a clean 500.
func writeJSONStatus(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	if err := json.NewEncoder(&buf).Encode(v); err != nil {
		buf.Reset()
		buf.WriteString(`{"error":"the response could not be encoded"}` + "\n")
		status = http.StatusInternalServerError
	}
	hdr := w.Header()
	hdr.Set("Content-Type", "application/json; charset=utf-8")
	hdr.Set("Cache-Control", "no-store")
	hdr.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// writeCSV answers 200 with records as a CSV attachment named filename.
func writeCSV(w http.ResponseWriter, filename string, records [][]string) {
	body, err := encodeCSV(records)
	if err != nil {
		writeError(w, http.StatusInternalServerError, "the CSV could not be written")
		return
	}
	hdr := w.Header()
	hdr.Set("Content-Type", "text/csv; charset=utf-8")
	hdr.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": filename}))
	hdr.Set("Cache-Control", "no-store")
	hdr.Set("X-Content-Type-Options", "nosniff")
	_, _ = w.Write(body)
}
