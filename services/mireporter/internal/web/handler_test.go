package web_test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nhsengland/gp2gp/libs/mi"
	"github.com/nhsengland/gp2gp/services/mireporter/internal/web"
)

// practicesColumns is GP2GP-MI.md §2.4, written out here so that the test
// checks the handler against the spec rather than against itself.
var practicesColumns = []string{
	"Sub ICB Location name", "Sub ICB Location ODS", "Requesting practice name", "Practice ODS", "Month",
	"GP2GP Transfers received",
	"Integrated within 3 days", "Integrated within 3 days - %",
	"Integrated within 8 days", "Integrated within 8 days - %",
	"Not integrated within 8 days (paper copy requested)", "Not integrated within 8 days (paper copy requested) - %",
	"GP2GP transfers requested",
	"GP2GP transfers received", "GP2GP transfers received - %",
	"GP2GP technical failures (paper copy requested)", "GP2GP technical failures (paper copy requested) - %",
}

var nationalColumns = []string{
	"Month", "GP2GP transfers requested",
	"Integrated on time", "Integrated on time - %",
	"Paper fallback", "Paper fallback - %",
	"Technical failures", "Technical failures - %",
	"Integrated late", "Integrated late - %",
	"Transferred not integrated", "Transferred not integrated - %",
	"Unclassified failures", "Unclassified failures - %",
}

func newHandler(src web.Source, log *slog.Logger) http.Handler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return web.NewHandler(src, web.WithClock(func() time.Time { return fixtureNow }), web.WithLogger(log))
}

func serve(h http.Handler, method, target string) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(method, target, nil))
	return rec
}

func getOK(t *testing.T, h http.Handler, target, contentType string) *httptest.ResponseRecorder {
	t.Helper()
	rec := serve(h, http.MethodGet, target)
	require.Equal(t, http.StatusOK, rec.Code, "GET %s: %s", target, rec.Body)
	assert.Equal(t, contentType, rec.Header().Get("Content-Type"), "GET %s", target)
	return rec
}

func getJSON[T any](t *testing.T, h http.Handler, target string) T {
	t.Helper()
	rec := getOK(t, h, target, "application/json; charset=utf-8")
	var v T
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &v), "GET %s", target)
	return v
}

func getCSV(t *testing.T, h http.Handler, target string) ([][]string, http.Header) {
	t.Helper()
	rec := getOK(t, h, target, "text/csv; charset=utf-8")
	records, err := csv.NewReader(rec.Body).ReadAll()
	require.NoError(t, err, "GET %s", target)
	return records, rec.Header()
}

type nationalBody struct {
	GeneratedOn time.Time          `json:"generatedOn"`
	Metrics     []mi.NationalMonth `json:"metrics"`
}

type practicesBody struct {
	GeneratedOn time.Time            `json:"generatedOn"`
	Practices   []mi.PracticeMetrics `json:"practices"`
	SICBLs      []mi.SICBL           `json:"sicbls"`
}

type practiceBody struct {
	GeneratedOn time.Time          `json:"generatedOn"`
	Practice    mi.PracticeMetrics `json:"practice"`
}

func pct(v float64) *float64 { return &v }

func TestMonths(t *testing.T) {
	h := newHandler(newFixtureSource(), nil)
	rec := getOK(t, h, "/api/v1/months", "application/json; charset=utf-8")
	assert.JSONEq(t, `{"months":["2026-11","2026-10","2026-09"]}`, rec.Body.String())
	assert.Equal(t, "no-store", rec.Header().Get("Cache-Control"))

	empty := newHandler(&fakeSource{}, nil)
	assert.JSONEq(t, `{"months":[]}`, getOK(t, empty, "/api/v1/months", "application/json; charset=utf-8").Body.String())
}

