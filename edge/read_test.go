package main

import (
	"bufio"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestReadCommandWithEmulator runs `ngic-fwtool emulate-reader` and
// `ngic-edge read` as a field engineer would, for every protocol.
func TestReadCommandWithEmulator(t *testing.T) {
	if testing.Short() {
		t.Skip("builds two programs")
	}
	edge := buildEdge(t)
	fwtool := filepath.Join(t.TempDir(), "ngic-fwtool")
	if out, err := exec.Command("go", "build", "-o", fwtool, "../firmware-tools").CombinedOutput(); err != nil {
		t.Fatalf("build fwtool: %v\n%s", err, out)
	}
	for _, tc := range []struct{ protocol, tag string }{
		{"em4100", "0A00C0FFEE"},
		{"magicrf", "3074257BF7194E4000001A85"},
		{"mercury", "3074257BF7194E4000001A85"},
		{"chafon", "E2000017221101441890ABCD"},
	} {
		t.Run(tc.protocol, func(t *testing.T) {
			link := filepath.Join(t.TempDir(), "ttyEMU")
			emu := exec.Command(fwtool, "emulate-reader", "--protocol", tc.protocol, "--tag", tc.tag, "--link", link)
			stdout, _ := emu.StdoutPipe()
			if err := emu.Start(); err != nil {
				t.Fatal(err)
			}
			defer func() { emu.Process.Kill(); emu.Wait() }()
			first, err := bufio.NewReader(stdout).ReadString('\n')
			if err != nil || !strings.HasPrefix(first, "/dev/pts/") {
				t.Fatalf("emulate-reader first line %q, %v", first, err)
			}
			out, err := exec.Command(edge, "read", "--device", link, "--protocol", tc.protocol, "--count", "3", "--timeout", "10s").Output()
			if err != nil {
				t.Fatalf("read: %v", err)
			}
			lines := strings.Split(strings.TrimSpace(string(out)), "\n")
			if len(lines) != 3 {
				t.Fatalf("%d lines, want 3:\n%s", len(lines), out)
			}
			for _, l := range lines {
				var r struct {
					Protocol, Tag string
					Time          time.Time
					EPC           *struct{ Scheme, URI string }
				}
				if err := json.Unmarshal([]byte(l), &r); err != nil {
					t.Fatalf("line %q: %v", l, err)
				}
				if r.Protocol != tc.protocol || r.Tag != tc.tag || r.Time.IsZero() {
					t.Fatalf("line %q", l)
				}
				if tc.protocol == "magicrf" && (r.EPC == nil || r.EPC.Scheme != "sgtin-96") {
					t.Fatalf("no EPC decoding in %q", l)
				}
			}
		})
	}
	// A bad device and a timeout fail with a clear message.
	out, err := exec.Command(edge, "read", "--device", "/dev/ngic-none", "--protocol", "em4100").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "/dev/ngic-none") {
		t.Fatalf("bad device: %v %s", err, out)
	}
	// A device that is not a serial port is named as such, whatever it is.
	for _, dev := range []string{"/dev/null", t.TempDir(), "read_test.go"} {
		out, err := exec.Command(edge, "read", "--device", dev, "--protocol", "em4100").CombinedOutput()
		if err == nil || !strings.Contains(string(out), dev+" is not a serial port (tty)") || strings.Contains(string(out), "ioctl") {
			t.Fatalf("%s: %v %s", dev, err, out)
		}
	}
	link := filepath.Join(t.TempDir(), "ttySilent")
	emu := exec.Command(fwtool, "emulate-reader", "--protocol", "magicrf", "--link", link) // no tag in the field
	stdout, _ := emu.StdoutPipe()
	emu.Start()
	defer func() { emu.Process.Kill(); emu.Wait() }()
	bufio.NewReader(stdout).ReadString('\n')
	out, err = exec.Command(edge, "read", "--device", link, "--protocol", "magicrf", "--count", "1", "--timeout", "1s").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "timeout") {
		t.Fatalf("timeout: %v %s", err, out)
	}
	out, err = exec.Command(edge, "read", "--device", link, "--protocol", "nfc").CombinedOutput()
	if err == nil || !strings.Contains(string(out), `unknown protocol "nfc"`) {
		t.Fatalf("unknown protocol: %v %s", err, out)
	}
}
