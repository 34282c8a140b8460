package inventory

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// A folder with every file. regions.csv has a BOM and CRLF line ends, as a
// spreadsheet writes it, and Chinese names.
const (
	goodRegions = "\ufeffcode,name,parent,level,population,households,lat,lon,priority\r\n" +
		"# the province\r\n" +
		"520000000000,贵州省,,province,38560000,12000000,,,\r\n" + // line 3
		"522600000000,黔东南苗族侗族自治州,520000000000,prefecture,,,26.58,107.98,\r\n" + // 4
		"522633000000,从江县,522600000000,county,,,,,yes\r\n" + // 5
		"522633101000,丙妹镇,522633000000,township,,,,,\r\n" + // 6
		"522633101201,岜沙村,522633101000,village,2300,540,25.7486,108.8806,1\r\n" + // 7
		"\"522633101202\",\"高增村, 上寨\",522633101000,village,1800,410,25.76,108.91,no\r\n" + // 8
		"522634000000,雷山县,522600000000,county,,,,,\r\n" + // 9
		"522634100201,西江村,522634000000,village,5000,1250,26.49,108.17,\r\n" // 10: a county's village (no township)
	goodSites = "id,name,region,lat,lon,kind\n" +
		"exchange-north,从江局,522633000000,25.74,108.90,central office\n" +
		"cabinet-0142,岜沙机柜,522633101201,25.7490,108.8810,cabinet\n" +
		"headend-east,雷山前端,522634000000,26.38,108.07,headend\n"
	goodDevices = "id,site,address,credentials,parent,network\n" +
		"olt-01,exchange-north,127.0.0.1:1161,v2,,pon-north\n" +
		"dslam-07,cabinet-0142,127.0.0.1:1163,community:S3CRET,olt-01,\n" +
		"headend-01,headend-east,127.0.0.1:1164,v3,,\n"
	goodGateways = "gateway,site\ng1,cabinet-0142\n"
	goodAreas    = "device,port,village,service\n" +
		"olt-01,*,522633101201,data\n" +
		"dslam-07,12,522633101201,voice\n" +
		"dslam-07,ethernet1/0/3,522633101202,data\n" +
		"headend-01,*,522634100201,video\n"
	goodDeclared = "village,service,technology,down_mbps,up_mbps,source\n" +
		"522633101202,data,Fixed-Wireless,30,5.5,provider filing 2026\n" +
		"522634100201,data,4G,,,\n"
	goodOverrides = "village,service,class,reason,until\n" +
		"522633101202,data,unserved,field check 2026-11-02,2026-12-31\n" +
		"522634100201,video,analogue,challenge,2027-01-15T08:00:00+08:00\n" +
		"522633101201,voice,served,,\n"
)

