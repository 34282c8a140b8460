package report

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"math"
	"strconv"
	"time"

	"github.com/ngic/ngic/controller/coverage"
)

// Bounds of the HTML page: a printable report lists the first rows and
// says how many more the CSV and JSON reports hold.
const (
	// MaxHTMLRows bounds the rows of each table of the HTML page.
	MaxHTMLRows = 2000
	// MaxChartBars bounds the regions drawn in each chart.
	MaxChartBars = 200
)

//go:embed coverage.html.tmpl
var pageTemplate string

// page is the parsed template of the HTML report.
var page = template.Must(template.New("coverage").Funcs(template.FuncMap{
	"pct":  pct,
	"add":  func(a, b float64) float64 { return a + b },
	"num":  num,
	"km":   func(f float64) string { return strconv.FormatFloat(f, 'f', 1, 64) },
	"time": func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
	"pp": func(f float64) string {
		return fmt.Sprintf("%+.1f pp", 100*f)
	},
}).Parse(pageTemplate))

// Geometry of the charts, in SVG user units.
const (
	chartLabelW = 220.0 // the regions' names
	chartBarW   = 560.0 // a bar at 100 %
	chartRowH   = 22.0  // one region
	chartBarH   = 14.0
	chartTop    = 8.0
)

// htmlView is what the template draws.
type htmlView struct {
	Title, Source string
	Computed      time.Time
	Tiers         []tierView
	Roots         []regionRow
	ChartLevel    string
	Classes       chart
	Services      chart
	Gaps          []gapRow
	GapsMore      int
	Regions       []regionRow
	RegionsMore   int
	Compare       *compareView
	Villages      int64
	Households    int64
}

// tierView is a tier with its colour.
type tierView struct {
	coverage.Tier
	Color string
}

// regionRow is a region with its tiers' colours beside its shares.
type regionRow struct {
	*coverage.Region
	Tiers []tierShareView
	// Top is the households' share of the top tier, for all villages and
	// for the priority ones.
	Top, PriorityTop float64
	// ParentName is the name of the region it belongs to.
	ParentName string
}

type tierShareView struct {
	coverage.TierShare
	Color string
}

// chart is a bar chart drawn in SVG: one row per region.
type chart struct {
	Width, Height float64
	Rows          []chartRow
	More          int
	Legend        []legendItem
}

// chartRow is one region's bar, made of segments.
type chartRow struct {
	Y, TextY float64
	Label    string
	Segments []segment
}

// segment is one rectangle of a bar, with its tooltip and its label when
// it is wide enough to hold one.
type segment struct {
	X, Y, W, H float64
	Color      string
	Title      string
	Label      string
	LabelX     float64
}

type legendItem struct {
	X     float64
	Color string
	Name  string
}

type gapRow struct {
	Rank int
	*coverage.Gap
	ParentName string
}

type compareView struct {
	*coverage.Diff
	Villages     []coverage.VillageChange
	VillagesMore int
	Regions      []coverage.RegionChange
	RegionsMore  int
}

// WriteHTML writes one self-contained printable HTML page: the tiers, the
// top regions' figures, a stacked bar chart of the broadband classes per
// county (else the level nearest it), a bar chart of digital TV,
// convergence and next-generation access per county, the gap list, the
// region table and, when comparing, what moved. Styles are inline, charts
// are inline SVG, and the page loads nothing from anywhere. Tables stop
// at MaxHTMLRows rows and charts at MaxChartBars regions, saying how many
// more the CSV and JSON reports hold.
func WriteHTML(w io.Writer, res *coverage.Result, o Options) error {
	s := newSink(w)
	if err := page.Execute(s, buildView(res, o)); err != nil {
		s.fail(err)
	}
	return s.close(FormatHTML)
}

// buildView prepares the template's data.
func buildView(res *coverage.Result, o Options) *htmlView {
	v := &htmlView{Title: o.Title, Source: o.Source, Computed: res.Computed, Villages: int64(len(res.Villages))}
	if v.Title == "" {
		v.Title = DefaultTitle
	}
	colors := tierColors(len(res.Tiers))
	for i, t := range res.Tiers {
		v.Tiers = append(v.Tiers, tierView{Tier: t, Color: colors[i]})
	}
	for i := range res.Villages {
		v.Households += res.Villages[i].Households
	}
	names := make(map[string]string, len(res.Regions))
	rows := make([]regionRow, len(res.Regions))
	for i := range res.Regions {
		names[res.Regions[i].Code] = res.Regions[i].Name
	}
	for i := range res.Regions {
		r := &res.Regions[i]
		rows[i] = newRegionRow(r, colors)
		rows[i].ParentName = names[r.Parent]
		if r.Parent == "" {
			v.Roots = append(v.Roots, rows[i])
		}
	}
	v.Regions, v.RegionsMore = capRows(rows)
	v.ChartLevel = chartLevel(res.Regions)
	var drawn []regionRow
	for _, r := range rows {
		if r.Level == v.ChartLevel {
			drawn = append(drawn, r)
		}
	}
	v.Classes = classChart(drawn, v.Tiers)
	v.Services = serviceChart(drawn)
	gaps, more := capRows(res.Gaps)
	v.GapsMore = more
	for i := range gaps {
		g := &gaps[i]
		v.Gaps = append(v.Gaps, gapRow{Rank: i + 1, Gap: g, ParentName: names[g.Parent]})
	}
	if d := o.Compare; d != nil {
		cv := &compareView{Diff: d}
		cv.Villages, cv.VillagesMore = capRows(d.Villages)
		cv.Regions, cv.RegionsMore = capRows(d.Regions)
		v.Compare = cv
	}
	return v
}