func TestNational(t *testing.T) {
	h := newHandler(newFixtureSource(), nil)
	october := mi.NationalMonth{
		Year: 2026, Month: 10, TransferCount: 14,
		IntegratedOnTime: mi.CountPercent{TransferCount: 6, TransferPercentage: pct(42.86)},
		PaperFallback: mi.PaperFallback{
			TransferCount: 8, TransferPercentage: pct(57.14),
			TechnicalFailure: mi.CountPercent{TransferCount: 5, TransferPercentage: pct(35.71)},
			ProcessFailure: mi.ProcessFailure{
				IntegratedLate:           mi.CountPercent{TransferCount: 1, TransferPercentage: pct(7.14)},
				TransferredNotIntegrated: mi.CountPercent{TransferCount: 2, TransferPercentage: pct(14.29)},
			},
			UnclassifiedFailure: mi.CountPercent{TransferCount: 0, TransferPercentage: pct(0)},
		},
	}
	tests := []struct {
		name   string
		target string
		want   mi.NationalMonth
	}{
		{"default is the latest complete month", "/api/v1/national", october},
		{"empty month is the default", "/api/v1/national?month=", october},
		{"explicit month", "/api/v1/national?month=2026-10", october},
		{"incomplete month on request", "/api/v1/national?month=2026-11", mi.NationalOf(mi.Month{Year: 2026, Month: time.November}, mi.Counts{Requested: 2, Within3Days: 1, UnclassifiedFailure: 1})},
		{"month without transfers has null percentages", "/api/v1/national?month=2020-01", mi.NationalOf(mi.Month{Year: 2020, Month: time.January}, mi.Counts{})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := getJSON[nationalBody](t, h, tt.target)
			require.Len(t, body.Metrics, 1)
			assert.Equal(t, tt.want, body.Metrics[0])
			assert.Equal(t, fixtureNow.Truncate(time.Second), body.GeneratedOn)
		})
	}

	rec := getOK(t, h, "/api/v1/national?month=2020-01", "application/json; charset=utf-8")
	assert.Contains(t, rec.Body.String(), `"transferPercentage":null`)
}

func TestDefaultMonth(t *testing.T) {
	tests := []struct {
		name      string
		now       time.Time
		transfers []mi.Transfer
		want      string
	}{
		{"latest month before now", fixtureNow, fixtureTransfers(), "2026-10"},
		{"every month complete", time.Date(2027, time.March, 1, 0, 0, 0, 0, time.UTC), fixtureTransfers(), "2026-11"},
		{"no complete month: the latest", time.Date(2026, time.August, 1, 0, 0, 0, 0, time.UTC), fixtureTransfers(), "2026-11"},
		{"no months: the current one", fixtureNow, nil, "2026-11"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := web.NewHandler(&fakeSource{transfers: tt.transfers}, web.WithClock(func() time.Time { return tt.now }))
			body := getJSON[nationalBody](t, h, "/api/v1/national")
			require.Len(t, body.Metrics, 1)
			got := mi.Month{Year: body.Metrics[0].Year, Month: time.Month(body.Metrics[0].Month)}
			assert.Equal(t, tt.want, got.String())
			records, _ := getCSV(t, h, "/api/v1/practices.csv")
			for _, r := range records[1:] {
				assert.Equal(t, tt.want, r[4])
			}
		})
	}
}

// cell is a figure as the CSV must write it: the JSON number, or empty
// for null.
func cell(p *float64) string {
	if p == nil {
		return ""
	}
	b, _ := json.Marshal(*p)
	return string(b)
}

