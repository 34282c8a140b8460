package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/ngic/ngic/controller/coverage"
)

// villageFields are a village's fields, without its JSON encoding (which
// writes the trail).
type villageFields coverage.Village

// villageDoc is a village in a list: without its trail.
type villageDoc struct {
	villageFields
	Trail []coverage.TrailEntry `json:"trail,omitempty"`
}

// villageFilter is the filters of /api/v1/villages.
type villageFilter struct {
	tier              int
	evidence          string
	prioritySet, prio bool
}

func (f *villageFilter) match(v *coverage.Village) bool {
	return (f.tier < 0 || v.Tier == f.tier) && (f.evidence == "" || v.Evidence == f.evidence) &&
		(!f.prioritySet || v.Priority == f.prio)
}

func (s *Server) villages(w http.ResponseWriter, r *http.Request) {
	ix := s.needIndex(w)
	if ix == nil {
		return
	}
	defer ix.release()
	q := r.URL.Query()
	root, ok := s.scope(w, r, ix, q.Get("region"))
	if !ok {
		return
	}
	f := villageFilter{tier: -1, evidence: q.Get("evidence")}
	if c := q.Get("class"); c != "" {
		f.tier = -2
		for i, t := range ix.res.Tiers {
			if t.Name == c {
				f.tier = i
			}
		}
		if f.tier == -2 {
			writeError(w, http.StatusBadRequest, "class %q is not a tier", c)
			return
		}
	}
	if !oneOf(w, "evidence", f.evidence, "", coverage.EvidenceMeasured, coverage.EvidenceDeclared,
		coverage.EvidenceOverride, coverage.EvidenceNone) {
		return
	}
	if f.prioritySet, f.prio, ok = parseBool(w, "priority", q.Get("priority")); !ok {
		return
	}
	p, ok := pageOf(w, r)
	if !ok {
		return
	}
	span := ix.villageSpan(root)
	keep := func(i int) bool { return f.match(&ix.res.Villages[span[i]]) }
	conv := func(i int) villageDoc { return villageDoc{villageFields: villageFields(ix.res.Villages[span[i]])} }
	code := func(i int) string { return ix.res.Villages[span[i]].Code }
	writeJSON(w, http.StatusOK, collect(p, len(span), keep, code, conv))
}

func (s *Server) village(w http.ResponseWriter, r *http.Request) {
	ix, v, ok := s.lookup(w, r, (*index).village, "village")
	if !ok {
		return
	}
	defer ix.release()
	b, err := json.Marshal(ix.res.Villages[v]) // with its trail
	if err != nil {
		writeError(w, http.StatusInternalServerError, "village %s: %v", r.PathValue("code"), err)
		return
	}
	b = bytes.Replace(b, []byte(`"trail":null`), []byte(`"trail":[]`), 1)
	w.Header().Set("Content-Type", "application/json")
	w.Write(append(b, '\n'))
}

// mapPoint is one point of the map.
type mapPoint struct {
	Kind        string             `json:"kind"`
	Code        string             `json:"code"`
	Name        string             `json:"name"`
	Lat         float64            `json:"lat"`
	Lon         float64            `json:"lon"`
	Households  int64              `json:"households"`
	Class       string             `json:"class,omitempty"`
	ClassShares map[string]float64 `json:"class_shares,omitempty"`
}

// mapDoc is the answer of /api/v1/map.
type mapDoc struct {
	Region string      `json:"region"`
	Level  string      `json:"level"`
	BBox   *[4]float64 `json:"bbox"`
	Points []mapPoint  `json:"points"`
}

func villagePoint(v *coverage.Village) mapPoint {
	return mapPoint{Kind: "village", Code: v.Code, Name: v.Name, Lat: v.Lat, Lon: v.Lon, Households: v.Households,
		Class: v.Broadband}
}

func (ix *index) regionPoint(k int32) (mapPoint, bool) {
	rg, g := &ix.res.Regions[k], ix.geo[k]
	if g.n == 0 {
		return mapPoint{}, false
	}
	shares := make(map[string]float64, len(rg.All.Tiers))
	for _, t := range rg.All.Tiers {
		shares[t.Name] = t.ShareHouseholds
	}
	return mapPoint{Kind: "region", Code: rg.Code, Name: rg.Name, Lat: g.lat, Lon: g.lon, Households: rg.Households,
		ClassShares: shares}, true
}

