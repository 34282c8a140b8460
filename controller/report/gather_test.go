package report

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ngic/ngic/controller/config"
	"github.com/ngic/ngic/controller/coverage"
	"github.com/ngic/ngic/controller/inventory"
	"github.com/ngic/ngic/controller/poller"
	"github.com/ngic/ngic/controller/simulator/simulatortest"
)

// writeFiles writes files (path under dir: content) into dir.
func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, s := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// gatherSetup serves an OLT (community vsol_v1600d) and writes an
// inventory of it and of a device that never answers (no agent has its
// community), and a configuration beside it whose state is in DIR/state;
// it returns the inventory and the configuration.
func gatherSetup(t *testing.T) (*inventory.Inventory, *config.Config) {
	t.Helper()
	_, addr := simulatortest.Serve(t, "vsol_v1600d")
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"inventory/devices.csv": "id,site,address,credentials\nolt,s1," + addr + ",community:vsol_v1600d\n" +
			"dead,s1," + addr + ",community:nobody\n",
		"controller.yaml": "inventory: inventory\npoll:\n  interval: 1s\n  timeout: 100ms\n  retries: 0\nmqtt:\n  embedded: true\n" +
			"state_dir: " + filepath.Join(dir, "state") + "\n",
	})
	cfg, err := config.LoadWith(filepath.Join(dir, "controller.yaml"), config.LoadOptions{NoHost: true})
	if err != nil {
		t.Fatal(err)
	}
	return cfg.LoadedInventory(), cfg
}

// Polled, the OLT is up with its evidence and the other device down; the
// progress counts both; the source says how many answered.
func TestGatherPoll(t *testing.T) {
	inv, cfg := gatherSetup(t)
	for _, c := range []*config.Config{nil, cfg} {
		var last [2]int
		calls := 0
		devs, source, err := Gather(context.Background(), inv, c, GatherOptions{Poll: true,
			Progress: func(done, down int) { last, calls = [2]int{done, down}, calls+1 }})
		if err != nil {
			t.Fatal(err)
		}
		if len(devs) != 2 || devs[0].State != coverage.StateUp || devs[0].Evidence == nil || devs[0].PolledAt.IsZero() ||
			devs[1].State != coverage.StateDown || devs[1].Evidence != nil || devs[1].Since.IsZero() {
			t.Errorf("config %v: statuses %+v", c != nil, devs)
		}
		if calls != 2 || last != [2]int{2, 1} {
			t.Errorf("config %v: progress called %d times, last %v", c != nil, calls, last)
		}
		if !strings.HasPrefix(source, "1 of 2 devices answered a poll at ") {
			t.Errorf("source %q", source)
		}
	}
}

// Without a poll: no configuration, or no snapshot in its state_dir, is
// no evidence; the controller's snapshot gives the states it knows; a
// damaged one is an error naming it, left as it was.
func TestGatherSnapshot(t *testing.T) {
	inv, cfg := gatherSetup(t)
	for _, c := range []*config.Config{nil, cfg} {
		devs, source, err := Gather(context.Background(), inv, c, GatherOptions{})
		if err != nil || len(devs) != 2 || devs[0].State != "" || !strings.HasPrefix(source, "none: ") {
			t.Errorf("config %v: %+v, %q, %v", c != nil, devs, source, err)
		}
	}

	// The running controller polls the OLT only, and saves its snapshot.
	if err := os.MkdirAll(cfg.StateDir, 0o755); err != nil {
		t.Fatal(err)
	}
	all, err := cfg.Devices()
	if err != nil {
		t.Fatal(err)
	}
	polled := make(chan struct{}, 1)
	p, err := poller.New(poller.Options{SnapshotPath: cfg.StatePath(config.DevicesSnapshotFile),
		Observer: func(*poller.Poll) {
			select {
			case polled <- struct{}{}:
			default:
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.SetDevices(all[:1]); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	select {
	case <-polled:
	case <-time.After(time.Minute):
		t.Fatal("no poll within a minute")
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	devs, source, err := Gather(context.Background(), inv, cfg, GatherOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if devs[0].State != coverage.StateUp || devs[0].Evidence == nil || devs[1].State != "" {
		t.Errorf("statuses %+v: want the OLT up, the other unknown", devs)
	}
	if want := "the controller's device snapshot " + cfg.StatePath(config.DevicesSnapshotFile) + " (1 of 2 devices known)"; source != want {
		t.Errorf("source %q, want %q", source, want)
	}

	snap := cfg.StatePath(config.DevicesSnapshotFile)
	if err := os.WriteFile(snap, []byte("not a snapshot at all"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, _, err = Gather(context.Background(), inv, cfg, GatherOptions{})
	if err == nil || !strings.Contains(err.Error(), "device snapshot cannot be read: poller: snapshot unreadable: "+snap+": ") {
		t.Errorf("damaged: %v", err)
	}
	if b, _ := os.ReadFile(snap); string(b) != "not a snapshot at all" {
		t.Errorf("the damaged snapshot was touched: %q", b)
	}
}

// Named credentials are polled only with a configuration, and only for
// devices of the configuration's own inventory at the same address.
func TestGatherNamedCredentials(t *testing.T) {
	_, addr := simulatortest.Serve(t, "vsol_v1600d")
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"community":             "vsol_v1600d\n",
		"inventory/devices.csv": "id,site,address,credentials\nolt,s1," + addr + ",v2\n",
		"same/devices.csv":      "id,site,address,credentials\nolt,s1," + addr + ",v2\n",
		"moved/devices.csv":     "id,site,address,credentials\nolt,s1,127.0.0.2:161,v2\n",
		"controller.yaml": "inventory: inventory\ncredentials:\n  v2:\n    version: 2c\n    community_file: " +
			filepath.Join(dir, "community") + "\nmqtt:\n  embedded: true\nstate_dir: " + filepath.Join(dir, "state") + "\n",
	})
	for _, tc := range []struct{ inventory, want string }{
		{"", ""},
		{"same", ""},
		{"moved", `moved/devices.csv:2: device olt: credentials "v2": not a device of the configuration's inventory`},
	} {
		o := config.LoadOptions{NoHost: true}
		if tc.inventory != "" {
			o.Inventory = filepath.Join(dir, tc.inventory)
		}
		cfg, err := config.LoadWith(filepath.Join(dir, "controller.yaml"), o)
		if err != nil {
			t.Fatal(err)
		}
		devs, _, err := Gather(context.Background(), cfg.LoadedInventory(), cfg, GatherOptions{Poll: true})
		switch {
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%q: %v, want %q", tc.inventory, err, tc.want)
		case tc.want == "" && (err != nil || devs[0].State != coverage.StateUp):
			t.Errorf("%q: %+v, %v: want the OLT polled up with the configuration's community", tc.inventory, devs, err)
		}
	}
	inv, err := inventory.Load(filepath.Join(dir, "same"), inventory.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := Gather(context.Background(), inv, nil, GatherOptions{Poll: true}); err == nil ||
		!strings.Contains(err.Error(), `devices.csv:2: device olt: credentials "v2": named credentials need --config`) {
		t.Errorf("without a configuration: %v", err)
	}
}
