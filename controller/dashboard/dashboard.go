// Package dashboard serves the controller's browser dashboard: plain HTML,
// CSS and JavaScript modules embedded in the binary (no build step, no
// framework), so the page works offline and fetches nothing from outside
// the controller. The page signs in through the API (POST /api/v1/session)
// and reads everything else from /api/v1; see README.md for its views.
package dashboard

import (
	"embed"
	"io/fs"
	"net/http"
)

//go:embed static
var static embed.FS

// ContentSecurityPolicy is sent with every file: scripts, styles, images
// and connections only from the controller itself, so a page that tried
// to reach another host would be refused by the browser.
const ContentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; " +
	"img-src 'self' data:; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; " +
	"form-action 'self'; frame-ancestors 'none'"

// Files returns the dashboard's files (index.html at the root).
func Files() fs.FS {
	sub, err := fs.Sub(static, "static")
	if err != nil {
		panic("dashboard: embedded static folder missing: " + err.Error())
	}
	return sub
}

// Handler returns the handler serving the dashboard's files from the root
// of whatever path it is mounted at (index.html for "/"). It needs no
// authentication: the files hold no data, and the page signs in through
// the API. Every answer carries ContentSecurityPolicy, nosniff, and
// Cache-Control no-cache so that a new controller's files are fetched
// again. A method but GET and HEAD is 405 with Allow.
func Handler() http.Handler {
	files := http.FileServer(http.FS(Files()))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", ContentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cache-Control", "no-cache")
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			h.Set("Allow", "GET, HEAD")
			http.Error(w, r.Method+" is not a method of the dashboard's files: GET, HEAD", http.StatusMethodNotAllowed)
			return
		}
		files.ServeHTTP(w, r)
	})
}
