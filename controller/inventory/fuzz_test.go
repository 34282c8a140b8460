package inventory

import (
	"os"
	"path/filepath"
	"sort"
	"testing"
)

// fuzzFiles are the files FuzzLoad replaces, one at a time.
var fuzzFiles = func() []string {
	var names []string
	for n := range goodFiles() {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}()

// FuzzLoad writes the good folder with one of its files replaced by the
// input: Load never panics, returns either an inventory or an error, and an
// inventory it returns holds together.
func FuzzLoad(f *testing.F) {
	for i, name := range fuzzFiles {
		f.Add(uint8(i), []byte(goodFiles()[name]))
	}
	f.Add(uint8(0), []byte("device,port,village,service\nolt-01,0,x,data\n"))
	f.Add(uint8(4), []byte("\ufeffcode,name,parent,level,population,households,lat,lon\n1,a,2,village,,,1,1\n2,b,1,village,,,1,1\n"))
	f.Add(uint8(4), []byte("code,name,parent,level,population,households,lat,lon,priority\n1,a,,county,,,,,\n2,b,1,province,,,,,\n3,c,2,village,1,1,91,0,x\n"))
	f.Add(uint8(3), []byte("village,service,class,reason,until\n522633101201,data,x,y,2026-02-30\n"))
	f.Fuzz(func(t *testing.T, which uint8, data []byte) {
		files := goodFiles()
		dir := t.TempDir()
		for name, s := range files {
			if name == fuzzFiles[int(which)%len(fuzzFiles)] {
				s = string(data)
			}
			if err := os.WriteFile(filepath.Join(dir, name), []byte(s), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		inv, err := Load(dir, Options{Credentials: testCreds})
		if (inv == nil) == (err == nil) {
			t.Fatalf("inventory %v and error %v", inv, err)
		}
		if inv != nil {
			checkInventory(t, inv)
		}
	})
}

// checkInventory fails unless every index of inv points where it should.
func checkInventory(t *testing.T, inv *Inventory) {
	t.Helper()
	nChildren := 0
	for i, g := range inv.Regions {
		if j, ok := inv.Region(g.Code); !ok || j != int32(i) || g.Index != int32(i) || g.Level < LevelProvince || g.Level > LevelVillage {
			t.Fatalf("region %d: %+v", i, g)
		}
		if g.Parent == "" {
			if g.ParentIx != -1 {
				t.Fatalf("root %q has parent %d", g.Code, g.ParentIx)
			}
		} else if p := inv.Regions[g.ParentIx]; p.Code != g.Parent || p.Level >= g.Level {
			t.Fatalf("region %q: parent %+v", g.Code, p)
		}
		if g.Level == LevelVillage && (!g.HasPos || len(g.Children) > 0) {
			t.Fatalf("village %+v", g)
		}
		for _, c := range g.Children {
			if inv.Regions[c].ParentIx != int32(i) {
				t.Fatalf("region %q: child %d", g.Code, c)
			}
		}
		nChildren += len(g.Children)
		if g.Lat < -90 || g.Lat > 90 || g.Lon < -180 || g.Lon > 180 || g.Population < 0 || g.Households < 0 {
			t.Fatalf("region %+v", g)
		}
	}
	roots := 0
	for _, g := range inv.Regions {
		if g.ParentIx < 0 {
			roots++
		}
	}
	if nChildren+roots != len(inv.Regions) {
		t.Fatalf("%d children and %d roots for %d regions", nChildren, roots, len(inv.Regions))
	}
	for _, v := range inv.Villages() {
		if inv.Regions[v].Level != LevelVillage {
			t.Fatalf("Villages holds %+v", inv.Regions[v])
		}
	}
	for i, s := range inv.Sites {
		if j, ok := inv.Site(s.ID); !ok || j != int32(i) || inv.Regions[s.RegionIx].Code != s.Region {
			t.Fatalf("site %+v", s)
		}
	}
	for i, d := range inv.Devices {
		if j, ok := inv.Device(d.ID); !ok || j != int32(i) || d.Network == "" || (d.Credentials == "") == (d.Community() == "") {
			t.Fatalf("device %+v", d)
		}
		if _, ok := inv.Site(d.Site); inv.Sites != nil && !ok {
			t.Fatalf("device %q: site %q", d.ID, d.Site)
		}
	}
	isVillage := func(ix int32, code string) bool {
		g := inv.Regions[ix]
		return g.Code == code && g.Level == LevelVillage
	}
	for _, a := range inv.ServiceAreas {
		if inv.Devices[a.DeviceIx].ID != a.Device || !isVillage(a.VillageIx, a.Village) || a.Port == "" || a.Service == "" {
			t.Fatalf("service area %+v", a)
		}
	}
	for _, d := range inv.Declared {
		if !isVillage(d.VillageIx, d.Village) || d.Technology == "" || d.DownMbps < 0 || d.UpMbps < 0 || d.Service == "" {
			t.Fatalf("declared %+v", d)
		}
	}
	for _, o := range inv.Overrides {
		if !isVillage(o.VillageIx, o.Village) || o.Class == "" || o.Service == "" {
			t.Fatalf("override %+v", o)
		}
	}
}
