package api_test

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ngic/ngic/controller/api"
	"github.com/ngic/ngic/controller/api/apitest"
	"github.com/ngic/ngic/controller/coverage"
	"github.com/ngic/ngic/telemetry"
)

// samplePath makes a request path of a mux pattern's path.
func samplePath(p string) string {
	p = strings.ReplaceAll(p, "{file}", "coverage.json")
	for _, w := range []string{"{code}", "{id}", "{name}"} {
		p = strings.ReplaceAll(p, w, "x")
	}
	return p
}

// Every route of the mux is described in openapi.yaml, and every
// operation of openapi.yaml is a route.
func TestRoutesAreInTheOpenAPIFile(t *testing.T) {
	s, _ := serve(t, newFake(t), api.Options{}, "")
	doc, router := apitest.Spec(t)
	seen := map[string]bool{}
	for _, rt := range s.Routes() {
		method, path, _ := strings.Cut(rt, " ")
		req, _ := http.NewRequest(method, samplePath(path), nil)
		route, _, err := router.FindRoute(req)
		if err != nil {
			t.Errorf("%s is not in openapi.yaml: %v", rt, err)
			continue
		}
		seen[method+" "+route.Path] = true
	}
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			if !seen[method+" "+path] {
				t.Errorf("openapi.yaml's %s %s is not a route of the mux", method, path)
			}
		}
	}
}

// Every route but the open ones answers 401 without a valid token, with a
// bad one, with a bad scheme, and when no token is configured at all.
func TestUnauthorized(t *testing.T) {
	src := newFake(t)
	many := api.FailLimit{ClientBurst: 1000} // every route is tried with wrong tokens
	s, c := serve(t, src, api.Options{FailLimit: many}, "")
	_, none := serve(t, src, api.Options{Tokens: []api.Token{}, FailLimit: many}, "")
	for _, rt := range s.Routes() {
		method, path, _ := strings.Cut(rt, " ")
		if path == "/api/v1/openapi.yaml" || path == "/api/v1/session" && method != http.MethodDelete {
			continue
		}
		p := samplePath(path)
		for _, cl := range []*apitest.Client{c, as(c, "wrong-token-0123456789"), none, as(none, adminToken)} {
			r := cl.Do(method, p, nil)
			expect(t, r, http.StatusUnauthorized)
		}
		cl := *c
		cl.Header = http.Header{"Authorization": {"Basic " + adminToken}}
		expect(t, cl.Do(method, p, nil), http.StatusUnauthorized)
	}
	r := none.Get("/api/v1/summary")
	if !strings.Contains(string(r.Body), "no API tokens are configured") {
		t.Errorf("without tokens: %s", r.Body)
	}
	expect(t, c.Get("/api/v1/openapi.yaml"), http.StatusOK)
}

// A read-only token gets 403 on every admin action.
func TestReadOnlyTokenForbidden(t *testing.T) {
	src := newFake(t)
	_, c := serve(t, src, api.Options{}, readToken)
	for _, p := range []struct{ method, path string }{{"POST", "/api/v1/alerts/a0/ack"}, {"POST", "/api/v1/maintenance"},
		{"DELETE", "/api/v1/maintenance/cfg-1"}, {"POST", "/api/v1/inventory/reload"}} {
		expect(t, c.Do(p.method, p.path, map[string]string{}), http.StatusForbidden)
	}
	if src.reloads != 0 || src.alerts[0].Ack != nil {
		t.Fatal("a read-only token changed something")
	}
}

// A token is refused in a URL, even a valid one.
func TestTokenInURLRefused(t *testing.T) {
	_, c := serve(t, newFake(t), api.Options{}, "")
	for _, k := range []string{"token", "access_token"} {
		r := c.Get("/api/v1/summary?" + k + "=" + adminToken)
		expect(t, r, http.StatusBadRequest)
		if strings.Contains(string(r.Body), adminToken) {
			t.Fatal("the answer repeats the token")
		}
	}
}

// Every answer carries the security headers, errors and the open ones too.
func TestSecurityHeaders(t *testing.T) {
	_, c := serve(t, newFake(t), api.Options{}, adminToken)
	for _, p := range []string{"/api/v1/summary", "/api/v1/openapi.yaml", "/api/v1/villages/nope", "/api/v1/nope"} {
		var r *apitest.Response
		if p == "/api/v1/nope" {
			r = rawGet(t, c, p)
		} else {
			r = c.Get(p)
		}
		h := r.Header
		if csp := h.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") ||
			!strings.Contains(csp, "frame-ancestors 'none'") {
			t.Errorf("%s: Content-Security-Policy %q", p, csp)
		}
		if h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Referrer-Policy") != "no-referrer" {
			t.Errorf("%s: headers %v", p, h)
		}
	}
}

