package snmptest

import (
	"sort"
	"strings"

	"github.com/gosnmp/gosnmp"
)

// MIB is a fixed set of objects an Agent serves: Get answers exact OIDs
// (noSuchObject otherwise) and Next the first object after an OID
// (endOfMibView after the last), in numeric OID order.
type MIB struct {
	objs []gosnmp.SnmpPDU // sorted by Name
}

// NewMIB returns a MIB of pdus (names dotted, with or without a leading
// dot).
func NewMIB(pdus ...gosnmp.SnmpPDU) *MIB {
	m := &MIB{objs: make([]gosnmp.SnmpPDU, len(pdus))}
	for i, p := range pdus {
		p.Name = dotted(p.Name)
		m.objs[i] = p
	}
	sort.Slice(m.objs, func(i, j int) bool { return Compare(m.objs[i].Name, m.objs[j].Name) < 0 })
	return m
}

// Get answers a GET of oid.
func (m *MIB) Get(oid string) gosnmp.SnmpPDU {
	oid = dotted(oid)
	i := sort.Search(len(m.objs), func(i int) bool { return Compare(m.objs[i].Name, oid) >= 0 })
	if i < len(m.objs) && m.objs[i].Name == oid {
		return m.objs[i]
	}
	return gosnmp.SnmpPDU{Name: oid, Type: gosnmp.NoSuchObject}
}

// Next answers a GETNEXT of oid.
func (m *MIB) Next(oid string) gosnmp.SnmpPDU {
	oid = dotted(oid)
	i := sort.Search(len(m.objs), func(i int) bool { return Compare(m.objs[i].Name, oid) > 0 })
	if i < len(m.objs) {
		return m.objs[i]
	}
	return gosnmp.SnmpPDU{Name: oid, Type: gosnmp.EndOfMibView}
}

// Compare orders dotted OIDs by their numeric arcs: -1, 0 or +1.
func Compare(a, b string) int {
	as := strings.Split(strings.TrimPrefix(a, "."), ".")
	bs := strings.Split(strings.TrimPrefix(b, "."), ".")
	for i := 0; i < len(as) && i < len(bs); i++ {
		x, y := strings.TrimLeft(as[i], "0"), strings.TrimLeft(bs[i], "0")
		if len(x) != len(y) {
			if len(x) < len(y) {
				return -1
			}
			return 1
		}
		if c := strings.Compare(x, y); c != 0 {
			return c
		}
	}
	switch {
	case len(as) < len(bs):
		return -1
	case len(as) > len(bs):
		return 1
	}
	return 0
}

// Under reports whether oid lies strictly below root.
func Under(oid, root string) bool {
	oid, root = dotted(oid), dotted(root)
	return strings.HasPrefix(oid, root+".")
}

func dotted(oid string) string {
	if strings.HasPrefix(oid, ".") {
		return oid
	}
	return "." + oid
}
