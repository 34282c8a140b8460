package update_test

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
	"github.com/google/uuid"

	"github.com/ngic/ngic/edge/update"
	"github.com/ngic/ngic/internal/bundle"
	"github.com/ngic/ngic/internal/spool"
	"github.com/ngic/ngic/internal/testenv"
	"github.com/ngic/ngic/telemetry"
)

// Versions of the test programs. The supervisor, and the version that
// runs before any update, is oldVersion.
const (
	oldVersion = "1.0.0"
	newVersion = "1.1.0"
)

// deadline bounds every wait: generous, for a loaded 2-core machine.
const deadline = 90 * time.Second

var (
	buildOnce sync.Once
	buildDir  string
	programs  map[string]string // name -> path
	buildErr  error
)

// built builds, once per test process, ngic-edge at oldVersion and
// newVersion and the misbehaving programs.
func built(t *testing.T) map[string]string {
	t.Helper()
	buildOnce.Do(func() {
		buildDir, buildErr = os.MkdirTemp("", "ngic-update-bin-")
		if buildErr != nil {
			return
		}
		programs = map[string]string{}
		const vflag = "-X github.com/ngic/ngic/internal/buildinfo.Version="
		jobs := map[string][]string{
			"edge-" + oldVersion: {"-ldflags", vflag + oldVersion, "github.com/ngic/ngic/edge"},
			"edge-" + newVersion: {"-ldflags", vflag + newVersion, "github.com/ngic/ngic/edge"},
			"crash":              {"-ldflags", "-X main.mode=crash", "./testdata/misbehave"},
			"hang":               {"-ldflags", "-X main.mode=hang", "./testdata/misbehave"},
			"unhealthy":          {"-ldflags", "-X main.mode=unhealthy", "./testdata/misbehave"},
		}
		var mu sync.Mutex
		var wg sync.WaitGroup
		for name, args := range jobs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				out := filepath.Join(buildDir, name)
				b, err := exec.Command("go", append([]string{"build", "-o", out}, args...)...).CombinedOutput()
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					buildErr = fmt.Errorf("go build %s: %v\n%s", name, err, b)
				}
				programs[name] = out
			}()
		}
		wg.Wait()
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return programs
}

func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	if controllerBin != "" {
		os.RemoveAll(filepath.Dir(controllerBin))
	}
	os.Exit(code)
}

// signer signs bundles with a key the gateways trust.
type signer struct {
	priv    ed25519.PrivateKey
	keyFile string
}

func newSigner(t *testing.T) *signer {
	pub, priv, err := bundle.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	f := filepath.Join(t.TempDir(), "keys.pub")
	if err := os.WriteFile(f, []byte(bundle.FormatPublicKey(pub)), 0o644); err != nil {
		t.Fatal(err)
	}
	return &signer{priv: priv, keyFile: f}
}

// makeBundle returns a bundle of program as ngic-edge, at version, for
// arch (runtime.GOARCH when ""), signed by key.
func makeBundle(t *testing.T, program, version, arch string, key ed25519.PrivateKey) []byte {
	t.Helper()
	src, err := bundle.FileSource(program, update.Binary)
	if err != nil {
		t.Fatal(err)
	}
	if arch == "" {
		arch = runtime.GOARCH
	}
	m := bundle.Manifest{Name: update.Binary, Version: version, OS: runtime.GOOS, Arch: arch}
	if arch == "arm" {
		m.ARM = "7"
	}
	var buf bytes.Buffer
	if _, err := bundle.Create(&buf, m, []bundle.Source{src}, key); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// server serves bundles over HTTPS with Range, the polled commands, and
// counts the bundle bytes it serves.
type server struct {
	*httptest.Server
	caFile string

	mu       sync.Mutex
	bundles  map[string][]byte                   // sha256 -> bytes
	commands map[string]*telemetry.UpdateCommand // gateway -> command
	holdAt   map[string]int64                    // sha256 -> stop after this many bytes, until released
	release  chan struct{}
	served   atomic.Int64
}

func newServer(t *testing.T) *server {
	s := &server{bundles: map[string][]byte{}, commands: map[string]*telemetry.UpdateCommand{},
		holdAt: map[string]int64{}, release: make(chan struct{})}
	s.Server = httptest.NewTLSServer(http.HandlerFunc(s.serve))
	t.Cleanup(func() {
		s.Release()
		s.Server.CloseClientConnections()
		s.Server.Close()
	})
	s.caFile = filepath.Join(t.TempDir(), "ca.pem")
	pemCert := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.Certificate().Raw})
	if err := os.WriteFile(s.caFile, pemCert, 0o644); err != nil {
		t.Fatal(err)
	}
	return s
}