// rawGet gets a path no operation describes (a 404 of the mux).
func rawGet(t *testing.T, c *apitest.Client, p string) *apitest.Response {
	t.Helper()
	req, _ := http.NewRequest("GET", c.Base+p, nil)
	req.Header.Set("Authorization", "Bearer "+c.Token)
	resp, err := c.HTTP.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("%s: %d", p, resp.StatusCode)
	}
	return &apitest.Response{Status: resp.StatusCode, Header: resp.Header}
}

// Bearer tokens are compared as digests in constant time, every token
// each time (not stopping at the match).
func TestConstantTimeCompareUsed(t *testing.T) {
	_, c := serve(t, newFake(t), api.Options{}, readToken)
	n := 0
	restore := api.CountCompares(&n)
	defer restore()
	expect(t, c.Get("/api/v1/summary"), http.StatusOK)
	if n != len(testTokens) {
		t.Fatalf("%d constant-time comparisons for one request, want %d (one per token)", n, len(testTokens))
	}
}

// sessionClient returns a client with a cookie jar, signed in with token.
func sessionClient(t *testing.T, c *apitest.Client, token string) (*apitest.Client, *http.Cookie, string) {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	hc := *c.HTTP
	hc.Jar = jar
	sc := &apitest.Client{T: t, Base: c.Base, HTTP: &hc}
	r := sc.Do("POST", "/api/v1/session", map[string]string{"token": token})
	expect(t, r, http.StatusOK)
	var doc struct {
		SignedIn bool   `json:"signed_in"`
		Role     string `json:"role"`
		CSRF     string `json:"csrf"`
	}
	r.JSON(t, &doc)
	if !doc.SignedIn || doc.CSRF == "" {
		t.Fatalf("sign-in: %s", r.Body)
	}
	var ck *http.Cookie
	for _, k := range (&http.Response{Header: r.Header}).Cookies() {
		if k.Name == api.CookieName {
			ck = k
		}
	}
	if ck == nil {
		t.Fatal("no session cookie")
	}
	return sc, ck, doc.CSRF
}

// The session cookie's flags; a cookie-authenticated change needs the
// CSRF header; signing out ends the session; a session expires.
func TestSessionCookieAndCSRF(t *testing.T) {
	now := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	src := newFake(t)
	_, c := serve(t, src, api.Options{Now: clock, SessionTTL: time.Hour}, "")
	sc, ck, csrf := sessionClient(t, c, adminToken)
	if !ck.HttpOnly || ck.SameSite != http.SameSiteStrictMode || ck.Path != "/" || ck.Secure || ck.MaxAge != 3600 {
		t.Errorf("cookie %+v: want HttpOnly, SameSite=Strict, Path=/, not Secure over plain HTTP, Max-Age 3600", ck)
	}
	if len(ck.Value) < 43 || strings.Contains(ck.Value, adminToken) {
		t.Errorf("session id %q: want 32 random bytes, not the token", ck.Value)
	}
	var doc struct {
		SignedIn  bool   `json:"signed_in"`
		TokenName string `json:"token_name"`
		CSRF      string `json:"csrf"`
	}
	sc.GetJSON("/api/v1/session", &doc)
	if !doc.SignedIn || doc.TokenName != "ops" || doc.CSRF != csrf {
		t.Fatalf("session: %+v", doc)
	}
	expect(t, sc.Get("/api/v1/summary"), http.StatusOK)
	expect(t, sc.Do("POST", "/api/v1/alerts/a0/ack", map[string]string{"note": "x"}), http.StatusForbidden)
	sc.Header = http.Header{api.CSRFHeader: {"not-the-csrf"}}
	expect(t, sc.Do("POST", "/api/v1/alerts/a0/ack", map[string]string{"note": "x"}), http.StatusForbidden)
	if src.alerts[0].Ack != nil {
		t.Fatal("acknowledged without CSRF")
	}
	sc.Header = http.Header{api.CSRFHeader: {csrf}}
	expect(t, sc.Do("POST", "/api/v1/alerts/a0/ack", map[string]string{"note": "seen"}), http.StatusOK)
	if a := src.alerts[0].Ack; a == nil || a.By != "ops" || a.Note != "seen" {
		t.Fatalf("ack %+v", a)
	}
	// A bearer token needs no CSRF header.
	expect(t, as(c, adminToken).Do("POST", "/api/v1/alerts/a0/ack", nil), http.StatusOK)

	sc.Header = nil
	expect(t, sc.Do("DELETE", "/api/v1/session", nil), http.StatusForbidden)
	sc.Header = http.Header{api.CSRFHeader: {csrf}}
	expect(t, sc.Do("DELETE", "/api/v1/session", nil), http.StatusOK)
	sc.Header = nil
	expect(t, sc.Get("/api/v1/summary"), http.StatusUnauthorized)

	// Expiry: a session is good until its TTL.
	sc2, _, _ := sessionClient(t, c, readToken)
	now = now.Add(59 * time.Minute)
	expect(t, sc2.Get("/api/v1/summary"), http.StatusOK)
	now = now.Add(2 * time.Minute)
	expect(t, sc2.Get("/api/v1/summary"), http.StatusUnauthorized)

	// A wrong token does not sign in.
	expect(t, c.Do("POST", "/api/v1/session", map[string]string{"token": "wrong-token-0123456789"}),
		http.StatusUnauthorized)
}

