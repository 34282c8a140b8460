package inventory

import (
	"io"
	"math"
	"strconv"
	"strings"
)

// Columns of regions.csv.
const (
	regCode = iota
	regName
	regParent
	regLevel
	regPopulation
	regHouseholds
	regLat
	regLon
	regPriority
)

var regionsTable = table{file: "regions.csv",
	cols:     []string{"code", "name", "parent", "level", "population", "households", "lat", "lon", "priority"},
	required: 8}

// regionCols are the columns of the cells of a region's row that checks of
// the whole file point at.
type regionCols struct{ parent, level int32 }

// parseRegions reads regions.csv and links the regions into their tree:
// every parent known, no cycle, each level deeper than its parent's, no
// child under a village. rows is how many rows to expect.
func parseRegions(name string, r io.Reader, rows int, errs *errList) ([]Region, map[string]int32) {
	f := openCSV(name, r, regionsTable, errs)
	if f == nil {
		return nil, map[string]int32{}
	}
	n := rows
	regs := make([]Region, 0, n)
	cols := make([]regionCols, 0, n)
	byCode := make(map[string]int32, n)
	var strs arena
	for f.next() {
		// Parent is the record's until linkRegions points it to the
		// parent's Code.
		g := Region{Code: f.get(regCode), Name: f.required(regName), Parent: f.get(regParent), Line: f.line, ParentIx: -1}
		keep := f.unique(regCode, g.Code, byCode, func(i int32) int { return regs[i].Line }, "region")
		if g.Parent == g.Code && g.Code != "" {
			f.fail(regParent, "region %q is its own parent", g.Code)
			g.Parent = ""
		}
		lv := f.get(regLevel)
		var ok bool
		if g.Level, ok = ParseLevel(lv); !ok {
			f.fail(regLevel, "%q is none of province, prefecture, county, township, village", lv)
		}
		g.Population = parseCount(f, regPopulation)
		g.Households = parseCount(f, regHouseholds)
		g.Lat, g.Lon, g.HasPos = parsePos(f, regLat, regLon, g.Level == LevelVillage)
		g.Priority = parsePriority(f, regPriority)
		if keep {
			g.Code, g.Name = strs.get(g.Code), strs.get(g.Name)
			g.Index = int32(len(regs))
			byCode[g.Code] = g.Index
			cols = append(cols, regionCols{int32(f.col(regParent)), int32(f.col(regLevel))})
			regs = append(regs, g)
		}
	}
	if !errs.partial { // else parents may stand beyond the error
		linkRegions(f, regs, byCode, cols)
	}
	return regs, byCode
}

// linkRegions sets each region's ParentIx and Children and checks the
// tree.
func linkRegions(f *csvFile, regs []Region, byCode map[string]int32, cols []regionCols) {
	parent := make([]int32, len(regs))
	nChildren := make([]int32, len(regs))
	parents := refCols{f: f, k: regParent}
	for i := range regs {
		g := &regs[i]
		parent[i] = -1
		if g.Parent == "" {
			continue
		}
		p, ok := parents.lookup(g.Parent, byCode)
		if !ok {
			f.failAt(g.Line, int(cols[i].parent), regParent, "region %q is not in the file", g.Parent)
			continue
		}
		parent[i], g.ParentIx, g.Parent = p, p, regs[p].Code
		nChildren[p]++
	}
	inCycle := make([]bool, len(regs))
	for _, cyc := range findCycles(parent) {
		codes := make([]string, 0, len(cyc)+1)
		for _, c := range cyc {
			codes = append(codes, regs[c].Code)
			inCycle[c] = true
		}
		g := regs[cyc[0]]
		codes = append(codes, g.Code)
		f.failAt(g.Line, int(cols[cyc[0]].parent), regParent, "a cycle of parents: %s", strings.Join(codes, " -> "))
	}
	for i := range regs {
		g, p := &regs[i], parent[i]
		if p < 0 || inCycle[i] {
			continue
		}
		switch pl := regs[p].Level; {
		case pl == LevelVillage:
			f.failAt(g.Line, int(cols[i].parent), regParent, "region %q is a village: a village has no regions below it", g.Parent)
		case g.Level != 0 && pl != 0 && g.Level <= pl:
			f.failAt(g.Line, int(cols[i].level), regLevel, "%s is not below its parent %q, a %s", g.Level, g.Parent, pl)
		}
	}
	// All children in one array, each region's in file order.
	all := make([]int32, 0, len(regs))
	start := make([]int32, len(regs))
	off := int32(0)
	for i, n := range nChildren {
		start[i] = off
		off += n
	}
	all = all[:off]
	for i, p := range parent {
		if p >= 0 {
			all[start[p]] = int32(i)
			start[p]++
		}
	}
	for i, n := range nChildren {
		if n > 0 {
			regs[i].Children = all[start[i]-n : start[i] : start[i]]
		}
	}
}

// parseCount returns the current row's non-negative integer in column k
// (0 when blank).
func parseCount(f *csvFile, k int) int64 {
	s := f.get(k)
	if s == "" {
		return 0
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil || v < 0 {
		f.fail(k, "%q is not a non-negative integer", s)
		return 0
	}
	return v
}

// parseNonNegative returns the current row's non-negative decimal number
// in column k (0 when blank).
func parseNonNegative(f *csvFile, k int) float64 {
	s := f.get(k)
	if s == "" {
		return 0
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || v < 0 || math.IsNaN(v) || math.IsInf(v, 0) {
		f.fail(k, "%q is not a non-negative decimal number", s)
		return 0
	}
	return v
}

// parsePos returns the current row's position in columns kLat and kLon:
// both given, or both blank when not required.
func parsePos(f *csvFile, kLat, kLon int, required bool) (lat, lon float64, ok bool) {
	ls, os := f.get(kLat), f.get(kLon)
	if ls == "" && os == "" && !required {
		return 0, 0, false
	}
	lat, okLat := parseDegrees(f, kLat, 90)
	lon, okLon := parseDegrees(f, kLon, 180)
	return lat, lon, okLat && okLon
}

// parseDegrees returns the current row's decimal degrees in column k,
// within -max..max.
func parseDegrees(f *csvFile, k int, max float64) (float64, bool) {
	s := f.get(k)
	if s == "" {
		f.fail(k, "empty: decimal degrees required")
		return 0, false
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		f.fail(k, "%q is not a decimal number of degrees", s)
		return 0, false
	}
	if v < -max || v > max {
		f.fail(k, "%s is not within -%g..%g", s, max, max)
		return 0, false
	}
	return v, true
}

// parsePriority returns the current row's boolean in column k: blank, 0,
// false or no; 1, true or yes.
func parsePriority(f *csvFile, k int) bool {
	switch s := f.get(k); strings.ToLower(s) {
	case "", "0", "false", "no":
		return false
	case "1", "true", "yes":
		return true
	default:
		f.fail(k, "%q is none of 1, true, yes, 0, false, no or blank", s)
		return false
	}
}
