package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ngic/ngic/controller/device"
	"github.com/ngic/ngic/controller/simulator/world"
	"github.com/ngic/ngic/internal/cli"
	"github.com/ngic/ngic/internal/testenv"
)

// simulateWorld runs `ngic-controller simulate args...` to its end and
// returns its output (stdout and stderr together) and exit code.
func simulateWorld(t *testing.T, args ...string) (string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, append([]string{"simulate"}, args...)...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("simulate %v did not finish within a minute", args)
	}
	if ee, ok := err.(*exec.ExitError); ok {
		return out.String(), ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), 0
}

// TestSimulateWorld: `simulate --world N --out DIR` writes the inventory and
// the recordings (the same files for the same seed, no progress line into a
// pipe), and `simulate --recordings DIR/recordings` serves every device of
// devices.csv at the address it gives: an OLT polled there has the ONTs
// the world says.
func TestSimulateWorld(t *testing.T) {
	port := testenv.FreeUDPPort(t)
	dirs := []string{filepath.Join(t.TempDir(), "w"), filepath.Join(t.TempDir(), "w")}
	for _, dir := range dirs {
		out, code := simulateWorld(t, "--world", "90", "--out", dir, "--seed", "21", "--port", strconv.Itoa(port))
		if code != 0 {
			t.Fatalf("exit %d:\n%s", code, out)
		}
		if strings.Contains(out, "writing") {
			t.Errorf("a progress line into a pipe:\n%s", out)
		}
		var written map[string]any
		for _, l := range logLines(t, out) {
			if l["msg"] == "world written" {
				written = l
			}
		}
		if written == nil || written["villages"] != 90.0 {
			t.Fatalf("no \"world written\" line for 90 villages:\n%s", out)
		}
	}
	for _, f := range []string{"regions.csv", "sites.csv", "devices.csv", "gateways.csv", "service_areas.csv", "declared.csv"} {
		a, err1 := os.ReadFile(filepath.Join(dirs[0], "inventory", f))
		b, err2 := os.ReadFile(filepath.Join(dirs[1], "inventory", f))
		if err1 != nil || err2 != nil || !bytes.Equal(a, b) {
			t.Errorf("%s: not written, or not the same for the same seed (%v, %v)", f, err1, err2)
		}
	}
	dir := dirs[0]
	rows := readDevicesCSV(t, filepath.Join(dir, "inventory", "devices.csv"))
	p := launchSimulate(t, "--recordings", filepath.Join(dir, "recordings"), "--listen", "127.0.0.1:"+strconv.Itoa(port))
	var serving map[string]any
	for _, l := range logLines(t, p.read()) {
		if l["msg"] == "serving recordings" {
			serving = l
		}
	}
	if serving == nil || serving["devices"] != float64(len(rows)) || serving["warnings"] != 0.0 {
		t.Fatalf("serving %v, want %d devices and no warning:\n%s", serving, len(rows), p.read())
	}
	w, err := world.Generate(world.Options{Villages: 90, Seed: 21, Port: port})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		want, ok := w.Device(r[0])
		if !ok || r[2] != "127.0.0.1:"+strconv.Itoa(port) || r[3] != "community:"+r[0] {
			t.Fatalf("devices.csv row %v: not the world's device, or not at the simulator", r)
		}
		if want.Class != "olt" {
			continue
		}
		stdout, stderr, code := pollCmd(t, "--target", r[2], "--community", strings.TrimPrefix(r[3], "community:"), "--json")
		if code != 0 {
			t.Fatalf("poll %s: exit %d: %s", r[0], code, stderr)
		}
		var d device.Document
		if err := json.Unmarshal([]byte(stdout), &d); err != nil {
			t.Fatal(err)
		}
		on := 0
		for _, pp := range want.Ports {
			on += pp.Online
		}
		if d.Class != device.ClassOLT || d.Access == nil || d.Access.PON == nil || d.Access.PON.ONTsOnline == nil ||
			*d.Access.PON.ONTsOnline != on {
			t.Fatalf("%s: class %s, access %+v; want an OLT with %d ONTs online", r[0], d.Class, d.Access, on)
		}
		return
	}
	t.Fatal("the world has no OLT")
}

// readDevicesCSV reads the rows of devices.csv after its header (the
// generated cells hold no comma or quote).
func readDevicesCSV(t *testing.T, path string) [][]string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	if len(lines) < 2 || lines[0] != "id,site,address,credentials,parent,network" {
		t.Fatalf("devices.csv: %d lines, header %q", len(lines), lines[0])
	}
	var rows [][]string
	for _, l := range lines[1:] {
		rows = append(rows, strings.Split(l, ","))
	}
	return rows
}

// TestSimulateWorldRefused: --world needs --out, no --recordings, and a
// village count in range; nothing is written then.
func TestSimulateWorldRefused(t *testing.T) {
	dir := t.TempDir()
	for _, args := range [][]string{
		{"--world", "10"},
		{"--world", "10", "--out", dir, "--recordings", dir},
		{"--world", "0", "--out", dir},
		{"--world", "10", "--out", dir, "--port", "70000"},
		{"--world", "10", "--out", dir, "--listen", "127.0.0.1:0"},
	} {
		out, code := simulateWorld(t, args...)
		if code == 0 || !strings.Contains(out, "simulate:") {
			t.Errorf("simulate %v: exit %d:\n%s", args, code, out)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("a refused --world wrote %d entries", len(entries))
	}
}

// TestProgressLine: the progress rewrites one line every 64 files and ends
// it at the last; a world written with no terminal shows none (see
// TestSimulateWorld).
func TestProgressLine(t *testing.T) {
	var b strings.Builder
	p := progressLine(&b)
	for i := 1; i <= 130; i++ {
		p(i, 130)
	}
	if want := "\rwriting 64/130 files\rwriting 128/130 files\rwriting 130/130 files\n"; b.String() != want {
		t.Errorf("progress %q, want %q", b.String(), want)
	}
	if cli.IsTerminal((*os.File)(nil)) {
		t.Error("a nil file is a terminal")
	}
	f, err := os.CreateTemp(t.TempDir(), "out")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if cli.IsTerminal(f) {
		t.Error("a regular file is a terminal")
	}
}
