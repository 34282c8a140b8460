package demo

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ngic/ngic/controller/dashboard/dashboardtest"
	"github.com/ngic/ngic/internal/testenv"
	"github.com/ngic/ngic/telemetry"
)

// bin is the folder of the binaries the tests run: ngic-controller,
// ngic-edge and ngic-demo, built from this tree by TestMain.
var bin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "ngic-demo-test-bin")
	if err != nil {
		panic(err)
	}
	for pkg, name := range map[string]string{"../../controller": controllerBin, "../../edge": edgeBin, "../../tools/ngic-demo": "ngic-demo"} {
		if out, err := exec.Command("go", "build", "-o", filepath.Join(dir, name), pkg).CombinedOutput(); err != nil {
			os.RemoveAll(dir)
			os.Stderr.Write(out)
			panic("go build " + pkg + ": " + err.Error())
		}
	}
	bin = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// output is a process's output in a file, for the test to read while it
// runs.
type output struct{ path string }

func (o output) String() string {
	b, _ := os.ReadFile(o.path)
	return string(b)
}

// running is an ngic-demo process started by a test.
type running struct {
	cmd  *exec.Cmd
	out  output
	tmp  string // its TMPDIR
	done chan struct{}
	err  error
	// URL and Token are what it printed.
	URL, Token string
}

// quick are the flags of a demo whose scenario goes round in seconds.
var quick = []string{"--villages", "30", "--poll", "1s", "--down-after", "2s", "--held-after", "1s",
	"--linger", "1s", "--pause", "1s", "--tag-period", "500ms", "--wait", "90s"}

// startDemo runs ngic-demo with the lock and args, its temporary folder
// under a TMPDIR of its own, and waits until it prints the dashboard's URL
// and token.
func startDemo(t *testing.T, lock string, args ...string) *running {
	t.Helper()
	r := &running{out: output{filepath.Join(t.TempDir(), "out")}, tmp: t.TempDir(), done: make(chan struct{})}
	f, err := os.Create(r.out.path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r.cmd = exec.Command(filepath.Join(bin, "ngic-demo"), append([]string{"--lock", lock}, args...)...)
	r.cmd.Env = append(os.Environ(), "TMPDIR="+r.tmp)
	r.cmd.Stdout, r.cmd.Stderr = f, f
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		r.err = r.cmd.Wait()
		close(r.done)
	}()
	t.Cleanup(func() {
		if !r.exited() {
			r.cmd.Process.Signal(syscall.SIGTERM)
			<-r.done
		}
		if t.Failed() {
			t.Logf("ngic-demo's output:\n%s", r.out.String())
		}
	})
	url := regexp.MustCompile(`dashboard +(http://127\.0\.0\.1:\d+)/`)
	token := regexp.MustCompile(`token +([0-9a-f]{32})\n`)
	waitFor(t, r, "the dashboard's URL and token", func() bool {
		s := r.out.String()
		u, k := url.FindStringSubmatch(s), token.FindStringSubmatch(s)
		if u == nil || k == nil {
			return false
		}
		r.URL, r.Token = u[1], k[1]
		return true
	})
	return r
}

func (r *running) exited() bool {
	select {
	case <-r.done:
		return true
	default:
		return false
	}
}

// waitFor waits, for at most two minutes, until cond holds, failing when
// the demo exits first.
func waitFor(t *testing.T, r *running, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for !cond() {
		if r.exited() {
			t.Fatalf("ngic-demo exited (%v) before %s", r.err, what)
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s within two minutes", what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// get fetches path of the demo's API with its token and decodes the JSON
// into v; it returns the status.
func (r *running) get(t *testing.T, path, token string, v any) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, r.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusOK && v != nil {
		if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
	}
	return resp.StatusCode
}

// children returns the processes whose parent is pid, alive or not.
func children(t *testing.T, pid int) []int {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	var out []int
	for _, e := range entries {
		n, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if ppid, _, ok := procStat(n); ok && ppid == pid {
			out = append(out, n)
		}
	}
	return out
}

// procStat reads a process's parent and state from /proc.
func procStat(pid int) (ppid int, state byte, ok bool) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, 0, false
	}
	i := bytes.LastIndexByte(b, ')')
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 2 {
		return 0, 0, false
	}
	ppid, err = strconv.Atoi(f[1])
	return ppid, f[0][0], err == nil
}

