package main

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/ngic/ngic/internal/testenv"
)

// A system is a throwaway Debian system the amd64 packages are installed
// into with dpkg.
type system interface {
	// dpkg runs dpkg with args on the system.
	dpkg(t *testing.T, args ...string) string
	// status is a package's dpkg status ("" when dpkg knows it not).
	status(t *testing.T, pkg string) string
	// appendFile appends text to the system's file p, making its folder.
	appendFile(t *testing.T, p, text string)
	// path is where the system's file p is read from here ("" when the
	// system removed it).
	path(p string) string
	// leftovers lists the files the packages left behind, once purged.
	leftovers(t *testing.T) []string
}

// accountFiles are the files a user's creation writes.
var accountFiles = []string{"/etc/passwd", "/etc/group", "/etc/shadow", "/etc/gshadow"}

// needRoot skips t unless it runs as root (or fails it under NGIC_REQUIRE_PEERS=1).
func needRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() == 0 {
		return
	}
	if testenv.Require() {
		t.Fatal("installing packages needs root; NGIC_REQUIRE_PEERS=1 forbids skipping")
	}
	t.Skip("installing packages needs root")
}

// TestInstallChrootless installs, removes and purges the amd64 packages in
// a throwaway root (dpkg --root, the maintainer scripts run outside it with
// DPKG_ROOT set), holding only copies of this machine's account files.
func TestInstallChrootless(t *testing.T) {
	needRoot(t)
	testenv.Program(t, "systemd-sysusers", "systemd")
	s := newRootSystem(t)
	installCycle(t, s)
}

// TestInstallOverlay installs, removes and purges the amd64 packages for
// real, with dpkg running in a chroot on a copy-on-write overlay of this
// machine's root (so the host is never changed): the maintainer scripts
// take the path they take on a gateway. Twice: with systemd-sysusers, and
// with it removed, when postinst falls back to adduser.
func TestInstallOverlay(t *testing.T) {
	needRoot(t)
	testenv.Program(t, "unshare", "util-linux")
	for _, mode := range []string{"sysusers", "adduser"} {
		t.Run(mode, func(t *testing.T) {
			s := newOverlaySystem(t)
			if mode == "adduser" {
				testenv.Program(t, "adduser", "adduser")
				s.shellArgs(t, "sh", "-c", "rm $(command -v systemd-sysusers)")
				s.hidden = "/usr/bin/systemd-sysusers"
			} else {
				testenv.Program(t, "systemd-sysusers", "systemd")
			}
			installCycle(t, s)
		})
	}
}

