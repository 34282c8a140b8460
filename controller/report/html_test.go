package report

import (
	"bytes"
	"strings"
	"testing"

	"golang.org/x/net/html"
)

func TestHTMLGolden(t *testing.T) {
	res, o := sample(true)
	golden(t, "sample.html", write(t, FormatHTML, res, o))
}

// walk calls f on every node of the tree under n.
func walk(n *html.Node, f func(*html.Node)) {
	f(n)
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		walk(c, f)
	}
}

// The page parses, names are escaped (a village called <script> is text)
// and kept (Chinese), it loads nothing from anywhere, and its charts and
// tables are there.
func TestHTMLSelfContained(t *testing.T) {
	res, o := sample(true)
	b := write(t, FormatHTML, res, o)
	doc, err := html.Parse(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	var text strings.Builder
	elements := map[string]int{}
	var rows []string
	walk(doc, func(n *html.Node) {
		switch n.Type {
		case html.TextNode:
			text.WriteString(n.Data)
			text.WriteByte('\n')
		case html.ElementNode:
			elements[n.Data]++
			for _, a := range n.Attr {
				switch k := strings.ToLower(a.Key); {
				case k == "src" || k == "href" || k == "srcset" || k == "action" || k == "xlink:href":
					t.Errorf("<%s %s=%q>: a self-contained page refers to nothing", n.Data, a.Key, a.Val)
				case strings.HasPrefix(k, "on"):
					t.Errorf("<%s %s=%q>: an event handler", n.Data, a.Key, a.Val)
				}
				if strings.Contains(a.Val, "http") || strings.Contains(a.Val, "url(") {
					t.Errorf("<%s %s=%q> names a URL", n.Data, a.Key, a.Val)
				}
			}
			if n.Data == "tr" {
				var cells []string
				for c := n.FirstChild; c != nil; c = c.NextSibling {
					switch {
					case c.Type != html.ElementNode:
					case c.FirstChild == nil:
						cells = append(cells, "")
					default:
						cells = append(cells, c.FirstChild.Data)
					}
				}
				rows = append(rows, strings.Join(cells, "|"))
			}
		}
	})
	for _, el := range []string{"script", "link", "img", "iframe", "object", "embed", "image", "use", "base"} {
		if elements[el] > 0 {
			t.Errorf("%d <%s> elements: the page must load and run nothing", elements[el], el)
		}
	}
	for _, s := range []string{"http:", "https:", "//", "@import", "url("} {
		if bytes.Contains(b, []byte(s)) {
			t.Errorf("the page contains %q", s)
		}
	}
	if elements["svg"] != 2 || elements["rect"] < 3*1+3 || elements["style"] != 1 {
		t.Errorf("elements %v: want 2 charts with a bar of 3 tiers and a legend, and one style", elements)
	}
	got := text.String()
	for _, want := range []string{"<script>alert(1)</script>", "上庄村", "河口镇端局", "青海示范省", "东川县",
		"3 of 3 devices answered a poll", "What moved since 2026-10-30T06:00:00Z", "+72.7 pp"} {
		if !strings.Contains(got, want) {
			t.Errorf("the page's text lacks %q", want)
		}
	}
	if bytes.Contains(b, []byte("<script>alert")) || bytes.Contains(b, []byte("<b>filing")) {
		t.Error("a name went into the page unescaped")
	}
	// The gap list ranks the two gaps, the first with its nearest site.
	var gaps []string
	for _, r := range rows {
		if strings.HasPrefix(r, "1|") || strings.HasPrefix(r, "2|") {
			gaps = append(gaps, r)
		}
	}
	if len(gaps) != 2 || !strings.HasPrefix(gaps[0], "1|<script>alert(1)</script> |东川县|100|300||underserved|declared|河口镇端局 |served|1.9 km") {
		t.Errorf("gap rows %q", gaps)
	}
}

// A chart of many regions stops at MaxChartBars; a table at MaxHTMLRows.
func TestHTMLBounds(t *testing.T) {
	res, o := sample(false)
	county := res.Regions[1]
	for range MaxChartBars + 5 {
		res.Regions = append(res.Regions, county)
	}
	for range MaxHTMLRows {
		res.Gaps = append(res.Gaps, res.Gaps[1])
	}
	v := buildView(res, o)
	if len(v.Classes.Rows) != MaxChartBars || v.Classes.More != 6 || len(v.Gaps) != MaxHTMLRows || v.GapsMore != 2 {
		t.Errorf("chart %d rows (+%d), gaps %d (+%d)", len(v.Classes.Rows), v.Classes.More, len(v.Gaps), v.GapsMore)
	}
	b := write(t, FormatHTML, res, o)
	for _, want := range []string{"… and 6 more regions, not drawn.", "… and 2 more gaps in the CSV and JSON reports."} {
		if !bytes.Contains(b, []byte(want)) {
			t.Errorf("the page lacks %q", want)
		}
	}
}

func TestTierColors(t *testing.T) {
	if got := tierColors(3); got[0] != "#d72730" && got[0] != "#d73027" || got[2] != "#1a9850" {
		t.Errorf("tierColors(3) = %v", got)
	}
	if got := tierColors(1); len(got) != 1 || got[0] != "#1a9850" {
		t.Errorf("tierColors(1) = %v", got)
	}
	if got := num(1234567); got != "1\u2009234\u2009567" {
		t.Errorf("num = %q", got)
	}
}