// The cookie is Secure when the server speaks TLS.
func TestSecureCookie(t *testing.T) {
	_, c := serve(t, newFake(t), api.Options{SecureCookies: true}, "")
	r := c.Do("POST", "/api/v1/session", map[string]string{"token": readToken})
	expect(t, r, http.StatusOK)
	if !strings.Contains(r.Header.Get("Set-Cookie"), "Secure") {
		t.Fatalf("Set-Cookie %q is not Secure", r.Header.Get("Set-Cookie"))
	}
}

// Request bodies are bounded and strict.
func TestBodies(t *testing.T) {
	_, c := serve(t, newFake(t), api.Options{MaxBody: 1024}, adminToken)
	expect(t, c.Do("POST", "/api/v1/session", map[string]string{"token": strings.Repeat("x", 2000)}),
		http.StatusBadRequest)
	expect(t, c.Do("POST", "/api/v1/maintenance", map[string]any{"subject": "site:so-hekou", "extra": 1}),
		http.StatusBadRequest)
	expect(t, c.Do("POST", "/api/v1/alerts/a0/ack", map[string]string{"note": strings.Repeat("n", 1001)}),
		http.StatusBadRequest)
}

type region struct {
	Code     string      `json:"code"`
	Level    string      `json:"level"`
	Villages int         `json:"villages"`
	Children int         `json:"children"`
	Lat      *float64    `json:"lat"`
	BBox     *[4]float64 `json:"bbox"`
	Path     []struct {
		Code string `json:"code"`
	} `json:"path"`
}

func TestRegions(t *testing.T) {
	_, c := serve(t, newFake(t), api.Options{}, readToken)
	var roots struct{ Items []region }
	c.GetJSON("/api/v1/regions", &roots)
	if len(roots.Items) != 1 || roots.Items[0].Code != "630000000000" || roots.Items[0].Villages != 11 ||
		roots.Items[0].Children != 2 {
		t.Fatalf("roots: %+v", roots.Items)
	}
	var counties struct{ Items []region }
	c.GetJSON("/api/v1/regions?parent=630000000000", &counties)
	if len(counties.Items) != 2 || counties.Items[1].Code != westCounty || counties.Items[1].Villages != 5 {
		t.Fatalf("counties: %+v", counties.Items)
	}
	w := counties.Items[1]
	if w.Lat == nil || w.BBox == nil || w.BBox[0] != 101.4 || w.BBox[3] != 36.35 {
		t.Fatalf("west county's position: lat %v bbox %v", w.Lat, w.BBox)
	}
	var one region
	c.GetJSON("/api/v1/regions/630201000000", &one)
	if one.Level != "township" || len(one.Path) != 2 || one.Path[0].Code != "630000000000" || one.Path[1].Code != westCounty {
		t.Fatalf("township: %+v", one)
	}
	expect(t, c.Get("/api/v1/regions/999"), http.StatusNotFound)
	expect(t, c.Get("/api/v1/regions?parent=999"), http.StatusNotFound)
}

type villagePage struct {
	Items []struct {
		Code      string `json:"code"`
		Broadband string `json:"broadband"`
		Evidence  string `json:"evidence"`
		Priority  bool   `json:"priority"`
		Trail     []any  `json:"trail"`
	} `json:"items"`
	NextCursor *string `json:"next_cursor"`
	Total      int     `json:"total"`
}

