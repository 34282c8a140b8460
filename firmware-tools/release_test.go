package main

import (
	"bytes"
	"crypto/ed25519"
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ngic/ngic/internal/bundle"
)

// TestReleaseReproducible runs scripts/release.sh twice for linux/arm v7 into
// two folders and compares the bytes of every binary, signed bundle and
// Debian package; the binaries are static ARM executables that carry the
// version and no path of the build. (tools/ngic-pkg's tests inspect and
// install the packages.)
func TestReleaseReproducible(t *testing.T) {
	if testing.Short() {
		t.Skip("cross-compiles; skipped with -short")
	}
	pub, priv, err := bundle.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(t.TempDir(), "release.key")
	if err := os.WriteFile(keyFile, []byte(bundle.FormatPrivateKey(priv)), 0o600); err != nil {
		t.Fatal(err)
	}
	const version = "1.7.0-rc.1"
	outs := []string{filepath.Join(t.TempDir(), "a"), filepath.Join(t.TempDir(), "b", "deeper")}
	for _, out := range outs {
		cmd := exec.Command("../scripts/release.sh", "--key", keyFile, "--out", out, "--targets", "linux/arm/7")
		cmd.Env = append(os.Environ(), "VERSION="+version, "GOFLAGS=", "SOURCE_DATE_EPOCH=1767225600")
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("release.sh: %v\n%s", err, b)
		}
	}
	files := []string{"linux-armv7/ngic-edge", "linux-armv7/ngic-fwtool",
		"ngic-edge_" + version + "_linux-armv7.bdl", "ngic-fwtool_" + version + "_linux-armv7.bdl",
		"ngic-edge_1.7.0~rc.1_armhf.deb", "ngic-fwtool_1.7.0~rc.1_armhf.deb"}
	for _, f := range files {
		a, err := os.ReadFile(filepath.Join(outs[0], f))
		if err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(filepath.Join(outs[1], f))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(a, b) {
			t.Errorf("%s differs between two builds (%d and %d bytes)", f, len(a), len(b))
		}
		if strings.HasSuffix(f, ".bdl") {
			checkReleaseBundle(t, a, pub, f)
			continue
		}
		if strings.HasSuffix(f, ".deb") {
			continue
		}
		checkReleaseBinary(t, filepath.Join(outs[0], f), a, version, outs)
	}
}

// checkReleaseBinary checks a static ARM executable with the version and no build path in it.
func checkReleaseBinary(t *testing.T, path string, data []byte, version string, outs []string) {
	t.Helper()
	ef, err := elf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer ef.Close()
	if ef.Machine != elf.EM_ARM {
		t.Errorf("%s: machine %v, want ARM", path, ef.Machine)
	}
	for _, p := range ef.Progs {
		if p.Type == elf.PT_INTERP {
			t.Errorf("%s: has an interpreter: not static", path)
		}
	}
	if !bytes.Contains(data, []byte(version)) {
		t.Errorf("%s: version %s not stamped", path, version)
	}
	wd, _ := os.Getwd()
	for _, p := range append(outs, filepath.Dir(wd)) {
		if bytes.Contains(data, []byte(p)) {
			t.Errorf("%s: holds the build path %s", path, p)
		}
	}
}

// checkReleaseBundle verifies a release bundle against the key that signed it.
func checkReleaseBundle(t *testing.T, data []byte, pub ed25519.PublicKey, name string) {
	t.Helper()
	m, err := bundle.Verify(bytes.NewReader(data), []ed25519.PublicKey{pub})
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if m.OS != "linux" || m.Arch != "arm" || m.ARM != "7" || len(m.Files) != 1 || !strings.HasPrefix(m.Files[0].Path, "bin/ngic-") {
		t.Errorf("%s: manifest %+v", name, m)
	}
}