// installCycle installs ngic-fwtool, ngic-edge and ngic-controller, checks
// what they installed and created, removes ngic-edge (its configuration,
// user and data stay), purges everything, and checks that nothing is left.
func installCycle(t *testing.T, s system) {
	debs := []string{debPath(t, "ngic-fwtool", "amd64"), debPath(t, "ngic-edge", "amd64"), debPath(t, "ngic-controller", "amd64")}
	s.dpkg(t, append([]string{"--install"}, debs...)...)
	for _, p := range []string{"ngic-fwtool", "ngic-edge", "ngic-controller"} {
		if st := s.status(t, p); st != "install ok installed" {
			t.Fatalf("%s: status %q", p, st)
		}
	}
	for p, mode := range map[string]os.FileMode{
		"/usr/bin/ngic-edge": 0o755, "/usr/bin/ngic-fwtool": 0o755, "/usr/bin/ngic-controller": 0o755,
		"/etc/ngic/edge.yaml": 0o644, "/usr/lib/systemd/system/ngic-edge.service": 0o644,
		"/usr/lib/sysusers.d/ngic-edge.conf": 0o644,
	} {
		st, err := os.Stat(s.path(p))
		if err != nil || st.Mode().Perm() != mode {
			t.Errorf("%s: %v %v, want mode %v", p, st.Mode(), err, mode)
		}
	}
	if out := runOut(t, s.path("/usr/bin/ngic-edge"), "--version"); !strings.Contains(out, testVersion) {
		t.Errorf("ngic-edge --version: %q", out)
	}
	sample, _ := os.ReadFile("../../deploy/edge/edge.yaml")
	if got, _ := os.ReadFile(s.path("/etc/ngic/edge.yaml")); !bytes.Equal(got, sample) {
		t.Error("/etc/ngic/edge.yaml is not deploy/edge/edge.yaml")
	}

	// The users, the edge's groups and its update folder; the service
	// neither enabled nor started.
	uid, gid := account(t, s, "/etc/passwd", "ngic-edge")
	if _, cgid := account(t, s, "/etc/passwd", "ngic-controller"); cgid == "" {
		t.Error("no ngic-controller user")
	}
	for _, g := range []string{"dialout", "gpio"} {
		if !member(t, s, g, "ngic-edge") {
			t.Errorf("ngic-edge not in group %s", g)
		}
	}
	if g, _ := account(t, s, "/etc/group", "ngic-edge"); g != gid {
		t.Errorf("group ngic-edge: gid %q, want the user's %q", g, gid)
	}
	st, err := os.Stat(s.path("/opt/ngic-edge"))
	if err != nil {
		t.Fatal(err)
	}
	if sys := st.Sys().(*syscall.Stat_t); !st.IsDir() || st.Mode().Perm() != 0o750 ||
		fmt.Sprint(sys.Uid) != uid || fmt.Sprint(sys.Gid) != gid {
		t.Errorf("/opt/ngic-edge: %v owned %d:%d, want a folder 0750 owned %s:%s", st.Mode(), sys.Uid, sys.Gid, uid, gid)
	}
	if s.path("/etc/systemd/system/multi-user.target.wants/ngic-edge.service") != "" {
		t.Error("ngic-edge enabled on install")
	}

	// Reinstall (an upgrade's path): the administrator's edits stay, with
	// no question asked; remove: the configuration, the user and the spool
	// stay.
	s.appendFile(t, "/etc/ngic/edge.yaml", "# edited\n")
	s.appendFile(t, "/var/lib/ngic-edge/spool.db", "spool")
	s.dpkg(t, "--install", debs[1])
	if st := s.status(t, "ngic-edge"); st != "install ok installed" {
		t.Errorf("ngic-edge reinstalled: status %q", st)
	}
	if b, _ := os.ReadFile(s.path("/etc/ngic/edge.yaml")); !bytes.HasSuffix(b, []byte("# edited\n")) {
		t.Error("reinstall lost the edited /etc/ngic/edge.yaml")
	}
	s.dpkg(t, "--remove", "ngic-edge")
	if st := s.status(t, "ngic-edge"); st != "deinstall ok config-files" {
		t.Errorf("ngic-edge removed: status %q", st)
	}
	for _, p := range []string{"/usr/bin/ngic-edge", "/usr/lib/systemd/system/ngic-edge.service", "/usr/lib/sysusers.d/ngic-edge.conf"} {
		if s.path(p) != "" {
			t.Errorf("%s left after remove", p)
		}
	}
	if b, _ := os.ReadFile(s.path("/etc/ngic/edge.yaml")); !bytes.HasSuffix(b, []byte("# edited\n")) {
		t.Error("remove lost the edited /etc/ngic/edge.yaml")
	}
	if s.path("/var/lib/ngic-edge/spool.db") == "" || s.path("/opt/ngic-edge") == "" {
		t.Error("remove deleted the service's data")
	}
	if u, _ := account(t, s, "/etc/passwd", "ngic-edge"); u == "" {
		t.Error("remove deleted the user")
	}

	// Purge: nothing left.
	s.dpkg(t, "--purge", "ngic-edge", "ngic-controller", "ngic-fwtool")
	for _, p := range []string{"ngic-fwtool", "ngic-edge", "ngic-controller"} {
		if st := s.status(t, p); st != "" {
			t.Errorf("%s purged: status %q", p, st)
		}
	}
	if left := s.leftovers(t); len(left) > 0 {
		t.Errorf("left after purge:\n%s", strings.Join(left, "\n"))
	}
}

// statusQuery is the shell command that prints a package's dpkg status.
const statusQuery = "dpkg-query --show --showformat='${Status}' \"$0\" 2>/dev/null || true"

// account returns fields 3 and 4 of name's line in an account file (uid
// and gid of /etc/passwd, gid and members of /etc/group).
func account(t *testing.T, s system, file, name string) (string, string) {
	t.Helper()
	p := s.path(file)
	if p == "" {
		t.Fatalf("no %s", file)
	}
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Split(line, ":"); len(f) >= 4 && f[0] == name {
			return f[2], f[3]
		}
	}
	return "", ""
}

