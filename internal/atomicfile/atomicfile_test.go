package atomicfile_test

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/ngic/ngic/internal/atomicfile"
)

// entries returns the names in dir.
func entries(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		out = append(out, e.Name())
	}
	return out
}

func check(t *testing.T, path, want string, perm os.FileMode) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil || string(b) != want {
		t.Fatalf("%s holds %q (%v), want %q", path, b, err, want)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != perm {
		t.Fatalf("%s: mode %v (%v), want %v", path, fi.Mode().Perm(), err, perm)
	}
	if names := entries(t, filepath.Dir(path)); len(names) != 1 {
		t.Fatalf("the folder holds %v, want only %s", names, filepath.Base(path))
	}
}

func TestWriteCreatesAndReplaces(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.json")
	if err := atomicfile.Write(path, []byte("one\n"), 0o640); err != nil {
		t.Fatal(err)
	}
	check(t, path, "one\n", 0o640)
	if err := atomicfile.Write(path, []byte("two, longer\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	check(t, path, "two, longer\n", 0o600)
	if err := atomicfile.Write(path, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	check(t, path, "", 0o644)
}

func TestWriteFuncStreams(t *testing.T) {
	path := filepath.Join(t.TempDir(), "big")
	want := bytes.Repeat([]byte("0123456789abcdef"), 1<<14) // 256 KiB, several buffers
	err := atomicfile.WriteFunc(path, 0o600, func(w *bufio.Writer) error {
		for i := 0; i < len(want); i += 1000 {
			w.Write(want[i:min(i+1000, len(want))])
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	check(t, path, string(want), 0o600)
}

// A writer failing half way leaves the old file as it was, and no
// temporary file.
func TestWriteFuncFailingHalfWayKeepsTheOldFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.json")
	if err := atomicfile.Write(path, []byte("old\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("disk on fire")
	err := atomicfile.WriteFunc(path, 0o600, func(w *bufio.Writer) error {
		w.Write(bytes.Repeat([]byte("new"), 100<<10)) // beyond the buffer: some reached the file
		return boom
	})
	if !errors.Is(err, boom) || !bytes.Contains([]byte(err.Error()), []byte(path)) {
		t.Fatalf("error %v, want %v naming %s", err, boom, path)
	}
	check(t, path, "old\n", 0o600)
}

// A rename that fails (a folder stands at the path) leaves no temporary
// file; a missing folder is an error naming the path.
func TestWriteErrors(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "taken")
	if err := os.MkdirAll(filepath.Join(path, "inside"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := atomicfile.Write(path, []byte("x"), 0o600); err == nil {
		t.Fatal("replacing a folder: no error")
	}
	if names := entries(t, dir); len(names) != 1 || names[0] != "taken" {
		t.Fatalf("after a failed rename the folder holds %v", names)
	}
	missing := filepath.Join(dir, "absent", "file")
	if err := atomicfile.Write(missing, []byte("x"), 0o600); err == nil || !bytes.Contains([]byte(err.Error()), []byte(missing)) {
		t.Fatalf("a missing folder: %v", err)
	}
	if err := atomicfile.SyncDir(filepath.Join(dir, "absent")); err == nil {
		t.Fatal("syncing a missing folder: no error")
	}
}

// Writers racing on one path: a reader only ever sees one whole content.
func TestConcurrentWritersLeaveAWholeFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.json")
	contents := map[string]bool{}
	for i := range 4 {
		contents[string(bytes.Repeat([]byte{byte('a' + i)}, 4096+i))] = true
	}
	var wg sync.WaitGroup
	for c := range contents {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 50 {
				if err := atomicfile.Write(path, []byte(c), 0o600); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	reads := 0
	for {
		select {
		case <-done:
			b, err := os.ReadFile(path)
			if err != nil || !contents[string(b)] {
				t.Fatalf("at the end the file holds %d bytes (%v), none of the contents written", len(b), err)
			}
			t.Logf("%d reads during the writes, each whole", reads)
			if names := entries(t, filepath.Dir(path)); len(names) != 1 {
				t.Fatalf("the folder holds %v", names)
			}
			return
		default:
		}
		b, err := os.ReadFile(path)
		if errors.Is(err, os.ErrNotExist) {
			continue // before the first rename
		}
		if err != nil || !contents[string(b)] {
			t.Fatalf("read %d bytes (%v), none of the contents written", len(b), err)
		}
		reads++
	}
}

// crashEnv makes the test binary a writer that stops half way and waits
// to be killed.
const crashEnv = "ATOMICFILE_CRASH_PATH"

func TestMain(m *testing.M) {
	if path := os.Getenv(crashEnv); path != "" {
		err := atomicfile.WriteFunc(path, 0o600, func(w *bufio.Writer) error {
			w.Write(bytes.Repeat([]byte("new"), 100<<10))
			w.Flush()
			fmt.Println("half written")
			time.Sleep(time.Hour) // until killed
			return nil
		})
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	os.Exit(m.Run())
}

// A writer killed with SIGKILL half way leaves the old file whole, and a
// temporary file that IsTemp recognises.
func TestKilledHalfWayKeepsTheOldFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "state.json")
	if err := atomicfile.Write(path, []byte("old\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), crashEnv+"="+path)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	line := make(chan string, 1)
	go func() {
		s := bufio.NewScanner(out)
		s.Scan()
		line <- s.Text()
	}()
	select {
	case l := <-line:
		if l != "half written" {
			t.Fatalf("the writer said %q", l)
		}
	case <-time.After(time.Minute):
		t.Fatal("the writer did not write half within a minute")
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	b, err := os.ReadFile(path)
	if err != nil || string(b) != "old\n" {
		t.Fatalf("after the kill the file holds %d bytes (%v), want the old content", len(b), err)
	}
	var temps []string
	for _, name := range entries(t, dir) {
		if atomicfile.IsTemp(name) {
			temps = append(temps, name)
		}
	}
	if len(temps) != 1 {
		t.Fatalf("temporary files left: %v, want one (the folder holds %v)", temps, entries(t, dir))
	}
	if fi, err := os.Stat(filepath.Join(dir, temps[0])); err != nil || fi.Size() == 0 {
		t.Fatalf("the leftover %s: %v, %v: the kill came before anything was written", temps[0], fi, err)
	}
}

func TestIsTemp(t *testing.T) {
	for name, want := range map[string]bool{
		".state.json.tmp-123456": true,
		"state.json":             false,
		"state.json.tmp":         false,
		".hidden":                false,
		"ro-1.json.tmp-1":        false,
	} {
		if got := atomicfile.IsTemp(name); got != want {
			t.Errorf("IsTemp(%q) = %v, want %v", name, got, want)
		}
	}
}
