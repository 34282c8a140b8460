package api

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/ngic/ngic/controller/coverage"
	"github.com/ngic/ngic/controller/inventory"
)

// regionDoc is a region with its children count, centroid and extent.
type regionDoc struct {
	coverage.Region
	Children int         `json:"children"`
	Lat      *float64    `json:"lat"`
	Lon      *float64    `json:"lon"`
	BBox     *[4]float64 `json:"bbox"`
	Path     *[]pathStep `json:"path,omitempty"`
}

// pathStep is one ancestor of a region.
type pathStep struct {
	Code  string `json:"code"`
	Name  string `json:"name"`
	Level string `json:"level"`
}

func (ix *index) regionDoc(r int32) regionDoc {
	d := regionDoc{Region: ix.res.Regions[r], Children: ix.nChildren[r]}
	if g := ix.geo[r]; g.n > 0 {
		lat, lon := g.lat, g.lon
		d.Lat, d.Lon, d.BBox = &lat, &lon, g.bbox()
	}
	return d
}

// needIndex returns the current result's index, held until the caller
// releases it, or answers 503.
func (s *Server) needIndex(w http.ResponseWriter) *index {
	ix := s.acquireIndex()
	if ix == nil {
		writeNoIndex(w)
	}
	return ix
}

// writeNoIndex answers 503: no coverage result.
func writeNoIndex(w http.ResponseWriter) {
	writeError(w, http.StatusServiceUnavailable, "coverage is not computed yet, or the inventory has no regions.csv")
}

// scope resolves the region a request asks about (a region or village
// code, "" for everything) within its token's region: the token's region
// when it asks none, 404 when it lies outside or does not exist.
func (s *Server) scope(w http.ResponseWriter, r *http.Request, ix *index, asked string) (string, bool) {
	limit := callerOf(r).p.region
	if asked == "" {
		return limit, true
	}
	if _, known := ix.parentOf(asked); !known || !ix.within(asked, limit) {
		writeError(w, http.StatusNotFound, "no region %q", asked)
		return "", false
	}
	return asked, true
}

// regionScope resolves the request's region parameter (see scope) in the
// current result, whose index it returns held (see needIndex) when ok; it
// answers 503 without one.
func (s *Server) regionScope(w http.ResponseWriter, r *http.Request) (*index, string, bool) {
	ix := s.needIndex(w)
	if ix == nil {
		return nil, "", false
	}
	root, ok := s.scope(w, r, ix, r.URL.Query().Get("region"))
	if !ok {
		ix.release()
		return nil, "", false
	}
	return ix, root, true
}

// lookup finds the path's {code} in the current result with find, whose
// index it returns held (see needIndex) when ok; 404 when it is not there
// or outside the token's region.
func (s *Server) lookup(w http.ResponseWriter, r *http.Request, find func(*index, string) (int32, bool),
	what string) (*index, int32, bool) {
	ix := s.needIndex(w)
	if ix == nil {
		return nil, 0, false
	}
	code := r.PathValue("code")
	k, ok := find(ix, code)
	if !ok || !ix.within(code, callerOf(r).p.region) {
		ix.release()
		writeError(w, http.StatusNotFound, "no %s %q", what, code)
		return nil, 0, false
	}
	return ix, k, true
}

// oneOf checks that the parameter name's value v is one of allowed.
func oneOf(w http.ResponseWriter, name, v string, allowed ...string) bool {
	for _, a := range allowed {
		if v == a {
			return true
		}
	}
	writeError(w, http.StatusBadRequest, "%s %q is not one of %s", name, v, strings.Join(allowed[1:], ", "))
	return false
}

// topRegions are the roots, or the token's region.
func (s *Server) topRegions(r *http.Request, ix *index) []regionDoc {
	out := []regionDoc{}
	if limit := callerOf(r).p.region; limit != "" {
		if k, ok := ix.regions[limit]; ok {
			out = append(out, ix.regionDoc(k))
		}
		return out
	}
	for _, k := range ix.roots {
		out = append(out, ix.regionDoc(k))
	}
	return out
}

type itemsDoc[T any] struct {
	Items []T `json:"items"`
}

