// Package systemd_test checks the shipped systemd units with systemd's own
// tools: `systemd-analyze verify` (syntax, unknown keys, missing binaries)
// and `systemd-analyze security --offline=true` (exposure at most 2.0), and
// the sysusers file with `systemd-sysusers --root`.
//
// verify checks that every Exec*= program exists and is executable, so the
// unit files cannot be verified as they are on a machine where ngic is not
// installed. Rather than rewrite their paths (and so verify a copy that
// differs from what ships), each test builds a throwaway root: the unit
// file copied byte for byte to <root>/etc/systemd/system, the ngic binaries
// built from this tree at the paths the unit names (/usr/bin/...),
// the other programs it names (/bin/kill) copied from the host, and the
// host's own units (sysinit.target, network-online.target...) copied to
// <root>/usr/lib/systemd/system as regular files, since systemd-analyze
// resolves their symlinks inside the root. `--root` then makes
// systemd-analyze read everything from there.
package systemd_test

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/ngic/ngic/internal/testenv"
)

// maxExposure is the highest overall exposure systemd-analyze security may
// give a shipped unit. Its --threshold counts tenths (2.0 is 20).
const maxExposure = 2.0

// units maps each shipped unit to the package of the binary it runs.
var units = map[string]string{
	"ngic-edge.service":       "github.com/ngic/ngic/edge",
	"ngic-controller.service": "github.com/ngic/ngic/controller",
}

var (
	buildOnce sync.Once
	buildDir  string            // removed by TestMain
	built     map[string]string // binary name -> path
	buildErr  error
)

// binaries builds ngic-edge and ngic-controller once per test process.
func binaries(t *testing.T) map[string]string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "ngic-units-bin-")
		if err != nil {
			buildErr = err
			return
		}
		buildDir = dir
		built = map[string]string{}
		for unit, pkg := range units {
			name := strings.TrimSuffix(unit, ".service")
			out := filepath.Join(dir, name)
			cmd := exec.Command("go", "build", "-o", out, pkg)
			if b, err := cmd.CombinedOutput(); err != nil {
				buildErr = fmt.Errorf("go build %s: %v\n%s", pkg, err, b)
				return
			}
			built[name] = out
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return built
}

// TestMain removes the built binaries.
func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// copyFile copies src to dst with mode perm, creating dst's folder.
func copyFile(t *testing.T, src, dst string, perm os.FileMode) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		t.Fatal(err)
	}
	in, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, perm)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}

// execPaths returns the programs the Exec*= lines of a unit name.
func execPaths(t *testing.T, unitFile string) []string {
	t.Helper()
	f, err := os.Open(unitFile)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var paths []string
	s := bufio.NewScanner(f)
	for s.Scan() {
		key, val, ok := strings.Cut(strings.TrimSpace(s.Text()), "=")
		if !ok || !strings.HasPrefix(key, "Exec") {
			continue
		}
		// Strip systemd's command prefixes (-, @, :, +, !).
		prog := strings.TrimLeft(strings.Fields(val)[0], "-@:+!")
		paths = append(paths, prog)
	}
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
	return paths
}

// hostUnitDir is where Debian keeps systemd's own units.
const hostUnitDir = "/usr/lib/systemd/system"

// newRoot builds the throwaway root described in the package comment for
// the shipped unit file src (deploy/systemd/<unit>) as found at src.
func newRoot(t *testing.T, unit, src string) string {
	t.Helper()
	root := t.TempDir()
	copyFile(t, src, filepath.Join(root, "etc/systemd/system", unit), 0o644)
	ents, err := os.ReadDir(hostUnitDir)
	if err != nil {
		t.Fatalf("systemd's units: %v", err)
	}
	for _, e := range ents {
		if e.Type().IsRegular() {
			copyFile(t, filepath.Join(hostUnitDir, e.Name()), filepath.Join(root, "usr/lib/systemd/system", e.Name()), 0o644)
		}
	}
	bins := binaries(t)
	for _, p := range execPaths(t, src) {
		from, ok := bins[filepath.Base(p)]
		if !ok {
			from = p // a system program: the host's
		}
		copyFile(t, from, filepath.Join(root, p), 0o755)
	}
	return root
}

// analyze runs systemd-analyze with args and returns its combined output
// and exit error.
func analyze(t *testing.T, args ...string) (string, error) {
	t.Helper()
	bin := testenv.Program(t, "systemd-analyze", "systemd")
	out, err := exec.Command(bin, args...).CombinedOutput()
	return string(out), err
}

