package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// buildFwtool builds ngic-fwtool into the test's temporary directory.
func buildFwtool(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "ngic-fwtool")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// signRun runs the tool bin and returns stdout, stderr and whether it exited zero.
func signRun(t *testing.T, bin string, args ...string) (string, string, bool) {
	t.Helper()
	var out, errb bytes.Buffer
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if err != nil {
		if _, ok := err.(*exec.ExitError); !ok {
			t.Fatal(err)
		}
	}
	return out.String(), errb.String(), err == nil
}

// signMustRun runs the tool bin and fails the test unless it exits zero.
func signMustRun(t *testing.T, bin string, args ...string) string {
	t.Helper()
	out, errs, ok := signRun(t, bin, args...)
	if !ok {
		t.Fatalf("%v: %s", args, errs)
	}
	return out
}

func TestKeygenSignVerify(t *testing.T) {
	bin := buildFwtool(t)
	dir := t.TempDir()
	keys := filepath.Join(dir, "keys")
	signMustRun(t, bin, "keygen", "--out", keys)
	fi, err := os.Stat(filepath.Join(keys, "ngic-update.key"))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("private key: %v %v", fi, err)
	}
	if _, errs, ok := signRun(t, bin, "keygen", "--out", keys); ok || !strings.Contains(errs, "file exists") {
		t.Fatalf("second keygen over the same files: ok=%v %s", ok, errs)
	}
	edge := filepath.Join(dir, "ngic-edge")
	os.WriteFile(edge, []byte("\x7fELF pretend"), 0o755)
	bdl := filepath.Join(dir, "edge.bdl")
	signMustRun(t, bin, "sign", "--key", filepath.Join(keys, "ngic-update.key"), "--name", "ngic-edge", "--version", "1.4.0",
		"--arch", "arm", "--arm", "7", "--min-version", "1.0.0", "--out", bdl, edge+"=bin/ngic-edge")
	out := signMustRun(t, bin, "verify", "--pub", filepath.Join(keys, "ngic-update.pub"), bdl)
	for _, want := range []string{"version:     1.4.0", "platform:    linux/arm v7", "min version: 1.0.0", "0755", "bin/ngic-edge"} {
		if !strings.Contains(out, want) {
			t.Errorf("verify output lacks %q:\n%s", want, out)
		}
	}
	js := signMustRun(t, bin, "verify", "--json", "--pub", filepath.Join(keys, "ngic-update.pub"), bdl)
	if !strings.Contains(js, `"path": "bin/ngic-edge"`) {
		t.Errorf("json: %s", js)
	}

	// Refusals exit non-zero with the reason.
	other := filepath.Join(dir, "other")
	signMustRun(t, bin, "keygen", "--out", other)
	data, _ := os.ReadFile(bdl)
	tampered := filepath.Join(dir, "tampered.bdl")
	os.WriteFile(tampered, bytes.Replace(data, []byte("pretend"), []byte("PRETEND"), 1), 0o644)
	cut := filepath.Join(dir, "cut.bdl")
	os.WriteFile(cut, data[:len(data)-600], 0o644)
	cases := []struct {
		name, pub, bundle, want string
	}{
		{"wrong key", filepath.Join(other, "ngic-update.pub"), bdl, "signature does not match any trusted key"},
		{"tampered file", filepath.Join(keys, "ngic-update.pub"), tampered, "bin/ngic-edge: SHA-256 does not match"},
		{"truncated", filepath.Join(keys, "ngic-update.pub"), cut, "truncated"},
		{"private key as trust", filepath.Join(keys, "ngic-update.key"), bdl, "does not start with \"ngic-ed25519-pub:\""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, errs, ok := signRun(t, bin, "verify", "--pub", c.pub, c.bundle)
			if ok || !strings.Contains(errs, c.want) {
				t.Fatalf("ok=%v stderr %q, want %q", ok, errs, c.want)
			}
		})
	}
}

func TestSignRefuses(t *testing.T) {
	bin := buildFwtool(t)
	dir := t.TempDir()
	signMustRun(t, bin, "keygen", "--out", dir)
	key := filepath.Join(dir, "ngic-update.key")
	f := filepath.Join(dir, "f")
	os.WriteFile(f, []byte("x"), 0o644)
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"traversal", []string{"--version", "1.0.0", "--arch", "amd64", f + "=../../etc/x"}, `path "../../etc/x"`},
		{"bad version", []string{"--version", "1.0", "--arch", "amd64", f}, "want MAJOR.MINOR.PATCH"},
		{"arm without --arm", []string{"--version", "1.0.0", "--arch", "arm", f}, "want 5, 6 or 7"},
		{"directory", []string{"--version", "1.0.0", "--arch", "amd64", dir}, "not a regular file"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out := filepath.Join(dir, c.name+".bdl")
			args := append([]string{"sign", "--key", key, "--name", "ngic-edge", "--out", out}, c.args...)
			_, errs, ok := signRun(t, bin, args...)
			if ok || !strings.Contains(errs, c.want) {
				t.Fatalf("ok=%v stderr %q, want %q", ok, errs, c.want)
			}
			if _, err := os.Stat(out); !os.IsNotExist(err) {
				t.Errorf("a refused bundle left %s", out)
			}
		})
	}
	os.Chmod(key, 0o644)
	if _, errs, ok := signRun(t, bin, "sign", "--key", key, "--name", "n", "--version", "1.0.0", "--arch", "amd64", "--out", filepath.Join(dir, "b"), f); ok || !strings.Contains(errs, "want 0600") {
		t.Fatalf("world-readable key: ok=%v %s", ok, errs)
	}
}
