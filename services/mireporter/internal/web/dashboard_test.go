package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestDashboard renders the dashboard in headless Chromium against a fake
// source and checks that every number on the page is the API's number.
//
// Without chromium on PATH the test skips, except in CI (CI set) or with
// GP2GP_REQUIRE_CHROMIUM=1, where it fails: the dashboard must not go
// untested silently.
func TestDashboard(t *testing.T) {
	chromium := findChromium(t)
	srv := httptest.NewServer(newHandler(newFixtureSource(), nil))
	t.Cleanup(srv.Close)

	t.Run("practice opened from the URL, default month", func(t *testing.T) {
		doc := renderPage(t, chromium, srv.URL+"/?ods=A12345")
		national := getAPI(t, srv, "/api/v1/national")
		practice := getAPI(t, srv, "/api/v1/practices/A12345")

		checkNational(t, doc, national)
		checkPractice(t, doc, practice)
		assert.Equal(t, "2026-10", doc.byID("national").attr("data-month"), "the latest complete month")
	})

	t.Run("month from the hash, practice with null percentages", func(t *testing.T) {
		doc := renderPage(t, chromium, srv.URL+"/?ods=c81001#2026-09")
		checkNational(t, doc, getAPI(t, srv, "/api/v1/national?month=2026-09"))
		checkPractice(t, doc, getAPI(t, srv, "/api/v1/practices/C81001"))
		assert.Equal(t, "2026-09", doc.byID("national").attr("data-month"))
		assert.Contains(t, doc.byID("national-csv").attr("href"), "/api/v1/national.csv?month=2026-09")
		na := 0
		for _, td := range doc.byID("practice-table").findAll(func(n *node) bool { return n.name == "td" }) {
			if td.text() == "n/a" {
				na++
			}
		}
		assert.Equal(t, 3, na, "the three percentages of nothing received")
	})

	t.Run("unknown practice", func(t *testing.T) {
		doc := renderPage(t, chromium, srv.URL+"/?ods=ZZ999&month=2026-11")
		checkNational(t, doc, getAPI(t, srv, "/api/v1/national?month=2026-11"))
		assert.True(t, doc.byID("practice").has("hidden"), "no practice section")
		assert.Contains(t, doc.byID("error").text(), "No practice with figures has ODS code ZZ999")
	})
}

// findChromium is the path of chromium, or skips (locally) or fails (CI).
func findChromium(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err == nil {
		return path
	}
	if os.Getenv("CI") != "" || os.Getenv("GP2GP_REQUIRE_CHROMIUM") == "1" {
		t.Fatalf("chromium is required (CI or GP2GP_REQUIRE_CHROMIUM=1) but not on PATH: %v", err)
	}
	t.Skipf("chromium not on PATH (%v); install it to test the dashboard", err)
	return ""
}

// renderPage loads pageURL in headless Chromium and returns the DOM once
// the page's script has finished (body data-ready="true").
func renderPage(t *testing.T, chromium, pageURL string) *node {
	t.Helper()
	// About 1.5 s on an idle machine; the margin is for a loaded CI runner.
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	profile := t.TempDir()
	cmd := exec.CommandContext(ctx, chromium,
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
		"--no-first-run", "--no-default-browser-check", "--disable-extensions",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir="+profile,
		"--virtual-time-budget=10000",
		"--dump-dom", pageURL)
	cmd.Env = append(os.Environ(), "HOME="+profile, "XDG_CONFIG_HOME="+profile, "XDG_CACHE_HOME="+profile)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	ownProcessGroup(cmd)
	cmd.WaitDelay = 3 * time.Second
	err := cmd.Run()
	_ = killGroup(cmd) // whatever chromium left behind, before its profile is removed
	if errors.Is(err, exec.ErrWaitDelay) {
		err = nil // the browser exited; a helper process held stdout open a little longer
	}
	require.NoError(t, err, "chromium %s: %s", pageURL, lastLines(stderr.String(), 20))

	dom := stdout.String()
	doc, err := parseDOM(dom)
	require.NoError(t, err, "parse the dumped DOM")
	body := doc.find(func(n *node) bool { return n.name == "body" })
	require.NotNil(t, body, "no body in:\n%s", dom)
	if body.attr("data-ready") != "true" {
		t.Fatalf("the page did not finish: body data-ready=%q, error %q\nchromium: %s\nDOM:\n%s",
			body.attr("data-ready"), doc.byID("error").text(), lastLines(stderr.String(), 10), dom)
	}
	return doc
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// getAPI fetches an API route as generic JSON, numbers kept as written.
func getAPI(t *testing.T, srv *httptest.Server, path string) map[string]any {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL+path, nil)
	require.NoError(t, err)
	resp, err := srv.Client().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode, path)
	dec := json.NewDecoder(resp.Body)
	dec.UseNumber()
	var v map[string]any
	require.NoError(t, dec.Decode(&v), path)
	return v
}

// shown is how the page must show a JSON figure: the number as the API
// wrote it, or "n/a" for null.
func shown(v any) string {
	switch v := v.(type) {
	case nil:
		return "n/a"
	case json.Number:
		return v.String()
	default:
		return fmt.Sprint(v)
	}
}