// writeFolder writes the files into a new folder and returns it.
func writeFolder(t testing.TB, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, s := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// goodFiles returns the good folder's files, to change one of them.
func goodFiles() map[string]string {
	return map[string]string{
		"regions.csv": goodRegions, "sites.csv": goodSites, "devices.csv": goodDevices, "gateways.csv": goodGateways,
		"service_areas.csv": goodAreas, "declared.csv": goodDeclared, "overrides.csv": goodOverrides,
	}
}

var testCreds = map[string]string{"v2": "2c", "v3": "3"}

func TestLoadGood(t *testing.T) {
	inv, err := Load(writeFolder(t, goodFiles()), Options{Credentials: testCreds})
	if err != nil {
		t.Fatal(err)
	}
	checkInventory(t, inv)
	if !inv.HasRegions() || len(inv.Regions) != 8 || len(inv.Sites) != 3 || len(inv.Devices) != 3 ||
		len(inv.Gateways) != 1 || len(inv.ServiceAreas) != 4 || len(inv.Declared) != 2 || len(inv.Overrides) != 3 {
		t.Fatalf("counts: %d regions, %d sites, %d devices, %d gateways, %d areas, %d declared, %d overrides",
			len(inv.Regions), len(inv.Sites), len(inv.Devices), len(inv.Gateways), len(inv.ServiceAreas), len(inv.Declared), len(inv.Overrides))
	}
	r := inv.Regions
	// Names round-trip, byte for byte, quoted or not.
	for i, want := range []string{"贵州省", "黔东南苗族侗族自治州", "从江县", "丙妹镇", "岜沙村", "高增村, 上寨", "雷山县", "西江村"} {
		if r[i].Name != want {
			t.Errorf("region %d: name %q, want %q", i, r[i].Name, want)
		}
	}
	if r[0].Code != "520000000000" || r[0].Level != LevelProvince || r[0].ParentIx != -1 || r[0].Population != 38560000 ||
		r[0].Households != 12000000 || r[0].HasPos || r[0].Line != 3 {
		t.Errorf("province: %+v", r[0])
	}
	if !r[2].Priority || r[1].Priority || !r[4].Priority || r[5].Priority {
		t.Errorf("priority: %v %v %v %v", r[2].Priority, r[1].Priority, r[4].Priority, r[5].Priority)
	}
	v := r[4]
	if v.Level != LevelVillage || !v.HasPos || v.Lat != 25.7486 || v.Lon != 108.8806 || v.Households != 540 || v.ParentIx != 3 || v.Index != 4 || v.Line != 7 {
		t.Errorf("village: %+v", v)
	}
	if got := r[1].Children; len(got) != 2 || got[0] != 2 || got[1] != 6 {
		t.Errorf("prefecture's children %v", got)
	}
	if got := r[3].Children; len(got) != 2 || got[0] != 4 || got[1] != 5 {
		t.Errorf("township's children %v", got)
	}
	if r[4].Children != nil || r[7].ParentIx != 6 {
		t.Errorf("village: children %v, parent %d", r[4].Children, r[7].ParentIx)
	}
	if got := inv.Villages(); len(got) != 3 || got[0] != 4 || got[1] != 5 || got[2] != 7 {
		t.Errorf("villages %v", got)
	}
	if i, ok := inv.Region("522633101202"); !ok || i != 5 {
		t.Errorf("Region: %d %v", i, ok)
	}
	if _, ok := inv.Region("nope"); ok {
		t.Error("Region(nope) found")
	}
	if s := inv.Sites[1]; s.Name != "岜沙机柜" || s.RegionIx != 4 || s.Kind != "cabinet" || s.Lat != 25.7490 {
		t.Errorf("site: %+v", s)
	}
	if i, ok := inv.Site("headend-east"); !ok || i != 2 || inv.Sites[0].Kind != "central office" {
		t.Errorf("Site: %d %v", i, ok)
	}
	d := inv.Devices
	if d[0].Network != "pon-north" || d[1].Network != "dslam-07" || d[0].Credentials != "v2" || d[0].Community() != "" ||
		d[1].Community() != "S3CRET" || d[1].Credentials != "" || d[1].Parent != "olt-01" {
		t.Errorf("devices: %+v", d)
	}
	if i, ok := inv.Device("headend-01"); !ok || i != 2 {
		t.Errorf("Device: %d %v", i, ok)
	}
	a := inv.ServiceAreas
	if a[1].DeviceIx != 1 || a[1].VillageIx != 4 || a[1].Port != "12" || a[1].Service != ServiceVoice ||
		a[2].Port != "ethernet1/0/3" || a[3].Service != ServiceVideo || a[3].VillageIx != 7 || a[0].Port != "*" {
		t.Errorf("service areas: %+v", a)
	}
	dc := inv.Declared
	if dc[0].Technology != "fixed-wireless" || dc[0].DownMbps != 30 || dc[0].UpMbps != 5.5 || dc[0].VillageIx != 5 ||
		dc[1].Technology != "4g" || dc[1].DownMbps != 0 || dc[0].Source != "provider filing 2026" {
		t.Errorf("declared: %+v", dc)
	}
	o := inv.Overrides
	endOfYear := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC).Add(-time.Nanosecond)
	if !o[0].Until.Equal(endOfYear) || o[0].Class != "unserved" || o[0].VillageIx != 5 || o[0].Service != ServiceData {
		t.Errorf("override 0: %+v", o[0])
	}
	if !o[1].Until.Equal(time.Date(2027, 1, 15, 0, 0, 0, 0, time.UTC)) || o[1].Class != "analogue" {
		t.Errorf("override 1: %+v", o[1])
	}
	if !o[2].Until.IsZero() || o[2].Reason != "" {
		t.Errorf("override 2: %+v", o[2])
	}
}