func TestNationalCSV(t *testing.T) {
	h := newHandler(newFixtureSource(), nil)
	for _, month := range []string{"", "2026-09", "2026-10", "2026-11", "2020-01"} {
		t.Run("month="+month, func(t *testing.T) {
			records, hdr := getCSV(t, h, "/api/v1/national.csv?month="+month)
			n := getJSON[nationalBody](t, h, "/api/v1/national?month="+month).Metrics[0]
			require.Len(t, records, 2)
			assert.Equal(t, nationalColumns, records[0])
			assert.Equal(t, web.NationalCSVHeader(), records[0])
			pf := n.PaperFallback
			want := []string{
				mi.Month{Year: n.Year, Month: time.Month(n.Month)}.String(),
				strconv.Itoa(n.TransferCount),
				strconv.Itoa(n.IntegratedOnTime.TransferCount), cell(n.IntegratedOnTime.TransferPercentage),
				strconv.Itoa(pf.TransferCount), cell(pf.TransferPercentage),
				strconv.Itoa(pf.TechnicalFailure.TransferCount), cell(pf.TechnicalFailure.TransferPercentage),
				strconv.Itoa(pf.ProcessFailure.IntegratedLate.TransferCount), cell(pf.ProcessFailure.IntegratedLate.TransferPercentage),
				strconv.Itoa(pf.ProcessFailure.TransferredNotIntegrated.TransferCount), cell(pf.ProcessFailure.TransferredNotIntegrated.TransferPercentage),
				strconv.Itoa(pf.UnclassifiedFailure.TransferCount), cell(pf.UnclassifiedFailure.TransferPercentage),
			}
			assert.Equal(t, want, records[1])
			assert.Equal(t, `attachment; filename=gp2gp-national-`+want[0]+`.csv`, hdr.Get("Content-Disposition"))
		})
	}

	records, _ := getCSV(t, h, "/api/v1/national.csv?month=2020-01")
	assert.Equal(t, []string{"2020-01", "0", "0", "", "0", "", "0", "", "0", "", "0", "", "0", ""}, records[1], "null percentages are empty cells")
	records, _ = getCSV(t, h, "/api/v1/national.csv?month=2026-10")
	assert.Equal(t, []string{"2026-10", "14", "6", "42.86", "8", "57.14", "5", "35.71", "1", "7.14", "2", "14.29", "0", "0"}, records[1])
}

func TestPractices(t *testing.T) {
	h := newHandler(newFixtureSource(), nil)
	odsCodes := func(ps []mi.PracticeMetrics) []string {
		var out []string
		for _, p := range ps {
			out = append(out, p.ODSCode)
		}
		return out
	}
	tests := []struct {
		name  string
		query string
		want  []string
	}{
		{"default: not integrated within 8 days % descending, null last", "", []string{"B86041", "A12345", "C81001"}},
		{"explicit integration", "?month=2026-10&sort=integration", []string{"B86041", "A12345", "C81001"}},
		{"failures % descending", "?month=2026-10&sort=failures", []string{"C81001", "B86041", "A12345"}},
		{"another month", "?month=2026-09", []string{"A12345"}},
		{"a month without transfers", "?month=2020-01", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := getJSON[practicesBody](t, h, "/api/v1/practices"+tt.query)
			assert.Equal(t, tt.want, odsCodes(body.Practices))
			assert.Equal(t, fixtureNow.Truncate(time.Second), body.GeneratedOn)
			for _, p := range body.Practices {
				assert.Len(t, p.Metrics, 1, "one month only")
			}

			records, _ := getCSV(t, h, "/api/v1/practices.csv"+tt.query)
			var csvCodes []string
			for _, r := range records[1:] {
				csvCodes = append(csvCodes, r[3])
			}
			assert.Equal(t, tt.want, csvCodes, "the CSV has the JSON's order")
		})
	}

	body := getJSON[practicesBody](t, h, "/api/v1/practices?month=2026-10")
	assert.Equal(t, []mi.SICBL{
		{ODSCode: "00L", Name: practiceB.SICBLName, Practices: []string{"B86041"}},
		{ODSCode: "15F", Name: practiceA.SICBLName, Practices: []string{"A12345", "C81001"}},
	}, body.SICBLs)
	assert.Equal(t, mi.RequestedTransfers{
		RequestedCount: 7, ReceivedCount: 6, ReceivedPercentOfRequested: pct(85.7),
		IntegratedWithin3DaysCount: 3, IntegratedWithin3DaysPercentOfReceived: pct(50),
		IntegratedWithin8DaysCount: 1, IntegratedWithin8DaysPercentOfReceived: pct(16.7),
		NotIntegratedWithin8DaysTotal: 2, NotIntegratedWithin8DaysPercentOfReceived: pct(33.3),
		FailuresTotalCount: 1, FailuresTotalPercentOfRequested: pct(14.3),
	}, body.Practices[1].Metrics[0].RequestedTransfers)

	empty := getOK(t, h, "/api/v1/practices?month=2020-01", "application/json; charset=utf-8")
	assert.JSONEq(t, `{"generatedOn":"2026-11-20T10:30:15Z","practices":[],"sicbls":[]}`, empty.Body.String())
}

