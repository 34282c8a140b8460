package device

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/ngic/ngic/controller/snmp"
)

// A table's columns may legitimately answer different rows: SNMP lets an
// agent leave out an object it has no value for (an interface without a
// MAC address, an MTU known for some rows only). What the walk alone cannot
// tell apart is a column that is sparse at its end from one whose walk the
// agent ended early (snmpsimd on an undecodable value, a sub-agent that
// times out, objects out of order): both stop before the rows their
// sibling columns go on to. So:
//
//   - a column with holes between rows it answers is sparse, never
//     reported: a cut walk does not resume;
//   - a column that stops before its siblings' last row, and a column the
//     device's profile lists that answers no row while its siblings do, is
//     a gap; the agent is asked (one GET of a few of the rows the column
//     left out, at most maxGapOIDs objects per poll) and only a gap where
//     the agent answers the GET with a value is reported: the agent holds
//     objects its walk did not return;
//   - roots the walk itself already warned about are not looked at again.
//
// ifXTable and entPhysicalTable are sparse by design and not checked.

// gapSamples is how many of a gap's missing rows the GET asks for: the
// first, the last and one between.
const gapSamples = 3

// maxGapOIDs bounds the GET that checks gaps; gaps beyond it are not
// checked (and not reported).
const maxGapOIDs = 60

// sparseEntries are tables whose columns legitimately answer different
// rows (ifXTable, entPhysicalTable).
var sparseEntries = map[string]bool{"1.3.6.1.2.1.31.1.1.1": true, "1.3.6.1.2.1.47.1.1.1.1": true}

// columnGap is a column that stops before the last row its sibling
// columns answer (or, listed by the profile, answers none): a sparse column
// or a cut walk.
type columnGap struct {
	entry     string   // the table entry OID
	col       string   // the column OID
	rows      int      // rows the column answered
	tableRows int      // rows any column of the table answered
	last      string   // the column's last index, "" when it answered none
	tableLast string   // the table's last index
	missing   []string // the table's indexes after last, in OID order
}

// columnGaps finds the gaps among the walked roots, grouped by table entry
// (a root's parent OID). A column that answers no row is one the device
// does not implement unless expected lists it. Roots in skip are left out.
func columnGaps(o *Objects, roots []string, expected, skip map[string]bool) []columnGap {
	entries := map[string][]string{} // entry -> its columns
	seen := make(map[string]bool, len(roots))
	for _, r := range roots {
		dot := strings.LastIndexByte(r, '.')
		if dot <= 0 || sparseEntries[r[:dot]] || skip[r] || seen[r] {
			continue
		}
		seen[r] = true
		entries[r[:dot]] = append(entries[r[:dot]], r)
	}
	var gaps []columnGap
	for _, e := range sortedKeys(entries) {
		cols := entries[e]
		if !mayHaveGap(o, cols, expected) {
			continue
		}
		sortOIDs(cols)
		n := 0
		for _, c := range cols {
			n += len(o.Column(c))
		}
		all := make(map[string]bool, n)
		for _, c := range cols {
			for idx := range o.Column(c) {
				all[idx] = true
			}
		}
		if len(all) == 0 {
			continue
		}
		table := sortedKeys(all)
		for _, c := range cols {
			rows := o.Column(c)
			g := columnGap{entry: e, col: c, rows: len(rows), tableRows: len(table), tableLast: table[len(table)-1]}
			if len(rows) == 0 {
				if !expected[c] {
					continue
				}
				g.missing = table
			} else {
				g.last = lastIndex(rows)
				for i := len(table) - 1; i >= 0 && table[i] != g.last; i-- {
					g.missing = append(g.missing, table[i])
				}
				if len(g.missing) == 0 {
					continue // holes, if any, are between rows the column answers: sparse
				}
				slices.Reverse(g.missing)
			}
			gaps = append(gaps, g)
		}
	}
	return gaps
}