func TestVillagesFiltersAndPages(t *testing.T) {
	src := newFake(t)
	_, c := serve(t, src, api.Options{}, readToken)
	var all villagePage
	c.GetJSON("/api/v1/villages", &all)
	if all.Total != 11 || len(all.Items) != 11 || all.NextCursor != nil {
		t.Fatalf("all villages: total %d, %d items", all.Total, len(all.Items))
	}
	for _, v := range all.Items {
		if v.Trail != nil {
			t.Fatal("a list carries the trail")
		}
	}
	// Pages of 4: the same villages, each once, in the same order.
	var codes []string
	path := "/api/v1/villages?limit=4"
	for pages := 0; ; pages++ {
		var pg villagePage
		c.GetJSON(path, &pg)
		if pg.Total != 11 || len(pg.Items) > 4 {
			t.Fatalf("page: total %d, %d items", pg.Total, len(pg.Items))
		}
		for _, v := range pg.Items {
			codes = append(codes, v.Code)
		}
		if pg.NextCursor == nil {
			break
		}
		path = "/api/v1/villages?limit=4&cursor=" + url.QueryEscape(*pg.NextCursor)
		if pages > 5 {
			t.Fatal("pages never end")
		}
	}
	want := []string{}
	for _, v := range all.Items {
		want = append(want, v.Code)
	}
	if !slices.Equal(codes, want) {
		t.Fatalf("paged %v, want %v", codes, want)
	}
	// Filters.
	var west villagePage
	c.GetJSON("/api/v1/villages?region="+westCounty+"&priority=true", &west)
	if west.Total != 3 {
		t.Fatalf("west priority villages: %d", west.Total)
	}
	for _, v := range west.Items {
		if !v.Priority || !strings.HasPrefix(v.Code, "6302") {
			t.Fatalf("village %+v", v)
		}
	}
	res := src.res
	for _, ev := range []string{"declared", "override", "none", "measured"} {
		n := 0
		for _, v := range res.Villages {
			if v.Evidence == ev {
				n++
			}
		}
		var pg villagePage
		c.GetJSON("/api/v1/villages?evidence="+ev, &pg)
		if pg.Total != n {
			t.Errorf("evidence %s: %d, want %d", ev, pg.Total, n)
		}
	}
	for _, tier := range res.Tiers {
		var pg villagePage
		c.GetJSON("/api/v1/villages?class="+tier.Name, &pg)
		for _, v := range pg.Items {
			if v.Broadband != tier.Name {
				t.Errorf("class %s: village of %s", tier.Name, v.Broadband)
			}
		}
	}
	for _, bad := range []string{"class=nope", "evidence=nope", "priority=maybe", "limit=0", "limit=1001",
		"cursor=nope", "region=999"} {
		r := c.Get("/api/v1/villages?" + bad)
		if r.Status != http.StatusBadRequest && r.Status != http.StatusNotFound {
			t.Errorf("%s: %d", bad, r.Status)
		}
	}
	var one struct {
		Code  string `json:"code"`
		Trail []any  `json:"trail"`
	}
	c.GetJSON("/api/v1/villages/630201004000", &one)
	if one.Code != "630201004000" || len(one.Trail) == 0 {
		t.Fatalf("village with trail: %+v", one)
	}
	expect(t, c.Get("/api/v1/villages/1"), http.StatusNotFound)
}

func TestMap(t *testing.T) {
	_, c := serve(t, newFake(t), api.Options{}, readToken)
	type mp struct {
		Region string      `json:"region"`
		BBox   *[4]float64 `json:"bbox"`
		Points []struct {
			Kind        string             `json:"kind"`
			Code        string             `json:"code"`
			Class       string             `json:"class"`
			ClassShares map[string]float64 `json:"class_shares"`
		} `json:"points"`
	}
	var nation, county, township mp
	c.GetJSON("/api/v1/map", &nation)
	if len(nation.Points) != 1 || nation.Points[0].Kind != "region" || len(nation.Points[0].ClassShares) == 0 ||
		nation.BBox == nil {
		t.Fatalf("national map: %+v", nation)
	}
	c.GetJSON("/api/v1/map?region="+eastCounty, &county)
	if len(county.Points) != 2 || county.Points[0].Kind != "region" {
		t.Fatalf("county map: %+v", county)
	}
	c.GetJSON("/api/v1/map?region=630101000000", &township)
	if len(township.Points) != 4 || township.Points[0].Kind != "village" || township.Points[0].Class == "" {
		t.Fatalf("township map: %+v", township)
	}
}