func TestPracticesCSV(t *testing.T) {
	h := newHandler(newFixtureSource(), nil)
	for _, query := range []string{"", "?month=2026-09", "?month=2026-11&sort=failures", "?month=2020-01"} {
		t.Run(query, func(t *testing.T) {
			records, hdr := getCSV(t, h, "/api/v1/practices.csv"+query)
			assert.Equal(t, practicesColumns, records[0])
			assert.Equal(t, web.PracticesCSVHeader(), records[0])
			body := getJSON[practicesBody](t, h, "/api/v1/practices"+query)
			want := [][]string{}
			for _, p := range body.Practices {
				for _, pm := range p.Metrics {
					rt := pm.RequestedTransfers
					want = append(want, []string{
						p.SICBLName, p.SICBLODSCode, p.Name, p.ODSCode,
						mi.Month{Year: pm.Year, Month: time.Month(pm.Month)}.String(),
						strconv.Itoa(rt.ReceivedCount),
						strconv.Itoa(rt.IntegratedWithin3DaysCount), cell(rt.IntegratedWithin3DaysPercentOfReceived),
						strconv.Itoa(rt.IntegratedWithin8DaysCount), cell(rt.IntegratedWithin8DaysPercentOfReceived),
						strconv.Itoa(rt.NotIntegratedWithin8DaysTotal), cell(rt.NotIntegratedWithin8DaysPercentOfReceived),
						strconv.Itoa(rt.RequestedCount),
						strconv.Itoa(rt.ReceivedCount), cell(rt.ReceivedPercentOfRequested),
						strconv.Itoa(rt.FailuresTotalCount), cell(rt.FailuresTotalPercentOfRequested),
					})
				}
			}
			assert.Equal(t, want, records[1:])
			assert.Contains(t, hdr.Get("Content-Disposition"), "attachment; filename=gp2gp-practices-")
		})
	}

	rec := getOK(t, h, "/api/v1/practices.csv?month=2026-10", "text/csv; charset=utf-8")
	assert.Equal(t, "attachment; filename=gp2gp-practices-2026-10.csv", rec.Header().Get("Content-Disposition"))
	lines := strings.Split(strings.TrimSuffix(rec.Body.String(), "\n"), "\n")
	require.Len(t, lines, 4)
	assert.Equal(t, `Sub ICB Location name,Sub ICB Location ODS,Requesting practice name,Practice ODS,Month,GP2GP Transfers received,Integrated within 3 days,Integrated within 3 days - %,Integrated within 8 days,Integrated within 8 days - %,Not integrated within 8 days (paper copy requested),Not integrated within 8 days (paper copy requested) - %,GP2GP transfers requested,GP2GP transfers received,GP2GP transfers received - %,GP2GP technical failures (paper copy requested),GP2GP technical failures (paper copy requested) - %`, lines[0])
	assert.Equal(t, `NHS West Yorkshire ICB - 15F,15F,"Dr ""Who"" & Partners, Leeds",A12345,2026-10,6,3,50,1,16.7,2,33.3,7,6,85.7,1,14.3`, lines[2], "quoted name, numbers as in the JSON")
	assert.Equal(t, `NHS West Yorkshire ICB - 15F,15F,Hilltop Practice,C81001,2026-10,0,0,,0,,0,,2,0,0,2,100`, lines[3], "null percentages are empty cells")
}

