package device

import (
	"fmt"
	"strings"
)

// checkComplete compares the columns of each walked table: a column that
// answers some rows but lacks rows its sibling columns have means the agent
// skipped objects or ended the walk early (broken agents, mis-sorted MIB
// data). A column that answers no row is one the device does not implement
// and is not reported. Each table with short columns gives one warning
// naming the target, the table entry OID, its row count and each short
// column (by its number in the entry) with the rows it answered. Columns walked one by one are grouped by their table entry;
// ifXTable and ENTITY-MIB columns are sparse by design and not checked.
//
// expected are the columns the device's profile lists: the profile's
// author says the model implements them, so one that answers no row while
// its sibling columns answer rows is reported too (an agent that skips
// objects, as snmpsimd does on a mis-sorted recording).
func checkComplete(target string, o *Objects, roots []string, expected map[string]bool) []error {
	type entry struct {
		cols map[string]map[string]bool
	}
	entries := map[string]*entry{}
	add := func(e, col, row string) {
		en := entries[e]
		if en == nil {
			en = &entry{cols: map[string]map[string]bool{}}
			entries[e] = en
		}
		if en.cols[col] == nil {
			en.cols[col] = map[string]bool{}
		}
		en.cols[col][row] = true
	}
	for _, r := range roots {
		col := o.Column(r)
		dot := strings.LastIndexByte(r, '.')
		if dot <= 0 || sparseEntries[r[:dot]] {
			continue
		}
		add(r[:dot], r, "")
		for row := range col {
			add(r[:dot], r, row)
		}
	}
	var warns []error
	for _, e := range sortedKeys(entries) {
		en := entries[e]
		all := map[string]bool{}
		for _, rows := range en.cols {
			for row := range rows {
				if row != "" {
					all[row] = true
				}
			}
		}
		rows := sortedKeys(all)
		var short []string
		for _, c := range sortedKeys(en.cols) {
			n := len(en.cols[c])
			if en.cols[c][""] {
				n--
			}
			// A column with no row at all is one the device does not
			// implement, unless its profile says it does.
			if n == len(all) || (n == 0 && !expected[c]) {
				continue
			}
			first := ""
			for _, r := range rows {
				if !en.cols[c][r] {
					first = r
					break
				}
			}
			short = append(short, fmt.Sprintf("%s: %d rows, first missing %s.%s", c, n, c, first))
		}
		if len(short) > 0 {
			warns = append(warns, fmt.Errorf("device: %s: table %s has %d rows but some columns answered fewer (%s): the agent skipped objects or ended the walk early",
				target, e, len(all), strings.Join(short, "; ")))
		}
	}
	return warns
}

// sparseEntries are tables whose columns legitimately answer different
// rows (ifXTable, entPhysicalTable).
var sparseEntries = map[string]bool{"1.3.6.1.2.1.31.1.1.1": true, "1.3.6.1.2.1.47.1.1.1.1": true}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sortOIDs(out)
	return out
}
