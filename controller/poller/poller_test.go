package poller

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/ngic/ngic/controller/config"
	"github.com/ngic/ngic/controller/simulator/simulatortest"
	"github.com/ngic/ngic/controller/snmp"
	"github.com/ngic/ngic/internal/testenv"
)

// startSim serves the named recordings and returns the address.
func startSim(t *testing.T, names ...string) string {
	_, addr := simulatortest.Serve(t, names...)
	return addr
}

// dev is a device polled every second.
func dev(id, site, addr, community string) config.DeviceConfig {
	return config.DeviceConfig{ID: id, Site: site, Interval: time.Second,
		SNMP: snmp.Config{Target: addr, Version: "2c", Community: community, Timeout: 200 * time.Millisecond, Retries: -1}}
}

// deadPort is a loopback UDP port nothing listens on.
func deadPort(t *testing.T) string {
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	a := c.LocalAddr().String()
	c.Close()
	return a
}

// run starts p until the test ends.
func run(t *testing.T, p *Poller) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
}

// waitFor polls cond until it holds or 20 s pass.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func state(p *Poller, id string) DeviceState {
	s, _ := p.Device(id)
	return s
}

// TestPollerStatesHistoryReload: devices served by the simulator come up
// with their documents and a history; one with no agent goes down; a
// reload that removes one, adds one and changes none of the rest keeps the
// others' state; the observer sees every poll.
func TestPollerStatesHistoryReload(t *testing.T) {
	addr := startSim(t, "huawei_ma5603t", "cisco_c2950-ios", "arris_c4-cmts")
	var mu sync.Mutex
	seen := map[string]int{}
	p, err := New(Options{History: 3, Observer: func(pl *Poll) {
		mu.Lock()
		seen[pl.Device.ID]++
		mu.Unlock()
		if pl.State == StateUp && pl.Document == nil {
			t.Errorf("%s up without a document", pl.Device.ID)
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	dead := deadPort(t)
	ch, err := p.SetDevices([]config.DeviceConfig{
		dev("olt", "ex-1", addr, "huawei_ma5603t"),
		dev("sw", "ex-1", addr, "cisco_c2950-ios"),
		dev("gone", "ex-2", dead, "public"),
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(ch.Added) != 3 {
		t.Fatalf("added %v, want 3 devices", ch.Added)
	}
	run(t, p)
	waitFor(t, "olt and sw up twice, gone down", func() bool {
		return state(p, "olt").Polls >= 2 && state(p, "sw").Polls >= 2 && state(p, "gone").State == StateDown
	})
	olt := state(p, "olt")
	if olt.State != StateUp || olt.Document == nil || olt.Document.Class != "olt" {
		t.Fatalf("olt: state %s, document %v", olt.State, olt.Document != nil)
	}
	if len(olt.History) < 2 || olt.History[len(olt.History)-1].InBps == nil {
		t.Fatalf("olt history %+v: want 2 samples, the last with rates", olt.History)
	}
	if g := state(p, "gone"); g.LastError == "" || g.Document != nil || g.Since.IsZero() {
		t.Fatalf("gone: %+v", g)
	}

	// Reload: drop "gone", add the CMTS, keep olt and sw untouched.
	before := state(p, "olt")
	ch, err = p.SetDevices([]config.DeviceConfig{
		dev("olt", "ex-1", addr, "huawei_ma5603t"),
		dev("sw", "ex-1", addr, "cisco_c2950-ios"),
		dev("cmts", "ex-2", addr, "arris_c4-cmts"),
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(ch.Added) != 1 || ch.Added[0] != "cmts" || len(ch.Removed) != 1 || ch.Removed[0] != "gone" || len(ch.Changed) != 0 {
		t.Fatalf("reload: %+v", ch)
	}
	if _, ok := p.Device("gone"); ok {
		t.Fatal("a removed device is still kept")
	}
	after := state(p, "olt")
	if after.Polls < before.Polls || !after.Since.Equal(before.Since) {
		t.Fatalf("reload reset the olt's state: before %d polls since %v, after %d since %v",
			before.Polls, before.Since, after.Polls, after.Since)
	}
	waitFor(t, "cmts up, history bounded", func() bool {
		return state(p, "cmts").State == StateUp && state(p, "olt").Polls >= 4
	})
	if n := len(state(p, "olt").History); n != 3 {
		t.Fatalf("history holds %d samples, want the bound 3", n)
	}
	counts := p.Counts()
	if counts[StateUp] != 3 || counts[StateDown] != 0 {
		t.Fatalf("counts %v", counts)
	}
	mu.Lock()
	defer mu.Unlock()
	if seen["olt"] < 4 || seen["gone"] < 1 {
		t.Fatalf("observer saw %v", seen)
	}
}

// TestPollerAuthFailed: a v3 device that refuses the credentials is in its
// own state, not down; with the right ones it is up.
func TestPollerAuthFailed(t *testing.T) {
	d := testenv.StartSnmpd(t)
	v3 := func(id, pass string) config.DeviceConfig {
		c := dev(id, "lab", d.Addr, "")
		c.SNMP.Version, c.SNMP.Community = "3", ""
		c.SNMP.Timeout = time.Second
		c.SNMP.V3 = snmp.V3{User: testenv.V3User, AuthProto: "SHA-256", AuthPass: pass, PrivProto: "AES", PrivPass: testenv.V3PrivPass}
		return c
	}
	p, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.SetDevices([]config.DeviceConfig{v3("good", testenv.V3AuthPass), v3("bad", "wrong-password-1")}); err != nil {
		t.Fatal(err)
	}
	run(t, p)
	waitFor(t, "good up, bad auth-failed", func() bool {
		return state(p, "good").State == StateUp && state(p, "bad").State == StateAuthFailed
	})
}

// TestPollerSnapshot: the state survives a restart, and a damaged
// snapshot is refused with ErrSnapshot.
func TestPollerSnapshot(t *testing.T) {
	addr := startSim(t, "cisco_c2950-ios")
	path := filepath.Join(t.TempDir(), "devices.snapshot")
	p, err := New(Options{SnapshotPath: path})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.SetDevices([]config.DeviceConfig{dev("sw", "ex-1", addr, "cisco_c2950-ios")}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	waitFor(t, "two polls", func() bool { return state(p, "sw").Polls >= 2 })
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	was := state(p, "sw")

	q, err := New(Options{SnapshotPath: path})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := q.SetDevices([]config.DeviceConfig{dev("sw", "ex-1", addr, "cisco_c2950-ios")}); err != nil {
		t.Fatal(err)
	}
	got := state(q, "sw")
	if got.State != StateUp || got.Polls != was.Polls || !got.Since.Equal(was.Since) ||
		got.Document == nil || got.Document.SysDescr != was.Document.SysDescr || len(got.History) != len(was.History) {
		t.Fatalf("after restart: %+v\nwant %+v", got, was)
	}

	if err := os.WriteFile(path, []byte("not a snapshot"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := New(Options{SnapshotPath: path}); !errors.Is(err, ErrSnapshot) {
		t.Fatalf("damaged snapshot: err %v, want ErrSnapshot", err)
	}
}

// TestSnapshotTempFilesRemoved: the temporary file of a snapshot whose
// writer died is removed at the next start, and the previous snapshot is
// read.
func TestSnapshotTempFilesRemoved(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "devices.snapshot")
	p, err := New(Options{SnapshotPath: path})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.SetDevices([]config.DeviceConfig{dev("sw", "ex-1", "127.0.0.1:1", "public")}); err != nil {
		t.Fatal(err)
	}
	if err := p.Snapshot(); err != nil {
		t.Fatal(err)
	}
	torn := path + ".tmp-123456"
	if err := os.WriteFile(torn, []byte("half a snap"), 0o600); err != nil {
		t.Fatal(err)
	}
	q, err := New(Options{SnapshotPath: path})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(torn); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the torn temporary file is still there: %v", err)
	}
	if len(q.saved) != 1 {
		t.Fatalf("the previous snapshot was not read: %d devices", len(q.saved))
	}
}
