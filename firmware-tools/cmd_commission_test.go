package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	_ "github.com/ngic/ngic/drivers/rfid/all"
	"github.com/ngic/ngic/drivers/rfid/emulate/emulatetest"
	"github.com/ngic/ngic/firmware-tools/commission"
)

// TestCommissionWritesConfigEdgeAccepts runs the built ngic-fwtool
// commission on two emulated readers, one at a speed not its protocol's
// default, and checks that the built ngic-edge check-config accepts the
// configuration it wrote; then on a silent port, where it exits non-zero
// saying what to do and writes nothing.
func TestCommissionWritesConfigEdgeAccepts(t *testing.T) {
	bin := buildFwtool(t)
	dir := t.TempDir()
	edge := filepath.Join(dir, "ngic-edge")
	if out, err := exec.Command("go", "build", "-o", edge, "../edge").CombinedOutput(); err != nil {
		t.Fatalf("go build edge: %v\n%s", err, out)
	}
	_, uhf := emulatetest.StartAt(t, "chafon", 115200)
	_, badge := emulatetest.Start(t, "em4100", []byte{0x10, 0x00, 0x86, 0xF4, 0x44})
	cfg := filepath.Join(dir, "edge.yaml")
	args := []string{"commission", "--port", uhf.Path, "--port", badge.Path, "--wait", "400ms", "--listen", "1500ms",
		"--write-config", cfg, "--gateway", "cabinet-7", "--spool", filepath.Join(dir, "spool.db")}
	out, errs, ok := signRun(t, bin, append(args, "--json")...)
	if !ok {
		t.Fatalf("commission failed: %s\n%s", errs, out)
	}
	var r commission.Report
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("--json: %v\n%s", err, out)
	}
	if r.Failed != 0 || len(r.Checks) != 3 || r.Checks[0].Reader.Protocol != "chafon" || r.Checks[0].Reader.Baud != 115200 ||
		r.Checks[1].Reader.Protocol != "em4100" || r.Checks[2].Status != commission.OK {
		t.Fatalf("report %s", out)
	}
	res, err := exec.Command(edge, "check-config", cfg).CombinedOutput()
	if err != nil || !strings.Contains(string(res), "2 readers") {
		t.Fatalf("check-config: %v\n%s", err, res)
	}

	silent := filepath.Join(dir, "silent.yaml")
	out, _, ok = signRun(t, bin, "commission", "--port", os.DevNull, "--write-config", silent, "--gateway", "cabinet-7",
		"--spool", filepath.Join(dir, "spool.db"))
	if ok || !strings.Contains(out, "FAIL  serial "+os.DevNull) || !strings.Contains(out, "      -> ") {
		t.Fatalf("commission on a non-serial device: ok=%v\n%s", ok, out)
	}
	if !strings.Contains(out, "ok    config "+silent) {
		t.Errorf("a configuration without readers is still a valid one; got\n%s", out)
	}
}
