package testenv

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRecordingsInRepository checks that the recordings the tests use are in
// the repository itself (so a clone passes on its own), unchanged: each file
// the MANIFEST names is present with the SHA-256 it records, and the licence
// notice is beside them.
func TestRecordingsInRepository(t *testing.T) {
	root, err := repoRoot()
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(root, "testdata", "snmprec")
	for _, f := range []string{"NOTICE.md", "README.md"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
	mf, err := os.Open(filepath.Join(dir, "MANIFEST.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	defer mf.Close()
	sc := bufio.NewScanner(mf)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	n := 0
	for line := 0; sc.Scan(); line++ {
		cols := strings.Split(sc.Text(), "\t")
		if line == 0 {
			if len(cols) < 7 || cols[0] != "filename" || cols[6] != "sha256" {
				t.Fatalf("MANIFEST.tsv header %q: want filename ... sha256 in columns 1 and 7", cols)
			}
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, cols[0]))
		if err != nil {
			t.Errorf("MANIFEST.tsv line %d: %v", line+1, err)
			continue
		}
		sum := sha256.Sum256(b)
		if got := hex.EncodeToString(sum[:]); got != cols[6] {
			t.Errorf("%s: sha256 %s, MANIFEST says %s (the copy must be unchanged)", cols[0], got, cols[6])
		}
		n++
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if n == 0 {
		t.Fatal("MANIFEST.tsv names no recording")
	}
	snmprecs, _ := filepath.Glob(filepath.Join(dir, "*.snmprec"))
	if len(snmprecs) != n {
		t.Errorf("%d .snmprec files, MANIFEST.tsv names %d", len(snmprecs), n)
	}
}
