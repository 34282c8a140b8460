package scale

import (
	"context"
	"errors"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/ngic/ngic/controller/device"
	"github.com/ngic/ngic/controller/snmp"
	"github.com/ngic/ngic/internal/testenv"
)

// wantClass is each IF-MIB recording's class (its device type in the
// recordings' manifest).
var wantClass = map[string]device.Class{
	"motorola_sb5101e":  device.ClassCableModem,
	"mikrotik_rb750gr3": device.ClassRouter,
	"cisco_c3560-ios":   device.ClassSwitch,
	"huawei_ma5603t":    device.ClassOLT,
	"zyxel_ies-5106":    device.ClassDSLAM,
}

// startSlowAgent relays each request to upstream and its answer back after
// delay, like an agent too slow for the poller's timeout.
func startSlowAgent(t *testing.T, upstream string, delay time.Duration) string {
	t.Helper()
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	go func() {
		buf := make([]byte, 65535)
		for {
			n, from, err := conn.ReadFrom(buf)
			if err != nil {
				return
			}
			req := append([]byte(nil), buf[:n]...)
			go func() {
				time.Sleep(delay)
				up, err := net.Dial("udp", upstream)
				if err != nil {
					return
				}
				defer up.Close()
				if _, err := up.Write(req); err != nil {
					return
				}
				_ = up.SetReadDeadline(time.Now().Add(5 * time.Second))
				resp := make([]byte, 65535)
				m, err := up.Read(resp)
				if err != nil {
					return
				}
				_, _ = conn.WriteTo(resp[:m], from)
			}()
		}
	}()
	return conn.LocalAddr().String()
}

func TestHarnessPollsFarmWithDeadAndSlowAgents(t *testing.T) {
	views, err := LoadViews(testenv.Recordings(t), IFMIBRecordings)
	if err != nil {
		t.Fatal(err)
	}
	comms, devs := Farm(views, 200)
	addr, stop, err := Serve("127.0.0.1:0", devs)
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	h, err := NewHarness(Options{Interval: 30 * time.Second, MaxConcurrent: 64, Timeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range comms {
		if err := h.Add(addr, c); err != nil {
			t.Fatal(err)
		}
	}
	dead := "127.0.0.1:" + strconv.Itoa(testenv.FreeUDPPort(t))
	if err := h.AddConfig("dead", snmp.Config{Target: dead, Version: "2c", Community: comms[0], Timeout: 300 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	slow := startSlowAgent(t, addr, 2*time.Second)
	if err := h.AddConfig("slow", snmp.Config{Target: slow, Version: "2c", Community: comms[1], Timeout: 300 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	if err := h.AddConfig("dead", snmp.Config{Target: dead, Version: "2c", Community: "x"}); err == nil {
		t.Fatal("a device ID added twice was accepted")
	}
	const cycles = 2
	for range cycles {
		if err := h.RunCycle(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	res := h.Results()
	if len(res) != len(comms)+2 {
		t.Fatalf("%d results for %d devices", len(res), len(comms)+2)
	}
	perRec := map[string]int{}
	for _, c := range comms {
		r := res[c]
		rec := RecordingOf(c)
		if r.Err != nil {
			t.Fatalf("%s: %v", c, r.Err)
		}
		if r.Class != wantClass[rec] {
			t.Fatalf("%s: class %q, want %q", c, r.Class, wantClass[rec])
		}
		if r.Interfaces == 0 || r.Polls != cycles {
			t.Fatalf("%s: %d interfaces, %d successful polls of %d", c, r.Interfaces, r.Polls, cycles)
		}
		perRec[rec]++
	}
	if len(perRec) != len(IFMIBRecordings) {
		t.Fatalf("farm played %d recordings, want %d", len(perRec), len(IFMIBRecordings))
	}
	for _, id := range []string{"dead", "slow"} {
		if !errors.Is(res[id].Err, snmp.ErrTimeout) || res[id].Class != "" {
			t.Fatalf("%s agent: class %q, err %v, want a timeout", id, res[id].Class, res[id].Err)
		}
	}
	if h.Varbinds() == 0 {
		t.Fatal("no varbinds counted")
	}
	// Live devices keep their session between cycles; the failing two are
	// redialled each cycle.
	st := h.Scheduler().Stats()
	if want := uint64(len(comms) + 2*cycles); st.Dials != want {
		t.Fatalf("%d sessions dialled, want %d", st.Dials, want)
	}
	if st.Failures != 2*cycles {
		t.Fatalf("%d failed polls, want %d", st.Failures, 2*cycles)
	}
}

func TestFarmAndCommunities(t *testing.T) {
	if got := RecordingOf(Community("zte_c320", 42)); got != "zte_c320" {
		t.Fatalf("RecordingOf(Community(zte_c320, 42)) = %q", got)
	}
	if Community("a", 1) == Community("a", 2) {
		t.Fatal("two devices share a community")
	}
	if _, err := LoadViews(t.TempDir(), []string{"missing"}); err == nil {
		t.Fatal("a missing recording loaded")
	}
}
