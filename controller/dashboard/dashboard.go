// Package dashboard serves the controller's browser dashboard: plain HTML, CSS
// and JavaScript modules embedded in the binary, so the page works offline and
// fetches nothing from outside the controller.
package dashboard

import (
	"embed"
	"io/fs"
	"net/http"
)

//go:embed static
var static embed.FS

// Handler returns the handler serving the dashboard's static files from the
// root of whatever path it is mounted at. It needs no authentication: the
// page signs in through the API.
func Handler() http.Handler {
	sub, err := fs.Sub(static, "static")
	if err != nil {
		panic("dashboard: embedded static folder missing: " + err.Error())
	}
	return http.FileServer(http.FS(sub))
}
