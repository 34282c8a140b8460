package rollout_test

import (
	"crypto/ed25519"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ngic/ngic/controller/rollout"
	"github.com/ngic/ngic/controller/rollout/rollouttest"
)

// A bundle is found by the SHA-256 of its bytes, also after it changed
// or appeared; nothing else is.
func TestBundlesOpenBySum(t *testing.T) {
	dir := t.TempDir()
	keys := rollouttest.NewKeys(t, t.TempDir())
	sum := keys.WriteBundle(t, dir, "a.ngb", "1.1.0")
	b, err := rollout.NewBundles(dir, []ed25519.PublicKey{keys.Public})
	if err != nil {
		t.Fatal(err)
	}
	read := func(sum string) (string, error) {
		f, err := b.Open(sum)
		if err != nil {
			return "", err
		}
		defer f.Close()
		c, err := io.ReadAll(f)
		return string(c), err
	}
	want, _ := os.ReadFile(filepath.Join(dir, "a.ngb"))
	if got, err := read(sum); err != nil || got != string(want) {
		t.Fatalf("by its sum: %v", err)
	}
	for _, bad := range []string{"", "..", strings.ToUpper(sum), sum[:63], sum + "0", strings.Repeat("0", 64)} {
		if _, err := read(bad); !errors.Is(err, rollout.ErrNotFound) {
			t.Errorf("%q: %v, want not found", bad, err)
		}
	}
	// Another file takes the name: the old sum is gone, the new one found.
	sum2 := keys.WriteBundle(t, dir, "a.ngb", "1.2.0")
	if _, err := read(sum); !errors.Is(err, rollout.ErrNotFound) {
		t.Fatalf("the replaced file's sum: %v", err)
	}
	if _, err := read(sum2); err != nil {
		t.Fatal(err)
	}
	// A file outside the folder, reached by a link, is never served.
	outside := t.TempDir()
	sum3 := keys.WriteBundle(t, outside, "x.ngb", "1.3.0")
	if err := os.Symlink(filepath.Join(outside, "x.ngb"), filepath.Join(dir, "link.ngb")); err != nil {
		t.Fatal(err)
	}
	if _, err := read(sum3); !errors.Is(err, rollout.ErrNotFound) {
		t.Fatalf("a file outside the folder: %v", err)
	}
}
