package dashboard_test

import (
	"context"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/ngic/ngic/controller/dashboard"
	"github.com/ngic/ngic/controller/dashboard/dashboardtest"
	"github.com/ngic/ngic/internal/testenv"
)

// TestHandlerServesFiles: the handler serves index.html at the root and
// the modules it loads with JavaScript's MIME type, every answer with the
// Content-Security-Policy, and nothing in the files names another host.
func TestHandlerServesFiles(t *testing.T) {
	srv := httptest.NewServer(dashboard.Handler())
	defer srv.Close()
	for path, wantType := range map[string]string{
		"/":                  "text/html",
		"/js/main.js":        "text/javascript",
		"/css/dashboard.css": "text/css",
		"/favicon.svg":       "image/svg+xml",
	} {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), wantType) {
			t.Errorf("GET %s: %s %q, want 200 %s", path, resp.Status, resp.Header.Get("Content-Type"), wantType)
		}
		if resp.Header.Get("Content-Security-Policy") != dashboard.ContentSecurityPolicy {
			t.Errorf("GET %s: no Content-Security-Policy", path)
		}
		if len(body) == 0 {
			t.Errorf("GET %s: empty", path)
		}
	}
	resp, err := http.Get(srv.URL + "/no-such-file.js")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("a missing file: %s", resp.Status)
	}
	for _, m := range []string{"POST", "PUT", "DELETE", "OPTIONS", "BREW"} {
		req, _ := http.NewRequest(m, srv.URL+"/", strings.NewReader("x"))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != "GET, HEAD" ||
			resp.Header.Get("Content-Security-Policy") == "" {
			t.Errorf("%s /: %s, Allow %q", m, resp.Status, resp.Header.Get("Allow"))
		}
	}
	// No file names a host: every URL is relative or absolute on the
	// controller (the SVG and XHTML namespaces are names, not requests).
	err = fs.WalkDir(dashboard.Files(), ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(dashboard.Files(), path)
		if err != nil {
			return err
		}
		s := strings.ReplaceAll(string(b), "http://www.w3.org/2000/svg", "")
		for _, scheme := range []string{"http://", "https://", "//cdn", "@import"} {
			if strings.Contains(s, scheme) {
				t.Errorf("%s names %q", path, scheme)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// startFake serves the dashboard and a fakeAPI whose session has role,
// starts chromium and opens a watched tab; everything ends with the test.
func startFake(t *testing.T, role string) (*fakeAPI, *httptest.Server, *testenv.Chromium, context.Context, *testenv.PageWatch) {
	api := newFakeAPI(role)
	mux := http.NewServeMux()
	mux.Handle("/api/", api)
	mux.Handle("/", dashboard.Handler())
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	browser := testenv.StartChromium(t)
	ctx, cancel := browser.NewTab(t)
	t.Cleanup(cancel)
	return api, srv, browser, ctx, testenv.WatchPage(t, ctx, nil)
}

// TestViewsOnFakeAPI renders every view of the dashboard in headless
// chromium against fixed API answers: sign-in sends the token once and
// then rides on the cookie, each route renders with no console error and
// no request beyond 127.0.0.1, the boundaries are drawn under the map, an
// alert pushed on the event stream appears without reloading, and
// acknowledging sends the session's CSRF token.
func TestViewsOnFakeAPI(t *testing.T) {
	t.Parallel()
	api, srv, browser, ctx, watch := startFake(t, "admin")

	// The route asked before signing in is shown after.
	dashboardtest.SignIn(t, ctx, srv.URL+"/#/gaps", fakeToken)
	dashboardtest.WaitView(t, ctx, "gaps", "河口镇端局")

	for _, c := range []struct{ route, ready, text string }{
		{"#/", "map", "青海示范省"},
		{"#/region/630000000000", "region", "东川县"},
		{"#/region/630101000000", "region", "上庄村"},
		{"#/village/630101001000", "village", "onts_online = 43"},
		{"#/gaps", "gaps", "河口镇端局"},
		{"#/devices", "devices", "gw-1"},
		{"#/devices?state=up", "devices", "olt-1"},
		{"#/devices/olt-1", "devices", "127.0.0.1:161"},
		{"#/site/s-1", "site", "E2000017"},
		{"#/alerts", "alerts", "olt-1 does not answer"},
		{"#/no-such-view", "no-such-view", "No page"},
	} {
		dashboardtest.Go(t, ctx, srv.URL, c.route, c.ready, c.text)
	}

	// The region view draws the boundaries, the pies of its children and
	// both charts.
	dashboardtest.Go(t, ctx, srv.URL, "#/region/630000000000", "region", "东川县")
	testenv.WaitJS(t, ctx, "the province's map", `document.querySelectorAll('#map path.boundary').length === 1 && document.querySelectorAll('#map a.point').length === 1`)
	if n := testenv.Eval[int](t, ctx, `document.querySelectorAll('#view figure.chart svg path').length`); n != 6 {
		t.Errorf("the charts draw %d lines, want 4 + 2", n)
	}
	if s := testenv.Eval[string](t, ctx, `document.querySelector('#view .cards [data-figure="tier:served"] .card-value').textContent`); s != "45.7%" {
		t.Errorf("the served share shows %q, want 45.7%%", s)
	}

	// Live: an alert pushed on the stream shows on the open alerts view.
	dashboardtest.Go(t, ctx, srv.URL, "#/alerts", "alerts", "olt-1 does not answer")
	testenv.WaitJS(t, ctx, "the stream open", `document.getElementById('conn').textContent === 'live'`)
	testenv.Do(t, ctx, "mark", chromedp.Evaluate[chromedp.Void](`window.ngicTestMark = 1`))
	api.push("alert", fakeAlert("a-2", "olt-2", "firing"))
	testenv.WaitJS(t, ctx, "the pushed alert", `!!document.querySelector('#open-alerts tr[data-alert="a-2"]')`)
	if testenv.Eval[int](t, ctx, `window.ngicTestMark || 0`) != 1 {
		t.Error("the page reloaded")
	}
	if s := testenv.Eval[string](t, ctx, `document.getElementById('alert-count').textContent`); s != "2" {
		t.Errorf("the header counts %s open alerts, want 2", s)
	}
	testenv.Do(t, ctx, "acknowledge",
		chromedp.SendKeys(chromedp.CSS(`input[data-ack-note="a-2"]`), "on it"),
		chromedp.Click(chromedp.CSS(`button[data-ack="a-2"]`)))
	testenv.WaitJS(t, ctx, "the acknowledgement", `document.querySelector('#open-alerts tr[data-alert="a-2"] [data-field="ack"]').textContent.includes('operator')`)
	if got := api.acked(); !slices.Equal(got, []string{"a-2:on it"}) {
		t.Errorf("acknowledgements received: %q", got)
	}
	// A resolved alert leaves the open list.
	api.push("alert", fakeAlert("a-2", "olt-2", "resolved"))
	testenv.WaitJS(t, ctx, "the resolved alert gone", `!document.querySelector('#open-alerts tr[data-alert="a-2"]')`)

	// Sign out: the form comes back.
	testenv.Do(t, ctx, "sign out", chromedp.Click(chromedp.CSS("#signout")))
	dashboardtest.WaitView(t, ctx, "signin", "Signed out.")
	watch.Check(t)
	if api.streamCount() == 0 {
		t.Error("the page never opened the event stream")
	}

	checkWatchSeesLeaks(t, browser)
}

// TestReadOnlySession: a read-only session sees the alerts but is offered
// no acknowledge, and is told why.
func TestReadOnlySession(t *testing.T) {
	t.Parallel()
	_, srv, _, ctx, watch := startFake(t, "read")
	dashboardtest.SignIn(t, ctx, srv.URL+"/#/alerts", fakeToken)
	dashboardtest.WaitView(t, ctx, "alerts", "olt-1 does not answer")
	if n := testenv.Eval[int](t, ctx, `document.querySelectorAll('button[data-ack]').length`); n != 0 {
		t.Errorf("a read-only session is offered %d acknowledge buttons", n)
	}
	if !testenv.Eval[bool](t, ctx, `document.getElementById('view').textContent.includes('read-only')`) {
		t.Error("the page does not say why there is no acknowledge")
	}
	if s := testenv.Eval[string](t, ctx, `document.getElementById('who').textContent`); s != "operator (read)" {
		t.Errorf("the header names the session %q", s)
	}
	watch.Check(t)
}

// checkWatchSeesLeaks proves the page watch the browser tests rely on: a
// page that asks another host is caught.
func checkWatchSeesLeaks(t *testing.T, browser *testenv.Chromium) {
	ctx, cancel := browser.NewTab(t)
	defer cancel()
	w := testenv.WatchPage(t, ctx, func(chromedp.ConsoleMessage) bool { return true })
	testenv.Do(t, ctx, "a page asking another host", chromedp.Navigate("about:blank"),
		chromedp.Evaluate[chromedp.Void](`new Promise((done) => {
			const img = new Image();
			img.onload = img.onerror = () => done(true);
			img.src = 'http://example.invalid/leak.png';
		})`, chromedp.EvalAwaitPromise))
	for _, p := range w.Problems() {
		if strings.Contains(p, "example.invalid") {
			return
		}
	}
	t.Errorf("the page watch missed the request to example.invalid: %q", w.Problems())
}
