package commission

import (
	"context"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"

	_ "github.com/ngic/ngic/drivers/rfid/all"
	"github.com/ngic/ngic/drivers/rfid/emulate/emulatetest"
)

// emulator serves a reader of protocol at baud on a pseudo-terminal.
func emulator(t *testing.T, protocol string, baud int, tags ...[]byte) string {
	t.Helper()
	_, p := emulatetest.StartAt(t, protocol, baud, tags...)
	return p.Path
}

// testOpts keep generous waits for a loaded machine.
var testOpts = Opts{Wait: 400 * time.Millisecond, Listen: 1500 * time.Millisecond}

func probeOne(t *testing.T, path string) Check {
	t.Helper()
	o := testOpts
	o.Ports = []string{path}
	cs, err := ProbeSerial(context.Background(), o)
	if err != nil && len(cs) == 0 {
		t.Fatal(err)
	}
	if len(cs) != 1 {
		t.Fatalf("%d checks, want 1: %+v", len(cs), cs)
	}
	return cs[0]
}

// TestProbeFindsEveryProtocolAtItsSpeed serves each protocol at several
// speeds: the probe must name the protocol and the speed the emulator runs
// at, not any speed it tried first (the emulator answers garbage at others).
func TestProbeFindsEveryProtocolAtItsSpeed(t *testing.T) {
	epc := []byte{0xE2, 0x00, 0x00, 0x17, 0x22, 0x0B, 0x01, 0x23, 0x45, 0x67, 0x89, 0xAB}
	cases := []struct {
		protocol string
		baud     int
		tags     [][]byte
		firmware string
		region   string
	}{
		{"magicrf", 115200, nil, "V2.3.5", ""},
		{"magicrf", 38400, nil, "V2.3.5", ""},
		{"magicrf", 9600, nil, "V2.3.5", ""},
		{"mercury", 115200, nil, "01.0B.01.00 (2026-01-01)", "us"},
		{"mercury", 57600, nil, "01.0B.01.00 (2026-01-01)", "us"},
		{"mercury", 921600, nil, "01.0B.01.00 (2026-01-01)", "us"},
		{"chafon", 57600, nil, "2.0", ""},
		{"chafon", 115200, [][]byte{epc}, "2.0", ""},
		{"chafon", 9600, nil, "2.0", ""},
		{"em4100", 9600, [][]byte{{0x10, 0x00, 0x86, 0xF4, 0x44}}, "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.protocol+"@"+strconv.Itoa(tc.baud), func(t *testing.T) {
			t.Parallel()
			c := probeOne(t, emulator(t, tc.protocol, tc.baud, tc.tags...))
			if c.Status != OK || c.Reader == nil {
				t.Fatalf("check %+v, want ok", c)
			}
			if c.Reader.Protocol != tc.protocol || c.Reader.Baud != tc.baud {
				t.Errorf("found %s at %d, want %s at %d", c.Reader.Protocol, c.Reader.Baud, tc.protocol, tc.baud)
			}
			if c.Reader.Firmware != tc.firmware {
				t.Errorf("firmware %q, want %q", c.Reader.Firmware, tc.firmware)
			}
			if tc.region != "" && c.Reader.Region != tc.region {
				t.Errorf("region %q, want %q", c.Reader.Region, tc.region)
			}
			if tc.protocol == "chafon" && c.Reader.Region == "" {
				t.Errorf("chafon region not reported")
			}
		})
	}
}

// rawPTY opens a pseudo-terminal and returns its master and the slave's path.
func rawPTY(t *testing.T) (*os.File, string) {
	t.Helper()
	m, s, err := pty.Open()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close(); s.Close() })
	return m, s.Name()
}

// TestSilentPortFails: nothing answers; the check fails, lists what was
// tried and says what to do.
func TestSilentPortFails(t *testing.T) {
	t.Parallel()
	_, path := rawPTY(t)
	c := probeOne(t, path)
	if c.Status != Fail || c.Reader != nil {
		t.Fatalf("check %+v, want a failure", c)
	}
	for _, want := range []string{"magicrf@115200", "mercury@921600", "chafon@57600", "em4100@9600"} {
		if !strings.Contains(c.Detail, want) {
			t.Errorf("detail %q does not list %s", c.Detail, want)
		}
	}
	if c.Fix == "" {
		t.Error("no fix given")
	}
}

