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

// MarshalJSON encodes the gap as gapJSON. It escapes no HTML: an encoder
// that does escapes the result.
func (g Gap) MarshalJSON() ([]byte, error) {
	j := gapJSON{NearestSite: g.NearestSite, NearestSiteName: g.NearestSiteName, NearestSiteClass: g.NearestSiteClass,
		NearestVillage: g.NearestVillage, DistanceKm: g.DistanceKm}
	if v := g.Village; v != nil {
		j.Broadband, j.Evidence = v.Broadband, v.Evidence
		if r := v.Region; r != nil {
			j.Code, j.Name, j.Parent, j.Households, j.Population, j.Priority = r.Code, r.Name, r.Parent, r.Households, r.Population, r.Priority
		}
	}
	return marshalNoHTML(&j)
}

// UnmarshalJSON decodes a gap encoded by MarshalJSON into a gap of its own
// village (which names the region and its class, nothing more).
func (g *Gap) UnmarshalJSON(b []byte) error {
	var j gapJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	r := &inventory.Region{Code: j.Code, Name: j.Name, Parent: j.Parent, Households: j.Households, Population: j.Population,
		Priority: j.Priority, Level: inventory.LevelVillage}
	*g = Gap{Village: &Village{Region: r, Broadband: j.Broadband, Evidence: j.Evidence}, NearestSite: j.NearestSite,
		NearestSiteName: j.NearestSiteName, NearestSiteClass: j.NearestSiteClass, NearestVillage: j.NearestVillage,
		DistanceKm: j.DistanceKm}
	return nil
}
