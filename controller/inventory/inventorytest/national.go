// Package inventorytest writes inventory folders for tests and benchmarks
// of the packages that read one.
package inventorytest

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
)

// MaxVillages bounds WriteNational's villages (the codes keep 12 digits).
const MaxVillages = 5_000_000

// Branching of the generated tree, as in a national inventory of 700,000
// villages: about 17 villages a township, 14 townships a county, 9 counties
// a prefecture, 11 prefectures a province, at most 34 provinces.
const (
	villagesPerTownship    = 17
	townshipsPerCounty     = 14
	countiesPerPrefecture  = 9
	prefecturesPerProvince = 11
	maxProvinces           = 34
)

// Communities are the SNMP communities of the generated devices: names of
// recordings, as `ngic-controller simulate --recordings` serves them.
var Communities = []string{"huawei_ma5603t", "zte_c320", "vsol_v1600d", "arris_c4-cmts", "zyxel_ies-5106",
	"teldat_tv-base-vdsl2-adsl", "protelevision_dvb-t-transmitter", "wisi_tangram"}

// DeviceAddress is the address of every generated device.
const DeviceAddress = "127.0.0.1:16100"

// WriteNational writes a generated national inventory into dir: regions.csv
// (provinces > prefectures > counties > townships > villages, with
// households 50..3000 per village, the figures above summed, and priority
// counties), sites.csv (one site per 14 villages), devices.csv (two devices
// per 7 villages, all at DeviceAddress with community:NAME from
// Communities), service_areas.csv (each village data, and voice and video
// for some: about 1.45 rows a village), declared.csv (one village in 40)
// and overrides.csv (one village in 1,000). The same villages always give
// the same files.
func WriteNational(dir string, villages int) error {
	if villages < 1 || villages > MaxVillages {
		return fmt.Errorf("inventorytest: %d villages: want 1..%d", villages, MaxVillages)
	}
	g := newNation(villages)
	for _, f := range []struct {
		name  string
		write func(w *bufio.Writer)
	}{
		{"regions.csv", g.writeRegions},
		{"sites.csv", g.writeSites},
		{"devices.csv", g.writeDevices},
		{"service_areas.csv", g.writeServiceAreas},
		{"declared.csv", g.writeDeclared},
		{"overrides.csv", g.writeOverrides},
	} {
		if err := writeFile(filepath.Join(dir, f.name), f.write); err != nil {
			return fmt.Errorf("inventorytest: %w", err)
		}
	}
	return nil
}

// writeFile writes the file at path through a buffer.
func writeFile(path string, write func(w *bufio.Writer)) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	write(w)
	return errors.Join(w.Flush(), f.Close())
}

// nation is the generated tree: the number of regions at each level, and
// the households of each village (summed upwards).
type nation struct {
	// n[l] is the number of regions of level l (0 province .. 4 village).
	n [5]int
	// households[l][i] and priority of county i.
	households [5][]int64
	sites      int
	devices    int
}

func newNation(villages int) *nation {
	g := &nation{}
	g.n[4] = villages
	g.n[3] = ceilDiv(villages, villagesPerTownship)
	g.n[2] = ceilDiv(g.n[3], townshipsPerCounty)
	g.n[1] = ceilDiv(g.n[2], countiesPerPrefecture)
	g.n[0] = min(ceilDiv(g.n[1], prefecturesPerProvince), maxProvinces)
	g.sites = ceilDiv(villages, 14)
	g.devices = ceilDiv(villages*2, 7)
	for l := range g.n {
		g.households[l] = make([]int64, g.n[l])
	}
	for v := 0; v < villages; v++ {
		h := 50 + int64(mix(uint64(v))%2951)
		i := v
		for l := 4; l >= 0; l-- {
			g.households[l][i] += h
			if l > 0 {
				i = g.parent(l, i)
			}
		}
	}
	return g
}

// parent returns the index of the parent (level l-1) of region i of level
// l: the children of a level are spread evenly over its parents, in order.
func (g *nation) parent(l, i int) int { return int(int64(i) * int64(g.n[l-1]) / int64(g.n[l])) }

// firstChild returns the index of the first child of region p of level l.
func (g *nation) firstChild(l, p int) int {
	return int((int64(p)*int64(g.n[l+1]) + int64(g.n[l]) - 1) / int64(g.n[l]))
}