// TestGarbagePortFails: a port that streams noise is no reader.
func TestGarbagePortFails(t *testing.T) {
	t.Parallel()
	m, path := rawPTY(t)
	done := make(chan struct{})
	t.Cleanup(func() { close(done) })
	go func() {
		noise := []byte{0x02, 0x31, 0xBB, 0x00, 0xFF, 0x11, 0x7E, 0x03, 0x0D, 0x55, 0xAA, 0x99, 0x04}
		tk := time.NewTicker(5 * time.Millisecond)
		defer tk.Stop()
		for {
			select {
			case <-done:
				return
			case <-tk.C:
				if _, err := m.Write(noise); err != nil {
					return
				}
			}
		}
	}()
	c := probeOne(t, path)
	if c.Status != Fail || c.Reader != nil {
		t.Fatalf("check %+v, want a failure", c)
	}
}

// TestHeldPortIsReportedNotTaken: a port flocked by another open, and a port
// another process has open, are reported as held, with what holds them,
// and left alone: the holder still reads what the reader sends.
func TestHeldPortIsReportedNotTaken(t *testing.T) {
	t.Run("flock", func(t *testing.T) {
		path := emulator(t, "magicrf", 115200)
		f, err := os.OpenFile(path, os.O_RDWR|unix.O_NOCTTY, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
			t.Fatal(err)
		}
		c := probeOne(t, path)
		if c.Status != Fail || !strings.Contains(c.Detail, "locked") || c.Fix == "" {
			t.Fatalf("check %+v, want held (locked) with a fix", c)
		}
	})
	t.Run("process", func(t *testing.T) {
		path := emulator(t, "magicrf", 115200)
		f, err := os.OpenFile(path, os.O_RDWR|unix.O_NOCTTY, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		cmd := exec.Command("sleep", "60")
		cmd.Stdin = f
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		defer func() { cmd.Process.Kill(); cmd.Wait() }()
		c := probeOne(t, path)
		if c.Status != Fail || !strings.Contains(c.Detail, "held") {
			t.Fatalf("check %+v, want held", c)
		}
		found := false
		for _, h := range c.Holders {
			found = found || (h.PID == cmd.Process.Pid && h.Command == "sleep")
		}
		if !found {
			t.Errorf("holders %+v do not name sleep (pid %d)", c.Holders, cmd.Process.Pid)
		}
	})
}

// TestListPortsByIDFirst builds a /dev tree: by-id names come first and
// stand for the device they point at.
func TestListPortsByIDFirst(t *testing.T) {
	dev := t.TempDir()
	for _, n := range []string{"ttyS10", "ttyS2", "ttyUSB0", "ttyUSB1", "ttyACM0", "null"} {
		if err := os.WriteFile(dev+"/"+n, nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(dev+"/serial/by-id", 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("../../ttyUSB1", dev+"/serial/by-id/usb-FTDI_FT232R-if00-port0"); err != nil {
		t.Fatal(err)
	}
	got := strings.Join(ListPorts(dev), " ")
	want := strings.Join([]string{dev + "/serial/by-id/usb-FTDI_FT232R-if00-port0", dev + "/ttyUSB0",
		dev + "/ttyACM0", dev + "/ttyS2", dev + "/ttyS10"}, " ")
	if got != want {
		t.Errorf("ports\n%s\nwant\n%s", got, want)
	}
}

// TestNotSerialFails: a device that is no terminal is reported as such and
// left alone.
func TestNotSerialFails(t *testing.T) {
	c := probeOne(t, os.DevNull)
	if c.Status != Fail || !strings.Contains(c.Detail, "not a serial port") || c.Fix == "" {
		t.Fatalf("check %+v, want not a serial port, with a fix", c)
	}
}
