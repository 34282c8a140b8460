// Package testenv starts the real peers that ngic's tests talk to —
// mosquitto, snmpsimd, snmpd and influxd — on free loopback ports, the way
// httptest.NewServer starts an HTTP server, and stops them when the test
// ends.
//
// A peer whose program is missing skips the test with a message naming the
// package to install, unless NGIC_REQUIRE_PEERS=1 (set by `make test`), in
// which case the test fails: a CI run never counts a skipped peer test as
// passing.
package testenv

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gosnmp/gosnmp"
)

// Require reports whether missing peers must fail tests instead of skipping them.
func Require() bool { return os.Getenv("NGIC_REQUIRE_PEERS") == "1" }

// missing skips or fails t for an absent program or file.
func missing(t testing.TB, what, hint string) {
	t.Helper()
	if Require() {
		t.Fatalf("%s not found (%s); NGIC_REQUIRE_PEERS=1 forbids skipping", what, hint)
	}
	t.Skipf("%s not found (%s)", what, hint)
}

// lookPath finds a program on PATH or in the sbin folders Debian uses.
func lookPath(name string) (string, bool) {
	if p, err := exec.LookPath(name); err == nil {
		return p, true
	}
	for _, d := range []string{"/usr/sbin", "/sbin", "/usr/local/sbin"} {
		p := filepath.Join(d, name)
		if _, err := os.Stat(p); err == nil {
			return p, true
		}
	}
	return "", false
}