// code returns the 12-digit code of region i of level l: province 2
// digits, prefecture 2, county 2, township 3, village 3.
func (g *nation) code(b []byte, l, i int) []byte {
	var part [5]int
	for k := l; k >= 0; k-- {
		p := i
		if k > 0 {
			p = g.parent(k, i)
			part[k] = i - g.firstChild(k-1, p) + 1
		} else {
			part[k] = i + 11
		}
		i = p
	}
	widths := [5]int{2, 2, 2, 3, 3}
	for k, w := range widths {
		v := 0
		if k <= l {
			v = part[k]
		}
		b = appendPadded(b, v, w)
	}
	return b
}

func appendPadded(b []byte, v, width int) []byte {
	s := strconv.Itoa(v)
	for i := len(s); i < width; i++ {
		b = append(b, '0')
	}
	return append(b, s...)
}

// syllables make the generated names (Chinese, to exercise UTF-8).
var syllables = []rune("安白宝北昌城大德东丰福高广河和华吉江金靖乐临龙隆平青庆仁山石松太通新兴阳永远云长正中")

var suffixes = [5]string{"省", "市", "县", "镇", "村"}

func (g *nation) name(b []byte, l, i int) []byte {
	x := mix(uint64(i)<<3 | uint64(l))
	n := uint64(len(syllables))
	b = append(b, string(syllables[x%n])...)
	b = append(b, string(syllables[x/n%n])...)
	if l >= 3 {
		b = strconv.AppendInt(b, int64(i%1000), 10)
	}
	return append(b, suffixes[l]...)
}

// priority reports whether region i of level l is in a priority county
// (one county in 7).
func (g *nation) priority(l, i int) bool {
	if l < 2 {
		return false
	}
	for ; l > 2; l-- {
		i = g.parent(l, i)
	}
	return mix(uint64(i)^0x5bd1e995)%7 == 0
}

// position returns the degrees of region i of level l: each township's
// villages near its centre.
func (g *nation) position(l, i int) (lat, lon float64) {
	t := i
	if l == 4 {
		t = g.parent(4, i)
	}
	x := mix(uint64(t) ^ 0x9e3779b97f4a7c15)
	lat = 21 + float64(x%20000)/1000       // 21..41
	lon = 98 + float64(x/20000%30000)/1000 // 98..128
	if l == 4 {
		y := mix(uint64(i))
		lat += float64(y%200)/10000 - 0.01
		lon += float64(y/200%200)/10000 - 0.01
	}
	return lat, lon
}

var levels = [5]string{"province", "prefecture", "county", "township", "village"}

func (g *nation) writeRegions(w *bufio.Writer) {
	w.WriteString("code,name,parent,level,population,households,lat,lon,priority\n")
	var b []byte
	for l := 0; l < 5; l++ {
		for i := 0; i < g.n[l]; i++ {
			b = g.code(b[:0], l, i)
			b = append(b, ',')
			b = g.name(b, l, i)
			b = append(b, ',')
			if l > 0 {
				b = g.code(b, l-1, g.parent(l, i))
			}
			b = append(b, ',')
			b = append(b, levels[l]...)
			h := g.households[l][i]
			b = append(b, ',')
			b = strconv.AppendInt(b, h*(25+int64(mix(uint64(i))%15))/10, 10)
			b = append(b, ',')
			b = strconv.AppendInt(b, h, 10)
			b = append(b, ',')
			if l != 3 { // townships without a position, as allowed
				lat, lon := g.position(l, i)
				b = strconv.AppendFloat(b, lat, 'f', 4, 64)
				b = append(b, ',')
				b = strconv.AppendFloat(b, lon, 'f', 4, 64)
			} else {
				b = append(b, ',')
			}
			b = append(b, ',')
			if g.priority(l, i) {
				b = append(b, '1')
			}
			b = append(b, '\n')
			w.Write(b)
		}
	}
}

var siteKinds = []string{"central office", "cabinet", "cabinet", "village telecom room", "headend", "transmitter"}

// siteTownship returns the township of site s.
func (g *nation) siteTownship(s int) int { return int(int64(s) * int64(g.n[3]) / int64(g.sites)) }