func TestGapsAndCoverage(t *testing.T) {
	src := newFake(t)
	_, c := serve(t, src, api.Options{}, readToken)
	var all, west struct {
		Items []coverage.Gap `json:"items"`
		Total int            `json:"total"`
	}
	c.GetJSON("/api/v1/gaps?limit=1000", &all)
	if all.Total != len(src.res.Gaps) || all.Total == 0 {
		t.Fatalf("gaps %d, want %d", all.Total, len(src.res.Gaps))
	}
	c.GetJSON("/api/v1/gaps?region="+westCounty, &west)
	if west.Total == 0 || west.Total >= all.Total {
		t.Fatalf("west gaps %d of %d", west.Total, all.Total)
	}
	for _, g := range west.Items {
		if !strings.HasPrefix(g.Code, "6302") {
			t.Fatalf("gap %s outside the region", g.Code)
		}
	}
	var cov struct {
		Villages int `json:"villages"`
		Gaps     int `json:"gaps"`
	}
	c.GetJSON("/api/v1/coverage", &cov)
	if cov.Villages != 11 || cov.Gaps != all.Total {
		t.Fatalf("coverage %+v", cov)
	}
	var sum struct {
		Devices    map[string]int `json:"devices"`
		Gateways   map[string]int `json:"gateways"`
		AlertsOpen int            `json:"alerts_open"`
	}
	c.GetJSON("/api/v1/summary", &sum)
	if sum.Devices["down"] != 3 || sum.Devices["up"] != 11 || sum.Gateways["offline"] != 1 || sum.AlertsOpen != 3 {
		t.Fatalf("summary %+v", sum)
	}
}

func TestNoCoverageYet(t *testing.T) {
	src := newFake(t)
	src.res = nil
	_, c := serve(t, src, api.Options{}, readToken)
	for _, p := range []string{"/api/v1/coverage", "/api/v1/regions", "/api/v1/villages", "/api/v1/map", "/api/v1/gaps"} {
		expect(t, c.Get(p), http.StatusServiceUnavailable)
	}
	expect(t, c.Get("/api/v1/summary"), http.StatusOK)
}

func TestConvergence(t *testing.T) {
	_, c := serve(t, newFake(t), api.Options{}, readToken)
	var d struct {
		Region string `json:"region"`
		Series []struct {
			Time  time.Time          `json:"time"`
			Tiers map[string]float64 `json:"tiers"`
		} `json:"series"`
	}
	c.GetJSON("/api/v1/convergence", &d)
	if len(d.Series) != 3 || !d.Series[0].Time.Before(d.Series[2].Time) {
		t.Fatalf("national series: %+v", d)
	}
	sum := 0.0
	for _, v := range d.Series[0].Tiers {
		sum += v
	}
	if sum < 0.999 || sum > 1.001 {
		t.Fatalf("tier shares sum to %v", sum)
	}
	c.GetJSON("/api/v1/convergence?region="+westCounty, &d)
	if d.Region != westCounty || len(d.Series) != 3 {
		t.Fatalf("west series: %+v", d)
	}
	expect(t, c.Get("/api/v1/convergence?region=999"), http.StatusNotFound)
}

func TestReports(t *testing.T) {
	_, c := serve(t, newFake(t), api.Options{}, readToken)
	for f, ct := range map[string]string{"json": "application/json", "csv": "text/csv", "geojson": "application/geo+json",
		"html": "text/html"} {
		r := c.Get("/api/v1/reports/coverage." + f)
		expect(t, r, http.StatusOK)
		if !strings.HasPrefix(r.Header.Get("Content-Type"), ct) ||
			!strings.Contains(r.Header.Get("Content-Disposition"), "coverage."+f) {
			t.Errorf("%s: %v", f, r.Header)
		}
	}
	r := c.Get("/api/v1/reports/coverage.csv?region=" + westCounty)
	body := string(r.Body)
	if !strings.Contains(body, "630201004000") || strings.Contains(body, "630101001000") {
		t.Fatalf("the west county's CSV:\n%s", body)
	}
	expect(t, c.Get("/api/v1/reports/coverage.pdf"), http.StatusNotFound)
}

