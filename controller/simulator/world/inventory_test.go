package world

import (
	"path/filepath"
	"testing"

	"github.com/ngic/ngic/controller/inventory"
)

// loaded writes a world and loads its inventory folder.
func loaded(t *testing.T, villages int, seed int64) (*World, string, *inventory.Inventory) {
	t.Helper()
	w, dir := written(t, villages, seed)
	inv, err := inventory.Load(filepath.Join(dir, InventoryDir), inventory.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return w, dir, inv
}

// TestInventoryLoads: the controller's inventory loader accepts the written
// folder whole, and reads back what the world holds: every village with its
// households and position, every device with its inline community and
// network, every service area and declared row.
func TestInventoryLoads(t *testing.T) {
	w, _, inv := loaded(t, 300, 9)
	if !inv.HasRegions() || len(inv.Regions) != len(w.Regions) || len(inv.Sites) != len(w.Sites) ||
		len(inv.Devices) != len(w.Devices) || len(inv.Gateways) != len(w.Gateways) ||
		len(inv.ServiceAreas) != len(w.ServiceAreas) || len(inv.Declared) != len(w.Declared) {
		t.Fatalf("loaded %d regions, %d sites, %d devices, %d gateways, %d service areas, %d declared; world has %d, %d, %d, %d, %d, %d",
			len(inv.Regions), len(inv.Sites), len(inv.Devices), len(inv.Gateways), len(inv.ServiceAreas), len(inv.Declared),
			len(w.Regions), len(w.Sites), len(w.Devices), len(w.Gateways), len(w.ServiceAreas), len(w.Declared))
	}
	villages := inv.Villages()
	if len(villages) != len(w.Villages) {
		t.Fatalf("%d villages loaded, want %d", len(villages), len(w.Villages))
	}
	for i, ix := range villages {
		got, want := inv.Regions[ix], w.Villages[i]
		if got.Code != want.Code || got.Name != want.Name || got.Parent != want.Township || got.Households != want.Households ||
			got.Population != want.Population || !got.HasPos || got.Lat != want.Lat || got.Lon != want.Lon ||
			got.Priority != want.Priority {
			t.Errorf("village %d loaded as %+v, want %+v", i, got, want)
		}
	}
	for i, d := range inv.Devices {
		want := w.Devices[i]
		network := want.Network
		if network == "" {
			network = want.ID
		}
		if d.ID != want.ID || d.Community() != want.ID || d.Credentials != "" || d.Parent != want.Parent || d.Network != network {
			t.Errorf("device %d loaded as %+v (community %q), want %+v", i, d, d.Community(), want)
		}
	}
	for i, a := range inv.ServiceAreas {
		want := w.ServiceAreas[i]
		if a.Device != want.Device || a.Port != want.Port || a.Village != want.Village || string(a.Service) != want.Service {
			t.Errorf("service area %d loaded as %+v, want %+v", i, a, want)
		}
	}
	for i, d := range inv.Declared {
		want := w.Declared[i]
		if d.Village != want.Village || d.Technology != want.Technology || d.DownMbps != want.DownMbps || d.UpMbps != want.UpMbps {
			t.Errorf("declared %d loaded as %+v, want %+v", i, d, want)
		}
	}
}