// Program returns the path of the program name, found on PATH or in the
// sbin folders Debian uses. When it is missing, t is skipped with a message
// naming the Debian package pkg to install, or fails under
// NGIC_REQUIRE_PEERS=1.
func Program(t testing.TB, name, pkg string) string {
	t.Helper()
	p, ok := lookPath(name)
	if !ok {
		missing(t, name, "apt-get install "+pkg)
	}
	return p
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("testenv: free tcp port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// FreeUDPPort returns a UDP port on 127.0.0.1 that was free a moment ago.
func FreeUDPPort(t testing.TB) int {
	t.Helper()
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("testenv: free udp port: %v", err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port
}

// Process is a peer started for a test.
type Process struct {
	cmd  *exec.Cmd
	log  string
	done chan struct{}
}

// Log returns what the peer wrote to its log so far.
func (p *Process) Log() string {
	b, _ := os.ReadFile(p.log)
	return string(b)
}

// Stop ends the peer and waits for it.
func (p *Process) Stop() {
	if p.cmd.Process == nil {
		return
	}
	_ = p.cmd.Process.Signal(os.Interrupt)
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

func start(t testing.TB, dir, name string, args ...string) *Process {
	t.Helper()
	logPath := filepath.Join(dir, filepath.Base(name)+".log")
	lf, err := os.Create(logPath)
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	cmd := exec.Command(name, args...)
	cmd.Stdout, cmd.Stderr = lf, lf
	cmd.Env = append(os.Environ(), "MIBS=")
	if err := Start(cmd); err != nil {
		lf.Close()
		t.Fatalf("testenv: start %s: %v", name, err)
	}
	p := &Process{cmd: cmd, log: logPath, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); lf.Close(); close(p.done) }()
	t.Cleanup(p.Stop)
	return p
}

// exited reports whether the process has ended.
func (p *Process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Mosquitto is a running mosquitto broker.
type Mosquitto struct {
	*Process
	// Addr is host:port of its plain MQTT listener.
	Addr string
	// Port is its TCP port.
	Port int
	conf string
	dir  string
}

// StartMosquitto starts Debian's mosquitto on a free loopback port with
// persistence off, anonymous access, and no queue limit for QoS 1 (the
// default of 1000 silently drops messages for a lagging subscriber).
func StartMosquitto(t testing.TB) *Mosquitto {
	t.Helper()
	return startMosquitto(t, FreePort(t), false)
}

// StartMosquittoPersistent starts mosquitto with persistence on, so that a
// subscriber's persistent session (clean session off) and its queued QoS 1
// messages survive Stop and Restart.
func StartMosquittoPersistent(t testing.TB) *Mosquitto {
	t.Helper()
	return startMosquitto(t, FreePort(t), true)
}

func startMosquitto(t testing.TB, port int, persistent bool) *Mosquitto {
	t.Helper()
	bin, ok := lookPath("mosquitto")
	if !ok {
		missing(t, "mosquitto", "apt-get install mosquitto")
	}
	dir := t.TempDir()
	conf := filepath.Join(dir, "mosquitto.conf")
	persistence := "persistence false\n"
	if persistent {
		persistence = fmt.Sprintf("persistence true\npersistence_location %s/\nautosave_interval 0\n", dir)
	}
	cfg := fmt.Sprintf(`listener %d 127.0.0.1
allow_anonymous true
`+persistence+`max_queued_messages 0
max_inflight_messages 0
max_queued_bytes 0
log_dest stdout
log_type error
log_type warning
log_type notice
user root
`, port)
	if err := os.WriteFile(conf, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	m := &Mosquitto{Addr: fmt.Sprintf("127.0.0.1:%d", port), Port: port, conf: conf, dir: dir}
	m.Process = start(t, dir, bin, "-c", conf)
	waitTCP(t, m.Process, m.Addr)
	return m
}

// Restart starts a new broker on the same port after Stop.
func (m *Mosquitto) Restart(t testing.TB) {
	t.Helper()
	bin, _ := lookPath("mosquitto")
	m.Process = start(t, m.dir, bin, "-c", m.conf)
	waitTCP(t, m.Process, m.Addr)
}

func waitTCP(t testing.TB, p *Process, addr string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		if p.exited() {
			t.Fatalf("testenv: peer exited before listening on %s:\n%s", addr, p.Log())
		}
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("testenv: nothing listening on %s after 15s:\n%s", addr, p.Log())
}

// Recordings returns the folder of real SNMP recordings: $NGIC_RECORDINGS,
// or the repository's own testdata/snmprec. It skips (or fails under
// NGIC_REQUIRE_PEERS=1) when the folder is absent.
func Recordings(t testing.TB) string {
	t.Helper()
	if d := os.Getenv("NGIC_RECORDINGS"); d != "" {
		return d
	}
	root, err := repoRoot()
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	d := filepath.Join(root, "testdata", "snmprec")
	if _, err := os.Stat(d); err != nil {
		missing(t, "recordings folder "+d, "set NGIC_RECORDINGS")
	}
	abs, _ := filepath.Abs(d)
	return abs
}

// repoRoot returns the folder holding go.mod, walking up from the working
// directory.
func repoRoot() (string, error) {
	d, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d, nil
		}
		parent := filepath.Dir(d)
		if parent == d {
			return "", fmt.Errorf("testenv: no go.mod above the working directory")
		}
		d = parent
	}
}

// worldDir makes a fresh folder that the user nobody can read, for daemons
// that drop privileges.
func worldDir(t testing.TB) string {
	t.Helper()
	d, err := os.MkdirTemp("", "ngic-peer-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(d) })
	if err := os.Chmod(d, 0o777); err != nil {
		t.Fatal(err)
	}
	return d
}

// Snmpsim is a running snmpsimd serving recordings.
type Snmpsim struct {
	*Process
	// Addr is host:port of its UDP endpoint.
	Addr string
	// Port is its UDP port.
	Port int
	// DataDir is the folder of .snmprec files it serves (a copy).
	DataDir string
}

// StartSnmpsim starts Debian's snmpsimd serving a copy of the .snmprec files
// in dir (all of them when names is empty; otherwise the named communities)
// on a free loopback UDP port, and waits until it answers.
func StartSnmpsim(t testing.TB, dir string, names ...string) *Snmpsim {
	t.Helper()
	bin, ok := lookPath("snmpsimd")
	if !ok {
		bin, ok = lookPath("snmpsimd.py")
	}
	if !ok {
		missing(t, "snmpsimd", "apt-get install snmpsim")
	}
	base := worldDir(t)
	data := filepath.Join(base, "data")
	cache := filepath.Join(base, "cache")
	for _, d := range []string{data, cache} {
		if err := os.Mkdir(d, 0o777); err != nil {
			t.Fatal(err)
		}
		_ = os.Chmod(d, 0o777)
	}
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	first := ""
	for _, e := range entries {
		n := e.Name()
		if !strings.HasSuffix(n, ".snmprec") {
			continue
		}
		comm := strings.TrimSuffix(n, ".snmprec")
		if len(want) > 0 && !want[comm] {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, n))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(data, n), b, 0o644); err != nil {
			t.Fatal(err)
		}
		if first == "" || comm == "netsnmp_linux-full-walk" {
			first = comm
		}
	}
	if first == "" {
		t.Fatalf("testenv: no .snmprec files to serve in %s", dir)
	}
	port := FreeUDPPort(t)
	args := []string{
		"--data-dir=" + data, "--cache-dir=" + cache,
		fmt.Sprintf("--agent-udpv4-endpoint=127.0.0.1:%d", port),
		"--logging-method=null",
	}
	if os.Geteuid() == 0 {
		args = append(args, "--process-user=nobody", "--process-group=nogroup")
	}
	s := &Snmpsim{Addr: fmt.Sprintf("127.0.0.1:%d", port), Port: port, DataDir: data}
	s.Process = start(t, base, bin, args...)
	waitSNMP(t, s.Process, port, func(g *gosnmp.GoSNMP) { g.Community = first })
	return s
}

// waitSNMP polls sysUpTime/sysDescr until the agent answers.
func waitSNMP(t testing.TB, p *Process, port int, set func(*gosnmp.GoSNMP)) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	var last error
	for time.Now().Before(deadline) {
		if p.exited() {
			t.Fatalf("testenv: SNMP peer exited:\n%s", p.Log())
		}
		g := &gosnmp.GoSNMP{Target: "127.0.0.1", Port: uint16(port), Version: gosnmp.Version2c,
			Timeout: 500 * time.Millisecond, Retries: 0, Context: context.Background()}
		set(g)
		if err := g.Connect(); err == nil {
			_, last = g.GetNext([]string{".1.3.6.1.2.1.1"})
			g.Conn.Close()
			if last == nil {
				return
			}
		} else {
			last = err
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("testenv: SNMP peer on port %d not answering after 60s (%v):\n%s", port, last, p.Log())
}

// SNMPv3 user credentials configured on the snmpd that StartSnmpd runs.
const (
	V3User     = "ngicuser"
	V3AuthPass = "ngic-auth-pass-1"
	V3PrivPass = "ngic-priv-pass-1"
)

// Snmpd is a running net-snmp agent.
type Snmpd struct {
	*Process
	// Addr is host:port of its UDP endpoint.
	Addr string
	// Port is its UDP port.
	Port int
	// Community is its read-only v2c community.
	Community string
}

// StartSnmpd starts Debian's snmpd on a free loopback UDP port with a
// v1/v2c community "public" and an SNMPv3 user V3User using SHA-256 and
// AES-128 (authPriv), plus "ngicauth" (authNoPriv, SHA-256) and "ngicnoauth"
// (noAuthNoPriv).
func StartSnmpd(t testing.TB) *Snmpd {
	t.Helper()
	bin, ok := lookPath("snmpd")
	if !ok {
		missing(t, "snmpd", "apt-get install snmpd")
	}
	dir := worldDir(t)
	persist := filepath.Join(dir, "persist")
	if err := os.Mkdir(persist, 0o777); err != nil {
		t.Fatal(err)
	}
	port := FreeUDPPort(t)
	conf := filepath.Join(dir, "snmpd.conf")
	cfg := fmt.Sprintf(`[snmp] persistentDir %s
rocommunity public 127.0.0.1
createUser %s SHA-256 %s AES %s
createUser ngicauth SHA-256 %s
createUser ngicnoauth
rouser %s authpriv
rouser ngicauth auth
rouser ngicnoauth noauth
dontLogTCPWrappersConnects yes
sysLocation ngic test lab
sysContact ngic tests
`, persist, V3User, V3AuthPass, V3PrivPass, V3AuthPass, V3User)
	if err := os.WriteFile(conf, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{"-f", "-Lo", "-C", "-c", conf, "-I", "-smux", "-p", filepath.Join(dir, "snmpd.pid"),
		fmt.Sprintf("udp:127.0.0.1:%d", port)}
	s := &Snmpd{Addr: fmt.Sprintf("127.0.0.1:%d", port), Port: port, Community: "public"}
	s.Process = start(t, dir, bin, args...)
	waitSNMP(t, s.Process, port, func(g *gosnmp.GoSNMP) { g.Community = "public" })
	return s
}
