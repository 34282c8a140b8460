package inventory

import (
	"runtime"
	"testing"

	"github.com/ngic/ngic/controller/inventory/inventorytest"
)

// TestWriteNational: the generated national inventory loads whole, with
// the branching and the rows WriteNational promises.
func TestWriteNational(t *testing.T) {
	const villages = 5000
	dir := t.TempDir()
	if err := inventorytest.WriteNational(dir, villages); err != nil {
		t.Fatal(err)
	}
	inv, err := Load(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	checkInventory(t, inv)
	count := map[Level]int{}
	priority := 0
	for _, g := range inv.Regions {
		count[g.Level]++
		if g.Level == LevelVillage {
			if g.Households < 50 || g.Households > 3000 {
				t.Fatalf("village %+v", g)
			}
			if g.Priority {
				priority++
			}
		}
	}
	if count[LevelVillage] != villages || count[LevelTownship] != 295 || count[LevelCounty] != 22 || count[LevelPrefecture] != 3 || count[LevelProvince] != 1 {
		t.Fatalf("levels: %v", count)
	}
	if priority == 0 || priority == villages {
		t.Fatalf("%d priority villages", priority)
	}
	// Households add up to the root.
	var sum int64
	for _, v := range inv.Villages() {
		sum += inv.Regions[v].Households
	}
	if root := inv.Regions[0]; root.Households != sum || root.Code != "110000000000" {
		t.Fatalf("root %+v, villages' households %d", root, sum)
	}
	if len(inv.Sites) != 358 || len(inv.Devices) != 1429 || len(inv.ServiceAreas) < villages*13/10 || len(inv.ServiceAreas) > villages*16/10 ||
		len(inv.Declared) != 125 || len(inv.Overrides) != 5 {
		t.Fatalf("%d sites, %d devices, %d service areas, %d declared, %d overrides",
			len(inv.Sites), len(inv.Devices), len(inv.ServiceAreas), len(inv.Declared), len(inv.Overrides))
	}
	if d := inv.Devices[3]; d.Parent != "dev-000002" || d.Address != inventorytest.DeviceAddress || d.Community() != inventorytest.Communities[3] {
		t.Fatalf("device %+v", d)
	}
	if err := inventorytest.WriteNational(dir, 0); err == nil {
		t.Fatal("0 villages accepted")
	}
}

// BenchmarkLoadNational loads a national inventory of 700,000 villages
// (about 745,000 regions, 50,000 sites, 200,000 devices, 1,000,000 service
// areas) and reports the heap it holds.
func BenchmarkLoadNational(b *testing.B) {
	dir := b.TempDir()
	if err := inventorytest.WriteNational(dir, 700_000); err != nil {
		b.Fatal(err)
	}
	var before, after runtime.MemStats
	var inv *Inventory
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		b.StopTimer()
		inv = nil
		runtime.GC()
		runtime.ReadMemStats(&before)
		b.StartTimer()
		var err error
		if inv, err = Load(dir, Options{}); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	runtime.GC()
	runtime.ReadMemStats(&after)
	b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/(1<<20), "heap-MB")
	b.ReportMetric(float64(len(inv.Regions)), "regions")
	b.ReportMetric(float64(len(inv.ServiceAreas)), "service-areas")
	runtime.KeepAlive(inv)
}
