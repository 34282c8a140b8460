package api_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ngic/ngic/controller/api"
	"github.com/ngic/ngic/controller/api/apitest"
)

// fakeClock returns a clock standing at noon of a test day, and the
// function moving it on.
func fakeClock() (now func() time.Time, add func(time.Duration)) {
	var ns atomic.Int64
	ns.Store(time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC).UnixNano())
	return func() time.Time { return time.Unix(0, ns.Load()).UTC() }, func(d time.Duration) { ns.Add(int64(d)) }
}

// expectRetryAfter checks a 429 and its Retry-After.
func expectRetryAfter(t *testing.T, r *apitest.Response, want string) {
	t.Helper()
	expect(t, r, http.StatusTooManyRequests)
	if got := r.Header.Get("Retry-After"); got != want {
		t.Fatalf("Retry-After %q, want %q", got, want)
	}
}

// Wrong bearer tokens from one address are answered 429 with Retry-After
// once its failures are spent, even with a good token then (a guesser
// cannot tell a hit); wrong tokens signing in count the same; the address
// may try again once the bucket refills. Sessions are not limited.
func TestFailedAuthenticationsLimited(t *testing.T) {
	now, wait := fakeClock()
	_, c := serve(t, newFake(t), api.Options{Now: now,
		FailLimit: api.FailLimit{ClientBurst: 3, ClientEvery: time.Minute}}, "")
	sc, _, _ := sessionClient(t, c, readToken)
	wrong := as(c, "wrong-token-0123456789")
	expect(t, wrong.Get("/api/v1/summary"), http.StatusUnauthorized)
	expect(t, wrong.Get("/api/v1/regions"), http.StatusUnauthorized)
	expect(t, c.Do("POST", "/api/v1/session", map[string]string{"token": "wrong-token-0123456789"}),
		http.StatusUnauthorized)
	expectRetryAfter(t, wrong.Get("/api/v1/summary"), "60")
	expectRetryAfter(t, as(c, adminToken).Get("/api/v1/summary"), "60")
	expectRetryAfter(t, c.Do("POST", "/api/v1/session", map[string]string{"token": adminToken}), "60")
	expectRetryAfter(t, wrong.Get("/api/v1/session"), "60") // an open route with a bearer header too
	expect(t, sc.Get("/api/v1/summary"), http.StatusOK)
	wait(30 * time.Second)
	expectRetryAfter(t, as(c, adminToken).Get("/api/v1/summary"), "30")
	wait(31 * time.Second)
	expect(t, as(c, adminToken).Get("/api/v1/summary"), http.StatusOK)
	expect(t, wrong.Get("/api/v1/summary"), http.StatusUnauthorized)
	expectRetryAfter(t, wrong.Get("/api/v1/summary"), "59") // a second's refill was left
}

// The global limit holds whatever the addresses (here all one).
func TestFailedAuthenticationsGlobalLimit(t *testing.T) {
	now, _ := fakeClock()
	_, c := serve(t, newFake(t), api.Options{Now: now,
		FailLimit: api.FailLimit{ClientBurst: 100, GlobalBurst: 2, GlobalEvery: 5 * time.Second}}, "wrong-token-0123456789")
	expect(t, c.Get("/api/v1/summary"), http.StatusUnauthorized)
	expect(t, c.Get("/api/v1/summary"), http.StatusUnauthorized)
	expectRetryAfter(t, c.Get("/api/v1/summary"), "5")
}

// The Host filter: loopback names and addresses always, other addresses
// only beyond loopback, other names only from http.hosts.
func TestHostFilter(t *testing.T) {
	lo := api.HostFilter{Hosts: []string{"ngic.example.org"}, LoopbackOnly: true}
	wide := api.HostFilter{Hosts: []string{"ngic.example.org"}}
	for _, c := range []struct {
		host     string
		lo, wide bool
	}{
		{"127.0.0.1:9480", true, true},
		{"127.0.0.2", true, true},
		{"[::1]:9480", true, true},
		{"[::1]", true, true},
		{"localhost:9480", true, true},
		{"LOCALHOST.", true, true},
		{"app.localhost", true, true},
		{"NGIC.example.org:443", true, true},
		{"10.1.2.3:9480", false, true},
		{"0.0.0.0:9480", false, true}, // a public page's fetch of 0.0.0.0 reaches loopback on Linux
		{"evil.com@127.0.0.1", false, false},
		{"[2001:db8::1]:9480", false, true},
		{"evil.example.com", false, false},
		{"ngic.example.org.evil.com", false, false},
		{"localhost.evil.com", false, false},
		{"127.0.0.1.nip.io", false, false},
		{"", true, true}, // HTTP/1.0 without Host: not a browser
	} {
		if got := lo.Allowed(c.host); got != c.lo {
			t.Errorf("loopback-only: Host %q allowed %v, want %v", c.host, got, c.lo)
		}
		if got := wide.Allowed(c.host); got != c.wide {
			t.Errorf("beyond loopback: Host %q allowed %v, want %v", c.host, got, c.wide)
		}
	}
}

