package daemon_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ngic/ngic/controller/config"
	"github.com/ngic/ngic/controller/coverage"
	"github.com/ngic/ngic/controller/daemon"
	"github.com/ngic/ngic/controller/inventory/inventorytest"
	"github.com/ngic/ngic/controller/simulator/simulatortest"
	"github.com/ngic/ngic/internal/testenv"
)

// realInventory copies the inventory of real recordings
// (controller/testdata/coverage/real, whose answers EXPECTED.md works out
// by hand) into dir, its devices addressed at the simulator's addr.
func realInventory(t *testing.T, dir, addr string) {
	t.Helper()
	inventorytest.CopyAt(t, filepath.Join("..", "testdata", "coverage", "real"), dir, "127.0.0.1:161,", addr+",")
}

// realConfig writes, in a new directory, the real inventory (its devices
// at the simulator's addr) and a configuration polling it every second,
// with the YAML extra appended; it returns the directory and the
// configuration's path.
func realConfig(t *testing.T, addr, extra string) (dir, path string) {
	t.Helper()
	dir = t.TempDir()
	inv := filepath.Join(dir, "inventory")
	if err := os.Mkdir(inv, 0o755); err != nil {
		t.Fatal(err)
	}
	realInventory(t, inv, addr)
	path = filepath.Join(dir, "controller.yaml")
	yaml := fmt.Sprintf(`inventory: inventory
poll:
  interval: 1s
  timeout: 300ms
  retries: 0
mqtt:
  embedded: true
  listen: 127.0.0.1:%d
http:
  listen: 127.0.0.1:0
state_dir: %s
`, testenv.FreePort(t), filepath.Join(dir, "state"))
	if err := os.WriteFile(path, []byte(yaml+extra), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir, path
}

// recordingsOf lists the recordings the real inventory's devices name.
var recordingsOf = []string{"bdcom_gp3600-16b", "vsol_v1600d", "huawei_ma5603t", "arris_c4-cmts",
	"motorola_sb5101e", "teleste_luminato-4x4", "arris_apex1000", "protelevision_dvb-t-transmitter",
	"terra_sti440", "zyxel_ies-5005", "arris_dsr6404", "zyxel_ies-5106", "teldat_tv-base-vdsl2-adsl"}

// startDaemon loads the configuration at path and runs a daemon until the
// returned stop is called (or the test ends).
func startDaemon(t *testing.T, path string) (*daemon.Daemon, func()) {
	t.Helper()
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	d, err := daemon.New(cfg, daemon.Options{Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("run: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Fatal("the daemon did not stop")
		}
	}
	t.Cleanup(stop)
	return d, stop
}

// waitFor polls cond until it holds or 60 s pass.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// latest calls read with d's latest result (nil without one), held.
func latest[T any](d *daemon.Daemon, read func(*coverage.Result) T) T {
	r, release := d.AcquireCoverage()
	defer release()
	return read(r)
}

// villageNow returns a copy of the village with the code in d's latest
// result, or nil.
func villageNow(d *daemon.Daemon, code string) *coverage.Village {
	return latest(d, func(r *coverage.Result) *coverage.Village {
		if v := village(r, code); v != nil {
			cp := *v
			return &cp
		}
		return nil
	})
}

// village returns the village of r with the code, or nil.
func village(r *coverage.Result, code string) *coverage.Village {
	if r == nil {
		return nil
	}
	for i := range r.Villages {
		if r.Villages[i].Code == code {
			return &r.Villages[i]
		}
	}
	return nil
}

// TestRunCoverage: the running controller computes, after its polls, the
// classes that EXPECTED.md works out by hand for the inventory of real
// recordings; a device taken down keeps its villages' class as an outage
// until coverage.down_after has passed, then loses it; a snapshot is
// stored on demand and survives a restart; a reload with a broken
// regions.csv is refused and a good one applied.
func TestRunCoverage(t *testing.T) {
	t.Parallel()
	sim, addr := simulatortest.Serve(t, recordingsOf...)
	const downAfter = 3 * time.Second
	dir, path := realConfig(t, addr, fmt.Sprintf("coverage:\n  down_after: %s\n", downAfter))
	d, stop := startDaemon(t, path)

	// EXPECTED.md's answers once every device has been polled.
	want := map[string]struct{ broadband, evidence string }{
		"630101001000": {"served", "measured"},      // 上庄村: olt-bdcom GPON0/2, 43 ONTs online
		"630101003000": {"served", "measured"},      // 河湾村: olt-vsol EPON0/1
		"630102001000": {"underserved", "declared"}, // 石门村: docsis3.0 100/10 declared
		"630102002000": {"unserved", "none"},        // 沙沟村: dslam-dead never answered
		"630201001000": {"underserved", "measured"}, // 岭下村: 4 VDSL lines at 50/10
		"630201003000": {"unserved", "declared"},    // 云顶村: satellite 10/1
		"630201004000": {"served", "override"},      // 新村: overridden
		"630201005000": {"unserved", "none"},        // 坝口村: the override has expired
	}
	agree := func(r *coverage.Result) error {
		for code, w := range want {
			v := village(r, code)
			if v == nil {
				return fmt.Errorf("village %s missing", code)
			}
			if v.Broadband != w.broadband || v.Evidence != w.evidence {
				return fmt.Errorf("village %s (%s): %s/%s, want %s/%s", code, v.Name, v.Broadband, v.Evidence,
					w.broadband, w.evidence)
			}
		}
		return nil
	}
	var last error
	waitFor(t, "the hand-computed classes", func() bool {
		last = latest(d, agree)
		return last == nil
	})
	if h := d.Health(); h.Coverage == nil || h.Coverage.Computed == nil || h.Coverage.Villages != 11 {
		t.Fatalf("/healthz coverage: %+v", h.Coverage)
	}

	// olt-bdcom goes down: 上庄村 stays served, as an outage, until
	// down_after has passed since it went down, then has no evidence.
	const shangzhuang = "630101001000"
	down := time.Now()
	sim.SetDown("bdcom_gp3600-16b", true)
	waitFor(t, "上庄村 served as an outage", func() bool {
		v := villageNow(d, shangzhuang)
		return v != nil && v.Outage && v.Broadband == "served"
	})
	var changed time.Time
	waitFor(t, "上庄村 to lose its class", func() bool {
		v := villageNow(d, shangzhuang)
		if v != nil && v.Broadband == "served" && !v.Outage {
			t.Fatalf("上庄村 served without an outage while olt-bdcom is down: %+v", v)
		}
		if v != nil && v.Broadband != "served" {
			changed = time.Now()
			return true
		}
		return false
	})
	if held := changed.Sub(down); held < downAfter {
		t.Fatalf("上庄村 lost its class %v after its OLT went down, before down_after (%v)", held, downAfter)
	}
	if v := villageNow(d, shangzhuang); v.Evidence != "none" || v.Broadband != "unserved" {
		t.Fatalf("上庄村 after down_after: %s/%s, want unserved/none", v.Broadband, v.Evidence)
	}
	sim.SetDown("bdcom_gp3600-16b", false)
	waitFor(t, "上庄村 served again", func() bool {
		v := villageNow(d, shangzhuang)
		return v != nil && v.Broadband == "served" && !v.Outage
	})

	// A snapshot on demand, kept across a restart.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := d.SnapshotCoverage(ctx); err != nil {
		t.Fatal(err)
	}
	stop()
	store, err := coverage.OpenStore(filepath.Join(dir, "state", "coverage"), 10)
	if err != nil {
		t.Fatal(err)
	}
	snap, err := store.At(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := agree(snap); err != nil {
		t.Fatalf("the stored snapshot: %v", err)
	}
	d, _ = startDaemon(t, path)
	if h := d.Health(); h.Coverage == nil || h.Coverage.LastSnapshot == nil ||
		h.Coverage.LastSnapshot.Sub(snap.Computed).Abs() >= time.Second { // file names keep milliseconds
		t.Fatalf("after a restart, /healthz's last snapshot: %+v, want %v", h.Coverage, snap.Computed)
	}
	waitFor(t, "the classes after a restart", func() bool { return latest(d, agree) == nil })

	// A broken regions.csv is refused, naming file, line and column; the
	// running inventory stays. A good one is applied.
	regions := filepath.Join(dir, "inventory", "regions.csv")
	good, err := os.ReadFile(regions)
	if err != nil {
		t.Fatal(err)
	}
	broken := strings.Replace(string(good), "630201005000,", "630201004000,", 1) // a duplicate code
	if err := os.WriteFile(regions, []byte(broken), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := config.Load(path); err == nil || !strings.Contains(err.Error(), "regions.csv:") {
		t.Fatalf("a duplicate region code: %v", err)
	}
	extra := strings.TrimRight(string(good), "\n") + "\n" + newVillage(t, string(good)) + "\n"
	if err := os.WriteFile(regions, []byte(extra), 0o644); err != nil {
		t.Fatal(err)
	}
	next, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Reload(next); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the new village after a reload", func() bool {
		v := villageNow(d, "630201009000")
		return v != nil && v.Broadband == "unserved" && v.Evidence == "none"
	})
	if err := latest(d, agree); err != nil {
		t.Fatalf("after a reload: %v", err)
	}
}

// newVillage returns a regions.csv row of a village 630201009000 under
// the township of 新村 (630201004000) in regions, as the file spells it.
func newVillage(t *testing.T, regions string) string {
	t.Helper()
	for _, line := range strings.Split(regions, "\n") {
		f := strings.Split(line, ",")
		if len(f) >= 8 && f[0] == "630201004000" {
			f[0], f[1], f[5], f[4] = "630201009000", "新屯村", "70", "280"
			return strings.Join(f, ",")
		}
	}
	t.Fatal("no row 630201004000 in regions.csv")
	return ""
}
