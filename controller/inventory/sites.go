package inventory

import "io"

// Columns of sites.csv.
const (
	siteID = iota
	siteName
	siteRegion
	siteLat
	siteLon
	siteKind
)

var sitesTable = table{file: "sites.csv", cols: []string{"id", "name", "region", "lat", "lon", "kind"}, required: 6}

// parseSites reads sites.csv; the regions are resolved by resolveSites.
func parseSites(name string, r io.Reader, rows int, errs *errList) ([]Site, map[string]int32, *refCols) {
	f := openCSV(name, r, sitesTable, errs)
	if f == nil {
		return nil, map[string]int32{}, nil
	}
	n := rows
	sites := make([]Site, 0, n)
	byID := make(map[string]int32, n)
	refs := &refCols{f: f, k: siteRegion, cols: make([]int32, 0, n)}
	kinds := interner{}
	var strs arena // Region is the record's until resolveSites
	for f.next() {
		s := Site{ID: f.get(siteID), Name: f.get(siteName), Region: f.required(siteRegion), Kind: kinds.get(f.get(siteKind)), Line: f.line}
		keep := f.unique(siteID, s.ID, byID, func(i int32) int { return sites[i].Line }, "site")
		s.Lat, s.Lon, _ = parsePos(f, siteLat, siteLon, true)
		if keep {
			s.ID, s.Name = strs.get(s.ID), strs.get(s.Name)
			byID[s.ID] = int32(len(sites))
			refs.keep()
			sites = append(sites, s)
		}
	}
	return sites, byID, refs
}

// resolveSites sets each site's RegionIx, and its Region to the region's
// Code.
func resolveSites(inv *Inventory, refs *refCols) {
	for i := range inv.Sites {
		s := &inv.Sites[i]
		var ok bool
		if s.RegionIx, ok = refs.resolve(i, s.Line, s.Region, inv.regionIx, "region", "regions.csv"); ok {
			s.Region = inv.Regions[s.RegionIx].Code
		}
	}
}