func TestPractice(t *testing.T) {
	h := newHandler(newFixtureSource(), nil)
	for _, ods := range []string{"A12345", "a12345"} {
		body := getJSON[practiceBody](t, h, "/api/v1/practices/"+ods)
		p := body.Practice
		assert.Equal(t, "A12345", p.ODSCode)
		assert.Equal(t, practiceA.Name, p.Name)
		assert.Equal(t, "15F", p.SICBLODSCode)
		var months []string
		for _, pm := range p.Metrics {
			months = append(months, mi.Month{Year: pm.Year, Month: time.Month(pm.Month)}.String())
		}
		assert.Equal(t, []string{"2026-11", "2026-10", "2026-09"}, months)
		assert.Equal(t, fixtureNow.Truncate(time.Second), body.GeneratedOn)
	}

	rec := serve(h, http.MethodGet, "/api/v1/practices/Z99999")
	assert.Equal(t, http.StatusNotFound, rec.Code)
	assert.JSONEq(t, `{"error":"no practice with figures has ODS code Z99999"}`, rec.Body.String())
	rec = serve(h, http.MethodGet, "/api/v1/practices/D99999")
	assert.Equal(t, http.StatusNotFound, rec.Code, "a practice without a Sub-ICB location has no practice figures")
}

func TestTransfer(t *testing.T) {
	src := newFixtureSource()
	h := newHandler(src, nil)
	for _, want := range []mi.Transfer{src.transfers[0], src.transfers[4], src.transfers[11]} {
		rec := getOK(t, h, "/api/v1/transfers/"+want.ConversationID, "application/json; charset=utf-8")
		b, err := json.Marshal(want)
		require.NoError(t, err)
		assert.JSONEq(t, string(b), rec.Body.String())
	}
	rec := serve(h, http.MethodGet, "/api/v1/transfers/no-such-conversation")
	assert.Equal(t, http.StatusNotFound, rec.Code)
	assert.JSONEq(t, `{"error":"no classified transfer has that conversation id"}`, rec.Body.String())
}

func TestBadRequests(t *testing.T) {
	h := newHandler(newFixtureSource(), nil)
	tests := []struct {
		name   string
		target string
		want   string
	}{
		{"month 13", "/api/v1/national?month=2026-13", "YYYY-MM"},
		{"month 00", "/api/v1/national.csv?month=2026-00", "YYYY-MM"},
		{"one-digit month", "/api/v1/practices?month=2026-1", "YYYY-MM"},
		{"two-digit year", "/api/v1/practices.csv?month=26-10", "YYYY-MM"},
		{"slash", "/api/v1/national?month=2026%2F10", "YYYY-MM"},
		{"year 0", "/api/v1/national?month=0000-10", "YYYY-MM"},
		{"letters", "/api/v1/national?month=abcd-ef", "YYYY-MM"},
		{"space", "/api/v1/national?month=+2026-10", "YYYY-MM"},
		{"day", "/api/v1/national?month=2026-10-01", "YYYY-MM"},
		{"sign", "/api/v1/national?month=-026-10", "YYYY-MM"},
		{"unknown sort", "/api/v1/practices?sort=name", `sort must be "integration"`},
		{"unknown sort in csv", "/api/v1/practices.csv?sort=1", `sort must be "integration"`},
		{"ODS code with punctuation", "/api/v1/practices/A1-234", "ODS code"},
		{"ODS code too long", "/api/v1/practices/" + strings.Repeat("A", 17), "ODS code"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := serve(h, http.MethodGet, tt.target)
			assert.Equal(t, http.StatusBadRequest, rec.Code)
			assert.Equal(t, "application/json; charset=utf-8", rec.Header().Get("Content-Type"))
			var body struct{ Error string }
			require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &body))
			assert.Contains(t, body.Error, tt.want)
		})
	}
}

