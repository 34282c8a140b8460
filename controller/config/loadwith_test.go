package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeInventory writes devices.csv (and an empty gateways.csv) into a new
// folder and returns it.
func writeInventory(t *testing.T, devices string) string {
	t.Helper()
	dir := t.TempDir()
	for name, s := range map[string]string{"devices.csv": devices, "gateways.csv": "gateway,site\n"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// LoadWith another inventory reads that one, not the file's (which may be
// gone), with the file's credentials; FileDevices reads the file's when
// asked.
func TestLoadWithAnotherInventory(t *testing.T) {
	t.Setenv("NGIC_TEST_PRIV", testPriv)
	path := writeSetup(t, goodYAML+"poll:\n  overrides:\n    b:\n      retries: 2\n", goodDevices, goodGateways)
	other := writeInventory(t, "id,site,address,credentials\nx,s9,127.0.0.9:161,v3\ny,s9,127.0.0.10,community:"+testInline+"\n")
	fileInv := filepath.Join(filepath.Dir(path), "inv")
	if err := os.Rename(fileInv, fileInv+".gone"); err != nil {
		t.Fatal(err)
	}
	c, err := LoadWith(path, LoadOptions{Inventory: other})
	if err != nil {
		t.Fatal(err) // poll.overrides names b, a device of the file's inventory only: not an error here
	}
	if inv := c.LoadedInventory(); inv.Dir != other || len(inv.Devices) != 2 {
		t.Fatalf("loaded %s with %d devices, want %s", inv.Dir, len(inv.Devices), other)
	}
	devs, err := c.Devices()
	if err != nil {
		t.Fatal(err)
	}
	if len(devs) != 2 || devs[0].ID != "x" || devs[0].SNMP.V3.AuthPass != testAuth || devs[0].SNMP.Target != "127.0.0.9:161" ||
		devs[1].SNMP.Community != testInline {
		t.Fatalf("devices %+v: want x with the file's v3 credentials, y with its own community", devs)
	}
	if _, err := c.FileDevices(); err == nil || !strings.Contains(err.Error(), filepath.Join(fileInv, "devices.csv")) {
		t.Fatalf("FileDevices with the file's inventory gone: %v", err)
	}
	if err := os.Rename(fileInv+".gone", fileInv); err != nil {
		t.Fatal(err)
	}
	fdevs, err := c.FileDevices()
	if err != nil {
		t.Fatal(err)
	}
	if len(fdevs) != 3 || fdevs[0].ID != "a" || fdevs[0].SNMP.Community != testCommunity || fdevs[1].SNMP.Retries != 2 {
		t.Fatalf("the file's devices %+v: want a, b (retries 2 by override), c", fdevs)
	}
	// Without another inventory, FileDevices is Devices, and the
	// override of a device the inventory lacks is an error.
	c, err = LoadWith(path, LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if fdevs, err := c.FileDevices(); err != nil || len(fdevs) != 3 {
		t.Fatalf("FileDevices: %d, %v", len(fdevs), err)
	}
	path = writeSetup(t, goodYAML+"poll:\n  overrides:\n    x:\n      retries: 2\n", goodDevices, goodGateways)
	if _, err := LoadWith(path, LoadOptions{}); err == nil || !strings.Contains(err.Error(), `poll.overrides.x: device "x" is not in`) {
		t.Errorf("override of an unknown device: %v", err)
	}
	if _, err := LoadWith(path, LoadOptions{Inventory: other}); err != nil {
		t.Errorf("override of a device of the other inventory: %v", err)
	}
}

// The other inventory's credentials must name the file's: an unknown one
// is named by the other inventory's file, line and column, as is any
// other error of that inventory.
func TestLoadWithAnotherInventoryErrors(t *testing.T) {
	t.Setenv("NGIC_TEST_PRIV", testPriv)
	path := writeSetup(t, goodYAML, goodDevices, goodGateways)
	for _, tc := range []struct{ name, devices, want string }{
		{"unknown credentials", "id,site,address,credentials\nx,s,127.0.0.1,v2\ny,s,127.0.0.2,v9\n", "devices.csv:3:15: credentials: "},
		{"bad address", "id,site,address,credentials\nx,s,127.0.0.1:99999,v2\n", "devices.csv:2:5: address: "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			other := writeInventory(t, tc.devices)
			_, err := LoadWith(path, LoadOptions{Inventory: other})
			if err == nil || !strings.Contains(err.Error(), filepath.Join(other, tc.want)) {
				t.Fatalf("error %v: want %s", err, filepath.Join(other, tc.want))
			}
			assertNoSecret(t, err.Error())
		})
	}
	if _, err := LoadWith(path, LoadOptions{Inventory: filepath.Join(t.TempDir(), "none")}); err == nil ||
		!strings.Contains(err.Error(), "devices.csv") {
		t.Errorf("a missing inventory: %v", err)
	}
}

// NoHost leaves the broker's password file unread, as LoadNoHost does.
func TestLoadWithNoHost(t *testing.T) {
	t.Setenv("NGIC_TEST_PRIV", testPriv)
	path := writeSetup(t, strings.Replace(goodYAML, "  embedded: true\n", "  broker: tcp://127.0.0.1:1883\n  username: u\n  password_file: DIR/nope\n", 1),
		goodDevices, goodGateways)
	if _, err := LoadWith(path, LoadOptions{}); err == nil || !strings.Contains(err.Error(), "mqtt.password_file") {
		t.Errorf("Load: %v, want the password file named", err)
	}
	if _, err := LoadWith(path, LoadOptions{NoHost: true}); err != nil {
		t.Errorf("NoHost: %v", err)
	}
	if _, err := LoadNoHost(path); err != nil {
		t.Errorf("LoadNoHost: %v", err)
	}
}

// StatePath names the daemon's files in state_dir.
func TestStatePath(t *testing.T) {
	c := &Config{StateDir: "/var/lib/ngic-controller"}
	if got := c.StatePath(DevicesSnapshotFile); got != "/var/lib/ngic-controller/devices.snapshot" {
		t.Errorf("snapshot at %s", got)
	}
	if got := c.StatePath(CoverageDir); got != "/var/lib/ngic-controller/coverage" {
		t.Errorf("coverage at %s", got)
	}
}
