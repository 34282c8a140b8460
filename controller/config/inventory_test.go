package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestLoadInventoryFolder: gateways.csv is optional, and the coverage files
// of the inventory folder are read and checked with the configuration.
func TestLoadInventoryFolder(t *testing.T) {
	t.Setenv("NGIC_TEST_PRIV", testPriv)
	path := writeSetup(t, goodYAML, goodDevices, goodGateways)
	inv := filepath.Join(filepath.Dir(path), "inv")
	if err := os.Remove(filepath.Join(inv, "gateways.csv")); err != nil {
		t.Fatal(err)
	}
	c, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := c.LoadedInventory(); len(got.Gateways) != 0 || len(got.Devices) != 3 || got.HasRegions() {
		t.Fatalf("inventory: %+v", got)
	}
	var d *Device = &c.LoadedInventory().Devices[2]
	if d.Community() != testInline || d.Network != "c" {
		t.Fatalf("device %s: network %q", d.ID, d.Network)
	}

	files := map[string]string{
		"regions.csv": "code,name,parent,level,population,households,lat,lon\nr1,Region,,county,,,,\nv1,Village,r1,village,100,30,25.1,108.2\n",
		"sites.csv":   "id,name,region,lat,lon,kind\ns1,Site,v1,25.1,108.2,cabinet\n",
	}
	for name, s := range files {
		if err := os.WriteFile(filepath.Join(inv, name), []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	// Devices a and b stand at s1, which sites.csv holds; c at s2, which it
	// does not.
	_, err = Load(path)
	if err == nil || !strings.Contains(err.Error(), "devices.csv:4:3: site: site \"s2\" is not in sites.csv") ||
		strings.Contains(err.Error(), "devices.csv:2:") || strings.Contains(err.Error(), "devices.csv:3:") {
		t.Fatalf("device on an unknown site: %v", err)
	}
	assertNoSecret(t, err.Error())
	if err := os.WriteFile(filepath.Join(inv, "sites.csv"), []byte(files["sites.csv"]+"s2,Site 2,r1,25,108,cabinet\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if c, err = Load(path); err != nil {
		t.Fatal(err)
	}
	if got := c.LoadedInventory(); !got.HasRegions() || len(got.Villages()) != 1 || len(got.Sites) != 2 {
		t.Fatalf("inventory: %+v", got)
	}
}