// member reports whether user is a member of group.
func member(t *testing.T, s system, group, user string) bool {
	_, members := account(t, s, "/etc/group", group)
	for _, m := range strings.Split(members, ",") {
		if m == user {
			return true
		}
	}
	return false
}

// sameAccounts returns the account files of the system that differ from
// this machine's; a group gpio that this machine lacks is allowed (the
// edge's sysusers lines create it, and it stays: it is not the edge's).
func sameAccounts(host func(string) string, sys func(string) string) []string {
	var diff []string
	for _, f := range accountFiles {
		h, _ := os.ReadFile(host(f))
		g, _ := os.ReadFile(sys(f))
		if !bytes.Contains(h, []byte("\ngpio:")) && !bytes.HasPrefix(h, []byte("gpio:")) {
			g = dropLines(g, "gpio:")
		}
		if !bytes.Equal(h, g) {
			diff = append(diff, f+" differs:\n"+string(g))
		}
	}
	return diff
}

// sameAsHost reports whether the file p holds the same bytes as this
// machine's file at rel (a file rewritten unchanged, e.g. /etc/subuid).
func sameAsHost(p, rel string) bool {
	a, err := os.ReadFile(p)
	if err != nil {
		return false
	}
	b, err := os.ReadFile(rel)
	return err == nil && bytes.Equal(a, b)
}

// dropLines returns b without its lines starting with prefix.
func dropLines(b []byte, prefix string) []byte {
	var out []byte
	for _, l := range bytes.SplitAfter(b, []byte("\n")) {
		if !bytes.HasPrefix(l, []byte(prefix)) {
			out = append(out, l...)
		}
	}
	return out
}

// rootSystem is an empty root with copies of this machine's account files
// and an empty dpkg database; dpkg installs into it with --root and runs
// the maintainer scripts outside it, with DPKG_ROOT set.
type rootSystem struct{ root string }

