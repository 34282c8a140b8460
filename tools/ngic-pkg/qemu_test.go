package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ngic/ngic/internal/testenv"
)

// qemus are the user-mode emulators of Debian's qemu-user-static that run
// each ARM release folder's binaries, called directly (no binfmt).
var qemus = map[string]string{"linux-armv7": "qemu-arm-static", "linux-arm64": "qemu-aarch64-static"}

// TestARMUnderQemu runs the ARM release binaries under qemu-user-static:
// each program's --version, and ngic-edge demo (an emulated reader on a
// pty, the embedded broker, the gateway publishing) until it has printed
// tag arrivals and departures and the gateway's online status; then
// Ctrl-C (SIGINT) must stop it cleanly.
func TestARMUnderQemu(t *testing.T) {
	dir := release(t)
	for folder, emu := range qemus {
		qemu := testenv.Program(t, emu, "qemu-user-static")
		t.Run(folder, func(t *testing.T) {
			t.Parallel()
			for _, prog := range []string{"ngic-edge", "ngic-fwtool"} {
				out := runOut(t, qemu, filepath.Join(dir, folder, prog), "--version")
				if !strings.Contains(out, testVersion) {
					t.Errorf("%s --version: %q, want %s", prog, out, testVersion)
				}
			}
			runDemo(t, []string{qemu, filepath.Join(dir, folder, "ngic-edge")}, "5m", true)
		})
	}
}

// TestDemoFor runs the amd64 release's ngic-edge demo --for 10s, which must
// stop by itself, having printed events.
func TestDemoFor(t *testing.T) {
	runDemo(t, []string{filepath.Join(release(t), "linux-amd64", "ngic-edge")}, "10s", false)
}

// runDemo runs `ngic-edge demo --for stopAfter` (argv: the program, after
// an emulator if any) on free ports and checks what it printed: tag
// arrivals and departures and the gateway's online status. With interrupt
// it sends SIGINT once it has seen them all; either way the demo must exit
// with status 0.
func runDemo(t *testing.T, argv []string, stopAfter string, interrupt bool) {
	// A hang guard only: emulation on a loaded machine is slow.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	args := append(argv[1:], "demo", "--for", stopAfter, "--period", "300ms", "--dir", t.TempDir(),
		"--broker-listen", fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t)),
		"--http-listen", fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t)))
	cmd := exec.CommandContext(ctx, argv[0], args...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var arrived, departed, online int
	sc := bufio.NewScanner(stdout)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.Contains(line, `"type":"tag.arrived"`):
			arrived++
		case strings.Contains(line, `"type":"tag.departed"`):
			departed++
		case strings.Contains(line, `"state":"online"`):
			online++
		}
		if interrupt && arrived > 0 && departed > 0 && online > 0 {
			cmd.Process.Signal(os.Interrupt)
			interrupt = false
		}
	}
	name := filepath.Base(argv[0])
	if err := cmd.Wait(); err != nil {
		t.Fatalf("demo under %s: %v\n%s", name, err, stderr.String())
	}
	if arrived == 0 || departed == 0 || online == 0 {
		t.Errorf("demo under %s printed %d arrivals, %d departures, %d online statuses; want some of each\n%s",
			name, arrived, departed, online, stderr.String())
	}
	t.Logf("demo under %s: %d arrivals, %d departures", name, arrived, departed)
}
