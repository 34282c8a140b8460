package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ngic/ngic/controller/api"
	"github.com/ngic/ngic/controller/api/apitest"
	"github.com/ngic/ngic/controller/simulator/simulatortest"
	"github.com/ngic/ngic/internal/testenv"
	"github.com/ngic/ngic/telemetry"
)

// The API tests' tokens: an admin token from a file, a read-only one from
// the environment, and an admin token limited to the west county.
const (
	apiAdminToken  = "api-e2e-admin-token-0123456789"
	apiReadToken   = "api-e2e-read-token-0123456789"
	apiRegionToken = "api-e2e-west-token-0123456789"
	apiReadEnv     = "NGIC_API_TEST_READ_TOKEN"
	apiWestCounty  = "630200000000"
)

// apiConfig writes a configuration for the inventory inv with the http
// section given, and returns its path.
func apiConfig(t *testing.T, dir, inv, http string) string {
	t.Helper()
	return writeFile(t, dir, "controller.yaml", fmt.Sprintf(`inventory: %s
poll:
  interval: 1s
  timeout: 300ms
  retries: 0
mqtt:
  embedded: true
  listen: 127.0.0.1:%d
http:
%s
state_dir: %s
alerts:
  rules:
    - name: device-down
      kind: device-down
      after: 0s
coverage:
  snapshot_every: 1s
`, inv, testenv.FreePort(t), http, filepath.Join(dir, "state")))
}

// stream is an open event stream.
type stream struct {
	sc     *bufio.Scanner
	events chan [2]string
	seen   [][2]string // received, not yet waited for
}

// openEvents opens the event stream with token and reads its events in the
// background.
func openEvents(t *testing.T, base, token string) *stream {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/api/v1/events", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	apitest.Validate(t, req, resp.StatusCode, resp.Header, nil)
	s := &stream{sc: bufio.NewScanner(resp.Body), events: make(chan [2]string, 1024)}
	if !s.sc.Scan() || s.sc.Text() != ": connected" {
		t.Fatalf("event stream: %d, first line %q", resp.StatusCode, s.sc.Text())
	}
	go func() {
		defer resp.Body.Close()
		var kind string
		for s.sc.Scan() {
			line := s.sc.Text()
			switch {
			case strings.HasPrefix(line, "event: "):
				kind = line[len("event: "):]
			case strings.HasPrefix(line, "data: "):
				s.events <- [2]string{kind, line[len("data: "):]}
			}
		}
		close(s.events)
	}()
	return s
}

// waitEvent waits for an event of kind whose data satisfies match (one
// received before, and not yet waited for, counts).
func (s *stream) waitEvent(t *testing.T, kind string, within time.Duration, match func(data string) bool) string {
	t.Helper()
	for i, ev := range s.seen {
		if ev[0] == kind && match(ev[1]) {
			s.seen = append(s.seen[:i], s.seen[i+1:]...)
			return ev[1]
		}
	}
	deadline := time.NewTimer(within)
	defer deadline.Stop()
	for {
		select {
		case ev, ok := <-s.events:
			if !ok {
				t.Fatalf("the event stream ended before a %s event", kind)
			}
			if ev[0] == kind && match(ev[1]) {
				return ev[1]
			}
			s.seen = append(s.seen, ev)
		case <-deadline.C:
			t.Fatalf("no %s event within %v", kind, within)
		}
	}
}

