package coverage

import (
	"encoding/json"

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

// MarshalJSON encodes the gap as gapJSON. It escapes no HTML: an encoder
// that does escapes the result.
func (g Gap) MarshalJSON() ([]byte, error) {
	j := gapJSON{NearestSite: g.NearestSite(), NearestSiteName: g.NearestSiteName(), NearestSiteClass: g.NearestSiteClass(),
		NearestVillage: g.NearestVillage(), DistanceKm: g.DistanceKm}
	if v := g.Village; v != nil {
		j.Broadband, j.Evidence = v.Broadband, v.Evidence
		if r := v.Region; r != nil {
			j.Code, j.Name, j.Parent, j.Households, j.Population, j.Priority = r.Code, r.Name, r.Parent, r.Households, r.Population, r.Priority
		}
	}
	return marshalNoHTML(&j)
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