// verify runs systemd-analyze verify on the unit in root. verify exits 0
// on an unknown key or section (it ignores them with a warning), so any
// output at all is a failure too.
func verify(t *testing.T, root, unit string) error {
	t.Helper()
	out, err := analyze(t, "verify", "--man=false", "--root="+root, unit)
	if err != nil || strings.TrimSpace(out) != "" {
		return fmt.Errorf("systemd-analyze verify %s: %v\n%s", unit, err, out)
	}
	return nil
}

var overallRE = regexp.MustCompile(`Overall exposure level for (\S+): ([0-9.]+)`)

// exposure runs systemd-analyze security --offline=true on the unit in
// root and returns its overall exposure; the run's own threshold check
// (maxExposure in tenths) must agree.
func exposure(t *testing.T, root, unit string) float64 {
	t.Helper()
	threshold := strconv.Itoa(int(maxExposure * 10))
	out, err := analyze(t, "security", "--offline=true", "--threshold="+threshold, "--root="+root, unit)
	m := overallRE.FindStringSubmatch(out)
	if m == nil || m[1] != unit {
		t.Fatalf("systemd-analyze security %s: no overall exposure in its output (%v):\n%s", unit, err, out)
	}
	x, perr := strconv.ParseFloat(m[2], 64)
	if perr != nil {
		t.Fatal(perr)
	}
	if (x > maxExposure) != (err != nil) {
		t.Fatalf("systemd-analyze security %s: exposure %.1f but --threshold=%s gave %v:\n%s", unit, x, threshold, err, out)
	}
	if x > maxExposure {
		t.Errorf("%s: exposure %.1f, above %.1f:\n%s", unit, x, maxExposure, out)
	}
	return x
}

func TestUnitsVerify(t *testing.T) {
	for unit := range units {
		t.Run(unit, func(t *testing.T) {
			root := newRoot(t, unit, unit)
			if err := verify(t, root, unit); err != nil {
				t.Error(err)
			}
		})
	}
}

// TestVerifyCatches proves verify's check can fail: a copy of the edge unit
// with a misspelt key, and one whose binary is missing, are refused.
func TestVerifyCatches(t *testing.T) {
	const unit = "ngic-edge.service"
	b, err := os.ReadFile(unit)
	if err != nil {
		t.Fatal(err)
	}
	typo := filepath.Join(t.TempDir(), unit)
	misspelt := strings.Replace(string(b), "ProtectSystem=strict", "ProtectSytem=strict", 1)
	if misspelt == string(b) {
		t.Fatal("the edge unit has no ProtectSystem=strict to misspell")
	}
	if err := os.WriteFile(typo, []byte(misspelt), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := verify(t, newRoot(t, unit, typo), unit); err == nil || !strings.Contains(err.Error(), "ProtectSytem") {
		t.Errorf("a misspelt key passed verify: %v", err)
	}
	root := newRoot(t, unit, unit)
	if err := os.Remove(filepath.Join(root, "usr/bin/ngic-edge")); err != nil {
		t.Fatal(err)
	}
	if err := verify(t, root, unit); err == nil || !strings.Contains(err.Error(), "/usr/bin/ngic-edge") {
		t.Errorf("a missing binary passed verify: %v", err)
	}
}

func TestUnitsSecurity(t *testing.T) {
	for unit := range units {
		t.Run(unit, func(t *testing.T) {
			x := exposure(t, newRoot(t, unit, unit), unit)
			t.Logf("%s: overall exposure %.1f", unit, x)
		})
	}
}

// TestSysusers creates the users and groups of ngic.sysusers in an empty
// root and checks the edge is in the serial and GPIO groups its unit asks
// for, and each unit's User= and Group= exist.
func TestSysusers(t *testing.T) {
	bin := testenv.Program(t, "systemd-sysusers", "systemd")
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	conf, err := filepath.Abs("ngic.sysusers")
	if err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(bin, "--root="+root, conf).CombinedOutput(); err != nil {
		t.Fatalf("systemd-sysusers: %v\n%s", err, out)
	}
	users := readDB(t, filepath.Join(root, "etc/passwd"))
	groups := readDB(t, filepath.Join(root, "etc/group"))
	for unit := range units {
		d := directives(t, unit)
		for _, u := range d["User"] {
			if _, ok := users[u]; !ok {
				t.Errorf("%s: User=%s is not created by ngic.sysusers", unit, u)
			}
		}
		for _, g := range append(d["Group"], strings.Fields(strings.Join(d["SupplementaryGroups"], " "))...) {
			if _, ok := groups[g]; !ok {
				t.Errorf("%s: group %s is not created by ngic.sysusers", unit, g)
			}
		}
	}
	for _, g := range []string{"dialout", "gpio"} {
		if members := groups[g]; len(members) < 4 || !strings.Contains(","+members[3]+",", ",ngic-edge,") {
			t.Errorf("group %s: %v, want ngic-edge a member", g, members)
		}
	}
}

// readDB reads a passwd or group file into name -> fields.
func readDB(t *testing.T, path string) map[string][]string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	db := map[string][]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		f := strings.Split(line, ":")
		db[f[0]] = f
	}
	return db
}