// TestLoadOptionalFiles: only devices.csv is required; without
// regions.csv the inventory has no regions, and nil Credentials accept any
// name.
func TestLoadOptionalFiles(t *testing.T) {
	devs := "id,site,address,credentials\na,s,127.0.0.1,anything\n"
	inv, err := Load(writeFolder(t, map[string]string{"devices.csv": devs}), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if inv.HasRegions() || inv.Regions != nil || inv.Villages() != nil || inv.Gateways != nil || len(inv.Devices) != 1 ||
		inv.Devices[0].Credentials != "anything" || inv.Devices[0].Network != "a" {
		t.Fatalf("%+v", inv)
	}
	_, err = Load(writeFolder(t, map[string]string{"devices.csv": devs}), Options{Credentials: map[string]string{}})
	if err == nil || !strings.Contains(err.Error(), "devices.csv:2:15: credentials: not a name of the configuration's credentials (none defined)") {
		t.Fatalf("empty credentials: %v", err)
	}
	_, err = Load(t.TempDir(), Options{})
	if err == nil || !strings.Contains(err.Error(), "inventory: open ") || !strings.Contains(err.Error(), "devices.csv") {
		t.Fatalf("no devices.csv: %v", err)
	}
	// Regions alone, without sites or service areas.
	f := goodFiles()
	delete(f, "sites.csv")
	delete(f, "service_areas.csv")
	delete(f, "declared.csv")
	delete(f, "overrides.csv")
	f["gateways.csv"] = "gateway,site\ng1,anywhere\n" // no sites.csv: a gateway's site is not checked
	inv, err = Load(writeFolder(t, f), Options{Credentials: testCreds})
	if err != nil {
		t.Fatal(err)
	}
	if !inv.HasRegions() || len(inv.Villages()) != 3 || inv.Sites != nil {
		t.Fatalf("%+v", inv)
	}
}

// TestSampleInventory loads deploy/controller/inventory so it never rots.
func TestSampleInventory(t *testing.T) {
	inv, err := Load("../../deploy/controller/inventory", Options{})
	if err != nil {
		t.Fatal(err)
	}
	checkInventory(t, inv)
	if len(inv.Villages()) != 5 || len(inv.Sites) != 4 || len(inv.Devices) != 4 || len(inv.Gateways) != 2 ||
		len(inv.ServiceAreas) != 9 || len(inv.Declared) != 1 || len(inv.Overrides) != 1 {
		t.Fatalf("%d villages, %d sites, %d devices, %d gateways, %d service areas, %d declared, %d overrides",
			len(inv.Villages()), len(inv.Sites), len(inv.Devices), len(inv.Gateways), len(inv.ServiceAreas), len(inv.Declared), len(inv.Overrides))
	}
	// Every village is served with data.
	data := map[int32]bool{}
	for _, a := range inv.ServiceAreas {
		if a.Service == ServiceData {
			data[a.VillageIx] = true
		}
	}
	for _, v := range inv.Villages() {
		if !data[v] {
			t.Errorf("village %s has no data service", inv.Regions[v].Code)
		}
	}
}

func TestLevelAndService(t *testing.T) {
	for l := LevelProvince; l <= LevelVillage; l++ {
		if got, ok := ParseLevel(strings.ToUpper(l.String())); !ok || got != l {
			t.Errorf("ParseLevel(%s) = %v, %v", l, got, ok)
		}
	}
	if _, ok := ParseLevel("hamlet"); ok || Level(0).String() != "level(0)" || Level(6).String() != "level(6)" {
		t.Error("a level that is none")
	}
	for _, s := range []Service{ServiceData, ServiceVoice, ServiceVideo} {
		if got, ok := ParseService(" " + string(s)); ok {
			t.Errorf("ParseService accepts a space: %v", got)
		}
		if got, ok := ParseService(strings.ToUpper(string(s))); !ok || got != s {
			t.Errorf("ParseService(%s) = %v, %v", s, got, ok)
		}
	}
	if _, ok := ParseService("tv"); ok {
		t.Error("tv is a service")
	}
}