func (g *nation) writeSites(w *bufio.Writer) {
	w.WriteString("id,name,region,lat,lon,kind\n")
	var b []byte
	for s := 0; s < g.sites; s++ {
		t := g.siteTownship(s)
		b = append(b[:0], "site-"...)
		b = appendPadded(b, s, 6)
		b = append(b, ',')
		b = g.name(b, 3, t)
		b = append(b, "站,"...)
		b = g.code(b, 3, t)
		lat, lon := g.position(4, g.firstChild(3, t))
		b = append(b, ',')
		b = strconv.AppendFloat(b, lat, 'f', 4, 64)
		b = append(b, ',')
		b = strconv.AppendFloat(b, lon, 'f', 4, 64)
		b = append(b, ',')
		b = append(b, siteKinds[s%len(siteKinds)]...)
		b = append(b, '\n')
		w.Write(b)
	}
}

// deviceName returns the id of device d.
func deviceName(b []byte, d int) []byte {
	b = append(b, "dev-"...)
	return appendPadded(b, d, 6)
}

func (g *nation) writeDevices(w *bufio.Writer) {
	w.WriteString("id,site,address,credentials,parent,network\n")
	var b []byte
	for d := 0; d < g.devices; d++ {
		b = deviceName(b[:0], d)
		b = append(b, ",site-"...)
		b = appendPadded(b, int(int64(d)*int64(g.sites)/int64(g.devices)), 6)
		b = append(b, ","+DeviceAddress+",community:"...)
		b = append(b, Communities[d%len(Communities)]...)
		b = append(b, ',')
		if d%4 == 3 { // a DSLAM behind the OLT before it
			b = deviceName(b, d-1)
		}
		b = append(b, ",\n"...)
		w.Write(b)
	}
}

// villageDevice returns the device that serves village v.
func (g *nation) villageDevice(v int) int { return int(int64(v) * int64(g.devices) / int64(g.n[4])) }

func (g *nation) writeServiceAreas(w *bufio.Writer) {
	w.WriteString("device,port,village,service\n")
	var b []byte
	row := func(d, v int, port, service string) {
		b = deviceName(b[:0], d)
		b = append(b, ',')
		if port == "" {
			b = strconv.AppendInt(b, int64(1+v%48), 10)
		} else {
			b = append(b, port...)
		}
		b = append(b, ',')
		b = g.code(b, 4, v)
		b = append(b, ',')
		b = append(b, service...)
		b = append(b, '\n')
		w.Write(b)
	}
	for v := 0; v < g.n[4]; v++ {
		d, x := g.villageDevice(v), mix(uint64(v)^0xabcdef)
		switch v % 3 {
		case 0:
			row(d, v, "*", "data")
		case 1:
			row(d, v, "", "data")
		default:
			row(d, v, "gpon0/1/"+strconv.Itoa(v%16), "data")
		}
		if x%4 == 0 {
			row(d, v, "*", "voice")
		}
		if x/4%5 == 0 {
			row(d-d%50, v, "*", "video")
		}
	}
}

var technologies = []string{"fixed-wireless", "4g", "5g", "satellite"}

func (g *nation) writeDeclared(w *bufio.Writer) {
	w.WriteString("village,service,technology,down_mbps,up_mbps,source\n")
	g.everyVillage(w, 7, 40, func(b []byte, v int) []byte {
		b = append(b, ",data,"...)
		b = append(b, technologies[v%len(technologies)]...)
		b = append(b, ',')
		b = strconv.AppendInt(b, int64(10+v%90), 10)
		return append(b, ",5.5,provider filing 2026\n"...)
	})
}

func (g *nation) writeOverrides(w *bufio.Writer) {
	w.WriteString("village,service,class,reason,until\n")
	g.everyVillage(w, 11, 1000, func(b []byte, v int) []byte {
		return append(b, ",data,unserved,field check,2027-06-30\n"...)
	})
}

// everyVillage writes a row for every step-th village from the first: its
// code, then what rest appends.
func (g *nation) everyVillage(w *bufio.Writer, first, step int, rest func(b []byte, v int) []byte) {
	var b []byte
	for v := first; v < g.n[4]; v += step {
		b = rest(g.code(b[:0], 4, v), v)
		w.Write(b)
	}
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }

// mix is a deterministic hash of x (splitmix64's finaliser).
func mix(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	return x ^ x>>31
}
