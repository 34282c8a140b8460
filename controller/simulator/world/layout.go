package world

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
)

// gen holds the state of one generation.
type gen struct {
	w   *World
	rng *rand.Rand

	counties  []county
	townships []township
	plans     []plan // per village, in World.Villages order
	zteFirst  bool   // the first county's OLT is ZTE's
}

// county is a county being generated, with its index range of townships.
type county struct {
	region     int // index in World.Regions
	code       string
	lat, lon   float64
	firstTown  int
	towns      int
	olt        string // its OLT's device id
	oltVendor  string // KindOLTHuawei or KindOLTZTE
	centralOff string // its central office's site id
}

// township is a township being generated, with its index range of villages.
type township struct {
	region    int
	county    int
	code      string
	lat, lon  float64
	first, n  int // villages
	cabinet   string
	cabinetIx int
}

// The province and the grid its counties sit on: a county is a cell of
// cellDeg degrees (about 50 km), the grid grows eastwards and southwards
// from the province's north-west corner, a rural upland extent.
const (
	provinceCode = "530000000000"
	provinceName = "云岭省"
	originLat    = 27.5
	originLon    = 99.5
	cellDeg      = 0.45
)

// Name syllables: place names are two of them and a suffix, so that the
// inventory holds non-ASCII names as real ones do.
var syllables = []rune("安宝长大东丰福高广和河红华黄吉佳金景乐立良林龙明南宁平青庆仁山胜石双顺松太田通新兴阳永玉云泽中竹")

// name builds a place name from two syllables and a suffix.
func (g *gen) name(suffix string) string {
	var b strings.Builder
	b.WriteRune(syllables[g.rng.IntN(len(syllables))])
	b.WriteRune(syllables[g.rng.IntN(len(syllables))])
	b.WriteString(suffix)
	return b.String()
}

// countyCode gives the 12-digit code of county i: prefecture 01.., county
// 21..50 within it (codes 01..20 are urban districts).
func countyCode(i int) string {
	return fmt.Sprintf("53%02d%02d000000", 1+i/30, 21+i%30)
}

// layout draws the regions: townships of 8 to 16 villages, counties of 8 to
// 12 townships, until the villages are all placed, with positions on the
// county grid and households per village.
func (g *gen) layout() {
	w := g.w
	n := w.Options.Villages
	w.Regions = append(w.Regions, Region{Code: provinceCode, Name: provinceName, Level: "province"})
	// Townships first, so the county grid can be sized.
	var sizes []int
	for left := n; left > 0; {
		k := min(left, 8+g.rng.IntN(9))
		sizes = append(sizes, k)
		left -= k
	}
	var countySizes []int
	for t := 0; t < len(sizes); {
		k := min(len(sizes)-t, 8+g.rng.IntN(5))
		countySizes = append(countySizes, k)
		t += k
	}
	cols := int(math.Ceil(math.Sqrt(float64(len(countySizes)))))
	w.Villages = make([]Village, 0, n)
	t := 0
	for ci, towns := range countySizes {
		c := county{code: countyCode(ci), firstTown: len(g.townships), towns: towns}
		c.lat = originLat - (float64(ci/cols)+0.5)*cellDeg + g.jitter(cellDeg*0.15)
		c.lon = originLon + (float64(ci%cols)+0.5)*cellDeg + g.jitter(cellDeg*0.15)
		c.region = len(w.Regions)
		w.Regions = append(w.Regions, Region{Code: c.code, Name: g.name("县"), Parent: provinceCode,
			Level: "county", Lat: round6(c.lat), Lon: round6(c.lon)})
		for ti := 0; ti < towns; ti++ {
			g.township(ci, &c, ti, sizes[t])
			t++
		}
		g.counties = append(g.counties, c)
	}
	g.sumRegions()
}

// township adds township ti of county c and its villages.
func (g *gen) township(ci int, c *county, ti, villages int) {
	w := g.w
	tw := township{county: ci, code: c.code[:6] + fmt.Sprintf("%03d000", 100+ti), first: len(w.Villages), n: villages}
	tw.lat = c.lat + g.jitter(cellDeg*0.3)
	tw.lon = c.lon + g.jitter(cellDeg*0.3)
	suffix := "镇"
	if g.rng.IntN(3) == 0 {
		suffix = "乡"
	}
	tw.region = len(w.Regions)
	w.Regions = append(w.Regions, Region{Code: tw.code, Name: g.name(suffix), Parent: c.code,
		Level: "township", Lat: round6(tw.lat), Lon: round6(tw.lon)})
	for vi := 0; vi < villages; vi++ {
		v := Village{Code: tw.code[:9] + fmt.Sprintf("%03d", 200+vi), Name: g.name("村"),
			Township: tw.code, County: c.code}
		v.Lat = round6(tw.lat + g.jitter(0.06))
		v.Lon = round6(tw.lon + g.jitter(0.06))
		v.Households = 60 + int64(math.Min(g.rng.ExpFloat64()*170, 900))
		v.Population = int64(math.Round(float64(v.Households) * (2.8 + 1.4*g.rng.Float64())))
		w.Villages = append(w.Villages, v)
		w.Regions = append(w.Regions, Region{Code: v.Code, Name: v.Name, Parent: tw.code, Level: "village",
			Population: v.Population, Households: v.Households, Lat: v.Lat, Lon: v.Lon})
	}
	g.townships = append(g.townships, tw)
}

// sumRegions gives each region above village level the households and
// population of its villages.
func (g *gen) sumRegions() {
	w := g.w
	for _, tw := range g.townships {
		var h, p int64
		for _, v := range w.Villages[tw.first : tw.first+tw.n] {
			h += v.Households
			p += v.Population
		}
		w.Regions[tw.region].Households, w.Regions[tw.region].Population = h, p
		c := g.counties[tw.county].region
		w.Regions[c].Households += h
		w.Regions[c].Population += p
		w.Regions[0].Households += h
		w.Regions[0].Population += p
	}
}

// jitter returns a uniform offset in [-r, r).
func (g *gen) jitter(r float64) float64 { return (2*g.rng.Float64() - 1) * r }

// round6 rounds degrees to 6 decimals (about 0.1 m), as written.
func round6(x float64) float64 { return math.Round(x*1e6) / 1e6 }

// distanceKm is the great-circle distance between two points.
func distanceKm(lat1, lon1, lat2, lon2 float64) float64 {
	const r = 6371.0
	p1, p2 := lat1*math.Pi/180, lat2*math.Pi/180
	dp, dl := p2-p1, (lon2-lon1)*math.Pi/180
	a := math.Sin(dp/2)*math.Sin(dp/2) + math.Cos(p1)*math.Cos(p2)*math.Sin(dl/2)*math.Sin(dl/2)
	return 2 * r * math.Asin(math.Sqrt(a))
}