func TestSitesDevicesGateways(t *testing.T) {
	_, c := serve(t, newFake(t), api.Options{}, readToken)
	var sites struct {
		Items []struct {
			ID          string `json:"id"`
			Devices     int    `json:"devices"`
			DevicesDown int    `json:"devices_down"`
		} `json:"items"`
		Total int `json:"total"`
	}
	c.GetJSON("/api/v1/sites", &sites)
	if sites.Total != 6 {
		t.Fatalf("sites %+v", sites)
	}
	c.GetJSON("/api/v1/sites?region="+westCounty, &sites)
	if sites.Total != 2 {
		t.Fatalf("west sites %+v", sites)
	}
	var site struct {
		DeviceList  []any `json:"device_list"`
		GatewayList []any `json:"gateway_list"`
		Doors       []any `json:"doors"`
		TagsPresent int   `json:"tags_present"`
	}
	c.GetJSON("/api/v1/sites/cab-lingxia", &site)
	if len(site.GatewayList) != 1 || len(site.Doors) != 1 || site.TagsPresent != 1 || len(site.DeviceList) == 0 {
		t.Fatalf("site %+v", site)
	}
	expect(t, c.Get("/api/v1/sites/nope"), http.StatusNotFound)
	var devs struct {
		Items []api.Device `json:"items"`
		Total int          `json:"total"`
	}
	c.GetJSON("/api/v1/devices?state=down", &devs)
	if devs.Total != 3 {
		t.Fatalf("down devices: %d", devs.Total)
	}
	c.GetJSON("/api/v1/devices?site=so-hekou&class=olt", &devs)
	for _, d := range devs.Items {
		if d.Site != "so-hekou" || d.Class != "olt" {
			t.Fatalf("device %+v", d)
		}
	}
	c.GetJSON("/api/v1/devices?limit=5", &devs)
	if len(devs.Items) != 5 || devs.Total != 14 {
		t.Fatalf("a page of devices: %d of %d", len(devs.Items), devs.Total)
	}
	var one api.Device
	c.GetJSON("/api/v1/devices/"+devs.Items[0].ID, &one)
	if len(one.History) != 1 {
		t.Fatalf("device %+v", one)
	}
	expect(t, c.Get("/api/v1/devices/nope"), http.StatusNotFound)
	expect(t, c.Get("/api/v1/devices?state=sideways"), http.StatusBadRequest)
	var gws struct {
		Items []struct {
			Name    string                 `json:"name"`
			Readers []telemetry.ReaderInfo `json:"readers"`
		} `json:"items"`
	}
	c.GetJSON("/api/v1/gateways?state=offline", &gws)
	if len(gws.Items) != 1 || gws.Items[0].Name != "gw-lingxia" || len(gws.Items[0].Readers) != 1 {
		t.Fatalf("offline gateways %+v", gws)
	}
	expect(t, c.Get("/api/v1/gateways/gw-hekou"), http.StatusOK)
	expect(t, c.Get("/api/v1/gateways/nope"), http.StatusNotFound)
}

func TestAlertsAndMaintenance(t *testing.T) {
	src := newFake(t)
	_, c := serve(t, src, api.Options{}, adminToken)
	var al struct {
		Items []telemetry.Alert `json:"items"`
		Total int               `json:"total"`
	}
	c.GetJSON("/api/v1/alerts?limit=2", &al)
	if al.Total != 3 || len(al.Items) != 2 {
		t.Fatalf("alerts %d of %d", len(al.Items), al.Total)
	}
	c.GetJSON("/api/v1/alerts?state=recent", &al)
	expect(t, c.Get("/api/v1/alerts?state=old"), http.StatusBadRequest)
	expect(t, c.Do("POST", "/api/v1/alerts/nope/ack", nil), http.StatusNotFound)
	var a telemetry.Alert
	r := c.Do("POST", "/api/v1/alerts/a0/ack", nil)
	expect(t, r, http.StatusOK)
	r.JSON(t, &a)
	if a.Ack == nil || a.Ack.By != "ops" {
		t.Fatalf("ack %+v", a.Ack)
	}
	start := time.Date(2026, 12, 1, 22, 0, 0, 0, time.UTC)
	win := map[string]any{"subject": "device:" + src.devices[0].ID, "start": start, "end": start.Add(time.Hour),
		"reason": "swap"}
	var w api.Window
	r = c.Do("POST", "/api/v1/maintenance", win)
	expect(t, r, http.StatusOK)
	r.JSON(t, &w)
	if w.ID == "" || w.Source != api.WindowAPI {
		t.Fatalf("window %+v", w)
	}
	var ws struct{ Items []api.Window }
	c.GetJSON("/api/v1/maintenance", &ws)
	if len(ws.Items) != 2 {
		t.Fatalf("windows %+v", ws)
	}
	expect(t, c.Do("DELETE", "/api/v1/maintenance/cfg-1", nil), http.StatusConflict)
	expect(t, c.Do("DELETE", "/api/v1/maintenance/"+w.ID, nil), http.StatusOK)
	expect(t, c.Do("DELETE", "/api/v1/maintenance/"+w.ID, nil), http.StatusNotFound)
	win["end"] = start.Add(-time.Hour)
	expect(t, c.Do("POST", "/api/v1/maintenance", win), http.StatusBadRequest)
}