// The controller's API end to end: every endpoint answers what
// openapi.yaml says with the real recordings' network; a device taken down
// in the simulator is an alert on the event stream; a browser session
// acknowledges it with its CSRF token; the inventory reloads, and a bad
// one is refused and the running one kept; no token ever reaches the log.
func TestAPIEndToEnd(t *testing.T) {
	sim, addr := simulatortest.Serve(t, reportRecordings...)
	inv := copyReportInventory(t, reportRealFixture, addr)
	writeFile(t, inv, "gateways.csv", "gateway,site\ngw-lingxia,cab-lingxia\n")
	dir := t.TempDir()
	adminFile := writeFile(t, dir, "admin.token", apiAdminToken+"\n")
	westFile := writeFile(t, dir, "west.token", apiRegionToken+"\n")
	t.Setenv(apiReadEnv, apiReadToken)
	httpAddr := fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t))
	cfg := apiConfig(t, dir, inv, fmt.Sprintf(`  listen: %s
  session_ttl: 1h
  tokens:
    - {name: ops, file: %s, role: admin}
    - {name: viewer, env: %s, role: read}
    - {name: west, file: %s, role: admin, region: "%s"}`, httpAddr, adminFile, apiReadEnv, westFile, apiWestCounty))
	p := startController(t, cfg, httpAddr)
	base := "http://" + httpAddr
	admin := &apitest.Client{T: t, Base: base, Token: apiAdminToken}
	reader := &apitest.Client{T: t, Base: base, Token: apiReadToken}
	west := &apitest.Client{T: t, Base: base, Token: apiRegionToken}
	waitUntil(t, "coverage computed and devices polled", func() bool {
		var s struct {
			Computed *time.Time     `json:"computed"`
			Devices  map[string]int `json:"devices"`
		}
		reader.GetJSON("/api/v1/summary", &s)
		return s.Computed != nil && s.Devices["unknown"] == 0
	})

	// Every read endpoint, each answer validated against openapi.yaml.
	for _, path := range []string{"/api/v1/summary", "/api/v1/coverage", "/api/v1/regions",
		"/api/v1/regions?parent=630000000000", "/api/v1/regions/630201000000", "/api/v1/villages?limit=3",
		"/api/v1/villages?region=630101000000&evidence=measured", "/api/v1/villages/630101001000",
		"/api/v1/map", "/api/v1/map?region=630100000000", "/api/v1/map?region=630101000000", "/api/v1/gaps",
		"/api/v1/convergence", "/api/v1/convergence?region=630100000000", "/api/v1/sites", "/api/v1/sites/so-hekou",
		"/api/v1/sites/cab-lingxia", "/api/v1/devices", "/api/v1/devices/olt-huawei", "/api/v1/devices?class=olt",
		"/api/v1/gateways", "/api/v1/gateways/gw-lingxia", "/api/v1/alerts", "/api/v1/alerts?state=recent",
		"/api/v1/maintenance", "/api/v1/reports/coverage.json", "/api/v1/reports/coverage.csv",
		"/api/v1/reports/coverage.geojson", "/api/v1/reports/coverage.html", "/api/v1/session", "/api/v1/openapi.yaml"} {
		if r := reader.Get(path); r.Status != http.StatusOK {
			t.Errorf("GET %s: %d %s", path, r.Status, r.Body)
		}
	}
	expect404 := func(c *apitest.Client, path string) {
		t.Helper()
		if r := c.Get(path); r.Status != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", path, r.Status)
		}
	}
	expect404(reader, "/api/v1/boundaries")
	expect404(west, "/api/v1/sites/so-hekou")
	expect404(west, "/api/v1/devices/olt-huawei")
	expect404(west, "/api/v1/villages/630101001000")
	var dev api.Device
	reader.GetJSON("/api/v1/devices/olt-huawei", &dev)
	if dev.State != "up" || dev.Class == "" || dev.Document == nil {
		t.Errorf("olt-huawei: state %s class %q document %v", dev.State, dev.Class, dev.Document != nil)
	}
	if r := reader.Do("POST", "/api/v1/inventory/reload", nil); r.Status != http.StatusForbidden {
		t.Errorf("a read-only token reloads: %d", r.Status)
	}

	// A device of the west county goes down: an alert on both streams.
	all := openEvents(t, base, apiAdminToken)
	westStream := openEvents(t, base, apiRegionToken)
	if err := sim.SetDown("zyxel_ies-5005", true); err != nil {
		t.Fatal(err)
	}
	isDown := func(data string) bool {
		var a telemetry.Alert
		return json.Unmarshal([]byte(data), &a) == nil && a.Kind == "device-down" && a.Subject.ID == "dslam-5005" &&
			a.State == telemetry.AlertFiring
	}
	data := all.waitEvent(t, "alert", 30*time.Second, isDown)
	westStream.waitEvent(t, "alert", 30*time.Second, isDown)
	all.waitEvent(t, "device", 30*time.Second, func(d string) bool { return strings.Contains(d, `"dslam-5005"`) })
	var alert telemetry.Alert
	json.Unmarshal([]byte(data), &alert)
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(metrics), "ngic_controller_api_event_streams 2\n") {
		t.Errorf("/metrics does not count the 2 event streams")
	}

	// A browser session acknowledges it: CSRF refused, then accepted.
	jar, _ := cookiejar.New(nil)
	browser := &apitest.Client{T: t, Base: base, HTTP: &http.Client{Jar: jar}}
	r := browser.Do("POST", "/api/v1/session", map[string]string{"token": apiAdminToken})
	var sess struct {
		CSRF string `json:"csrf"`
	}
	r.JSON(t, &sess)
	if r.Status != http.StatusOK || !strings.Contains(r.Header.Get("Set-Cookie"), "HttpOnly") {
		t.Fatalf("sign-in: %d %v", r.Status, r.Header)
	}
	if r := browser.Do("POST", "/api/v1/alerts/"+alert.ID+"/ack", map[string]string{"note": "on it"}); r.Status != http.StatusForbidden {
		t.Fatalf("ack without CSRF: %d", r.Status)
	}
	browser.Header = http.Header{api.CSRFHeader: {sess.CSRF}}
	r = browser.Do("POST", "/api/v1/alerts/"+alert.ID+"/ack", map[string]string{"note": "on it"})
	var acked telemetry.Alert
	r.JSON(t, &acked)
	if r.Status != http.StatusOK || acked.Ack == nil || acked.Ack.By != "ops" {
		t.Fatalf("ack: %d %s", r.Status, r.Body)
	}
	all.waitEvent(t, "alert", 10*time.Second, func(d string) bool { return strings.Contains(d, `"by":"ops"`) })

	var recent struct{ Items []telemetry.Alert }
	admin.GetJSON("/api/v1/alerts?state=recent", &recent)
	ids := map[string]bool{}
	for _, a := range recent.Items {
		if ids[a.ID] {
			t.Errorf("alert %s listed twice among the recent ones", a.ID)
		}
		ids[a.ID] = true
	}
	if !ids[alert.ID] {
		t.Errorf("the acknowledged alert is not among the recent ones")
	}

	// Maintenance windows: added, listed, removed.
	start := time.Now().UTC().Truncate(time.Second)
	r = admin.Do("POST", "/api/v1/maintenance", map[string]any{"subject": "site:cab-lingxia", "start": start,
		"end": start.Add(time.Hour), "reason": "cabinet works"})
	var win api.Window
	r.JSON(t, &win)
	if r.Status != http.StatusOK || win.ID == "" {
		t.Fatalf("add window: %d %s", r.Status, r.Body)
	}
	if r := admin.Do("DELETE", "/api/v1/maintenance/"+win.ID, nil); r.Status != http.StatusOK {
		t.Fatalf("remove window: %d %s", r.Status, r.Body)
	}

	// Reload: a good inventory is applied; a bad one refused, naming the
	// file and line, and the running one kept.
	if r := admin.Do("POST", "/api/v1/inventory/reload", nil); r.Status != http.StatusOK {
		t.Fatalf("reload: %d %s", r.Status, r.Body)
	}
	devices, err := os.ReadFile(filepath.Join(inv, "devices.csv"))
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, inv, "devices.csv", string(devices)+"broken-row\n")
	r = admin.Do("POST", "/api/v1/inventory/reload", nil)
	if r.Status != http.StatusBadRequest || !strings.Contains(string(r.Body), "devices.csv:") {
		t.Fatalf("bad reload: %d %s", r.Status, r.Body)
	}
	var sum struct {
		Devices map[string]int `json:"devices"`
	}
	admin.GetJSON("/api/v1/summary", &sum)
	if n := sum.Devices["up"] + sum.Devices["down"] + sum.Devices["auth-failed"] + sum.Devices["unknown"]; n != 14 {
		t.Fatalf("after a refused reload: %d devices, want the 14 running", n)
	}
	if r := west.Do("POST", "/api/v1/inventory/reload", nil); r.Status != http.StatusForbidden {
		t.Fatalf("a region-limited token reloads: %d", r.Status)
	}

	p.stop(t)
	log := p.Log()
	for _, tok := range []string{apiAdminToken, apiReadToken, apiRegionToken} {
		if strings.Contains(log, tok) {
			t.Fatalf("a token is in the controller's log")
		}
	}
	if !strings.Contains(log, "API tokens") || !strings.Contains(log, "ops (admin)") {
		t.Errorf("the log does not name the tokens configured:\n%s", log)
	}
}