func newRootSystem(t *testing.T) *rootSystem {
	s := &rootSystem{root: t.TempDir()}
	for _, d := range []string{"etc", "var/lib/dpkg/info", "var/lib/dpkg/updates", "var/lib/dpkg/triggers"} {
		if err := os.MkdirAll(filepath.Join(s.root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range []string{"var/lib/dpkg/status", "var/lib/dpkg/available"} {
		if err := os.WriteFile(filepath.Join(s.root, f), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range accountFiles {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(s.root, f), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

func (s *rootSystem) dpkg(t *testing.T, args ...string) string {
	t.Helper()
	return runOut(t, "dpkg", append([]string{"--root=" + s.root, "--force-script-chrootless", "--force-depends"}, args...)...)
}

func (s *rootSystem) status(t *testing.T, pkg string) string {
	t.Helper()
	q := strings.Replace(statusQuery, "dpkg-query", "dpkg-query --admindir="+s.root+"/var/lib/dpkg", 1)
	return strings.TrimSpace(runOut(t, "sh", "-c", q, pkg))
}

func (s *rootSystem) appendFile(t *testing.T, p, text string) {
	t.Helper()
	full := filepath.Join(s.root, p)
	if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(full, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(text); err != nil {
		t.Fatal(err)
	}
}

func (s *rootSystem) path(p string) string {
	full := filepath.Join(s.root, p)
	if _, err := os.Lstat(full); err != nil {
		return ""
	}
	return full
}

func (s *rootSystem) leftovers(t *testing.T) []string {
	left := sameAccounts(func(f string) string { return f }, func(f string) string { return filepath.Join(s.root, f) })
	return append(left, leftFiles(s.root, "")...)
}

// leftFiles lists the files under top that are neither dpkg's records,
// account files (compared by sameAccounts), volatile lock files, the file
// hidden, nor a host file rewritten unchanged.
func leftFiles(top, hidden string) []string {
	kept := map[string]bool{"/etc/.pwd.lock": true, hidden: true, "/var/log/dpkg.log": true}
	for _, f := range accountFiles {
		kept[f], kept[f+"-"] = true, true
	}
	var left []string
	filepath.WalkDir(top, func(p string, d fs.DirEntry, err error) error {
		rel := strings.TrimPrefix(p, top)
		switch {
		case err != nil:
			left = append(left, rel+": "+err.Error())
		case strings.HasPrefix(rel, "/var/lib/dpkg") || strings.HasPrefix(rel, "/var/cache/debconf") ||
			rel == "/run" || rel == "/tmp":
			// dpkg's own records; lock files in folders a boot empties.
			return filepath.SkipDir
		case !d.IsDir() && !kept[rel] && !sameAsHost(p, rel):
			left = append(left, rel)
		}
		return nil
	})
	return left
}

// overlaySystem is this machine's root seen through an overlay whose
// upper layer (on a tmpfs) takes every change: dpkg runs chrooted into it, in a mount
// namespace of its own (unshare), so nothing of the host changes.
type overlaySystem struct {
	upper, work, merged, debs string
	// hidden is a host file the test removed from the system.
	hidden string
}

func newOverlaySystem(t *testing.T) *overlaySystem {
	// The upper layer on a tmpfs of its own: an overlay cannot take its
	// changes on an overlay, which / may be (in a container).
	d := testenv.SmallDisk(t, "1g")
	s := &overlaySystem{upper: filepath.Join(d, "upper"), work: filepath.Join(d, "work"),
		merged: filepath.Join(d, "merged"), debs: release(t)}
	for _, p := range []string{s.upper, s.work, s.merged} {
		if err := os.Mkdir(p, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	// A first mount tells whether this machine allows it.
	cmd := s.command("true")
	if out, err := cmd.CombinedOutput(); err != nil {
		if testenv.Require() {
			t.Fatalf("an overlay of / in a mount namespace: %v\n%s", err, out)
		}
		t.Skipf("an overlay of / in a mount namespace: %v\n%s", err, out)
	}
	return s
}

// overlayScript mounts the overlay, the host's /dev and /proc and the
// release folder (at /mnt), and runs its arguments chrooted into it.
const overlayScript = `set -e
mount -t overlay overlay -o "lowerdir=/,upperdir=$1,workdir=$2" "$3"
mount --rbind /dev "$3/dev"
mount -t proc proc "$3/proc"
mount --bind "$4" "$3/mnt"
m=$3
shift 4
exec chroot "$m" "$@"`

func (s *overlaySystem) command(args ...string) *exec.Cmd {
	cmd := exec.Command("unshare", append([]string{"--mount", "--propagation", "private", "--fork",
		"sh", "-c", overlayScript, "sh", s.upper, s.work, s.merged, s.debs}, args...)...)
	cmd.Env = []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
		"DEBIAN_FRONTEND=noninteractive", "LC_ALL=C", "HOME=/root"}
	return cmd
}

func (s *overlaySystem) dpkg(t *testing.T, args ...string) string {
	t.Helper()
	for i, a := range args {
		if strings.HasPrefix(a, s.debs) {
			args[i] = "/mnt" + strings.TrimPrefix(a, s.debs)
		}
	}
	// No --force-depends: this machine has what the packages depend on.
	return s.shellArgs(t, append([]string{"dpkg"}, args...)...)
}

func (s *overlaySystem) status(t *testing.T, pkg string) string {
	t.Helper()
	return strings.TrimSpace(s.shellArgs(t, "sh", "-c", statusQuery, pkg))
}

func (s *overlaySystem) appendFile(t *testing.T, p, text string) {
	t.Helper()
	s.shellArgs(t, "sh", "-c", `mkdir -p "$(dirname "$0")" && printf %s "$1" >> "$0"`, p, text)
}

func (s *overlaySystem) shellArgs(t *testing.T, args ...string) string {
	t.Helper()
	out, err := s.command(args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// path reads the upper layer where it holds p (a whiteout: removed), else
// the host.
func (s *overlaySystem) path(p string) string {
	up := filepath.Join(s.upper, p)
	if st, err := os.Lstat(up); err == nil {
		if st.Mode()&fs.ModeCharDevice != 0 {
			return ""
		}
		return up
	}
	// A parent folder made opaque or removed hides the host's file.
	for d := filepath.Dir(p); d != "/"; d = filepath.Dir(d) {
		if st, err := os.Lstat(filepath.Join(s.upper, d)); err == nil && st.Mode()&fs.ModeCharDevice != 0 {
			return ""
		}
	}
	if _, err := os.Lstat(p); err != nil {
		return ""
	}
	return p
}

func (s *overlaySystem) leftovers(t *testing.T) []string {
	return append(sameAccounts(func(f string) string { return f }, s.path), leftFiles(s.upper, s.hidden)...)
}