func TestReload(t *testing.T) {
	src := newFake(t)
	_, c := serve(t, src, api.Options{}, adminToken)
	expect(t, c.Do("POST", "/api/v1/inventory/reload", nil), http.StatusOK)
	src.reloadErr = api.ErrInvalid
	r := c.Do("POST", "/api/v1/inventory/reload", nil)
	expect(t, r, http.StatusBadRequest)
	expect(t, as(c, regionToken).Do("POST", "/api/v1/inventory/reload", nil), http.StatusForbidden)
	if src.reloads != 2 {
		t.Fatalf("%d reloads", src.reloads)
	}
}

func TestBoundaries(t *testing.T) {
	src := newFake(t)
	_, c := serve(t, src, api.Options{}, readToken)
	expect(t, c.Get("/api/v1/boundaries"), http.StatusNotFound)
	src.bounds = []byte(`{"type":"FeatureCollection","features":[]}`)
	r := c.Get("/api/v1/boundaries")
	expect(t, r, http.StatusOK)
	if r.Header.Get("Content-Type") != "application/geo+json" {
		t.Fatal(r.Header)
	}
}

// A token limited to the west county sees its subtree only, everywhere.
func TestRegionLimitedToken(t *testing.T) {
	src := newFake(t)
	_, c := serve(t, src, api.Options{}, regionToken)
	var roots struct{ Items []region }
	c.GetJSON("/api/v1/regions", &roots)
	if len(roots.Items) != 1 || roots.Items[0].Code != westCounty {
		t.Fatalf("roots %+v", roots)
	}
	var vs villagePage
	c.GetJSON("/api/v1/villages", &vs)
	if vs.Total != 5 {
		t.Fatalf("villages %d", vs.Total)
	}
	for _, p := range []string{"/api/v1/villages/630101001000", "/api/v1/regions/" + eastCounty,
		"/api/v1/regions/630000000000", "/api/v1/villages?region=" + eastCounty, "/api/v1/map?region=630000000000",
		"/api/v1/gaps?region=" + eastCounty, "/api/v1/sites/so-hekou", "/api/v1/gateways/gw-hekou",
		"/api/v1/reports/coverage.csv?region=630000000000", "/api/v1/convergence?region=630000000000"} {
		expect(t, c.Get(p), http.StatusNotFound)
	}
	expect(t, c.Get("/api/v1/villages/630201004000"), http.StatusOK)
	var devs struct {
		Items []api.Device `json:"items"`
	}
	c.GetJSON("/api/v1/devices?limit=1000", &devs)
	if len(devs.Items) == 0 {
		t.Fatal("no device")
	}
	for _, d := range devs.Items {
		if d.Site != "cab-lingxia" && d.Site != "vtr-xincun" {
			t.Fatalf("device %s at %s", d.ID, d.Site)
		}
		var al struct{ Items []telemetry.Alert }
		c.GetJSON("/api/v1/alerts", &al)
		for _, a := range al.Items {
			if a.Subject.Site != "cab-lingxia" && a.Subject.Site != "vtr-xincun" {
				t.Fatalf("alert of %s", a.Subject.Site)
			}
		}
	}
	for _, d := range src.devices {
		if d.Site == "so-hekou" {
			expect(t, c.Get("/api/v1/devices/"+d.ID), http.StatusNotFound)
			break
		}
	}
	// Its admin role acts within its region only.
	expect(t, c.Do("POST", "/api/v1/alerts/a0/ack", nil), http.StatusNotFound) // olt-bdcom, at so-hekou
	start := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	expect(t, c.Do("POST", "/api/v1/maintenance", map[string]any{"subject": "site:so-hekou", "start": start,
		"end": start.Add(time.Hour)}), http.StatusNotFound)
	expect(t, c.Do("DELETE", "/api/v1/maintenance/cfg-1", nil), http.StatusNotFound)
	expect(t, c.Do("POST", "/api/v1/maintenance", map[string]any{"subject": "site:cab-lingxia", "start": start,
		"end": start.Add(time.Hour)}), http.StatusOK)
	if src.alerts[0].Ack != nil || len(src.windows) != 2 {
		t.Fatalf("outside its region: ack %v, %d windows", src.alerts[0].Ack, len(src.windows))
	}
	var ws struct{ Items []api.Window }
	c.GetJSON("/api/v1/maintenance", &ws)
	if len(ws.Items) != 1 || ws.Items[0].Subject != "site:cab-lingxia" {
		t.Fatalf("windows seen: %+v", ws.Items)
	}
	var sum struct {
		Regions []region `json:"regions"`
	}
	c.GetJSON("/api/v1/summary", &sum)
	if len(sum.Regions) != 1 || sum.Regions[0].Code != westCounty {
		t.Fatalf("summary regions %+v", sum.Regions)
	}
	var conv struct {
		Region string `json:"region"`
	}
	c.GetJSON("/api/v1/convergence", &conv)
	if conv.Region != westCounty {
		t.Fatalf("convergence of %q", conv.Region)
	}
}