func (s *Server) regions(w http.ResponseWriter, r *http.Request) {
	ix := s.needIndex(w)
	if ix == nil {
		return
	}
	defer ix.release()
	parent := r.URL.Query().Get("parent")
	if parent == "" {
		writeJSON(w, http.StatusOK, itemsDoc[regionDoc]{Items: s.topRegions(r, ix)})
		return
	}
	code, ok := s.scope(w, r, ix, parent)
	if !ok {
		return
	}
	out := []regionDoc{}
	if k, ok := ix.regions[code]; ok {
		for _, c := range ix.children[k] {
			out = append(out, ix.regionDoc(c))
		}
	}
	writeJSON(w, http.StatusOK, itemsDoc[regionDoc]{Items: out})
}

func (s *Server) region(w http.ResponseWriter, r *http.Request) {
	ix, k, ok := s.lookup(w, r, (*index).region, "region")
	if !ok {
		return
	}
	defer ix.release()
	d := ix.regionDoc(k)
	path := []pathStep{}
	for p := ix.res.Regions[k].Parent; p != ""; {
		pk, ok := ix.regions[p]
		if !ok || len(path) > 64 {
			break
		}
		rg := &ix.res.Regions[pk]
		path = append([]pathStep{{Code: rg.Code, Name: rg.Name, Level: rg.Level}}, path...)
		p = rg.Parent
	}
	d.Path = &path
	writeJSON(w, http.StatusOK, d)
}

// summaryDoc is the answer of /api/v1/summary.
type summaryDoc struct {
	Computed   *string         `json:"computed"`
	Tiers      []coverage.Tier `json:"tiers"`
	Regions    []regionDoc     `json:"regions"`
	Devices    map[string]int  `json:"devices"`
	Gateways   map[string]int  `json:"gateways"`
	AlertsOpen int             `json:"alerts_open"`
	Boundaries bool            `json:"boundaries"`
}

func (s *Server) summary(w http.ResponseWriter, r *http.Request) {
	d := summaryDoc{Tiers: []coverage.Tier{}, Regions: []regionDoc{}, Devices: map[string]int{},
		Gateways: map[string]int{}}
	ix := s.acquireIndex()
	defer ix.release()
	if ix != nil {
		c := ix.res.Computed.UTC().Format(timeFormat)
		d.Computed, d.Tiers, d.Regions = &c, ix.res.Tiers, s.topRegions(r, ix)
	}
	d.Boundaries = s.src.HasBoundaries()
	v := s.visibility(r, ix)
	if v.all {
		d.Devices = s.src.DeviceCounts()
	} else {
		for _, dv := range s.src.Devices() {
			if v.site(dv.Site) {
				d.Devices[string(dv.State)]++
			}
		}
	}
	for _, g := range s.src.Gateways() {
		if v.site(g.Site) {
			d.Gateways[g.State]++
		}
	}
	for _, a := range s.src.Alerts(false) {
		if v.alert(a) {
			d.AlertsOpen++
		}
	}
	writeJSON(w, http.StatusOK, d)
}

// timeFormat is how times are written where the API formats them itself.
const timeFormat = "2006-01-02T15:04:05.999999999Z07:00"

// coverageDoc is the answer of /api/v1/coverage.
type coverageDoc struct {
	Computed string          `json:"computed"`
	Tiers    []coverage.Tier `json:"tiers"`
	Villages int             `json:"villages"`
	Gaps     int             `json:"gaps"`
	Regions  []regionDoc     `json:"regions"`
}

func (s *Server) coverageHeader(w http.ResponseWriter, r *http.Request) {
	ix := s.needIndex(w)
	if ix == nil {
		return
	}
	defer ix.release()
	root := callerOf(r).p.region
	d := coverageDoc{Computed: ix.res.Computed.UTC().Format(timeFormat), Tiers: ix.res.Tiers,
		Villages: len(ix.villageSpan(root)), Regions: s.topRegions(r, ix)}
	for i := range ix.res.Gaps {
		if ix.inSpan(ix.gapVillage[i], root) {
			d.Gaps++
		}
	}
	writeJSON(w, http.StatusOK, d)
}

// isAboveTownship reports whether a region's level is county or above.
func isAboveTownship(level string) bool {
	l, ok := inventory.ParseLevel(level)
	return ok && l <= inventory.LevelCounty
}

// parseBool reads an optional boolean query parameter.
func parseBool(w http.ResponseWriter, name, s string) (set, v, ok bool) {
	if s == "" {
		return false, false, true
	}
	b, err := strconv.ParseBool(s)
	if err != nil {
		writeError(w, http.StatusBadRequest, "%s %q is not true or false", name, s)
		return false, false, false
	}
	return true, b, true
}
