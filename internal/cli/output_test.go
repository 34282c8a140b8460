package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A committed output replaces the file whole; an aborted one leaves the
// old file and no temporary file.
func TestOutputFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "r.csv")
	if err := os.WriteFile(path, []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	o, err := OpenOutput(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	o.Write([]byte("half"))
	o.Abort()
	if b, _ := os.ReadFile(path); string(b) != "old" {
		t.Errorf("after Abort the file holds %q", b)
	}
	checkOnly(t, dir, "r.csv")

	o, err = OpenOutput(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := o.Write([]byte("new")); err != nil {
		t.Fatal(err)
	}
	if err := o.Commit(); err != nil {
		t.Fatal(err)
	}
	o.Abort() // deferred by callers: nothing left to do
	if b, _ := os.ReadFile(path); string(b) != "new" {
		t.Errorf("after Commit the file holds %q", b)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o644 {
		t.Errorf("mode %v, %v: want 0644", fi.Mode(), err)
	}
	checkOnly(t, dir, "r.csv")
}

// "-" and "" are standard output; an unwritable destination is an error
// naming the flag and the path, found at OpenOutput.
func TestOutputStdoutAndErrors(t *testing.T) {
	for _, p := range []string{"", "-"} {
		var b strings.Builder
		o, err := OpenOutput(p, &b)
		if err != nil {
			t.Fatal(err)
		}
		o.Write([]byte("report"))
		if err := o.Commit(); err != nil || b.String() != "report" {
			t.Errorf("%q: %q, %v", p, b.String(), err)
		}
	}
	dir := t.TempDir()
	bad := filepath.Join(dir, "no", "such", "r.csv")
	if _, err := OpenOutput(bad, nil); err == nil || !strings.Contains(err.Error(), "--output "+bad+": ") {
		t.Errorf("OpenOutput(%s): %v", bad, err)
	}
	// A folder in the way is found at Commit; nothing is left behind.
	if err := os.Mkdir(filepath.Join(dir, "taken"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "taken", "x"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	o, err := OpenOutput(filepath.Join(dir, "taken"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := o.Commit(); err == nil || !strings.Contains(err.Error(), "--output "+filepath.Join(dir, "taken")+": ") {
		t.Errorf("Commit over a folder: %v", err)
	}
	checkOnly(t, dir, "taken")
}

// checkOnly fails unless dir holds exactly names.
func checkOnly(t *testing.T, dir string, names ...string) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range ents {
		got = append(got, e.Name())
	}
	if strings.Join(got, " ") != strings.Join(names, " ") {
		t.Errorf("%s holds %v, want %v", dir, got, names)
	}
}