// mayHaveGap reports whether a table whose columns cols were walked may
// have a gap: some column stops before the table's last row, or a column
// expected lists answers none while others answer. It reads only each
// column's row count and last index, so that a table without gaps (the
// usual one) costs no map of its rows.
func mayHaveGap(o *Objects, cols []string, expected map[string]bool) bool {
	tableLast, rows, empty := "", 0, false
	for _, c := range cols {
		n, last := o.colSpan(c)
		switch {
		case n == 0:
			empty = empty || expected[c]
		case rows == 0 || oidLess(tableLast, last):
			tableLast = last
		}
		rows += n
	}
	if rows == 0 {
		return false
	}
	if empty {
		return true
	}
	for _, c := range cols {
		if n, last := o.colSpan(c); n > 0 && last != tableLast {
			return true
		}
	}
	return false
}

// lastIndex returns the greatest index of a non-empty column in OID order.
func lastIndex[V any](col map[string]V) string {
	last, first := "", true
	for idx := range col {
		if first || oidLess(last, idx) {
			last, first = idx, false
		}
	}
	return last
}

// samples picks up to gapSamples indexes of s: the first, the last and the
// middle one.
func samples(s []string) []string {
	switch {
	case len(s) <= gapSamples:
		return s
	default:
		return []string{s[0], s[len(s)/2], s[len(s)-1]}
	}
}

// checkComplete reports the gaps of the walked roots that the agent shows
// to be cut walks: one warning per table, naming the target, the table
// entry, its row count, and for each cut column (by OID) where it stopped
// and an object the agent holds beyond it. expected lists the columns the
// device's profile names; walkWarnings are the walk's own warnings (the
// roots they name are not checked again). A failed GET is reported, unless
// ctx is done: the walk's warnings already say the poll was cut.
func checkComplete(ctx context.Context, c snmp.Client, target string, o *Objects, roots []string,
	expected map[string]bool, walkWarnings []error) []error {
	skip := map[string]bool{}
	for _, w := range walkWarnings {
		var ww *snmp.WalkWarning
		if errors.As(w, &ww) {
			skip[ww.Root] = true
		}
	}
	gaps := columnGaps(o, roots, expected, skip)
	if len(gaps) == 0 {
		return nil
	}
	var oids []string
	var owner []int
	for i, g := range gaps {
		for _, idx := range samples(g.missing) {
			if len(oids) < maxGapOIDs {
				oids = append(oids, g.col+"."+idx)
				owner = append(owner, i)
			}
		}
	}
	pdus, err := c.Get(ctx, oids)
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		cols := make([]string, 0, len(gaps))
		for _, g := range gaps {
			cols = append(cols, g.col)
		}
		return []error{fmt.Errorf("device: %s: columns %s stop before their tables' last rows, and the GET that tells a sparse column from a cut walk failed: %w",
			target, strings.Join(cols, ", "), err)}
	}
	held := map[int]string{} // gap -> first OID the agent answers
	for k, p := range pdus {
		if k >= len(oids) || absent(p) {
			continue
		}
		if _, seen := held[owner[k]]; !seen {
			held[owner[k]] = oids[k]
		}
	}
	var warns []error
	for i := 0; i < len(gaps); {
		e := gaps[i].entry
		var cut []string
		n := gaps[i].tableRows
		for ; i < len(gaps) && gaps[i].entry == e; i++ {
			g := gaps[i]
			oid, ok := held[i]
			if !ok {
				continue
			}
			if g.rows == 0 {
				cut = append(cut, fmt.Sprintf("%s answered no row, yet the agent answers GET %s", g.col, oid))
			} else {
				cut = append(cut, fmt.Sprintf("%s stops at %s.%s (%d rows) while its sibling columns go on to row %s, yet the agent answers GET %s",
					g.col, g.col, g.last, g.rows, g.tableLast, oid))
			}
		}
		if len(cut) > 0 {
			warns = append(warns, fmt.Errorf("device: %s: table %s has %d rows but the walk of some columns ended early or skipped objects (%s)",
				target, e, n, strings.Join(cut, "; ")))
		}
	}
	return warns
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sortOIDs(out)
	return out
}
