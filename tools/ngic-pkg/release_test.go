package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// The release the tests build and inspect: every target, unsigned (the
// signing is tested in firmware-tools), files dated testEpoch.
const (
	testVersion    = "1.7.0-rc.1"
	testDebVersion = "1.7.0~rc.1"
	testEpoch      = "1767225600" // 2026-01-01 00:00 UTC
	testEpochDate  = "2026-01-01 00:00"
)

// debArches maps each Debian architecture to its folder in the release.
var debArches = map[string]string{"amd64": "linux-amd64", "arm64": "linux-arm64", "armhf": "linux-armv7"}

var rel struct {
	once sync.Once
	dir  string
	err  error
}

// TestMain removes the release the tests built.
func TestMain(m *testing.M) {
	code := m.Run()
	if rel.dir != "" {
		os.RemoveAll(rel.dir)
	}
	os.Exit(code)
}

// release runs scripts/release.sh for every target once per test process
// and returns its output folder.
func release(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("cross-compiles every release binary; skipped with -short")
	}
	rel.once.Do(func() {
		rel.dir, rel.err = os.MkdirTemp("", "ngic-release-")
		if rel.err != nil {
			return
		}
		cmd := exec.Command("../../scripts/release.sh", "--no-sign", "--out", rel.dir)
		cmd.Env = append(os.Environ(), "VERSION="+testVersion, "SOURCE_DATE_EPOCH="+testEpoch, "GOFLAGS=")
		if b, err := cmd.CombinedOutput(); err != nil {
			rel.err = fmt.Errorf("release.sh: %v\n%s", err, b)
		}
	})
	if rel.err != nil {
		t.Fatal(rel.err)
	}
	return rel.dir
}

// debPath is the path of a package of the release.
func debPath(t *testing.T, name, arch string) string {
	return filepath.Join(release(t), fmt.Sprintf("%s_%s_%s.deb", name, testDebVersion, arch))
}

// runOut runs a command and returns its standard output, failing t with
// its error output when it fails.
func runOut(t *testing.T, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), "TZ=UTC")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s%s", name, strings.Join(args, " "), err, out, stderr.String())
	}
	return string(out)
}