// alive reports whether pid is a process that has not ended (a zombie
// has).
func alive(pid int) bool {
	_, state, ok := procStat(pid)
	return ok && state != 'Z'
}

// folders returns the demo folders left in tmp.
func folders(t *testing.T, tmp string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(tmp, folderPrefix+"*"))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// apiAlert is the part of an alert the test reads.
type apiAlert struct {
	Rule, State string
	Subject     telemetry.AlertSubject
}

// seen reports whether the recent alert changes hold rule on subject in
// state.
func seen(recent []apiAlert, rule, subject, state string) bool {
	for _, a := range recent {
		if a.Rule == rule && a.Subject.ID == subject && a.State == state {
			return true
		}
	}
	return false
}

// TestDemo runs ngic-demo as make run does, on a quick scenario: the API
// answers with the token it prints (and refuses without), both gateways
// come online with tags at their readers on their sites' pages, the
// cabinet door's alert and the downed device's alert each raise and
// resolve, a second demo with the same lock exits non-zero saying where
// the first is, and SIGINT stops every program and removes the temporary
// folder.
func TestDemo(t *testing.T) {
	lock := fmt.Sprintf("ngic-demo-test-%d", os.Getpid())
	r := startDemo(t, lock, append([]string{"--http", fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t))}, quick...)...)
	if got := folders(t, r.tmp); len(got) != 1 {
		t.Fatalf("temporary folders while running: %v", got)
	}
	tokenFile := filepath.Join(folders(t, r.tmp)[0], "api.token")
	if fi, err := os.Stat(tokenFile); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("the token file: %v, mode %v; want 0600", err, fi.Mode().Perm())
	}
	if code := r.get(t, "/api/v1/summary", r.Token, nil); code != http.StatusOK {
		t.Fatalf("the API answers %d with the printed token", code)
	}
	if code := r.get(t, "/api/v1/summary", "", nil); code != http.StatusUnauthorized {
		t.Errorf("the API answers %d without a token", code)
	}
	logs, _ := filepath.Glob(filepath.Join(folders(t, r.tmp)[0], "*.log"))
	for _, l := range logs {
		if b, _ := os.ReadFile(l); bytes.Contains(b, []byte(r.Token)) {
			t.Errorf("%s holds the token", filepath.Base(l))
		}
	}

	// A second demo on the same lock says where the first one is.
	second := exec.Command(filepath.Join(bin, "ngic-demo"), append([]string{"--lock", lock}, quick...)...)
	second.Env = append(os.Environ(), "TMPDIR="+t.TempDir())
	out, err := second.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() == 0 ||
		!strings.Contains(string(out), "another ngic demo is running") ||
		!strings.Contains(string(out), fmt.Sprintf("pid %d", r.cmd.Process.Pid)) ||
		!strings.Contains(string(out), r.URL) {
		t.Errorf("a second demo on the same lock: %v\n%s", err, out)
	}

	var gws struct {
		Items []struct{ Name, Site, State string }
	}
	waitFor(t, r, "both gateways online", func() bool {
		online := 0
		r.get(t, "/api/v1/gateways", r.Token, &gws)
		for _, g := range gws.Items {
			if g.State == "online" {
				online++
			}
		}
		return online == 2
	})
	for _, g := range gws.Items {
		waitFor(t, r, "tags at "+g.Name+"'s reader on site "+g.Site, func() bool {
			var site struct {
				Readers []struct {
					Gateway string
					Tags    []struct{ ID string }
				}
			}
			r.get(t, "/api/v1/sites/"+g.Site, r.Token, &site)
			for _, rd := range site.Readers {
				if rd.Gateway == g.Name && len(rd.Tags) > 0 {
					return true
				}
			}
			return false
		})
	}

	var down, cabinetGW string
	for _, l := range strings.Split(r.out.String(), "\n") {
		if m := regexp.MustCompile(`device (\S+) goes down and comes back`).FindStringSubmatch(l); m != nil {
			down = m[1]
		}
		if m := regexp.MustCompile(`gateway (\S+) at site \S+: a badge reader`).FindStringSubmatch(l); m != nil {
			cabinetGW = m[1]
		}
	}
	if down == "" || cabinetGW == "" {
		t.Fatalf("the demo does not say which device goes down or which gateway has the door:\n%s", r.out.String())
	}
	for _, c := range [][2]string{{ruleDoorHeld, cabinetGW}, {ruleDeviceDown, down}} {
		waitFor(t, r, c[0]+" on "+c[1]+" raised and resolved", func() bool {
			var recent struct{ Items []apiAlert }
			r.get(t, "/api/v1/alerts?state=recent&limit=1000", r.Token, &recent)
			return seen(recent.Items, c[0], c[1], telemetry.AlertFiring) && seen(recent.Items, c[0], c[1], telemetry.AlertResolved)
		})
	}

	stopWith(t, r, os.Interrupt)
}

