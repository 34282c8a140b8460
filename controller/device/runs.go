package device

import (
	"cmp"
	"sort"
	"strings"

	"github.com/gosnmp/gosnmp"
)

// A walk returns a column's objects in OID order, and the document reads
// them index by index in the same order. A run that is the whole column
// (no other run or object of Add reaches under its root) and whose OIDs
// strictly increase is searched in place: no map is built for a column
// read one index at a time, and the next read usually finds its object
// right after the last one.

// run is the objects one walk of a root returned, as the walk gave them.
type run struct {
	pdus   []gosnmp.SnmpPDU
	sorted bool // OIDs strictly increasing (OID order, arc by arc)
	clean  int8 // 0 not known yet, 1 the whole column (see overlapped), -1 not
	next   int  // where the next read looks first: just after the last one found
}

// increasing reports whether the OIDs of pdus strictly increase.
func increasing(pdus []gosnmp.SnmpPDU) bool {
	for i := 1; i < len(pdus); i++ {
		if oidCmp(normOID(pdus[i-1].Name), normOID(pdus[i].Name)) >= 0 {
			return false
		}
	}
	return true
}

// oidCmp orders two dotted OIDs (or index suffixes) as oidLess does,
// comparing arc by arc only from the arc where they first differ:
// neighbouring OIDs of a walk share all but their last arcs.
func oidCmp(a, b string) int {
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	if i == len(a) && i == len(b) {
		return 0
	}
	j := strings.LastIndexByte(a[:i], '.') + 1
	a, b = a[j:], b[j:]
	// The arcs that differ, when both are plain decimal numbers (no
	// leading zero, at most 19 digits: below 2^64), compare by length,
	// then byte by byte; arcs that are the same bytes mean one OID ends
	// there, and has fewer arcs.
	ea, eb := arcLen(a), arcLen(b)
	if plainArc(a[:ea]) && plainArc(b[:eb]) {
		switch {
		case ea != eb:
			return cmp.Compare(ea, eb)
		case a[:ea] != b[:eb]:
			return strings.Compare(a[:ea], b[:eb])
		}
		return cmp.Compare(len(a), len(b))
	}
	switch {
	case oidLess(a, b):
		return -1
	case oidLess(b, a):
		return 1
	}
	return 0
}

// arcLen is the length of the first arc of a dotted OID.
func arcLen(s string) int {
	if i := strings.IndexByte(s, '.'); i >= 0 {
		return i
	}
	return len(s)
}

// plainArc reports whether an arc is a decimal number below 10^19
// written without leading zeros.
func plainArc(s string) bool {
	if s == "" || len(s) > 19 || s[0] == '0' && len(s) > 1 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// searchable returns root's run when reads may search it in place: the
// whole column, its OIDs increasing; else nil.
func (o *Objects) searchable(root string) *run {
	r := o.runs[root]
	if r == nil || !r.sorted {
		return nil
	}
	if r.clean == 0 {
		r.clean = -1
		if !o.overlapped(root) {
			r.clean = 1
		}
	}
	if r.clean < 0 {
		return nil
	}
	return r
}

// suffix returns the index part of p's OID under a root of rootLen bytes
// (normOID form).
func suffix(p *gosnmp.SnmpPDU, rootLen int) string {
	return normOID(p.Name)[rootLen+1:]
}

// find returns the object at index idx of the run of a root of rootLen
// bytes.
func (r *run) find(rootLen int, idx string) (gosnmp.SnmpPDU, bool) {
	i := r.next
	if i >= len(r.pdus) || suffix(&r.pdus[i], rootLen) != idx {
		var found bool
		i, found = sort.Find(len(r.pdus), func(k int) int { return oidCmp(idx, suffix(&r.pdus[k], rootLen)) })
		// An index that equals one of the run's numerically but not
		// byte for byte ("01" and "1") is not that object, as in a map.
		if !found || suffix(&r.pdus[i], rootLen) != idx {
			return gosnmp.SnmpPDU{}, false
		}
	}
	r.next = i + 1
	if p := r.pdus[i]; !absent(p) {
		return p, true
	}
	return gosnmp.SnmpPDU{}, false
}

// at returns Column(root)[idx] without building the column's map when
// root's run is searchable.
func (o *Objects) at(root, idx string) (gosnmp.SnmpPDU, bool) {
	root = normOID(root)
	// A searchable run and a column built from it hold the same objects:
	// the run is tried first, for one map access rather than two.
	if r := o.searchable(root); r != nil {
		return r.find(len(root), idx)
	}
	p, ok := o.Column(root)[idx]
	return p, ok
}

// colSpan returns len(Column(root)) and lastIndex(Column(root)) without
// building the column's map when root's run is searchable.
func (o *Objects) colSpan(root string) (n int, last string) {
	root = normOID(root)
	if _, ok := o.cols[root]; !ok {
		if r := o.searchable(root); r != nil {
			for i := len(r.pdus) - 1; i >= 0; i-- {
				if absent(r.pdus[i]) {
					continue
				}
				if n == 0 {
					last = suffix(&r.pdus[i], len(root))
				}
				n++
			}
			return n, last
		}
	}
	c := o.Column(root)
	return len(c), lastIndex(c)
}

// eachIndex calls f with the index of every object of Column(root), in
// OID order when root's run is searchable, else in no given order.
func (o *Objects) eachIndex(root string, f func(idx string)) {
	root = normOID(root)
	if _, ok := o.cols[root]; !ok {
		if r := o.searchable(root); r != nil {
			for i := range r.pdus {
				if !absent(r.pdus[i]) {
					f(suffix(&r.pdus[i], len(root)))
				}
			}
			return
		}
	}
	for idx := range o.Column(root) {
		f(idx)
	}
}
