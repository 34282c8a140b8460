package simulator

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ngic/ngic/controller/snmprec"
)

// TestLoadSkipsFilesThatCannotBeServed fills a folder with one good
// recording and every kind of *.snmprec that cannot be served: each is
// skipped with a warning naming it (Line 0), and the good one is served.
// The folder's name holds glob metacharacters, which must not matter.
func TestLoadSkipsFilesThatCannotBeServed(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "lab [1] *")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	write := func(name, content string, mode os.FileMode) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), mode); err != nil {
			t.Fatal(err)
		}
	}
	write("good.snmprec", small, 0o644)
	write("empty.snmprec", "", 0o644)
	write("garbage.snmprec", "not a recording\nnor this\n", 0o644)
	if err := os.Mkdir(filepath.Join(dir, "folder.snmprec"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(dir, "gone"), filepath.Join(dir, "dangling.snmprec")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(dir, "loop.snmprec"), filepath.Join(dir, "loop.snmprec")); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(dir, "fifo.snmprec"), 0o644); err != nil {
		t.Fatal(err)
	}
	skipped := []string{"dangling.snmprec", "empty.snmprec", "fifo.snmprec", "folder.snmprec", "garbage.snmprec", "loop.snmprec"}
	if os.Geteuid() != 0 { // root reads any file
		write("unreadable.snmprec", small, 0o000)
		skipped = append(skipped, "unreadable.snmprec")
	}

	type result struct {
		s     *Simulator
		warns []snmprec.Warning
		err   error
	}
	done := make(chan result, 1)
	go func() {
		s, w, err := Load(dir, Options{})
		done <- result{s, w, err}
	}()
	var r result
	select {
	case r = <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("Load blocked (reading the FIFO?)")
	}
	if r.err != nil {
		t.Fatalf("Load: %v", r.err)
	}
	if got := r.s.Devices(); len(got) != 1 || got[0] != "good" {
		t.Errorf("devices %v, want [good]", got)
	}
	// Communities lists every recording's name, served or not.
	names, err := Communities(dir)
	if want := len(skipped) + 1; err != nil || len(names) != want || !slices.IsSorted(names) || !slices.Contains(names, "good") {
		t.Errorf("Communities: %v, %v; want %d sorted names", names, err, want)
	}
	whole := map[string]string{}
	for _, w := range r.warns {
		if w.Line == 0 {
			if _, dup := whole[w.File]; dup {
				t.Errorf("%s skipped twice", w.File)
			}
			whole[w.File] = w.Msg
		}
	}
	for _, name := range skipped {
		msg, ok := whole[name]
		if !ok {
			t.Errorf("%s: no warning that it was skipped (warnings %v)", name, r.warns)
			continue
		}
		want := map[string]string{"dangling.snmprec": "no such file", "empty.snmprec": "holds no object",
			"fifo.snmprec": "named pipe", "folder.snmprec": "folder", "garbage.snmprec": "holds no object",
			"loop.snmprec": "too many levels of symbolic links", "unreadable.snmprec": "permission denied"}[name]
		if !strings.Contains(msg, want) {
			t.Errorf("%s: warning %q does not say %q", name, msg, want)
		}
		delete(whole, name)
	}
	if len(whole) != 0 {
		t.Errorf("files skipped that should not be: %v", whole)
	}
	// The garbage file's bad lines are reported too, each with its line.
	lines := 0
	for _, w := range r.warns {
		if w.File == "garbage.snmprec" && w.Line > 0 {
			lines++
		}
	}
	if lines != 2 {
		t.Errorf("garbage.snmprec: %d line warnings, want 2", lines)
	}
}

// TestLoadNothingUsable: a folder whose only recordings cannot be served is
// an error, still with the warnings saying why.
func TestLoadNothingUsable(t *testing.T) {
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "a.snmprec"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "b.snmprec"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	s, warns, err := Load(dir, Options{})
	if err == nil || s != nil {
		t.Fatalf("Load of unusable recordings: %v, %v", s, err)
	}
	if !strings.Contains(err.Error(), "no usable recording") {
		t.Errorf("error %q", err)
	}
	if len(warns) != 2 {
		t.Errorf("warnings %v, want one per file", warns)
	}
}
