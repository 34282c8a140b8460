package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ngic/ngic/internal/testenv"
)

// arm32Packages are the packages of ngic-edge whose tests need no peer
// and do not run their own test binary again: the schema, the reader
// decoders, smoothing, the spool and the configuration, the code a
// 32-bit gateway runs on every event.
var arm32Packages = []string{
	"telemetry", "edge/config", "edge/reading", "edge/smooth", "internal/spool", "internal/yamlconf",
	"drivers/rfid/chafon", "drivers/rfid/em4100", "drivers/rfid/epc", "drivers/rfid/magicrf",
	"drivers/rfid/mercury", "drivers/gpio/photoeye",
}

// arm32Skip are the tests of those packages that run their own test
// binary again (a crash, kill -9), which needs qemu as its interpreter.
const arm32Skip = "^(TestKill9|TestKill9OnFullDisk)$"

// TestUnitTestsOnARMv7 builds the unit tests of arm32Packages for
// linux/arm v7, where int and pointers are 32 bits, and runs each under
// qemu-arm-static in its package's folder (-short, no peers): the
// release's 32-bit gateways run this code. A test that only compiles on
// 64-bit, or overflows an int there, fails here.
func TestUnitTestsOnARMv7(t *testing.T) {
	if testing.Short() {
		t.Skip("cross-compiles the edge's unit tests; skipped with -short")
	}
	qemu := testenv.Program(t, qemus["linux-armv7"], "qemu-user-static")
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	bin := t.TempDir()
	args := []string{"test", "-c", "-o", bin + string(filepath.Separator)}
	for _, p := range arm32Packages {
		args = append(args, "./"+p)
	}
	build := exec.Command("go", args...)
	build.Dir = root
	build.Env = append(os.Environ(), "GOOS=linux", "GOARCH=arm", "GOARM=7", "CGO_ENABLED=0", "GOFLAGS=")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go test -c for linux/arm v7: %v\n%s", err, out)
	}
	for _, p := range arm32Packages {
		t.Run(p, func(t *testing.T) {
			exe := filepath.Join(bin, filepath.Base(p)+".test")
			if _, err := os.Stat(exe); err != nil {
				t.Fatalf("no test binary for %s: %v", p, err)
			}
			run := exec.Command(qemu, exe, "-test.short", "-test.count=1", "-test.skip", arm32Skip)
			run.Dir = filepath.Join(root, p)
			run.Env = withoutEnv(os.Environ(), "NGIC_REQUIRE_PEERS")
			out, err := run.CombinedOutput()
			if err != nil || !strings.Contains(string(out), "PASS") {
				t.Fatalf("%s on linux/arm v7 under qemu: %v\n%s", p, err, out)
			}
		})
	}
}

// withoutEnv returns env without the variable name.
func withoutEnv(env []string, name string) []string {
	out := env[:0:0]
	for _, kv := range env {
		if !strings.HasPrefix(kv, name+"=") {
			out = append(out, kv)
		}
	}
	return out
}