// With a certificate the controller serves HTTPS, and the session cookie
// is Secure.
func TestAPITLS(t *testing.T) {
	_, addr := simulatortest.Serve(t, reportRecordings...)
	inv := copyReportInventory(t, reportRealFixture, addr)
	dir := t.TempDir()
	pki := testenv.NewPKI(t)
	caPEM, err := os.ReadFile(pki.CAFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)
	adminFile := writeFile(t, dir, "admin.token", apiAdminToken+"\n")
	httpAddr := fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t))
	cfg := apiConfig(t, dir, inv, fmt.Sprintf(`  listen: %s
  tls: {cert_file: %s, key_file: %s}
  tokens: [{name: ops, file: %s, role: admin}]`, httpAddr, pki.ServerCert, pki.ServerKey, adminFile))
	cmd := exec.Command(binary, "run", "--config", cfg)
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-done
	})
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	c := &apitest.Client{T: t, Base: "https://" + httpAddr, HTTP: hc}
	waitUntil(t, "the controller's HTTPS", func() bool {
		select {
		case err := <-done:
			done <- err
			t.Fatalf("the controller exited: %v\n%s", err, out.String())
		default:
		}
		resp, err := hc.Get(c.Base + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return true
	})
	r := c.Do("POST", "/api/v1/session", map[string]string{"token": apiAdminToken})
	if r.Status != http.StatusOK || !strings.Contains(r.Header.Get("Set-Cookie"), "Secure") {
		t.Fatalf("sign-in over TLS: %d, Set-Cookie %q", r.Status, r.Header.Get("Set-Cookie"))
	}
	if resp, err := http.Get("http://" + httpAddr + "/healthz"); err == nil {
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			t.Fatal("plain HTTP answered on the TLS port")
		}
	}
}

