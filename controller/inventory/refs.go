package inventory

import "strings"

// refCols remembers where the cells that name a row of another file stand,
// for the rows kept, so that the references are checked once that file is
// read.
type refCols struct {
	f    *csvFile
	k    int     // the table's column of the reference
	cols []int32 // per row kept, the cell's column
	// The last key found and its index: rows often name the same row as
	// the row before them.
	lastKey string
	lastIx  int32
}

// keep records the column of the current row's cell.
func (r *refCols) keep() { r.cols = append(r.cols, int32(r.f.col(r.k))) }

// resolve returns the index of key in m for row i (at line), or records an
// error saying key is not in file. An empty key was reported when read.
func (r *refCols) resolve(i, line int, key string, m map[string]int32, what, file string) (int32, bool) {
	ix, ok := r.lookup(key, m)
	if !ok && key != "" {
		r.f.failAt(line, int(r.cols[i]), r.k, "%s %q is not in %s", what, key, file)
	}
	return ix, ok
}

// lookup returns the index of key in m, remembering it for the next row.
func (r *refCols) lookup(key string, m map[string]int32) (int32, bool) {
	if key == r.lastKey && key != "" {
		return r.lastIx, true
	}
	ix, ok := m[key]
	if ok {
		r.lastKey, r.lastIx = key, ix
	}
	return ix, ok
}

// village returns the index of the village with the code key for row i (at
// line), or records an error: not in regions.csv, or not a village.
func (r *refCols) village(i, line int, key string, inv *Inventory) int32 {
	ix, ok := r.resolve(i, line, key, inv.regionIx, "region", "regions.csv")
	if !ok {
		return -1
	}
	if l := inv.Regions[ix].Level; l != LevelVillage {
		if l == 0 { // its level was reported with regions.csv
			return -1
		}
		r.f.failAt(line, int(r.cols[i]), r.k, "region %q is a %s, not a village", key, l)
		return -1
	}
	return ix
}

// interner returns one string for equal cells, so that a column of few
// distinct values (kind, technology) keeps one copy of each.
type interner map[string]string

// get returns the interned s.
func (in interner) get(s string) string {
	if v, ok := in[s]; ok {
		return v
	}
	s = strings.Clone(s) // not the record's string
	in[s] = s
	return s
}

// arenaBlock is the size of an arena's blocks.
const arenaBlock = 64 << 10

// arena copies cells into large shared blocks, so that the cells kept from
// a row, a few bytes, do not hold its whole record (one string per row)
// and cost no allocation each.
type arena struct{ b strings.Builder }

// get returns a copy of s in the arena's block.
func (a *arena) get(s string) string {
	if s == "" {
		return ""
	}
	if a.b.Cap()-a.b.Len() < len(s) {
		// A new block: the strings of the last one stay as they are.
		a.b = strings.Builder{}
		a.b.Grow(max(arenaBlock, len(s)))
	}
	a.b.WriteString(s)
	all := a.b.String()
	return all[len(all)-len(s):]
}