func (s *Server) mapPoints(w http.ResponseWriter, r *http.Request) {
	ix, root, ok := s.regionScope(w, r)
	if !ok {
		return
	}
	defer ix.release()
	d := mapDoc{Region: root, Points: []mapPoint{}, BBox: ix.extentFor(root).bbox()}
	addRegions := func(ks []int32) {
		for _, k := range ks {
			if pt, ok := ix.regionPoint(k); ok {
				d.Points = append(d.Points, pt)
			}
		}
	}
	k, isRegion := ix.regions[root]
	switch {
	case root == "":
		addRegions(ix.roots)
	case !isRegion: // a village
		d.Level = "village"
		d.Points = append(d.Points, villagePoint(&ix.res.Villages[ix.villageSpan(root)[0]]))
	case isAboveTownship(ix.res.Regions[k].Level):
		d.Level = ix.res.Regions[k].Level
		addRegions(ix.children[k])
		sp := ix.span[k]
		for _, v := range ix.order[sp[0]:sp[1]] { // villages right under it
			if vl := &ix.res.Villages[v]; vl.Parent == root {
				d.Points = append(d.Points, villagePoint(vl))
			}
		}
	default:
		d.Level = ix.res.Regions[k].Level
		for _, v := range ix.villageSpan(root) {
			d.Points = append(d.Points, villagePoint(&ix.res.Villages[v]))
		}
	}
	writeJSON(w, http.StatusOK, d)
}

func (s *Server) gaps(w http.ResponseWriter, r *http.Request) {
	ix, root, ok := s.regionScope(w, r)
	if !ok {
		return
	}
	defer ix.release()
	p, ok := pageOf(w, r)
	if !ok {
		return
	}
	keep := func(i int) bool { return ix.inSpan(ix.gapVillage[i], root) }
	code := func(i int) string { return ix.res.Villages[ix.gapVillage[i]].Code }
	writeJSON(w, http.StatusOK, collect(p, len(ix.res.Gaps), keep, code, item(ix.res.Gaps)))
}

func (s *Server) boundaries(w http.ResponseWriter, r *http.Request) {
	b, err := s.src.Boundaries()
	if err != nil {
		writeError(w, http.StatusServiceUnavailable, "boundaries: %v", err)
		return
	}
	if b == nil {
		writeError(w, http.StatusNotFound, "the inventory has no boundaries.geojson")
		return
	}
	if root := callerOf(r).p.region; root != "" {
		ix := s.needIndex(w)
		if ix == nil {
			return
		}
		defer ix.release()
		if b, err = boundariesWithin(b, func(code string) bool { return ix.within(code, root) }); err != nil {
			writeError(w, http.StatusServiceUnavailable, "boundaries: %v", err)
			return
		}
	}
	w.Header().Set("Content-Type", "application/geo+json")
	w.Write(b)
}

// boundariesWithin returns the FeatureCollection of the features of b
// whose properties.code keep accepts (a region-limited token sees only
// its region's outlines; a feature without a code is no one's).
func boundariesWithin(b []byte, keep func(code string) bool) ([]byte, error) {
	var fc struct {
		Features []json.RawMessage `json:"features"`
	}
	if err := json.Unmarshal(b, &fc); err != nil {
		return nil, fmt.Errorf("boundaries.geojson: %w", err)
	}
	out := bytes.NewBufferString(`{"type":"FeatureCollection","features":[`)
	n := 0
	for _, f := range fc.Features {
		var ft struct {
			Properties struct {
				Code string `json:"code"`
			} `json:"properties"`
		}
		if json.Unmarshal(f, &ft) != nil || ft.Properties.Code == "" || !keep(ft.Properties.Code) {
			continue
		}
		if n > 0 {
			out.WriteByte(',')
		}
		out.Write(f)
		n++
	}
	out.WriteString("]}\n")
	return out.Bytes(), nil
}