// leaves flattens the numbers and nulls of a JSON object into dotted paths.
func leaves(prefix string, v any, out map[string]any) {
	switch v := v.(type) {
	case map[string]any:
		for k, c := range v {
			p := k
			if prefix != "" {
				p = prefix + "." + k
			}
			leaves(p, c, out)
		}
	case json.Number, nil:
		out[prefix] = v
	}
}

// checkNational compares the national table with GET /api/v1/national:
// every figure of the API is on the page, exactly.
func checkNational(t *testing.T, doc *node, api map[string]any) {
	t.Helper()
	metrics, ok := api["metrics"].([]any)
	require.True(t, ok && len(metrics) == 1, "metrics: %v", api["metrics"])
	want := map[string]any{}
	leaves("", metrics[0], want)
	year, month := want["year"], want["month"]
	delete(want, "year")
	delete(want, "month")

	table := doc.byID("national-table")
	require.NotNil(t, table)
	got := map[string]string{}
	for _, n := range table.findAll(func(n *node) bool { return n.has("data-field") }) {
		got[n.attr("data-field")] = n.text()
	}
	require.Equal(t, sortedKeys(want), sortedKeys(got), "every national figure is shown")
	for field, v := range want {
		assert.Equal(t, shown(v), got[field], "national %s", field)
	}
	m, _ := strconv.Atoi(shown(month))
	assert.Equal(t, fmt.Sprintf("%s-%02d", shown(year), m), doc.byID("national").attr("data-month"))
}

// checkPractice compares the practice's table and chart with GET
// /api/v1/practices/{ods}.
func checkPractice(t *testing.T, doc *node, api map[string]any) {
	t.Helper()
	p := api["practice"].(map[string]any)
	section := doc.byID("practice")
	require.NotNil(t, section)
	assert.False(t, section.has("hidden"), "the practice section is shown")
	assert.Equal(t, p["odsCode"], section.attr("data-ods"))
	identity := doc.byID("practice-identity")
	for _, field := range []string{"odsCode", "name", "sicblOdsCode", "sicblName"} {
		n := identity.find(func(n *node) bool { return n.attr("data-field") == field })
		require.NotNil(t, n, field)
		assert.Equal(t, p[field], n.text(), field)
	}

	type month struct {
		name    string
		figures map[string]any
	}
	var months []month // most recent first, as the API lists them
	for _, pm := range p["metrics"].([]any) {
		pm := pm.(map[string]any)
		m, _ := strconv.Atoi(shown(pm["month"]))
		months = append(months, month{fmt.Sprintf("%s-%02d", shown(pm["year"]), m), pm["requestedTransfers"].(map[string]any)})
	}
	require.NotEmpty(t, months)

	// The table: one row per month in the API's order, every figure exact.
	table := doc.byID("practice-table")
	require.NotNil(t, table)
	rows := table.findAll(func(n *node) bool { return n.name == "tr" && n.has("data-month") })
	require.Len(t, rows, len(months))
	for i, m := range months {
		row := rows[i]
		assert.Equal(t, m.name, row.attr("data-month"))
		got := map[string]string{}
		for _, td := range row.findAll(func(n *node) bool { return n.has("data-field") }) {
			got[td.attr("data-field")] = td.text()
		}
		require.Equal(t, sortedKeys(m.figures), sortedKeys(got), "%s: every figure is shown", m.name)
		for field, v := range m.figures {
			assert.Equal(t, shown(v), got[field], "%s %s", m.name, field)
		}
	}

	// The chart: one bar group per month, oldest first; a rect per band
	// whose count is the API's and whose height is non-zero exactly when
	// the count is.
	chart := doc.byID("practice-chart")
	require.NotNil(t, chart)
	assert.Equal(t, "img", chart.attr("role"))
	assert.NotEmpty(t, chart.attr("aria-labelledby"))
	desc := chart.find(func(n *node) bool { return n.name == "desc" })
	require.NotNil(t, desc)
	bars := chart.findAll(func(n *node) bool { return n.name == "g" && n.has("data-month") })
	require.Len(t, bars, len(months))
	for i, bar := range bars {
		m := months[len(months)-1-i]
		assert.Equal(t, m.name, bar.attr("data-month"), "bar %d", i)
		assert.Contains(t, desc.text(), m.name, "the text alternative covers %s", m.name)
		rects := bar.findAll(func(n *node) bool { return n.name == "rect" })
		require.Len(t, rects, 4, m.name)
		total := 0
		for _, r := range rects {
			field := r.attr("data-field")
			want := shown(m.figures[field])
			assert.Equal(t, want, r.attr("data-count"), "%s %s", m.name, field)
			height, err := strconv.ParseFloat(r.attr("height"), 64)
			require.NoError(t, err, "%s %s height", m.name, field)
			count, _ := strconv.Atoi(want)
			total += count
			if count > 0 {
				assert.Positive(t, height, "%s %s: %d transfers", m.name, field, count)
			} else {
				assert.Zero(t, height, "%s %s: no transfers", m.name, field)
			}
		}
		assert.Equal(t, shown(m.figures["requestedCount"]), strconv.Itoa(total), "%s: the bands add up to the transfers requested", m.name)
	}
}

