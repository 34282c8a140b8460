package main

import (
	"archive/tar"
	"bytes"
	"debug/elf"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// wantDeb is what a package must hold: its files with their modes (every
// one owned by root), its conffiles and whether it has maintainer scripts.
type wantDeb struct {
	arches    []string
	files     map[string]string
	conffiles []string
	scripts   bool
	unit      string // the repository's unit it installs
}

// wantDebs are the packages a release builds.
func wantDebs(t *testing.T) map[string]wantDeb {
	const bin, conf = "-rwxr-xr-x", "-rw-r--r--"
	controller := map[string]string{
		"/usr/bin/ngic-controller":                        bin,
		"/etc/ngic/controller.yaml":                       conf,
		"/usr/lib/systemd/system/ngic-controller.service": conf,
		"/usr/lib/sysusers.d/ngic-controller.conf":        conf,
	}
	controllerConf := []string{"/etc/ngic/controller.yaml"}
	inv, err := os.ReadDir("../../deploy/controller/inventory")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range inv {
		controller["/etc/ngic/inventory/"+e.Name()] = conf
		controllerConf = append(controllerConf, "/etc/ngic/inventory/"+e.Name())
	}
	return map[string]wantDeb{
		"ngic-edge": {
			arches: []string{"amd64", "arm64", "armhf"},
			files: map[string]string{
				"/usr/bin/ngic-edge":                        bin,
				"/etc/ngic/edge.yaml":                       conf,
				"/usr/lib/systemd/system/ngic-edge.service": conf,
				"/usr/lib/sysusers.d/ngic-edge.conf":        conf,
			},
			conffiles: []string{"/etc/ngic/edge.yaml"},
			scripts:   true,
			unit:      "ngic-edge.service",
		},
		"ngic-fwtool": {
			arches: []string{"amd64", "arm64", "armhf"},
			files:  map[string]string{"/usr/bin/ngic-fwtool": bin},
		},
		"ngic-controller": {
			arches:    []string{"amd64", "arm64"},
			files:     controller,
			conffiles: controllerConf,
			scripts:   true,
			unit:      "ngic-controller.service",
		},
	}
}

// elfMachines are the machines of each Debian architecture's binaries.
var elfMachines = map[string]elf.Machine{"amd64": elf.EM_X86_64, "arm64": elf.EM_AARCH64, "armhf": elf.EM_ARM}

// TestDebs inspects every package of a release with dpkg-deb: its control
// fields, its files (paths, modes, owners, dates), its conffiles, its
// maintainer scripts (executable, valid sh), the unit naming only programs
// it installs, the user lines, and binaries of the right architecture.
// It also checks that the release holds no other package.
func TestDebs(t *testing.T) {
	testenvDpkgDeb(t)
	dir := release(t)
	want := wantDebs(t)
	var wantNames []string
	for name, w := range want {
		for _, arch := range w.arches {
			wantNames = append(wantNames, filepath.Base(debPath(t, name, arch)))
			t.Run(name+"_"+arch, func(t *testing.T) {
				checkDeb(t, debPath(t, name, arch), name, arch, w)
			})
		}
	}
	got, _ := filepath.Glob(filepath.Join(dir, "*.deb"))
	for i := range got {
		got[i] = filepath.Base(got[i])
	}
	sort.Strings(got)
	sort.Strings(wantNames)
	if strings.Join(got, " ") != strings.Join(wantNames, " ") {
		t.Errorf("release packages:\n%v\nwant\n%v", got, wantNames)
	}
}

func testenvDpkgDeb(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("dpkg-deb"); err != nil {
		t.Fatalf("dpkg-deb: %v (dpkg is on every Debian machine)", err)
	}
}

// checkDeb inspects one package.
func checkDeb(t *testing.T, deb, name, arch string, w wantDeb) {
	fields := map[string]string{"Package": name, "Version": testDebVersion, "Architecture": arch}
	if w.scripts {
		fields["Depends"] = "systemd | adduser"
	}
	for f, v := range fields {
		if got := strings.TrimSpace(runOut(t, "dpkg-deb", "--field", deb, f)); got != v {
			t.Errorf("%s: %q, want %q", f, got, v)
		}
	}

	// Files: exactly those wanted (directories aside), root-owned, dated
	// SOURCE_DATE_EPOCH.
	seen := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(runOut(t, "dpkg-deb", "--contents", deb)), "\n") {
		f := strings.Fields(line)
		if len(f) != 6 {
			t.Fatalf("contents line %q", line)
		}
		mode, owner, date, path := f[0], f[1], f[3]+" "+f[4], strings.TrimPrefix(f[5], ".")
		if owner != "root/root" || date != testEpochDate {
			t.Errorf("%s: owner %s date %s, want root/root %s", path, owner, date, testEpochDate)
		}
		if mode[0] == 'd' {
			if mode != "drwxr-xr-x" {
				t.Errorf("%s: mode %s", path, mode)
			}
			continue
		}
		seen[path] = true
		if wm, ok := w.files[path]; !ok {
			t.Errorf("unexpected file %s", path)
		} else if mode != wm {
			t.Errorf("%s: mode %s, want %s", path, mode, wm)
		}
	}
	for p := range w.files {
		if !seen[p] {
			t.Errorf("missing file %s", p)
		}
	}

	ctl := t.TempDir()
	runOut(t, "dpkg-deb", "--control", deb, ctl)
	conffiles, _ := os.ReadFile(filepath.Join(ctl, "conffiles"))
	wantConf := append([]string{}, w.conffiles...)
	sort.Strings(wantConf)
	if got := strings.Fields(string(conffiles)); strings.Join(got, " ") != strings.Join(wantConf, " ") {
		t.Errorf("conffiles %v, want %v", got, wantConf)
	}
	for _, hook := range []string{"preinst", "postinst", "prerm", "postrm"} {
		p := filepath.Join(ctl, hook)
		st, err := os.Stat(p)
		wanted := w.scripts && hook != "preinst"
		if !wanted {
			if err == nil {
				t.Errorf("unexpected %s", hook)
			}
			continue
		}
		if err != nil {
			t.Errorf("no %s: %v", hook, err)
			continue
		}
		if st.Mode().Perm() != 0o755 {
			t.Errorf("%s mode %v, want 0755", hook, st.Mode())
		}
		if b, err := exec.Command("sh", "-n", p).CombinedOutput(); err != nil {
			t.Errorf("sh -n %s: %v\n%s", hook, err, b)
		}
	}

	data := debData(t, deb)
	for path, b := range data {
		if strings.HasPrefix(path, "/usr/bin/") {
			checkELF(t, path, b, arch)
		}
	}
	if w.unit != "" {
		checkUnit(t, data, w)
	}
}

