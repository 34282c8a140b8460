package bundle

import (
	"archive/tar"
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// testKey is a fixed key so that fuzz seeds and bundles are stable.
var testKey = ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, ed25519.SeedSize))

func testPub() []ed25519.PublicKey { return []ed25519.PublicKey{testKey.Public().(ed25519.PublicKey)} }

// memSource is a Source over bytes.
func memSource(path string, mode os.FileMode, data string) Source {
	return Source{Path: path, Mode: mode, Open: func() (io.ReadCloser, error) {
		return io.NopCloser(strings.NewReader(data)), nil
	}}
}

var testFiles = map[string]string{"bin/ngic-edge": "\x7fELF edge binary", "etc/version": "1.2.0\n"}

// makeBundle returns a valid bundle of testFiles, version 1.2.0 for linux/arm v7.
func makeBundle(t testing.TB) []byte {
	t.Helper()
	var buf bytes.Buffer
	m := Manifest{Name: "ngic-edge", Version: "1.2.0", OS: "linux", Arch: "arm", ARM: "7", MinVersion: "1.0.0"}
	_, err := Create(&buf, m, []Source{
		memSource("bin/ngic-edge", 0o755, testFiles["bin/ngic-edge"]),
		memSource("etc/version", 0o644, testFiles["etc/version"]),
	}, testKey)
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// rawBundle signs manifest bytes as given and appends body, to build bundles
// that Create would refuse.
func rawBundle(manifest []byte, body []byte) []byte {
	b := appendHeader(nil, len(manifest))
	b = append(b, manifest...)
	b = append(b, ed25519.Sign(testKey, manifest)...)
	return append(b, body...)
}

// tarOf returns a tar stream of the given headers, each with its data.
func tarOf(t testing.TB, hdrs []*tar.Header, data []string) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for i, h := range hdrs {
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(tw, data[i]); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func sum(s string) string { h := sha256.Sum256([]byte(s)); return hex.EncodeToString(h[:]) }

func manifestJSON(path, mode string, size int64, sha string) []byte {
	return []byte(`{"name":"ngic-edge","version":"1.0.0","os":"linux","arch":"amd64","files":[` +
		`{"path":` + quote(path) + `,"mode":"` + mode + `","size":` + strconv.FormatInt(size, 10) + `,"sha256":"` + sha + `"}]}`)
}

func quote(s string) string { return `"` + strings.ReplaceAll(s, `"`, `\"`) + `"` }

func TestRoundTripExtract(t *testing.T) {
	b := makeBundle(t)
	if !bytes.Equal(b, makeBundle(t)) {
		t.Fatal("two bundles of the same inputs differ")
	}
	r, err := Open(bytes.NewReader(b), testPub())
	if err != nil {
		t.Fatal(err)
	}
	m := r.Manifest()
	if m.Version != "1.2.0" || m.ARM != "7" || len(m.Files) != 2 || m.Files[0].Mode != "0755" {
		t.Fatalf("manifest %+v", m)
	}
	if r.KeyID() != KeyID(testPub()[0]) {
		t.Errorf("key id %s", r.KeyID())
	}
	dir := filepath.Join(t.TempDir(), "slot")
	if err := r.ExtractTo(dir); err != nil {
		t.Fatal(err)
	}
	for p, want := range testFiles {
		got, err := os.ReadFile(filepath.Join(dir, p))
		if err != nil || string(got) != want {
			t.Errorf("%s: %q, %v", p, got, err)
		}
	}
	fi, err := os.Stat(filepath.Join(dir, "bin/ngic-edge"))
	if err != nil || fi.Mode().Perm() != 0o755 {
		t.Errorf("mode %v, %v", fi.Mode(), err)
	}
	if _, err := Verify(bytes.NewReader(b), testPub()); err != nil {
		t.Fatal(err)
	}
}

func TestExtractRefusesNonEmptyDir(t *testing.T) {
	r, err := Open(bytes.NewReader(makeBundle(t)), testPub())
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "x"), nil, 0o600)
	if err := r.ExtractTo(dir); err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Fatalf("err = %v", err)
	}
}

