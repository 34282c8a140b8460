package device

import (
	"slices"
	"sort"
	"strings"

	"github.com/gosnmp/gosnmp"
)

// Objects holds what an agent answered, keyed by OID without a leading dot.
// The zero value is not usable; make one with NewObjects.
type Objects struct {
	byOID map[string]gosnmp.SnmpPDU
	cols  map[string]map[string]gosnmp.SnmpPDU
	// sorted holds byOID's objects in byte order of their OIDs once a
	// Column needed them (sortedOK), so that the objects under a root are
	// one contiguous run found by binary search, not a scan of every
	// object for every column.
	sorted   []keyedPDU
	sortedOK bool
	// runs are the walks added by addWalk, keyed by root (normOID form):
	// a Column of such a root that no other run and no object of Add
	// overlaps is its run, with no sort at all. A root walked twice
	// maps to nil and takes the sorted path.
	runs  map[string]*run
	spare []run    // runs allocated ahead, so that a walk's roots share one allocation
	loose []string // OIDs added by Add, which may fall under a run's root
	// pending are walks not yet in byOID, in the order added: most polls
	// read walked objects by column only, so they are indexed one by one
	// only when something needs byOID (Get under their root, Len, Add,
	// the sorted path of Column).
	pending []pendingWalk
}

// pendingWalk is a walk added by addWalk and not yet indexed in byOID.
type pendingWalk struct {
	root string
	pdus []gosnmp.SnmpPDU
}

// keyedPDU is an object and its OID as byOID keys it.
type keyedPDU struct {
	oid string
	pdu gosnmp.SnmpPDU
}

// NewObjects indexes the given PDUs; for a repeated OID the last one wins.
func NewObjects(pdus ...[]gosnmp.SnmpPDU) *Objects {
	o := &Objects{byOID: map[string]gosnmp.SnmpPDU{}, cols: map[string]map[string]gosnmp.SnmpPDU{}}
	for _, list := range pdus {
		o.Add(list)
	}
	return o
}

// Add indexes more PDUs; missing objects (noSuchObject, noSuchInstance,
// endOfMibView) are dropped.
func (o *Objects) Add(pdus []gosnmp.SnmpPDU) {
	o.index() // what was added before must not win over pdus
	for _, p := range pdus {
		if absent(p) {
			continue
		}
		k := normOID(p.Name)
		o.byOID[k] = p
		o.loose = append(o.loose, k)
	}
	clear(o.cols)
	o.sortedOK = false
}

// index puts the pending walks into byOID, in the order they were added,
// making room for all of them at once rather than growing (and rehashing)
// step by step.
func (o *Objects) index() {
	if len(o.pending) == 0 {
		return
	}
	n := 0
	for _, w := range o.pending {
		n += len(w.pdus)
	}
	if n > len(o.byOID) { // else growing step by step costs at most as much again
		m := make(map[string]gosnmp.SnmpPDU, len(o.byOID)+n)
		for k, p := range o.byOID {
			m[k] = p
		}
		o.byOID = m
	}
	for _, w := range o.pending {
		for _, p := range w.pdus {
			if !absent(p) {
				o.byOID[normOID(p.Name)] = p
			}
		}
	}
	clear(o.pending)
	o.pending = o.pending[:0]
}

// addWalk adds the objects one walk of root returned, as Add does (they
// are indexed in byOID when needed, see pending), and keeps them as root's
// run for Column.
func (o *Objects) addWalk(root string, pdus []gosnmp.SnmpPDU) {
	root = normOID(root)
	outside := false // an object not under root: the run is not its column
	for _, p := range pdus {
		if k := normOID(p.Name); !underOID(k, root) {
			outside = true
			o.loose = append(o.loose, k) // it may lie under another root
		}
	}
	o.pending = append(o.pending, pendingWalk{root: root, pdus: pdus})
	if outside {
		o.index() // Get finds pending objects by their walk's root
	}
	clear(o.cols)
	o.sortedOK = false
	if o.runs == nil {
		o.runs = map[string]*run{}
	}
	for _, r := range o.runs {
		if r != nil {
			r.clean = 0 // the new run may overlap it
		}
	}
	if _, twice := o.runs[root]; twice || outside {
		o.runs[root] = nil
		return
	}
	if len(o.spare) == 0 {
		o.spare = make([]run, 16)
	}
	r := &o.spare[0]
	o.spare = o.spare[1:]
	*r = run{pdus: pdus, sorted: increasing(pdus)}
	o.runs[root] = r
}

// runColumn returns Column(root) from root's run, or an empty column when
// no run and no object of Add reaches under root; it returns false when
// root has no run of its own and something may lie under it, or another
// run or an object of Add may overlap it.
func (o *Objects) runColumn(root string) (map[string]gosnmp.SnmpPDU, bool) {
	r, own := o.runs[root]
	if own && r == nil || o.overlapped(root) {
		return nil, false
	}
	var run []gosnmp.SnmpPDU
	if r != nil {
		run = r.pdus
	}
	c := make(map[string]gosnmp.SnmpPDU, len(run))
	for _, p := range run {
		if !absent(p) {
			c[normOID(p.Name)[len(root)+1:]] = p
		}
	}
	return c, true
}