func TestNotFound(t *testing.T) {
	h := newHandler(newFixtureSource(), nil)
	for _, target := range []string{"/api/v1/nope", "/api/v2/months", "/api/v1/months/extra", "/api/v1/practices/A12345/extra", "/api/v1/transfers/", "/nope", "/healthz", "/dashboard/nope.js"} {
		t.Run(target, func(t *testing.T) {
			rec := serve(h, http.MethodGet, target)
			assert.Equal(t, http.StatusNotFound, rec.Code)
			assert.Equal(t, "application/json; charset=utf-8", rec.Header().Get("Content-Type"))
			var body struct{ Error string }
			require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &body))
			assert.NotEmpty(t, body.Error)
		})
	}
}

func TestMethodNotAllowed(t *testing.T) {
	h := newHandler(newFixtureSource(), nil)
	for _, method := range []string{http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodOptions, "BREW"} {
		for _, target := range []string{"/api/v1/months", "/api/v1/practices.csv", "/", "/dashboard/app.js", "/nope"} {
			rec := serve(h, method, target)
			assert.Equal(t, http.StatusMethodNotAllowed, rec.Code, "%s %s", method, target)
			assert.Equal(t, "GET, HEAD", rec.Header().Get("Allow"), "%s %s", method, target)
			assert.JSONEq(t, `{"error":"method not allowed: use GET or HEAD"}`, rec.Body.String())
		}
	}
}

func TestHead(t *testing.T) {
	srv := httptest.NewServer(newHandler(newFixtureSource(), nil))
	t.Cleanup(srv.Close)
	for _, path := range []string{"/api/v1/months", "/api/v1/national.csv", "/api/v1/practices/A12345", "/", "/dashboard/app.css"} {
		req, err := http.NewRequestWithContext(t.Context(), http.MethodHead, srv.URL+path, nil)
		require.NoError(t, err)
		resp, err := srv.Client().Do(req)
		require.NoError(t, err)
		body, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		require.NoError(t, resp.Body.Close())
		assert.Equal(t, http.StatusOK, resp.StatusCode, path)
		assert.Empty(t, body, path)
		assert.NotEmpty(t, resp.Header.Get("Content-Type"), path)
	}
}

func TestSourceFailure(t *testing.T) {
	src := newFixtureSource()
	var logged bytes.Buffer
	h := newHandler(src, slog.New(slog.NewTextHandler(&logged, nil)))
	src.fail(errors.New("bucket gp2gp-mi: connection refused"))
	for _, target := range []string{
		"/api/v1/months", "/api/v1/national", "/api/v1/national?month=2026-10", "/api/v1/national.csv",
		"/api/v1/practices", "/api/v1/practices.csv?month=2026-10", "/api/v1/practices/A12345", "/api/v1/transfers/x",
	} {
		logged.Reset()
		rec := serve(h, http.MethodGet, target)
		assert.Equal(t, http.StatusInternalServerError, rec.Code, target)
		assert.JSONEq(t, `{"error":"the MI figures could not be read"}`, rec.Body.String(), target)
		assert.Contains(t, logged.String(), "connection refused", target)
		assert.Contains(t, logged.String(), "level=ERROR", target)
	}
}

func TestDashboardFiles(t *testing.T) {
	h := newHandler(newFixtureSource(), nil)
	tests := []struct {
		target, contentType, contains string
	}{
		{"/", "text/html; charset=utf-8", `<script src="/dashboard/app.js" defer></script>`},
		{"/dashboard/", "text/html; charset=utf-8", `id="practice-chart"`},
		{"/dashboard/app.js", "text/javascript; charset=utf-8", "data-ready"},
		{"/dashboard/app.css", "text/css; charset=utf-8", ".band-3"},
	}
	for _, tt := range tests {
		t.Run(tt.target, func(t *testing.T) {
			rec := getOK(t, h, tt.target, tt.contentType)
			assert.Contains(t, rec.Body.String(), tt.contains)
			assert.Equal(t, "no-cache", rec.Header().Get("Cache-Control"))
			assert.Equal(t, "nosniff", rec.Header().Get("X-Content-Type-Options"))
			etag := rec.Header().Get("ETag")
			require.NotEmpty(t, etag)

			req := httptest.NewRequest(http.MethodGet, tt.target, nil)
			req.Header.Set("If-None-Match", etag)
			again := httptest.NewRecorder()
			h.ServeHTTP(again, req)
			assert.Equal(t, http.StatusNotModified, again.Code)
		})
	}
	page := getOK(t, h, "/", "text/html; charset=utf-8")
	assert.Contains(t, page.Header().Get("Content-Security-Policy"), "default-src 'none'")

	rec := serve(h, http.MethodGet, "/dashboard")
	assert.Equal(t, http.StatusTemporaryRedirect, rec.Code)
	assert.Equal(t, "/dashboard/", rec.Header().Get("Location"))
}

