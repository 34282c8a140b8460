package coverage

import (
	"encoding/json"
	"math"
	"strconv"
	"unicode/utf8"

	"github.com/ngic/ngic/controller/inventory"
)

// gapJSON is a Gap's JSON encoding: its village's identity and class, then
// the nearest site.
type gapJSON struct {
	Code             string  `json:"code"`
	Name             string  `json:"name"`
	Parent           string  `json:"parent,omitempty"`
	Households       int64   `json:"households"`
	Population       int64   `json:"population"`
	Priority         bool    `json:"priority"`
	Broadband        string  `json:"broadband"`
	Evidence         string  `json:"evidence"`
	NearestSite      string  `json:"nearest_site,omitempty"`
	NearestSiteName  string  `json:"nearest_site_name,omitempty"`
	NearestSiteClass string  `json:"nearest_site_class,omitempty"`
	NearestVillage   string  `json:"nearest_village,omitempty"`
	DistanceKm       float64 `json:"distance_km,omitempty"`
}

// NearestSite is the ID of the gap's nearest site ("" when there is
// none).
func (g *Gap) NearestSite() string {
	if g.Site == nil {
		return ""
	}
	return g.Site.ID
}

// NearestSiteName is the name of the gap's nearest site.
func (g *Gap) NearestSiteName() string {
	if g.Site == nil {
		return ""
	}
	return g.Site.Name
}

// NearestSiteClass is the best class the nearest site delivers.
func (g *Gap) NearestSiteClass() string {
	if g.Site == nil || g.SiteServes == nil {
		return ""
	}
	return g.SiteServes.Broadband
}

// NearestVillage is the code of a village the nearest site delivers its
// best class to.
func (g *Gap) NearestVillage() string {
	if g.Site == nil || g.SiteServes == nil || g.SiteServes.Region == nil {
		return ""
	}
	return g.SiteServes.Code
}

// MarshalJSON encodes the gap as encoding/json encodes gapJSON, without
// HTML escaping (an encoder that does escapes the result), written by hand:
// a national report has some 400,000 gaps.
func (g Gap) MarshalJSON() ([]byte, error) {
	var j gapJSON
	if v := g.Village; v != nil {
		j.Broadband, j.Evidence = v.Broadband, v.Evidence
		if r := v.Region; r != nil {
			j.Code, j.Name, j.Parent, j.Households, j.Population, j.Priority = r.Code, r.Name, r.Parent, r.Households, r.Population, r.Priority
		}
	}
	j.NearestSite, j.NearestSiteName, j.NearestSiteClass = g.NearestSite(), g.NearestSiteName(), g.NearestSiteClass()
	j.NearestVillage, j.DistanceKm = g.NearestVillage(), g.DistanceKm
	return j.append(make([]byte, 0, 256)), nil
}

// append appends j's JSON to b, as encoding/json writes it without HTML
// escaping.
func (j *gapJSON) append(b []byte) []byte {
	b = appendIdentity(append(b, '{'), j.Code, j.Name, j.Parent, j.Households, j.Population)
	b = append(b, `,"priority":`...)
	b = strconv.AppendBool(b, j.Priority)
	b = append(b, `,"broadband":`...)
	b = AppendJSONString(b, j.Broadband)
	b = append(b, `,"evidence":`...)
	b = AppendJSONString(b, j.Evidence)
	for _, f := range [...]struct{ name, v string }{{`,"nearest_site":`, j.NearestSite},
		{`,"nearest_site_name":`, j.NearestSiteName}, {`,"nearest_site_class":`, j.NearestSiteClass},
		{`,"nearest_village":`, j.NearestVillage}} {
		if f.v != "" {
			b = append(b, f.name...)
			b = AppendJSONString(b, f.v)
		}
	}
	if j.DistanceKm != 0 {
		b = append(b, `,"distance_km":`...)
		b = appendJSONFloat(b, j.DistanceKm)
	}
	return append(b, '}')
}

// appendIdentity appends the members code, name, parent (when not empty),
// households and population of a village or gap.
func appendIdentity(b []byte, code, name, parent string, households, population int64) []byte {
	b = append(b, `"code":`...)
	b = AppendJSONString(b, code)
	b = append(b, `,"name":`...)
	b = AppendJSONString(b, name)
	if parent != "" {
		b = append(b, `,"parent":`...)
		b = AppendJSONString(b, parent)
	}
	b = append(b, `,"households":`...)
	b = strconv.AppendInt(b, households, 10)
	b = append(b, `,"population":`...)
	return strconv.AppendInt(b, population, 10)
}

// AppendJSONString appends s as encoding/json writes a string without
// HTML escaping: quotes, backslashes and control characters escaped,
// invalid UTF-8 as U+FFFD, U+2028 and U+2029 escaped. The report's
// writers use it too.
func AppendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c == '\b':
				b = append(b, '\\', 'b')
			case c == '\f':
				b = append(b, '\\', 'f')
			case c == '\n':
				b = append(b, '\\', 'n')
			case c == '\r':
				b = append(b, '\\', 'r')
			case c == '\t':
				b = append(b, '\\', 't')
			case c < 0x20:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xf])
		default:
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return append(b, '"')
}

// appendJSONFloat appends f as encoding/json writes a float64 (finite).
func appendJSONFloat(b []byte, f float64) []byte {
	format := byte('f')
	if a := math.Abs(f); a != 0 && (a < 1e-6 || a >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' { // e-09 as e-9
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}

// UnmarshalJSON decodes a gap encoded by MarshalJSON into a gap of its own
// village, site and served village (which say what the JSON says, nothing
// more).
func (g *Gap) UnmarshalJSON(b []byte) error {
	var j gapJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	r := &inventory.Region{Code: j.Code, Name: j.Name, Parent: j.Parent, Households: j.Households, Population: j.Population,
		Priority: j.Priority, Level: inventory.LevelVillage}
	*g = Gap{Village: &Village{Region: r, Broadband: j.Broadband, Evidence: j.Evidence}, DistanceKm: j.DistanceKm}
	if j.NearestSite != "" {
		g.Site = &inventory.Site{ID: j.NearestSite, Name: j.NearestSiteName}
		g.SiteServes = &Village{Region: &inventory.Region{Code: j.NearestVillage, Level: inventory.LevelVillage},
			Broadband: j.NearestSiteClass}
	}
	return nil
}