// Release lets the held downloads go on.
func (s *server) Release() {
	s.mu.Lock()
	defer s.mu.Unlock()
	select {
	case <-s.release:
	default:
		close(s.release)
	}
}

// Offer serves b and makes the command for gateway gw, with version (the
// command's; the bundle's own may differ).
func (s *server) Offer(gw, id, version string, b []byte) *telemetry.UpdateCommand {
	sum := sha256.Sum256(b)
	h := hex.EncodeToString(sum[:])
	c := &telemetry.UpdateCommand{V: telemetry.SchemaVersion, ID: id, URL: s.URL + "/bundles/" + h, SHA256: h,
		Size: int64(len(b)), Version: version, Time: time.Now().UTC()}
	s.mu.Lock()
	s.bundles[h] = b
	s.commands[gw] = c
	s.mu.Unlock()
	return c
}

// SetCommand makes c the command for gateway gw.
func (s *server) SetCommand(gw string, c *telemetry.UpdateCommand) {
	s.mu.Lock()
	s.commands[gw] = c
	s.mu.Unlock()
}

// Hold makes downloads of the bundle stop after n bytes until Release.
func (s *server) Hold(sha string, n int64) {
	s.mu.Lock()
	s.holdAt[sha] = n
	s.mu.Unlock()
}

// Unhold lets later downloads of the bundle go through whole.
func (s *server) Unhold(sha string) {
	s.mu.Lock()
	delete(s.holdAt, sha)
	s.mu.Unlock()
}

