package device

import (
	"sort"
	"strconv"
	"strings"

	"github.com/gosnmp/gosnmp"
)

// Objects holds what an agent answered, keyed by OID without a leading dot.
// The zero value is not usable; make one with NewObjects.
type Objects struct {
	byOID map[string]gosnmp.SnmpPDU
	cols  map[string]map[string]gosnmp.SnmpPDU
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
	for _, p := range pdus {
		if absent(p) {
			continue
		}
		o.byOID[normOID(p.Name)] = p
	}
	o.cols = map[string]map[string]gosnmp.SnmpPDU{}
}

// Len is the number of objects held.
func (o *Objects) Len() int { return len(o.byOID) }

// Get returns the object at an exact OID.
func (o *Objects) Get(oid string) (gosnmp.SnmpPDU, bool) {
	p, ok := o.byOID[normOID(oid)]
	return p, ok
}

// Column returns the objects under a column root, keyed by index suffix
// (the OID part after root and a dot).
func (o *Objects) Column(root string) map[string]gosnmp.SnmpPDU {
	root = normOID(root)
	if c, ok := o.cols[root]; ok {
		return c
	}
	c := map[string]gosnmp.SnmpPDU{}
	prefix := root + "."
	for k, p := range o.byOID {
		if strings.HasPrefix(k, prefix) {
			c[k[len(prefix):]] = p
		}
	}
	o.cols[root] = c
	return c
}

// HasUnder reports whether any object sits under root.
func (o *Objects) HasUnder(root string) bool {
	return len(o.Column(root)) > 0
}

// colInt returns the integer of a column at an index.
func (o *Objects) colInt(root, idx string) (int64, bool) {
	p, ok := o.Column(root)[idx]
	if !ok {
		return 0, false
	}
	return pduInt(p)
}

// colUint returns the unsigned value of a column at an index.
func (o *Objects) colUint(root, idx string) (uint64, bool) {
	p, ok := o.Column(root)[idx]
	if !ok {
		return 0, false
	}
	return pduUint(p)
}

// colText returns the text of a column at an index.
func (o *Objects) colText(root, idx string) (string, bool) {
	p, ok := o.Column(root)[idx]
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
	as, bs := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(as) && i < len(bs); i++ {
		ai, errA := strconv.ParseUint(as[i], 10, 64)
		bi, errB := strconv.ParseUint(bs[i], 10, 64)
		if errA != nil || errB != nil {
			if as[i] != bs[i] {
				return as[i] < bs[i]
			}
			continue
		}
		if ai != bi {
			return ai < bi
		}
	}
	return len(as) < len(bs)
}

// ptr returns a pointer to v.
func ptr[T any](v T) *T { return &v }