// A request with a Host the controller does not answer to is refused 421
// (a page rebinding its name to the controller reads nothing).
func TestHostRefused(t *testing.T) {
	s, _ := api.New(newFake(t), api.Options{Tokens: testTokens})
	h := api.HostFilter{LoopbackOnly: true}.Wrap(s.Handler())
	req, _ := http.NewRequest("GET", "http://evil.example.com:9480/api/v1/summary", nil)
	req.Header.Set("Authorization", "Bearer "+adminToken)
	r := record(h, req)
	apitest.Validate(t, req, r.Status, r.Header, r.Body)
	if r.Status != http.StatusMisdirectedRequest || !strings.Contains(string(r.Body), "http.hosts") {
		t.Fatalf("%d %s", r.Status, r.Body)
	}
	req.Host = "127.0.0.1:9480"
	if r := record(h, req); r.Status != http.StatusOK {
		t.Fatalf("loopback Host: %d %s", r.Status, r.Body)
	}
}

// A state-changing request a browser says comes from another site is
// refused, with a valid session and CSRF token and even signing in; one
// from the controller's own origin passes.
func TestCrossOriginRefused(t *testing.T) {
	src := newFake(t)
	_, c := serve(t, src, api.Options{}, "")
	sc, _, csrf := sessionClient(t, c, adminToken)
	sc.Header = http.Header{api.CSRFHeader: {csrf}, "Origin": {"http://evil.example.com"}}
	expect(t, sc.Do("POST", "/api/v1/alerts/a0/ack", map[string]string{"note": "x"}), http.StatusForbidden)
	sc.Header = http.Header{api.CSRFHeader: {csrf}, "Sec-Fetch-Site": {"cross-site"}}
	expect(t, sc.Do("DELETE", "/api/v1/session", nil), http.StatusForbidden)
	cross := *c
	cross.Header = http.Header{"Origin": {"http://evil.example.com"}}
	expect(t, cross.Do("POST", "/api/v1/session", map[string]string{"token": adminToken}), http.StatusForbidden)
	if src.alerts[0].Ack != nil {
		t.Fatal("a cross-origin acknowledgement went through")
	}
	sc.Header = http.Header{api.CSRFHeader: {csrf}, "Origin": {c.Base}, "Sec-Fetch-Site": {"same-origin"}}
	expect(t, sc.Do("POST", "/api/v1/alerts/a0/ack", map[string]string{"note": "x"}), http.StatusOK)
	// Reading is never refused for its origin.
	sc.Header = http.Header{"Origin": {"http://evil.example.com"}, "Sec-Fetch-Site": {"cross-site"}}
	expect(t, sc.Get("/api/v1/summary"), http.StatusOK)
}

// A method no route of a path takes is 405 with Allow (HEAD and OPTIONS
// too); an unknown path stays 404.
func TestMethodNotAllowed(t *testing.T) {
	_, c := serve(t, newFake(t), api.Options{}, adminToken)
	for _, m := range []struct{ method, path, allow string }{
		{"HEAD", "/api/v1/summary", "GET"},
		{"OPTIONS", "/api/v1/summary", "GET"},
		{"PUT", "/api/v1/maintenance", "GET, POST"},
		{"PATCH", "/api/v1/session", "GET, POST, DELETE"},
		{"DELETE", "/api/v1/alerts/a0/ack", "POST"},
		{"HEAD", "/api/v1/reports/coverage.json", "GET"},
		{"BREW", "/api/v1/villages/x", "GET"},
	} {
		resp := rawDo(t, c, m.method, m.path)
		if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != m.allow {
			t.Errorf("%s %s: %d, Allow %q; want 405 and %q", m.method, m.path, resp.StatusCode,
				resp.Header.Get("Allow"), m.allow)
		}
		if resp.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s %s: no security headers", m.method, m.path)
		}
	}
	if resp := rawDo(t, c, "PUT", "/api/v1/nope"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("PUT of an unknown path: %d", resp.StatusCode)
	}
}