// directives reads a unit file's [Service] section into key -> values.
func directives(t *testing.T, unit string) map[string][]string {
	t.Helper()
	b, err := os.ReadFile(unit)
	if err != nil {
		t.Fatal(err)
	}
	d := map[string][]string{}
	section := ""
	for _, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, "[") {
			section = line
			continue
		}
		if section != "[Service]" || line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if k, v, ok := strings.Cut(line, "="); ok {
			d[k] = append(d[k], v)
		}
	}
	return d
}

// TestHardening checks what the exposure figure alone would not: the
// writable paths, the devices and the empty capability set of each unit.
func TestHardening(t *testing.T) {
	common := map[string]string{
		"CapabilityBoundingSet": "", "AmbientCapabilities": "", "NoNewPrivileges": "yes",
		"ProtectSystem": "strict", "ProtectHome": "yes", "PrivateTmp": "yes", "DevicePolicy": "closed",
		"MemoryDenyWriteExecute": "yes", "RestrictAddressFamilies": "AF_INET AF_INET6 AF_UNIX",
	}
	want := map[string]map[string][]string{
		"ngic-edge.service": {
			"User": {"ngic-edge"}, "StateDirectory": {"ngic-edge"}, "ReadWritePaths": {"-/opt/ngic-edge"},
			"DeviceAllow":    {"char-ttyUSB rw", "char-ttyACM rw", "char-ttyS rw", "char-gpiochip rw"},
			"PrivateDevices": nil,
		},
		"ngic-controller.service": {
			"User": {"ngic-controller"}, "StateDirectory": {"ngic-controller"}, "ReadWritePaths": nil,
			"DeviceAllow": nil, "PrivateDevices": {"yes"},
		},
	}
	for unit, w := range want {
		d := directives(t, unit)
		for k, v := range common {
			if got := d[k]; len(got) != 1 || got[0] != v {
				t.Errorf("%s: %s=%q, want %q", unit, k, got, v)
			}
		}
		if sf := d["SystemCallFilter"]; len(sf) == 0 || sf[0] != "@system-service" {
			t.Errorf("%s: SystemCallFilter=%q, want @system-service first", unit, sf)
		}
		for k, v := range w {
			if got := d[k]; strings.Join(got, "|") != strings.Join(v, "|") {
				t.Errorf("%s: %s=%q, want %q", unit, k, got, v)
			}
		}
	}
}

// TestEdgeRunsUnderTheSupervisor: systemd runs the packaged ngic-edge as
// the update supervisor, on the install root the unit lets it write, and
// nothing else that a configuration for a newer version could fail.
func TestEdgeRunsUnderTheSupervisor(t *testing.T) {
	d := directives(t, "ngic-edge.service")
	const want = "/usr/bin/ngic-edge supervise --root /opt/ngic-edge -- run --config /etc/ngic/edge.yaml"
	if got := d["ExecStart"]; len(got) != 1 || got[0] != want {
		t.Errorf("ExecStart=%q, want %q", got, want)
	}
	if pre := d["ExecStartPre"]; len(pre) != 0 {
		t.Errorf("ExecStartPre=%q: the packaged binary would check a configuration meant for an updated slot", pre)
	}
	if rw := d["ReadWritePaths"]; len(rw) != 1 || strings.TrimPrefix(rw[0], "-") != "/opt/ngic-edge" {
		t.Errorf("ReadWritePaths=%q, want the install root /opt/ngic-edge", rw)
	}
}