func TestTamperedManifest(t *testing.T) {
	b := makeBundle(t)
	i := bytes.Index(b, []byte(`"1.2.0"`))
	b[i+1] = '9' // version 9.2.0
	_, err := Open(bytes.NewReader(b), testPub())
	if !errors.Is(err, ErrSignature) {
		t.Fatalf("err = %v, want ErrSignature", err)
	}
}

func TestWrongKey(t *testing.T) {
	_, other, _ := GenerateKey()
	_, err := Verify(bytes.NewReader(makeBundle(t)), []ed25519.PublicKey{other.Public().(ed25519.PublicKey)})
	if !errors.Is(err, ErrSignature) {
		t.Fatalf("err = %v, want ErrSignature", err)
	}
	if _, err := Verify(bytes.NewReader(makeBundle(t)), nil); !errors.Is(err, ErrSignature) {
		t.Fatalf("no keys: err = %v", err)
	}
}

func TestTamperedFile(t *testing.T) {
	b := makeBundle(t)
	i := bytes.Index(b, []byte("edge binary"))
	b[i] = 'E'
	r, err := Open(bytes.NewReader(b), testPub())
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "slot")
	err = r.ExtractTo(dir)
	if !errors.Is(err, ErrHash) || !strings.Contains(err.Error(), "bin/ngic-edge") {
		t.Fatalf("err = %v, want ErrHash naming bin/ngic-edge", err)
	}
	left, _ := filepath.Glob(filepath.Join(dir, "bin", "*"))
	if len(left) != 0 {
		t.Errorf("a file that failed its hash is on disk: %v", left)
	}
	// Next goes on failing.
	if _, _, err := r.Next(); !errors.Is(err, ErrHash) {
		t.Errorf("Next after failure: %v", err)
	}
}

func TestTruncated(t *testing.T) {
	b := makeBundle(t)
	for n := 0; n < len(b); n++ {
		_, err := Verify(bytes.NewReader(b[:n]), testPub())
		if err == nil {
			t.Fatalf("bundle cut at %d of %d bytes verified", n, len(b))
		}
		if !strings.Contains(err.Error(), "truncated") && !errors.Is(err, ErrSignature) {
			t.Fatalf("cut at %d: %v, want it to say truncated", n, err)
		}
	}
}

func TestTrailingData(t *testing.T) {
	b := append(makeBundle(t), 'x')
	if _, err := Verify(bytes.NewReader(b), testPub()); err == nil || !strings.Contains(err.Error(), "after the last file") {
		t.Fatalf("err = %v", err)
	}
}

