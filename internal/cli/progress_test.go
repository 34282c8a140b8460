package cli

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"
)

// A terminal is told apart from a pipe, a file, /dev/null (a character
// device, not a terminal), a nil file and a buffer.
func TestIsTerminal(t *testing.T) {
	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	defer ptmx.Close()
	defer tty.Close()
	if !IsTerminal(tty) {
		t.Error("a pseudo-terminal is not a terminal")
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	f, err := os.Create(filepath.Join(t.TempDir(), "out"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer null.Close()
	var nilFile *os.File
	for name, w := range map[string]io.Writer{"pipe": w, "file": f, "/dev/null": null, "nil file": nilFile,
		"builder": &strings.Builder{}} {
		if IsTerminal(w) {
			t.Errorf("%s is a terminal", name)
		}
	}
}

// fakeClock is a clock the test moves.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time { return c.t }

// The line is written at the first update, at a final one, and otherwise
// at most once every interval; End closes it once.
func TestProgressRate(t *testing.T) {
	var b strings.Builder
	clock := &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	p := NewProgress(&b, 100*time.Millisecond)
	p.now = clock.now
	for i := 1; i <= 10; i++ {
		p.Update(i == 10, "%d/10", i)
		clock.t = clock.t.Add(30 * time.Millisecond) // 4 updates make one interval
	}
	p.End()
	p.End()
	if want := "\r1/10\r5/10\r9/10\r10/10\n"; b.String() != want {
		t.Errorf("progress %q, want %q", b.String(), want)
	}
	b.Reset()
	p.End()
	if b.String() != "" {
		t.Errorf("End with no line shown wrote %q", b.String())
	}
}

// In a pipe the terminal's progress line writes nothing; on a terminal it
// writes what NewProgress would.
func TestTerminalProgress(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	read := make(chan string, 1)
	go func() {
		b, _ := io.ReadAll(r)
		read <- string(b)
	}()
	p := TerminalProgress(w, 0)
	p.Update(false, "polled %d", 1)
	p.Update(true, "polled %d", 2)
	p.End()
	w.Close()
	if got := <-read; got != "" {
		t.Errorf("a pipe got %q", got)
	}
	r.Close()

	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	defer ptmx.Close()
	go func() {
		b, _ := io.ReadAll(ptmx) // ends with EIO once tty is closed
		read <- string(b)
	}()
	p = TerminalProgress(tty, 0)
	p.Update(false, "polled %d", 1)
	p.Update(true, "polled %d", 2)
	p.End()
	tty.Close()
	select {
	case got := <-read:
		if want := "\rpolled 1\rpolled 2\r\n"; got != want { // the terminal turns \n into \r\n
			t.Errorf("the terminal got %q, want %q", got, want)
		}
	case <-time.After(time.Minute):
		t.Fatal("the terminal's output did not end")
	}
}