// Listening beyond loopback without TLS is refused, naming the field and
// its line, unless allow_remote is set.
func TestAPIRefusesRemoteWithoutTLS(t *testing.T) {
	dir := t.TempDir()
	inv := t.TempDir()
	writeFile(t, inv, "devices.csv", "id,site,address,credentials\nd1,s1,127.0.0.1:161,community:public\n")
	cfg := apiConfig(t, dir, inv, fmt.Sprintf("  listen: 0.0.0.0:%d", testenv.FreePort(t)))
	out, err := exec.Command(binary, "check-config", cfg).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "http.listen") || !strings.Contains(string(out), "line 10") ||
		!strings.Contains(string(out), "allow_remote") {
		t.Fatalf("check-config of a remote listen without TLS: %v\n%s", err, out)
	}
	cfg = apiConfig(t, dir, inv, fmt.Sprintf("  listen: 0.0.0.0:%d\n  allow_remote: true", testenv.FreePort(t)))
	if out, err := exec.Command(binary, "check-config", cfg).CombinedOutput(); err != nil {
		t.Fatalf("allow_remote: %v\n%s", err, out)
	}
}

// Without any token the API answers 401 to all but the open routes, the
// dashboard, /healthz and /metrics stay open, and the controller says so
// once, at WARN.
func TestAPIWithoutTokens(t *testing.T) {
	_, addr := simulatortest.Serve(t, reportRecordings...)
	inv := copyReportInventory(t, reportRealFixture, addr)
	dir := t.TempDir()
	httpAddr := fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t))
	p := startController(t, apiConfig(t, dir, inv, "  listen: "+httpAddr), httpAddr)
	c := &apitest.Client{T: t, Base: "http://" + httpAddr}
	if r := c.Get("/api/v1/summary"); r.Status != http.StatusUnauthorized ||
		!strings.Contains(string(r.Body), "no API tokens are configured") {
		t.Fatalf("summary without tokens: %d %s", r.Status, r.Body)
	}
	if r := c.Get("/api/v1/session"); r.Status != http.StatusOK {
		t.Fatalf("session: %d", r.Status)
	}
	for _, path := range []string{"/", "/healthz", "/metrics"} {
		resp, err := http.Get(c.Base + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		open := resp.StatusCode == http.StatusOK || path == "/healthz" && resp.StatusCode == http.StatusServiceUnavailable
		if !open || resp.Header.Get("Content-Security-Policy") == "" {
			t.Errorf("%s: %d, CSP %q", path, resp.StatusCode, resp.Header.Get("Content-Security-Policy"))
		}
	}
	p.stop(t)
	var warns int
	for _, line := range strings.Split(p.Log(), "\n") {
		if strings.Contains(line, "no API tokens configured") {
			if !strings.Contains(line, `"level":"WARN"`) {
				t.Errorf("not at WARN: %s", line)
			}
			warns++
		}
	}
	if warns != 1 {
		t.Fatalf("%d warnings of no API tokens, want 1", warns)
	}
}