func (s *server) serve(w http.ResponseWriter, r *http.Request) {
	if gw, ok := strings.CutPrefix(r.URL.Path, "/cmd/"); ok {
		s.mu.Lock()
		c := s.commands[gw]
		s.mu.Unlock()
		if c == nil {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		b, _ := telemetry.EncodeUpdateCommand(c)
		w.Write(b)
		return
	}
	sha := strings.TrimPrefix(r.URL.Path, "/bundles/")
	s.mu.Lock()
	b, ok := s.bundles[sha]
	hold, held := s.holdAt[sha]
	release := s.release
	s.mu.Unlock()
	if !ok {
		http.NotFound(w, r)
		return
	}
	cw := &countingWriter{ResponseWriter: w, s: s, hold: -1}
	if held {
		cw.hold, cw.release = hold, release
	}
	http.ServeContent(cw, r, "bundle", time.Time{}, bytes.NewReader(b))
}

// countingWriter counts the body bytes served and, when hold >= 0, stops
// after that many bytes (of the whole file's offsets served by this
// response) until release, then aborts the response.
type countingWriter struct {
	http.ResponseWriter
	s       *server
	n       int64
	hold    int64
	release chan struct{}
}

func (c *countingWriter) Write(p []byte) (int, error) {
	if c.hold >= 0 && c.n+int64(len(p)) > c.hold {
		p = p[:c.hold-c.n]
		n, _ := c.ResponseWriter.Write(p)
		c.n += int64(n)
		c.s.served.Add(int64(n))
		c.ResponseWriter.(http.Flusher).Flush()
		<-c.release
		panic(http.ErrAbortHandler) // the client sees a cut download
	}
	n, err := c.ResponseWriter.Write(p)
	c.n += int64(n)
	c.s.served.Add(int64(n))
	return n, err
}

// gw is one gateway under a supervisor, with its install root, config and
// spool, and a subscriber to its status and events.
type gw struct {
	t       *testing.T
	name    string
	dir     string
	layout  update.Layout
	conf    string
	spool   string
	srv     *server
	sup     *exec.Cmd
	supDone chan struct{}
	log     *bytes.Buffer

	mu       sync.Mutex
	statuses []telemetry.Status
	events   map[string]int // event ID -> times received
	types    map[string]int // event type -> distinct events received
}

type gwOpts struct {
	healthTimeout string
	maxBoots      int
	spooled       int    // events spooled before the first start
	stateJSON     string // state.json before the first start, if set
	noPoll        bool   // commands come only from the broker
	extra         string // top-level configuration appended (readers, ...)
	name          string // the gateway's name, if set
	health        string // health.interval (default off)
}

// access is how the gateways and the test's own clients reach a broker.
type access struct {
	// url is the broker's: tcp://host:port or ssl://host:port.
	url string
	// gateway returns the lines of gateway name's mqtt section after
	// its broker (credentials), indented.
	gateway func(t *testing.T, name string) string
	// client makes o connect as user (its client ID on a broker that
	// needs no credentials).
	client func(t *testing.T, o *mqtt.ClientOptions, user string)
}

// plain is the access to a broker without credentials.
func plain(m *testenv.Mosquitto) *access {
	return &access{url: "tcp://" + m.Addr,
		gateway: func(*testing.T, string) string { return "" },
		client:  func(_ *testing.T, o *mqtt.ClientOptions, user string) { o.SetClientID(user) }}
}

func startGW(t *testing.T, acc *access, srv *server, sig *signer, o gwOpts) *gw {
	t.Helper()
	dir := t.TempDir()
	if o.name == "" {
		o.name = "gw-" + uuid.NewString()[:8]
	}
	g := &gw{t: t, name: o.name, dir: dir, layout: update.Layout{Root: filepath.Join(dir, "opt")},
		conf: filepath.Join(dir, "edge.yaml"), spool: filepath.Join(dir, "var", "spool.db"), srv: srv,
		events: map[string]int{}, types: map[string]int{}}
	if err := os.MkdirAll(filepath.Dir(g.spool), 0o755); err != nil {
		t.Fatal(err)
	}
	if o.healthTimeout == "" {
		o.healthTimeout = "60s"
	}
	if o.maxBoots == 0 {
		o.maxBoots = 3
	}
	if o.health == "" {
		o.health = "off"
	}
	yaml := fmt.Sprintf(`gateway: %s
spool:
  path: %s
mqtt:
  broker: %s
%s  min_backoff: 100ms
  max_backoff: 1s
http:
  listen: "off"
health:
  interval: %q
update:
  root: %s
  keys: %s
  health_timeout: %s
  max_boots: %d
  ca_file: %s
`, g.name, g.spool, acc.url, acc.gateway(t, g.name), o.health, g.layout.Root, sig.keyFile, o.healthTimeout, o.maxBoots, srv.caFile)
	if !o.noPoll {
		yaml += fmt.Sprintf("  poll_url: %s/cmd/%s\n  poll_every: 1s\n", srv.URL, g.name)
	}
	yaml += o.extra
	if err := os.WriteFile(g.conf, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	if o.spooled > 0 {
		g.spoolEvents(o.spooled)
	}
	if o.stateJSON != "" {
		if err := g.layout.Prepare(); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(g.layout.StatePath(), []byte(o.stateJSON), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	g.subscribe(acc)
	g.startSupervisor()
	t.Cleanup(func() {
		g.stopSupervisor()
		if t.Failed() {
			st, err := os.ReadFile(g.layout.StatePath())
			t.Logf("%s logs:\n%s\nstate.json (%v):\n%s\nstatuses: %+v", g.name, g.logs(), err, st, g.allStatuses())
		}
	})
	return g
}

// spoolEvents puts n events in the gateway's spool, as the gateway would.
func (g *gw) spoolEvents(n int) {
	sp, err := spool.Open(g.spool, spool.Options{MaxBytes: 1 << 20, MaxRecords: 10000})
	if err != nil {
		g.t.Fatal(err)
	}
	defer sp.Close()
	for range n {
		e := &telemetry.Event{V: telemetry.SchemaVersion, ID: uuid.NewString(), Gateway: g.name, Source: "door",
			Type: telemetry.BeamBlocked, Time: time.Now().UTC(), Beam: &telemetry.Beam{}}
		p, err := telemetry.EncodeEvent(e)
		if err != nil {
			g.t.Fatal(err)
		}
		topic := telemetry.EventTopic(g.name, e.Source)
		if _, err := sp.AppendEvents(spool.Event{Data: append(append([]byte(topic), 0), p...)}); err != nil {
			g.t.Fatal(err)
		}
		g.events[e.ID] = 0
	}
}

// subscribe records the gateway's statuses and events, as the user
// "observer-" + its name.
func (g *gw) subscribe(acc *access) {
	o := mqtt.NewClientOptions().AddBroker(acc.url).SetAutoReconnect(true)
	acc.client(g.t, o, "observer-"+g.name)
	c := mqtt.NewClient(o)
	if tok := c.Connect(); !tok.WaitTimeout(deadline) || tok.Error() != nil {
		g.t.Fatalf("subscriber: %v", tok.Error())
	}
	g.t.Cleanup(func() { c.Disconnect(0) })
	tok := c.Subscribe(telemetry.Root+"/gw/"+g.name+"/#", 1, func(_ mqtt.Client, m mqtt.Message) {
		g.mu.Lock()
		defer g.mu.Unlock()
		if strings.HasSuffix(m.Topic(), "/status") {
			if st, err := telemetry.DecodeStatus(m.Payload()); err == nil {
				g.statuses = append(g.statuses, *st)
			}
			return
		}
		if _, kind, _, err := telemetry.ParseTopic(m.Topic()); err != nil || kind != "event" {
			return
		}
		evs, err := telemetry.DecodeEvents(m.Payload())
		if err != nil {
			g.t.Errorf("the edge published a bad event on %s: %v", m.Topic(), err)
			return
		}
		for _, e := range evs {
			if g.events[e.ID] == 0 {
				g.types[e.Type]++
			}
			g.events[e.ID]++
		}
	})
	if !tok.WaitTimeout(deadline) || tok.Error() != nil {
		g.t.Fatalf("subscribe: %v", tok.Error())
	}
}

func (g *gw) startSupervisor() {
	g.t.Helper()
	p := built(g.t)
	if g.log == nil {
		g.log = &bytes.Buffer{}
	}
	cmd := exec.Command(p["edge-"+oldVersion], "supervise", "--root", g.layout.Root, "--", "run", "--config", g.conf)
	cmd.Env = os.Environ()
	w := &lockedWriter{b: g.log, mu: &g.mu}
	cmd.Stdout, cmd.Stderr = w, w
	if err := cmd.Start(); err != nil {
		g.t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	g.sup, g.supDone = cmd, done
}

// killSupervisor kills the supervisor with SIGKILL; its child dies with it.
func (g *gw) killSupervisor() {
	g.sup.Process.Kill()
	<-g.supDone
	g.waitNoChild()
}

func (g *gw) stopSupervisor() {
	if g.sup == nil {
		return
	}
	g.sup.Process.Signal(syscall.SIGTERM)
	select {
	case <-g.supDone:
	case <-time.After(deadline):
		g.sup.Process.Kill()
		<-g.supDone
	}
}

// child returns the pid of the supervisor's child, 0 when none.
func (g *gw) child() int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", g.sup.Process.Pid, g.sup.Process.Pid))
	if err == nil && len(bytes.Fields(b)) > 0 {
		var pid int
		fmt.Sscan(string(bytes.Fields(b)[0]), &pid)
		return pid
	}
	// The child may have been started from another thread.
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", g.sup.Process.Pid))
	for _, f := range tasks {
		if b, err := os.ReadFile(f); err == nil && len(bytes.Fields(b)) > 0 {
			var pid int
			fmt.Sscan(string(bytes.Fields(b)[0]), &pid)
			return pid
		}
	}
	return 0
}

// killChild kills the supervisor's current child with SIGKILL.
func (g *gw) killChild() {
	g.t.Helper()
	var pid int
	g.waitFor("a child", func() bool { pid = g.child(); return pid != 0 })
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		g.t.Fatal(err)
	}
}

// waitNoChild waits until no process runs the gateway's config.
func (g *gw) waitNoChild() {
	g.waitFor("the child to die with the supervisor", func() bool {
		procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
		for _, p := range procs {
			if b, err := os.ReadFile(p); err == nil && bytes.Contains(b, []byte(g.conf)) {
				return false
			}
		}
		return true
	})
}

func (g *gw) logs() string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.log.String()
}

type lockedWriter struct {
	mu *sync.Mutex
	b  *bytes.Buffer
}

func (w *lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

// waitFor waits until cond holds, failing the test after deadline.
func (g *gw) waitFor(what string, cond func() bool) {
	g.t.Helper()
	end := time.Now().Add(deadline)
	for !cond() {
		if time.Now().After(end) {
			g.t.Fatalf("%s: no %s within %v", g.name, what, deadline)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitStatus waits for an online status whose update report matches.
func (g *gw) waitStatus(what string, match func(st telemetry.Status) bool) telemetry.Status {
	g.t.Helper()
	var got telemetry.Status
	g.waitFor(what, func() bool {
		g.mu.Lock()
		defer g.mu.Unlock()
		for _, st := range g.statuses {
			if st.State == telemetry.StateOnline && match(st) {
				got = st
				return true
			}
		}
		return false
	})
	return got
}

// waitStep waits for an online status at version reporting step of id.
func (g *gw) waitStep(version, id, step string) telemetry.Status {
	g.t.Helper()
	return g.waitStatus(fmt.Sprintf("status %s %s at version %s", id, step, version), func(st telemetry.Status) bool {
		return (version == "" || st.Version == version) && st.Update != nil && st.Update.ID == id && st.Update.Step == step
	})
}

func (g *gw) allStatuses() []telemetry.Status {
	g.mu.Lock()
	defer g.mu.Unlock()
	return slices.Clone(g.statuses)
}

// steps returns the update steps of id seen in statuses, without repeats.
func (g *gw) steps(id string) []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	var out []string
	for _, st := range g.statuses {
		if st.Update != nil && st.Update.ID == id && (len(out) == 0 || out[len(out)-1] != st.Update.Step) {
			out = append(out, st.Update.Step)
		}
	}
	return out
}

// state reads the gateway's state.json.
func (g *gw) state() *update.State {
	g.t.Helper()
	st, err := g.layout.ReadState()
	if err != nil {
		g.t.Fatal(err)
	}
	return st
}

// checkSpoolDelivered checks that every event spooled before the start
// reached the broker, and that the spool is where it was, outside the
// install root.
func (g *gw) checkSpoolDelivered() {
	g.t.Helper()
	g.waitFor("delivery of every spooled event", func() bool {
		g.mu.Lock()
		defer g.mu.Unlock()
		for _, n := range g.events {
			if n == 0 {
				return false
			}
		}
		return true
	})
	if _, err := os.Stat(g.spool); err != nil {
		g.t.Errorf("spool: %v", err)
	}
	filepath.WalkDir(g.layout.Root, func(p string, d os.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(p, ".db") {
			g.t.Errorf("a database under the install root: %s", p)
		}
		return nil
	})
}