func newRegionRow(r *coverage.Region, colors []string) regionRow {
	row := regionRow{Region: r}
	for i, t := range r.All.Tiers {
		c := "#999999"
		if i < len(colors) {
			c = colors[i]
		}
		row.Tiers = append(row.Tiers, tierShareView{TierShare: t, Color: c})
	}
	if n := len(r.All.Tiers); n > 0 {
		row.Top = r.All.Tiers[n-1].ShareHouseholds
	}
	if n := len(r.Priority.Tiers); n > 0 {
		row.PriorityTop = r.Priority.Tiers[n-1].ShareHouseholds
	}
	return row
}

// capRows returns the first MaxHTMLRows of rows and how many are left out.
func capRows[T any](rows []T) ([]T, int) {
	if len(rows) > MaxHTMLRows {
		return rows[:MaxHTMLRows], len(rows) - MaxHTMLRows
	}
	return rows, 0
}

// chartLevel is the level the charts draw: county, else the first of
// prefecture, township and province that has regions.
func chartLevel(regions []coverage.Region) string {
	have := map[string]bool{}
	for i := range regions {
		have[regions[i].Level] = true
	}
	for _, l := range []string{"county", "prefecture", "township", "province"} {
		if have[l] {
			return l
		}
	}
	return "county"
}

// classChart draws one stacked bar per region: its households' shares of
// each tier, worst first.
func classChart(rows []regionRow, tiers []tierView) chart {
	c := newChart(len(rows))
	for i, t := range tiers {
		c.Legend = append(c.Legend, legendItem{X: chartLabelW + float64(i)*140, Color: t.Color, Name: t.Name})
	}
	for i, r := range rows[:len(c.Rows)] {
		cr := &c.Rows[i]
		cr.Label = r.Name
		x := chartLabelW
		for _, t := range r.Tiers {
			w := t.ShareHouseholds * chartBarW
			cr.Segments = append(cr.Segments, newSegment(x, cr.Y, w, t.Color,
				fmt.Sprintf("%s: %s %s of %s households", r.Name, pct(t.ShareHouseholds), t.Name, num(r.All.Households)),
				pct(t.ShareHouseholds)))
			x += w
		}
	}
	return c
}

// Colours of the service chart's bars.
var serviceColors = [3]string{"#3182bd", "#756bb1", "#31a354"}

// serviceChart draws, per region, three thin bars: the households' shares
// with digital TV and converged, and the share of subscribers on
// next-generation access.
func serviceChart(rows []regionRow) chart {
	c := newChart(len(rows))
	names := [3]string{"digital TV", "converged", "next-generation access"}
	for i, n := range names {
		c.Legend = append(c.Legend, legendItem{X: chartLabelW + float64(i)*180, Color: serviceColors[i], Name: n})
	}
	for i, r := range rows[:len(c.Rows)] {
		cr := &c.Rows[i]
		cr.Label = r.Name
		shares := [3]float64{r.All.DigitalTV.ShareHouseholds, r.All.Converged.ShareHouseholds, r.All.NextGenShare}
		h := chartBarH / 3
		for k, f := range shares {
			sg := newSegment(chartLabelW, round2(cr.Y+float64(k)*h), f*chartBarW, serviceColors[k],
				fmt.Sprintf("%s: %s %s", r.Name, pct(f), names[k]), "")
			sg.H = round2(h - 0.5)
			cr.Segments = append(cr.Segments, sg)
		}
	}
	return c
}

// newChart lays out a chart of n rows (at most MaxChartBars).
func newChart(n int) chart {
	c := chart{Width: chartLabelW + chartBarW + 60}
	if n > MaxChartBars {
		c.More = n - MaxChartBars
		n = MaxChartBars
	}
	c.Rows = make([]chartRow, n)
	for i := range c.Rows {
		y := chartTop + float64(i)*chartRowH
		c.Rows[i] = chartRow{Y: y, TextY: y + chartBarH - 3}
	}
	c.Height = chartTop + float64(n)*chartRowH + 4
	return c
}

// newSegment is a rectangle of a bar, labelled inside when wide enough.
func newSegment(x, y, w float64, color, title, label string) segment {
	sg := segment{X: round2(x), Y: y, W: round2(w), H: chartBarH, Color: color, Title: title}
	if w >= 40 {
		sg.Label, sg.LabelX = label, round2(x+w/2)
	}
	return sg
}

func round2(f float64) float64 { return math.Round(f*100) / 100 }

// pct writes a share as a percentage with one decimal.
func pct(f float64) string { return strconv.FormatFloat(100*f, 'f', 1, 64) + " %" }

// num writes a count with thin spaces between thousands.
func num(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := n < 0
	if neg {
		s = s[1:]
	}
	out := make([]byte, 0, len(s)+len(s)/3*3)
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, "\u2009"...)
		}
		out = append(out, s[i])
	}
	if neg {
		return "-" + string(out)
	}
	return string(out)
}

// tierColors returns n colours from red (the worst tier) through yellow
// to green (the best).
func tierColors(n int) []string {
	ramp := [][3]float64{{215, 48, 39}, {254, 224, 139}, {26, 152, 80}}
	out := make([]string, n)
	for i := range out {
		t := 1.0
		if n > 1 {
			t = float64(i) / float64(n-1)
		}
		seg := t * float64(len(ramp)-1)
		k := min(int(seg), len(ramp)-2)
		f := seg - float64(k)
		var rgb [3]int
		for j := range rgb {
			rgb[j] = int(math.Round(ramp[k][j] + f*(ramp[k+1][j]-ramp[k][j])))
		}
		out[i] = fmt.Sprintf("#%02x%02x%02x", rgb[0], rgb[1], rgb[2])
	}
	return out
}