// overlapped reports whether another run or an object of Add reaches
// under root, or root lies under another run's root.
func (o *Objects) overlapped(root string) bool {
	for k := range o.runs {
		if k != root && (underOID(k, root) || underOID(root, k)) {
			return true
		}
	}
	for _, k := range o.loose {
		if underOID(k, root) {
			return true
		}
	}
	return false
}

// underOID reports whether oid lies strictly below root (both without a
// leading dot).
func underOID(oid, root string) bool {
	return len(oid) > len(root) && oid[len(root)] == '.' && oid[:len(root)] == root
}

// Len is the number of objects held.
func (o *Objects) Len() int {
	o.index()
	return len(o.byOID)
}

// Get returns the object at an exact OID.
func (o *Objects) Get(oid string) (gosnmp.SnmpPDU, bool) {
	k := normOID(oid)
	for _, w := range o.pending {
		if underOID(k, w.root) {
			if r := o.searchable(w.root); r != nil {
				return r.find(len(w.root), k[len(w.root)+1:])
			}
			o.index()
			break
		}
	}
	p, ok := o.byOID[k]
	return p, ok
}

// Column returns the objects under a column root, keyed by index suffix
// (the OID part after root and a dot).
func (o *Objects) Column(root string) map[string]gosnmp.SnmpPDU {
	root = normOID(root)
	if c, ok := o.cols[root]; ok {
		return c
	}
	if c, ok := o.runColumn(root); ok {
		o.cols[root] = c
		return c
	}
	if !o.sortedOK {
		o.sort()
	}
	prefix := root + "."
	lo, _ := slices.BinarySearchFunc(o.sorted, prefix, func(e keyedPDU, t string) int { return strings.Compare(e.oid, t) })
	hi := lo
	for hi < len(o.sorted) && strings.HasPrefix(o.sorted[hi].oid, prefix) {
		hi++
	}
	c := make(map[string]gosnmp.SnmpPDU, hi-lo)
	for _, e := range o.sorted[lo:hi] {
		c[e.oid[len(prefix):]] = e.pdu
	}
	o.cols[root] = c
	return c
}

// sort fills o.sorted from byOID.
func (o *Objects) sort() {
	o.index()
	o.sorted = o.sorted[:0]
	for k, p := range o.byOID {
		o.sorted = append(o.sorted, keyedPDU{oid: k, pdu: p})
	}
	slices.SortFunc(o.sorted, func(a, b keyedPDU) int { return strings.Compare(a.oid, b.oid) })
	o.sortedOK = true
}

// HasUnder reports whether any object sits under root.
func (o *Objects) HasUnder(root string) bool {
	n, _ := o.colSpan(root)
	return n > 0
}

// colInt returns the integer of a column at an index.
func (o *Objects) colInt(root, idx string) (int64, bool) {
	p, ok := o.at(root, idx)
	if !ok {
		return 0, false
	}
	return pduInt(p)
}

// colUint returns the unsigned value of a column at an index.
func (o *Objects) colUint(root, idx string) (uint64, bool) {
	p, ok := o.at(root, idx)
	if !ok {
		return 0, false
	}
	return pduUint(p)
}

// colText returns the text of a column at an index.
func (o *Objects) colText(root, idx string) (string, bool) {
	p, ok := o.at(root, idx)
	if !ok {
		return "", false
	}
	return pduText(p)
}

// indexes returns the index suffixes of a column in numeric OID order.
func indexes(col map[string]gosnmp.SnmpPDU) []string {
	out := make([]string, 0, len(col))
	for k := range col {
		out = append(out, k)
	}
	sortOIDs(out)
	return out
}

// sortOIDs sorts dotted OIDs (or index suffixes) arc by arc numerically.
func sortOIDs(s []string) {
	sort.Slice(s, func(i, j int) bool { return oidLess(s[i], s[j]) })
}

func oidLess(a, b string) bool {
	for {
		ca, ra, moreA := strings.Cut(a, ".")
		cb, rb, moreB := strings.Cut(b, ".")
		ai, okA := arcUint(ca)
		bi, okB := arcUint(cb)
		switch {
		case !okA || !okB:
			if ca != cb {
				return ca < cb
			}
		case ai != bi:
			return ai < bi
		}
		if !moreA || !moreB {
			return !moreA && moreB // fewer arcs first
		}
		a, b = ra, rb
	}
}

// arcUint parses a decimal arc as strconv.ParseUint(s, 10, 64) does,
// without its error value.
func arcUint(s string) (uint64, bool) {
	if s == "" {
		return 0, false
	}
	var v uint64
	for i := 0; i < len(s); i++ {
		d := s[i] - '0'
		if d > 9 || v > (1<<64-1-uint64(d))/10 {
			return 0, false
		}
		v = v*10 + uint64(d)
	}
	return v, true
}

// ptr returns a pointer to v.
func ptr[T any](v T) *T { return &v }