// stopWith stops the demo with sig and checks that it exits 0, leaving no
// program and no temporary folder behind.
func stopWith(t *testing.T, r *running, sig os.Signal) {
	t.Helper()
	kids := children(t, r.cmd.Process.Pid)
	if len(kids) != 4 {
		t.Errorf("ngic-demo runs %d programs, want 4 (simulator, controller, two gateways)", len(kids))
	}
	if err := r.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	waitExit(t, r, fmt.Sprintf("ngic-demo to stop after %v", sig))
	if r.err != nil {
		t.Errorf("ngic-demo after %v: %v", sig, r.err)
	}
	checkGone(t, r, kids)
}

// waitExit waits, for at most two minutes, until the demo has exited.
func waitExit(t *testing.T, r *running, what string) {
	t.Helper()
	select {
	case <-r.done:
	case <-time.After(2 * time.Minute):
		t.Fatalf("no %s within two minutes", what)
	}
}

// TestDemoKilled: a demo killed with SIGKILL leaves no program running
// (the kernel stops its children), and the next demo removes the folder
// it left.
func TestDemoKilled(t *testing.T) {
	lock := fmt.Sprintf("ngic-demo-test-killed-%d", os.Getpid())
	r := startDemo(t, lock, append([]string{"--http", fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t))}, quick...)...)
	kids := children(t, r.cmd.Process.Pid)
	if len(kids) != 4 {
		t.Errorf("ngic-demo runs %d programs, want 4", len(kids))
	}
	left := folders(t, r.tmp)
	if err := r.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	waitExit(t, r, "ngic-demo to die of SIGKILL")
	for _, k := range kids {
		deadline := time.Now().Add(time.Minute)
		for alive(k) && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
		}
		if alive(k) {
			t.Errorf("process %d outlived the killed demo by a minute", k)
		}
	}
	if len(left) != 1 {
		t.Fatalf("folders of the killed demo: %v", left)
	}
	removeOrphans(r.tmp)
	if got := folders(t, r.tmp); len(got) != 0 {
		t.Errorf("the folder of the killed demo is still there: %v", got)
	}
}

// screenshotDir is where the browser test leaves its screenshots for a
// person to look at; docsScreenshot is the README's, written when
// NGIC_UPDATE_SCREENSHOT=1.
var (
	screenshotDir  = filepath.Join("..", "..", "bin", "screenshots")
	docsScreenshot = filepath.Join("..", "..", "docs", "dashboard.png")
)