// rawDo sends a request no operation of openapi.yaml describes, with c's
// token, and returns the answer with its body read.
func rawDo(t *testing.T, c *apitest.Client, method, path string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(method, c.Base+path, nil)
	req.Header.Set("Authorization", "Bearer "+c.Token)
	resp, err := c.HTTP.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

// record serves req with h in memory.
func record(h http.Handler, req *http.Request) *apitest.Response {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return &apitest.Response{Status: w.Code, Header: w.Header(), Body: w.Body.Bytes()}
}

// Sessions survive a restart through the sessions file, which holds no
// session id; an expired session, one signed out, and one of a token no
// longer configured do not come back; a restored session takes its
// token's role as configured now.
func TestSessionsSurviveRestart(t *testing.T) {
	file := filepath.Join(t.TempDir(), "sessions.json")
	now, wait := fakeClock()
	src := newFake(t)
	s1, c1 := serve(t, src, api.Options{Now: now, SessionTTL: time.Hour, SessionFile: file}, "")
	_, keepCookie, keepCSRF := sessionClient(t, c1, readToken)
	gone, goneCookie, goneCSRF := sessionClient(t, c1, adminToken)
	_, westCookie, _ := sessionClient(t, c1, regionToken)
	gone.Header = http.Header{api.CSRFHeader: {goneCSRF}}
	expect(t, gone.Do("DELETE", "/api/v1/session", nil), http.StatusOK)
	wait(10 * time.Minute)
	_, lateCookie, _ := sessionClient(t, c1, adminToken) // made later: outlives the others
	s1.FlushSessions()                                   // as the daemon does when it stops
	if st := s1.Stats(); st.Sessions != 3 || st.SessionSaveError != "" {
		t.Fatalf("stats %+v", st)
	}
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	for _, ck := range []*http.Cookie{keepCookie, goneCookie, westCookie, lateCookie} {
		if strings.Contains(string(b), ck.Value) {
			t.Fatal("the sessions file holds a session id")
		}
	}
	if fi, _ := os.Stat(file); fi.Mode().Perm() != 0o600 {
		t.Fatalf("sessions file mode %v", fi.Mode())
	}

	// The restart: the west token is gone, the read token is now admin.
	tokens := []api.Token{{Name: "ops", Secret: adminToken, Role: api.RoleAdmin},
		{Name: "viewer", Secret: readToken, Role: api.RoleAdmin}}
	s2, c2 := serve(t, src, api.Options{Now: now, SessionTTL: time.Hour, SessionFile: file, Tokens: tokens}, "")
	if n, err := s2.RestoreSessions(); err != nil || n != 2 {
		t.Fatalf("restored %d sessions (%v), want 2", n, err)
	}
	withCookie := func(ck *http.Cookie) *apitest.Client {
		d := *c2
		d.Header = http.Header{"Cookie": {ck.Name + "=" + ck.Value}}
		return &d
	}
	var doc struct {
		SignedIn bool   `json:"signed_in"`
		Role     string `json:"role"`
		CSRF     string `json:"csrf"`
	}
	withCookie(keepCookie).GetJSON("/api/v1/session", &doc)
	if !doc.SignedIn || doc.Role != api.RoleAdmin || doc.CSRF != keepCSRF {
		t.Fatalf("restored session %+v", doc)
	}
	expect(t, withCookie(goneCookie).Get("/api/v1/summary"), http.StatusUnauthorized)
	expect(t, withCookie(westCookie).Get("/api/v1/summary"), http.StatusUnauthorized)
	wait(55 * time.Minute) // the first sessions expired, the late one not
	expect(t, withCookie(keepCookie).Get("/api/v1/summary"), http.StatusUnauthorized)
	expect(t, withCookie(lateCookie).Get("/api/v1/summary"), http.StatusOK)

	// A damaged file is an error, and restores nothing.
	if err := os.WriteFile(file, []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	s3, _ := serve(t, src, api.Options{SessionFile: file}, "")
	if n, err := s3.RestoreSessions(); err == nil || n != 0 || !strings.Contains(err.Error(), file) {
		t.Fatalf("a damaged file: %d, %v", n, err)
	}
}

// Signing in gives a new session id even to a browser that holds one
// (someone who planted a cookie cannot ride the session), and ends the old.
func TestSignInRenewsSession(t *testing.T) {
	_, c := serve(t, newFake(t), api.Options{}, "")
	sc, old, _ := sessionClient(t, c, readToken)
	r := sc.Do("POST", "/api/v1/session", map[string]string{"token": adminToken})
	expect(t, r, http.StatusOK)
	var fresh *http.Cookie
	for _, k := range (&http.Response{Header: r.Header}).Cookies() {
		if k.Name == api.CookieName {
			fresh = k
		}
	}
	if fresh == nil || fresh.Value == old.Value {
		t.Fatalf("signing in again kept the session id")
	}
	planted := *c
	planted.Header = http.Header{"Cookie": {old.Name + "=" + old.Value}}
	expect(t, planted.Get("/api/v1/summary"), http.StatusUnauthorized)
}

// An event stream outlives the server's ReadTimeout (which bounds reading
// a request, and would otherwise end every stream after it).
func TestStreamOutlivesReadTimeout(t *testing.T) {
	s, err := api.New(newFake(t), api.Options{Tokens: testTokens, PingEvery: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewUnstartedServer(s.Handler())
	ts.Config.ReadTimeout = 100 * time.Millisecond
	ts.Start()
	t.Cleanup(ts.Close)
	c := &apitest.Client{T: t, Base: ts.URL, HTTP: ts.Client(), Token: readToken}
	sc := openStream(t, c)
	opened := time.Now()
	for sc.Scan() {
		if sc.Text() == ": ping" && time.Since(opened) > 10*ts.Config.ReadTimeout {
			return
		}
	}
	t.Fatalf("the stream ended %v after it opened: %v", time.Since(opened), sc.Err())
}

// One address may hold MaxStreamsPerClient event streams: the next is
// answered 429 with Retry-After, and others are not held up.
func TestStreamsPerClientCapped(t *testing.T) {
	s, c := serve(t, newFake(t), api.Options{MaxStreamsPerClient: 2}, readToken)
	openStream(t, c)
	openStream(t, c)
	r := c.Get("/api/v1/events")
	expect(t, r, http.StatusTooManyRequests)
	if r.Header.Get("Retry-After") == "" {
		t.Fatal("no Retry-After")
	}
	if st := s.Stats(); st.Clients != 2 || st.StreamsRefused != 1 {
		t.Fatalf("stats %+v", st)
	}
}

// eastMarkers are identifiers of the east county (outside the region
// token's west county): no answer to the region token may hold one.
var eastMarkers = []string{eastCounty, "630101001000", "上庄村", "河口镇", "东川县", "so-hekou", "olt-bdcom", "gw-hekou"}

// A region-limited token sees nothing of another region through any GET
// route, whatever it asks: no code, name, site, device or gateway of it
// in any answer (boundaries, reports and the event stream included).
func TestRegionLimitedSeesNoOtherRegion(t *testing.T) {
	src := newFake(t)
	src.bounds = []byte(`{"type":"FeatureCollection","features":[
 {"type":"Feature","properties":{"code":"630100000000","name":"东川县"},"geometry":{"type":"Point","coordinates":[101.7,36.5]}},
 {"type":"Feature","properties":{"code":"630200000000","name":"西岭县"},"geometry":{"type":"Point","coordinates":[101.4,36.2]}},
 {"type":"Feature","properties":{"name":"no code"},"geometry":{"type":"Point","coordinates":[101.4,36.2]}}]}`)
	s, c := serve(t, src, api.Options{}, regionToken)
	asks := []string{"", "?region=" + eastCounty, "?region=630101001000", "?parent=" + eastCounty,
		"?site=so-hekou", "?state=recent", "?limit=1000"}
	for _, rt := range s.Routes() {
		method, path, _ := strings.Cut(rt, " ")
		if method != http.MethodGet || path == "/api/v1/openapi.yaml" || path == "/api/v1/events" {
			continue
		}
		for _, target := range []string{samplePath(path), strings.NewReplacer("{code}", "630101001000", "{id}", "so-hekou",
			"{name}", "gw-hekou", "{file}", "coverage.html").Replace(path)} {
			params := s.Params(rt)
			for _, q := range asks {
				if k, _, _ := strings.Cut(strings.TrimPrefix(q, "?"), "="); q != "" && !slices.Contains(params, k) {
					continue
				}
				r := c.Get(target + q)
				for _, m := range eastMarkers {
					if r.Status == http.StatusOK && strings.Contains(string(r.Body), m) {
						t.Errorf("GET %s%s shows %q of the east county: %.300s", target, q, m, r.Body)
					}
				}
			}
		}
	}
	var fc struct {
		Features []struct {
			Properties struct{ Code string } `json:"properties"`
		} `json:"features"`
	}
	c.GetJSON("/api/v1/boundaries", &fc)
	if len(fc.Features) != 1 || fc.Features[0].Properties.Code != westCounty {
		t.Errorf("the region token's boundaries: %+v, want its county's alone", fc.Features)
	}
	// Devices of a site of the east county: 404, like a device that is not.
	expect(t, c.Get("/api/v1/devices/olt-bdcom"), http.StatusNotFound)
	// The event stream carries nothing of it.
	sc := openStream(t, c)
	now := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	s.PublishDevice("olt-bdcom", "so-hekou", "down", now)
	s.PublishGateway("gw-hekou", "so-hekou", "offline", now)
	s.PublishDevice("dslam-5005", "cab-lingxia", "down", now)
	if kind, data := readEvent(t, sc); kind != "device" || !strings.Contains(data, "dslam-5005") {
		t.Fatalf("first event %s %s, want dslam-5005's", kind, data)
	}
}

// A report's name is one of the four: anything else, traversal included,
// is 404, and no answer names a file it was not asked for.
func TestReportNamesClosed(t *testing.T) {
	_, c := serve(t, newFake(t), api.Options{}, readToken)
	for _, name := range []string{"..%2F..%2Fetc%2Fpasswd", "coverage.json%00", "coverage..json", "coverage.JSON",
		"coverage.xml", "%2e%2e", "coverage.html%2F..%2F..%2Fsecret", "coverage.csv%0d%0aSet-Cookie:%20x=1",
		"coverage", ".json", "coverage.json.gz"} {
		req, _ := http.NewRequest("GET", c.Base+"/api/v1/reports/"+name, nil)
		req.Header.Set("Authorization", "Bearer "+readToken)
		resp, err := c.HTTP.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound || resp.Header.Get("Content-Disposition") != "" ||
			resp.Header.Get("Set-Cookie") != "" {
			t.Errorf("report %q: %d, Content-Disposition %q", name, resp.StatusCode, resp.Header.Get("Content-Disposition"))
		}
	}
	r := c.Get("/api/v1/reports/coverage.csv")
	if r.Status != http.StatusOK || r.Header.Get("Content-Disposition") != `attachment; filename="coverage.csv"` {
		t.Fatalf("coverage.csv: %d %q", r.Status, r.Header.Get("Content-Disposition"))
	}
}

// Over TLS every answer says to keep to TLS; over plain HTTP none does.
func TestStrictTransportSecurity(t *testing.T) {
	s, err := api.New(newFake(t), api.Options{Tokens: testTokens})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewTLSServer(s.Handler())
	defer ts.Close()
	c := &apitest.Client{T: t, Base: ts.URL, HTTP: ts.Client(), Token: readToken}
	for _, p := range []string{"/api/v1/summary", "/api/v1/nope?x", "/api/v1/session"} {
		req, _ := http.NewRequest("GET", ts.URL+p, nil)
		resp, err := c.HTTP.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.Header.Get("Strict-Transport-Security") != "max-age=31536000" {
			t.Errorf("%s over TLS: Strict-Transport-Security %q", p, resp.Header.Get("Strict-Transport-Security"))
		}
	}
	_, plain := serve(t, newFake(t), api.Options{}, readToken)
	if h := plain.Get("/api/v1/summary").Header.Get("Strict-Transport-Security"); h != "" {
		t.Errorf("over plain HTTP: Strict-Transport-Security %q", h)
	}
}

// Signing in without end writes the sessions file about once a second,
// not once a sign-in, and the last sign-ins reach it by FlushSessions.
func TestSessionWritesCoalesced(t *testing.T) {
	file := filepath.Join(t.TempDir(), "sessions.json")
	s, c := serve(t, newFake(t), api.Options{SessionFile: file}, "")
	const n = 60
	for range n {
		expect(t, c.Do("POST", "/api/v1/session", map[string]string{"token": readToken}), http.StatusOK)
	}
	if w := s.Stats().SessionWrites; w >= n/2 {
		t.Errorf("%d sign-ins wrote the sessions file %d times", n, w)
	}
	s.FlushSessions()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Count(string(b), `"id_sha256"`); got != n {
		t.Fatalf("the file holds %d sessions after a flush, want %d", got, n)
	}
}