func TestBadEntries(t *testing.T) {
	data := "payload"
	reg := func(name string) *tar.Header {
		return &tar.Header{Typeflag: tar.TypeReg, Name: name, Size: int64(len(data)), Mode: 0o644}
	}
	cases := []struct {
		name     string
		manifest []byte
		body     []byte
		want     string
	}{
		{"dotdot", manifestJSON("../etc/passwd", "0644", 7, sum(data)), tarOf(t, []*tar.Header{reg("../etc/passwd")}, []string{data}), `path "../etc/passwd"`},
		{"absolute", manifestJSON("/etc/passwd", "0644", 7, sum(data)), tarOf(t, []*tar.Header{reg("/etc/passwd")}, []string{data}), `path "/etc/passwd"`},
		{"inner dotdot", manifestJSON("bin/../../x", "0644", 7, sum(data)), nil, `path "bin/../../x"`},
		{"setuid", manifestJSON("bin/x", "4755", 7, sum(data)), nil, `mode "4755"`},
		{"huge size", manifestJSON("bin/x", "0644", 1<<40, sum(data)), nil, "size 1099511627776: want 0 to 1073741824"},
		{"bad sha", manifestJSON("bin/x", "0644", 7, "abc"), nil, `sha256 "abc"`},
		{"symlink", manifestJSON("bin/x", "0644", 7, sum(data)),
			tarOf(t, []*tar.Header{{Typeflag: tar.TypeSymlink, Name: "bin/x", Linkname: "/etc/passwd"}}, []string{""}),
			`entry "bin/x": type '2', only regular files`},
		{"hard link", manifestJSON("bin/x", "0644", 7, sum(data)),
			tarOf(t, []*tar.Header{{Typeflag: tar.TypeLink, Name: "bin/x", Linkname: "etc/y"}}, []string{""}),
			"only regular files"},
		{"other name", manifestJSON("bin/x", "0644", 7, sum(data)), tarOf(t, []*tar.Header{reg("bin/y")}, []string{data}), `entry "bin/y" where the manifest lists "bin/x"`},
		{"size differs", manifestJSON("bin/x", "0644", 6, sum(data)), tarOf(t, []*tar.Header{reg("bin/x")}, []string{data}), "of 7 bytes, the manifest says 6"},
		{"extra entry", manifestJSON("bin/x", "0644", 7, sum(data)), tarOf(t, []*tar.Header{reg("bin/x"), reg("bin/evil")}, []string{data, data}), `entry "bin/evil" is not in the manifest`},
		{"unknown field", []byte(`{"name":"a","extra":1}`), nil, `unknown field "extra"`},
		{"no files", []byte(`{"name":"a","version":"1.0.0","os":"linux","arch":"amd64","files":[]}`), nil, "has 0 files"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Verify(bytes.NewReader(rawBundle(c.manifest, c.body)), testPub())
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want it to contain %q", err, c.want)
			}
		})
	}
}

func TestHugeManifestLength(t *testing.T) {
	h := appendHeader(nil, 0)
	copy(h[len(Magic):], []byte{0xff, 0xff, 0xff, 0xff})
	_, err := Open(bytes.NewReader(h), testPub())
	if err == nil || !strings.Contains(err.Error(), "manifest of 4294967295 bytes, want 1 to 1048576") {
		t.Fatalf("err = %v", err)
	}
	if _, err := Open(strings.NewReader("PK\x03\x04 not a bundle at all"), testPub()); err == nil || !strings.Contains(err.Error(), "not a bundle") {
		t.Fatalf("zip: err = %v", err)
	}
}

func TestCreateRefuses(t *testing.T) {
	m := Manifest{Name: "ngic-edge", Version: "1.0.0", OS: "linux", Arch: "amd64"}
	cases := []struct {
		name  string
		m     Manifest
		files []Source
		want  string
	}{
		{"traversal", m, []Source{memSource("../x", 0o644, "a")}, `path "../x"`},
		{"twice", m, []Source{memSource("a", 0o644, "a"), memSource("a", 0o644, "b")}, "listed twice"},
		{"under a file", m, []Source{memSource("a", 0o644, "a"), memSource("a/b", 0o644, "b")}, `is under "a", which is a file`},
		{"bad version", Manifest{Name: "x", Version: "1.0", OS: "linux", Arch: "amd64"}, []Source{memSource("a", 0o644, "a")}, "want MAJOR.MINOR.PATCH"},
		{"arm without goarm", Manifest{Name: "x", Version: "1.0.0", OS: "linux", Arch: "arm"}, []Source{memSource("a", 0o644, "a")}, "want 5, 6 or 7"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Create(io.Discard, c.m, c.files, testKey)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want %q", err, c.want)
			}
		})
	}
}

func TestFileSourceRefusesSymlink(t *testing.T) {
	dir := t.TempDir()
	if err := os.Symlink(dir, filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	if _, err := FileSource(filepath.Join(dir, "link"), "x"); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Fatalf("err = %v", err)
	}
}