func sortedKeys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }

// node is an element of the dumped DOM.
type node struct {
	name     string
	attrs    map[string]string
	children []*node
	content  strings.Builder // the element's own text, children's excluded
	parent   *node
}

// parseDOM reads Chromium's HTML serialization with encoding/xml in its
// lenient HTML mode (void elements closed, HTML entities, valueless
// attributes, mismatched end tags repaired).
func parseDOM(s string) (*node, error) {
	d := xml.NewDecoder(strings.NewReader(s))
	d.Strict = false
	d.AutoClose = xml.HTMLAutoClose
	d.Entity = xml.HTMLEntity
	root := &node{name: "#document", attrs: map[string]string{}}
	cur := root
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			return root, nil
		}
		if err != nil {
			return nil, err
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			n := &node{name: strings.ToLower(tok.Name.Local), attrs: map[string]string{}, parent: cur}
			for _, a := range tok.Attr {
				n.attrs[strings.ToLower(a.Name.Local)] = a.Value
			}
			cur.children = append(cur.children, n)
			cur = n
		case xml.EndElement:
			for n := cur; n != root; n = n.parent {
				if n.name == strings.ToLower(tok.Name.Local) {
					cur = n.parent
					break
				}
			}
		case xml.CharData:
			cur.content.Write(tok)
		}
	}
}

// attr is the value of an attribute ("" when absent or n is nil).
func (n *node) attr(name string) string {
	if n == nil {
		return ""
	}
	return n.attrs[name]
}

// has reports whether n has the attribute.
func (n *node) has(name string) bool {
	if n == nil {
		return false
	}
	_, ok := n.attrs[name]
	return ok
}

// text is the trimmed text of n and its descendants.
func (n *node) text() string {
	if n == nil {
		return ""
	}
	var b strings.Builder
	var walk func(*node)
	walk = func(n *node) {
		b.WriteString(n.content.String())
		for _, c := range n.children {
			walk(c)
		}
	}
	walk(n)
	return strings.TrimSpace(b.String())
}

// findAll lists the descendants of n that match, in document order.
func (n *node) findAll(match func(*node) bool) []*node {
	if n == nil {
		return nil
	}
	var out []*node
	for _, c := range n.children {
		if match(c) {
			out = append(out, c)
		}
		out = append(out, c.findAll(match)...)
	}
	return out
}

// find is the first descendant of n that matches, or nil.
func (n *node) find(match func(*node) bool) *node {
	all := n.findAll(match)
	if len(all) == 0 {
		return nil
	}
	return all[0]
}

// byID is the element with the id, or nil.
func (n *node) byID(id string) *node {
	return n.find(func(n *node) bool { return n.attr("id") == id })
}

// TestDashboardOffline checks that the dashboard's files refer to nothing
// outside the mireporter: no URL with a scheme, no protocol-relative or
// off-site src/href, no CSS imports or external url().
func TestDashboardOffline(t *testing.T) {
	files, err := fs.Glob(os.DirFS("static"), "*")
	require.NoError(t, err)
	require.ElementsMatch(t, []string{"app.css", "app.js", "index.html"}, files)

	anyURL := regexp.MustCompile(`(?i)\b[a-z][a-z0-9+.-]*://`)
	link := regexp.MustCompile(`(?i)\b(?:src|href|action)\s*=\s*"([^"]*)"`)
	cssImport := regexp.MustCompile(`(?i)@import|url\(\s*['"]?(?:[a-z]+:|//)`)
	for _, name := range files {
		b, err := os.ReadFile(filepath.Join("static", name))
		require.NoError(t, err)
		src := string(b)
		assert.Empty(t, anyURL.FindAllString(src, -1), "%s: URLs with a scheme", name)
		for _, m := range link.FindAllStringSubmatch(src, -1) {
			v := m[1]
			ok := v == "data:," || strings.HasPrefix(v, "#") ||
				(strings.HasPrefix(v, "/") && !strings.HasPrefix(v, "//"))
			assert.True(t, ok, "%s: %s refers outside the mireporter", name, m[0])
		}
		if strings.HasSuffix(name, ".css") {
			assert.Empty(t, cssImport.FindAllString(src, -1), "%s: external CSS", name)
		}
	}

	// What the handler serves is what is checked here.
	h := newHandler(newFixtureSource(), nil)
	for _, name := range files {
		want, err := os.ReadFile(filepath.Join("static", name))
		require.NoError(t, err)
		got := getOK(t, h, "/dashboard/"+name, contentTypeOf(name)).Body.Bytes()
		assert.True(t, bytes.Equal(want, got), name)
	}
}

func contentTypeOf(name string) string {
	types := map[string]string{
		".html": "text/html; charset=utf-8",
		".js":   "text/javascript; charset=utf-8",
		".css":  "text/css; charset=utf-8",
	}
	return types[filepath.Ext(name)]
}
