package main

import (
	"bufio"
	"context"
	"fmt"
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
// each program's --version, and ngic-edge demo for a few seconds (an
// emulated reader on a pty, the embedded broker, the gateway publishing),
// which must print tag events and the gateway's status and stop by
// itself.
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
			demoUnderQemu(t, qemu, filepath.Join(dir, folder, "ngic-edge"))
		})
	}
}

// demoUnderQemu runs `ngic-edge demo --for 20s` and checks what it printed.
func demoUnderQemu(t *testing.T, qemu, edge string) {
	// A hang guard, far beyond --for: emulation on a loaded machine is slow.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, qemu, edge, "demo", "--for", "20s", "--period", "300ms", "--dir", t.TempDir(),
		"--broker-listen", fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t)),
		"--http-listen", fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t)))
	var stderr strings.Builder
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var arrived, departed, status int
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
			status++
		}
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("demo under %s: %v\n%s", filepath.Base(qemu), err, stderr.String())
	}
	if arrived == 0 || departed == 0 || status == 0 {
		t.Errorf("demo under %s printed %d arrivals, %d departures, %d online statuses; want some of each\n%s",
			filepath.Base(qemu), arrived, departed, status, stderr.String())
	}
	t.Logf("demo under %s: %d arrivals, %d departures", filepath.Base(qemu), arrived, departed)
}
