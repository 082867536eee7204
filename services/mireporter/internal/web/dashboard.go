package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"
)

// static holds the dashboard: index.html, app.js and app.css. It needs
// nothing from outside the mireporter.
//
//go:embed static
var static embed.FS

// contentSecurityPolicy lets the dashboard load only its own script and
// style and call only its own API.
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; " +
	"connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// asset is one embedded dashboard file.
type asset struct {
	body        []byte
	etag        string
	contentType string
}

// assets are the dashboard files by name ("index.html", …).
type assets map[string]asset

// loadAssets reads the embedded files once, with a strong ETag each.
func loadAssets() assets {
	out := assets{}
	entries, err := fs.ReadDir(static, "static")
	if err != nil {
		return out // cannot happen: the directory is embedded
	}
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		body, err := fs.ReadFile(static, "static/"+e.Name())
		if err != nil {
			continue
		}
		sum := sha256.Sum256(body)
		out[e.Name()] = asset{
			body:        body,
			etag:        `"` + hex.EncodeToString(sum[:12]) + `"`,
			contentType: contentType(e.Name()),
		}
	}
	return out
}

// contentType is the media type of a dashboard file, fixed rather than
// taken from the host's MIME tables.
func contentType(name string) string {
	switch path.Ext(name) {
	case ".html":
		return "text/html; charset=utf-8"
	case ".js":
		return "text/javascript; charset=utf-8"
	case ".css":
		return "text/css; charset=utf-8"
	default:
		return "application/octet-stream"
	}
}

// dashboard serves GET / and /dashboard/… . Browsers revalidate every file
// (Cache-Control: no-cache) and get 304 while its ETag matches, so a new
// release shows at once without refetching unchanged files.
func (h *handler) dashboard(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimPrefix(r.URL.Path, "/dashboard/")
	if name == "" || name == "/" {
		name = "index.html"
	}
	a, ok := h.assets[name]
	if !ok {
		writeError(w, http.StatusNotFound, "no such dashboard file")
		return
	}
	hdr := w.Header()
	hdr.Set("Content-Type", a.contentType)
	hdr.Set("ETag", a.etag)
	hdr.Set("Cache-Control", "no-cache")
	hdr.Set("X-Content-Type-Options", "nosniff")
	hdr.Set("Referrer-Policy", "no-referrer")
	if name == "index.html" {
		hdr.Set("Content-Security-Policy", contentSecurityPolicy)
	}
	http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(a.body))
}