// TestDemoDashboard signs in to the demo's dashboard in chromium with the
// token the demo prints and, while the cabinet door is held open with a
// badge at its reader, takes the views a newcomer sees into
// bin/screenshots (demo-*.png): the cabinet's site page (its device,
// gateway, door held open, tags present), the alerts with the door's
// alert firing, and the overview. The page makes no request beyond
// 127.0.0.1 and logs no error. With NGIC_UPDATE_SCREENSHOT=1 the site
// page becomes docs/dashboard.png, the README's picture.
func TestDemoDashboard(t *testing.T) {
	browser := testenv.StartChromium(t)
	lock := fmt.Sprintf("ngic-demo-test-browser-%d", os.Getpid())
	args := append([]string{"--http", fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t))}, quick...)
	r := startDemo(t, lock, append(args, "--tag-period", "2s", "--held-after", "3s", "--linger", "30s")...)
	m := regexp.MustCompile(`gateway (\S+) at site (\S+): a badge reader`).FindStringSubmatch(r.out.String())
	if m == nil {
		t.Fatalf("the demo does not say where the door is:\n%s", r.out.String())
	}
	cabinetGW, cabinet := m[1], m[2]
	ctx, cancel := browser.NewTab(t)
	defer cancel()
	watch := testenv.WatchPage(t, ctx, nil)
	dashboardtest.SignIn(t, ctx, r.URL+"/#/", r.Token)
	waitFor(t, r, "the door's alert open and a badge at the cabinet's reader", func() bool {
		var open struct{ Items []apiAlert }
		var site struct {
			TagsPresent int `json:"tags_present"`
		}
		r.get(t, "/api/v1/alerts?state=open", r.Token, &open)
		r.get(t, "/api/v1/sites/"+cabinet, r.Token, &site)
		return seen(open.Items, ruleDoorHeld, cabinetGW, telemetry.AlertFiring) && site.TagsPresent > 0
	})
	dashboardtest.Go(t, ctx, r.URL, "#/site/"+cabinet, "site", "held")
	testenv.Screenshot(t, ctx, screenshotDir, "demo-site")
	dashboardtest.Go(t, ctx, r.URL, "#/alerts", "alerts", "held open")
	testenv.Screenshot(t, ctx, screenshotDir, "demo-alerts")
	dashboardtest.Go(t, ctx, r.URL, "#/", "map", "Regions")
	testenv.Screenshot(t, ctx, screenshotDir, "demo-overview")
	watch.Check(t)
	stopWith(t, r, syscall.SIGTERM)
	if os.Getenv("NGIC_UPDATE_SCREENSHOT") == "1" {
		b, err := os.ReadFile(filepath.Join(screenshotDir, "demo-site.png"))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Dir(docsScreenshot), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(docsScreenshot, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// checkGone checks that the demo's programs kids have ended and its
// temporary folder is gone.
func checkGone(t *testing.T, r *running, kids []int) {
	t.Helper()
	for _, k := range kids {
		if alive(k) {
			t.Errorf("process %d of the demo outlived it", k)
		}
	}
	if got := folders(t, r.tmp); len(got) != 0 {
		t.Errorf("temporary folders left: %v", got)
	}
}

// TestDemoProgramDies: when one of its programs dies, the demo stops the
// others, removes its folder and exits non-zero naming the program.
func TestDemoProgramDies(t *testing.T) {
	lock := fmt.Sprintf("ngic-demo-test-dies-%d", os.Getpid())
	r := startDemo(t, lock, append([]string{"--http", fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t))}, quick...)...)
	kids := children(t, r.cmd.Process.Pid)
	victim := 0
	for _, k := range kids {
		if b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", k)); bytes.Contains(b, []byte("run\x00--config\x00")) &&
			bytes.Contains(b, []byte("controller.yaml")) {
			victim = k
		}
	}
	if victim == 0 || len(kids) != 4 {
		t.Fatalf("no controller among the demo's programs %v", kids)
	}
	if err := syscall.Kill(victim, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitExit(t, r, "ngic-demo to stop after its controller died")
	if ee, ok := r.err.(*exec.ExitError); !ok || ee.ExitCode() == 0 || !strings.Contains(r.out.String(), "controller exited") {
		t.Errorf("ngic-demo after its controller died: %v", r.err)
	}
	checkGone(t, r, kids)
}