// debData returns the regular files of a package's data archive.
func debData(t *testing.T, deb string) map[string][]byte {
	cmd := exec.Command("dpkg-deb", "--fsys-tarfile", deb)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("dpkg-deb --fsys-tarfile: %v", err)
	}
	files := map[string][]byte{}
	tr := tar.NewReader(bytes.NewReader(out))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return files
		}
		if err != nil {
			t.Fatal(err)
		}
		if h.Typeflag == tar.TypeReg {
			b, err := io.ReadAll(tr)
			if err != nil {
				t.Fatal(err)
			}
			files[strings.TrimPrefix(h.Name, ".")] = b
		}
	}
}

// checkELF checks a static executable for the package's architecture,
// stamped with the version.
func checkELF(t *testing.T, path string, b []byte, arch string) {
	ef, err := elf.NewFile(bytes.NewReader(b))
	if err != nil {
		t.Errorf("%s: %v", path, err)
		return
	}
	if ef.Machine != elfMachines[arch] {
		t.Errorf("%s: machine %v, want %v", path, ef.Machine, elfMachines[arch])
	}
	for _, p := range ef.Progs {
		if p.Type == elf.PT_INTERP {
			t.Errorf("%s: has an interpreter: not static", path)
		}
	}
	if !bytes.Contains(b, []byte(testVersion)) {
		t.Errorf("%s: version %s not stamped", path, testVersion)
	}
	// Only the packaging tool links nFPM (function names stay in a
	// stripped binary's line table).
	if bytes.Contains(b, []byte("goreleaser/nfpm")) {
		t.Errorf("%s: links nFPM", path)
	}
}

// checkUnit checks that the packaged unit is the repository's with the
// programs in /usr/bin, that every program it runs is one the package
// installs or the system has, and that the sysusers lines name only the
// service's user.
func checkUnit(t *testing.T, data map[string][]byte, w wantDeb) {
	repo, err := os.ReadFile("../../deploy/systemd/" + w.unit)
	if err != nil {
		t.Fatal(err)
	}
	unit := data["/usr/lib/systemd/system/"+w.unit]
	if !bytes.Equal(unit, bytes.ReplaceAll(repo, []byte("/usr/local/bin/"), []byte("/usr/bin/"))) {
		t.Errorf("%s differs from deploy/systemd/%s (beyond /usr/local/bin -> /usr/bin)", w.unit, w.unit)
	}
	for _, line := range strings.Split(string(unit), "\n") {
		k, v, ok := strings.Cut(line, "=")
		if !ok || !strings.HasPrefix(k, "Exec") {
			continue
		}
		prog := strings.TrimLeft(strings.Fields(v)[0], "-@:+!")
		if _, ours := data[prog]; ours {
			continue
		}
		if strings.Contains(prog, "ngic") {
			t.Errorf("%s: %s runs %s, which the package does not install", w.unit, k, prog)
		} else if _, err := os.Stat(prog); err != nil {
			t.Errorf("%s: %s runs %s: %v", w.unit, k, prog, err)
		}
	}
	user := strings.TrimSuffix(w.unit, ".service")
	conf := string(data["/usr/lib/sysusers.d/"+user+".conf"])
	if !strings.Contains(conf, "\nu "+user+" ") {
		t.Errorf("sysusers of %s has no u line:\n%s", user, conf)
	}
	for _, line := range strings.Split(conf, "\n") {
		if f := strings.Fields(line); len(f) > 1 && f[0] != "#" && f[1] != user {
			t.Errorf("sysusers of %s: line %q names another user", user, line)
		}
	}
}