// TestOddRequests sends malformed and hostile paths and queries: every
// answer is a clean status, and every error is JSON.
func TestOddRequests(t *testing.T) {
	h := newHandler(newFixtureSource(), nil)
	odd := []struct{ path, query string }{
		{"/api/v1/national", "month=%zz"},
		{"/api/v1/national", "month=2026-10&month=garbage"},
		{"/api/v1/national", "month=" + strings.Repeat("9", 10000)},
		{"/api/v1/national", "month=\x00\x01"},
		{"/api/v1/national", "month=９９９９-１０"},
		{"/api/v1/national", "month=9999-12"},
		{"/api/v1/national", "month=0001-01"},
		{"/api/v1/practices", "sort=failures&sort=x&month="},
		{"/api/v1/practices", ";;;&&&==="},
		{"/api/v1/practices/", ""},
		{"/api/v1/practices/%00", ""},
		{"/api/v1/practices/..", ""},
		{"/api/v1/practices/../../etc/passwd", ""},
		{"/api/v1/practices/A12345\u00e9", ""},
		{"/api/v1/practices/" + strings.Repeat("A", 100000), ""},
		{"/api/v1/transfers/%2F%2F", ""},
		{"/api/v1/transfers/" + strings.Repeat("x", 100000), ""},
		{"/api/v1/transfers/<script>", ""},
		{"//api/v1/months", ""},
		{"/api/v1//months", ""},
		{"/dashboard/../go.mod", ""},
		{"/dashboard/static/app.js", ""},
		{"/dashboard/%2e%2e/handler.go", ""},
		{"/\u202e", "ods=\u202e"},
		{"", ""},
	}
	for _, o := range odd {
		checkOddRequest(t, h, o.path, o.query)
	}
}

// FuzzHandler checks that no path or query makes the handler panic or
// answer anything but a known status.
func FuzzHandler(f *testing.F) {
	for _, seed := range [][2]string{
		{"/api/v1/national", "month=2026-10"},
		{"/api/v1/practices.csv", "month=2026-10&sort=failures"},
		{"/api/v1/practices/A12345", ""},
		{"/api/v1/transfers/0f5a8e3c-1b2d-4e6f-8a9b-000000000001", ""},
		{"/dashboard/app.js", ""},
		{"/", "ods=A12345#2026-10"},
	} {
		f.Add(seed[0], seed[1])
	}
	h := newHandler(newFixtureSource(), nil)
	f.Fuzz(func(t *testing.T, path, query string) {
		checkOddRequest(t, h, path, query)
	})
}

func checkOddRequest(t *testing.T, h http.Handler, path, query string) {
	t.Helper()
	u := &url.URL{Path: path, RawQuery: query}
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.URL = u
	req.RequestURI = u.RequestURI()
	rec := httptest.NewRecorder()
	require.NotPanics(t, func() { h.ServeHTTP(rec, req) }, "%q ? %q", path, query)
	switch rec.Code {
	case http.StatusOK, http.StatusMovedPermanently, http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
	case http.StatusBadRequest, http.StatusNotFound:
		var body struct{ Error string }
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &body), "%q ? %q: %s", path, query, rec.Body)
		assert.NotEmpty(t, body.Error)
	default:
		t.Errorf("%q ? %q: status %d: %s", path, query, rec.Code, rec.Body)
	}
}