// readEvent reads the next event of an event stream (skipping comments).
func readEvent(t *testing.T, sc *bufio.Scanner) (kind, data string) {
	t.Helper()
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "event: "):
			kind = line[len("event: "):]
		case strings.HasPrefix(line, "data: "):
			data = line[len("data: "):]
		case line == "" && kind != "":
			return kind, data
		}
	}
	t.Fatalf("stream ended: %v", sc.Err())
	return "", ""
}

// openStream connects to the event stream and waits for its first
// comment, so that the client is registered before anything is published.
func openStream(t *testing.T, c *apitest.Client) *bufio.Scanner {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	req, _ := http.NewRequestWithContext(ctx, "GET", c.Base+"/api/v1/events", nil)
	req.Header.Set("Authorization", "Bearer "+c.Token)
	resp, err := c.HTTP.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	apitest.Validate(t, req, resp.StatusCode, resp.Header, nil)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("events: %d %v", resp.StatusCode, resp.Header)
	}
	sc := bufio.NewScanner(resp.Body)
	if !sc.Scan() || sc.Text() != ": connected" {
		t.Fatalf("first line %q", sc.Text())
	}
	return sc
}

// Events reach every stream allowed to see them, in order; a
// region-limited stream gets only those of its sites.
func TestEvents(t *testing.T) {
	s, c := serve(t, newFake(t), api.Options{PingEvery: time.Hour}, readToken)
	all := openStream(t, c)
	west := openStream(t, as(c, regionToken))
	now := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	s.PublishDevice("olt-bdcom", "so-hekou", "down", now)
	s.PublishGateway("gw-lingxia", "cab-lingxia", "offline", now)
	s.PublishAlert(telemetry.Alert{V: 1, ID: "x", Subject: telemetry.AlertSubject{Type: "site", ID: "vtr-xincun"}})
	s.PublishCoverage(now)
	for _, want := range []string{"device", "gateway", "alert", "coverage"} {
		if kind, data := readEvent(t, all); kind != want || !strings.HasPrefix(data, "{") {
			t.Fatalf("event %s %s, want %s", kind, data, want)
		}
	}
	for _, want := range []string{"gateway", "alert", "coverage"} {
		if kind, _ := readEvent(t, west); kind != want {
			t.Fatalf("west event %s, want %s", kind, want)
		}
	}
	if st := s.Stats(); st.Clients != 2 || st.Dropped != 0 || st.Sent != 7 {
		t.Fatalf("hub %+v", st)
	}
}

// A stream gets a comment ping at the interval.
func TestEventsPing(t *testing.T) {
	_, c := serve(t, newFake(t), api.Options{PingEvery: 10 * time.Millisecond}, readToken)
	sc := openStream(t, c)
	for sc.Scan() {
		if sc.Text() == ": ping" {
			return
		}
	}
	t.Fatal("no ping")
}

// A body that does not say it is JSON is refused: a cross-site form can
// post text/plain, never application/json.
func TestBodyMustBeJSON(t *testing.T) {
	_, c := serve(t, newFake(t), api.Options{}, "")
	req, _ := http.NewRequest("POST", c.Base+"/api/v1/session", strings.NewReader(`{"token":"`+readToken+`"}`))
	req.Header.Set("Content-Type", "text/plain")
	resp, err := c.HTTP.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	apitest.Validate(t, req, resp.StatusCode, resp.Header, body)
	if resp.StatusCode != http.StatusBadRequest || len(resp.Cookies()) != 0 {
		t.Fatalf("a text/plain sign-in: %d, cookies %v", resp.StatusCode, resp.Cookies())
	}
}

// New refuses a token it could not check safely.
func TestNewRefusesBadTokens(t *testing.T) {
	src := newFake(t)
	for _, tc := range []struct {
		name   string
		tokens []api.Token
	}{
		{"short", []api.Token{{Name: "a", Secret: "short", Role: api.RoleRead}}},
		{"no name", []api.Token{{Secret: readToken, Role: api.RoleRead}}},
		{"no role", []api.Token{{Name: "a", Secret: readToken}}},
		{"same secret", []api.Token{{Name: "a", Secret: readToken, Role: api.RoleRead},
			{Name: "b", Secret: readToken, Role: api.RoleAdmin}}},
	} {
		if _, err := api.New(src, api.Options{Tokens: tc.tokens}); err == nil || strings.Contains(err.Error(), readToken) {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
	if _, err := api.New(nil, api.Options{}); err == nil {
		t.Error("no source accepted")
	}
}