// rawStatus sends a request with the Host given and returns its answer's
// status and headers (the body read and dropped).
func rawStatus(t *testing.T, method, url, host, token string) (int, http.Header) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if host != "" {
		req.Host = host
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, resp.Header
}

// The controller attacked over HTTP: a Host it does not answer to is
// refused on every path (DNS rebinding), a configured name is not; huge
// headers are refused; a method no route takes is 405; wrong tokens
// guessed in a row are answered 429, and neither they nor the good token
// reach the log; a browser signed in stays signed in across a restart, and
// its sign-out holds across one too.
func TestAPIHostile(t *testing.T) {
	_, addr := simulatortest.Serve(t, reportRecordings...)
	inv := copyReportInventory(t, reportRealFixture, addr)
	dir := t.TempDir()
	adminFile := writeFile(t, dir, "admin.token", apiAdminToken+"\n")
	httpAddr := fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t))
	cfg := apiConfig(t, dir, inv, fmt.Sprintf(`  listen: %s
  hosts: [ngic.example.org]
  tokens: [{name: ops, file: %s, role: admin}]`, httpAddr, adminFile))
	p := startController(t, cfg, httpAddr)
	base := "http://" + httpAddr

	for _, path := range []string{"/api/v1/summary", "/", "/healthz", "/metrics"} {
		if st, h := rawStatus(t, "GET", base+path, "rebound.example.com", apiAdminToken); st != http.StatusMisdirectedRequest ||
			h.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("GET %s with Host rebound.example.com: %d %v", path, st, h)
		}
	}
	for _, host := range []string{"ngic.example.org", "NGIC.example.org:9480", "localhost", httpAddr} {
		if st, _ := rawStatus(t, "GET", base+"/api/v1/summary", host, apiAdminToken); st != http.StatusOK &&
			st != http.StatusServiceUnavailable {
			t.Errorf("GET /api/v1/summary with Host %s: %d", host, st)
		}
	}
	if st, h := rawStatus(t, "OPTIONS", base+"/api/v1/alerts", "", apiAdminToken); st != http.StatusMethodNotAllowed ||
		h.Get("Allow") != "GET" {
		t.Errorf("OPTIONS /api/v1/alerts: %d, Allow %q", st, h.Get("Allow"))
	}
	req, _ := http.NewRequest("GET", base+"/api/v1/session", nil)
	req.Header.Set("X-Padding", strings.Repeat("x", 200<<10))
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
		if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
			t.Errorf("200 KiB of headers: %d", resp.StatusCode)
		}
	}

	// A browser signs in, another signs in and out; the controller restarts.
	kept := &apitest.Client{T: t, Base: base, HTTP: &http.Client{Jar: newJar(t)}}
	expectStatus(t, kept.Do("POST", "/api/v1/session", map[string]string{"token": apiAdminToken}), http.StatusOK)
	left := &apitest.Client{T: t, Base: base, HTTP: &http.Client{Jar: newJar(t)}}
	r := left.Do("POST", "/api/v1/session", map[string]string{"token": apiAdminToken})
	var sess struct {
		CSRF string `json:"csrf"`
	}
	r.JSON(t, &sess)
	left.Header = http.Header{api.CSRFHeader: {sess.CSRF}}
	leftCookies := left.HTTP.Jar.Cookies(req.URL)
	expectStatus(t, left.Do("DELETE", "/api/v1/session", nil), http.StatusOK)
	p.stop(t)
	log := p.Log()
	p = startController(t, cfg, httpAddr)
	expectStatus(t, kept.Get("/api/v1/summary"), http.StatusOK)
	left.HTTP.Jar.SetCookies(req.URL, leftCookies) // the cookie of the ended session, replayed
	expectStatus(t, left.Get("/api/v1/summary"), http.StatusUnauthorized)
	if !strings.Contains(p.Log(), "browser sessions restored") {
		t.Errorf("the restart does not say it restored the sessions:\n%s", p.Log())
	}

	// Slow clients: headers that never end, a body that never comes.
	slowHeaders := dialSlow(t, httpAddr, "GET /api/v1/session HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: 1\r\n")
	slowBody := dialSlow(t, httpAddr, "POST /api/v1/session HTTP/1.1\r\nHost: 127.0.0.1\r\n"+
		"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"tok")

	// Guessing tokens: 429 with Retry-After after the first few, whatever
	// the token then; the browser's session is not held up.
	wrong := &apitest.Client{T: t, Base: base}
	var limited *apitest.Response
	for i := range 50 {
		wrong.Token = fmt.Sprintf("guess-%02d-0123456789abcdef", i)
		if r := wrong.Get("/api/v1/summary"); r.Status == http.StatusTooManyRequests {
			limited = r
			break
		}
	}
	if limited == nil || limited.Header.Get("Retry-After") == "" {
		t.Fatal("50 wrong tokens in a row were never answered 429 with Retry-After")
	}
	wrong.Token = apiAdminToken
	expectStatus(t, wrong.Get("/api/v1/summary"), http.StatusTooManyRequests)
	expectStatus(t, kept.Get("/api/v1/summary"), http.StatusOK)
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(metrics), "ngic_controller_api_auth_limited_total ") ||
		strings.Contains(string(metrics), "ngic_controller_api_auth_limited_total 0\n") {
		t.Error("/metrics does not count the requests limited")
	}
	waitClosed(t, slowHeaders, "headers that never end")
	waitClosed(t, slowBody, "a body that never comes")
	p.stop(t)
	log += p.Log()
	if strings.Contains(log, apiAdminToken) || strings.Contains(log, "guess-") || strings.Contains(log, sess.CSRF) {
		t.Fatal("a token, a guess or a CSRF token is in the controller's log")
	}
	st, err := os.ReadFile(filepath.Join(dir, "state", "api-sessions.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, ck := range append(kept.HTTP.Jar.Cookies(req.URL), leftCookies...) {
		if strings.Contains(string(st), ck.Value) {
			t.Fatal("the sessions file holds a session id")
		}
	}
}

// dialSlow connects to addr and sends the start of a request, never the
// rest.
func dialSlow(t *testing.T, addr, start string) net.Conn {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	if _, err := conn.Write([]byte(start)); err != nil {
		t.Fatal(err)
	}
	return conn
}

// waitClosed waits until the server closes conn (what it answers
// before, if anything, read and dropped).
func waitClosed(t *testing.T, conn net.Conn, what string) {
	t.Helper()
	conn.SetReadDeadline(time.Now().Add(2 * time.Minute))
	if _, err := io.Copy(io.Discard, conn); err != nil {
		t.Errorf("the controller kept the connection of %s open: %v", what, err)
	}
}

// newJar returns an empty cookie jar.
func newJar(t *testing.T) http.CookieJar {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return jar
}

// expectStatus checks a response's status.
func expectStatus(t *testing.T, r *apitest.Response, status int) {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status %d, want %d: %s", r.Status, status, r.Body)
	}
}
