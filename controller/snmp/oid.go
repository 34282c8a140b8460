package snmp

import (
	"strings"
	"sync"
	"sync/atomic"
)

// normOID returns oid with exactly one leading dot, the form gosnmp uses
// for the names it returns. The roots and scalars a poller asks for are
// few and asked every poll: their dotted forms are kept (up to
// maxDotted), so that asking costs no allocation.
func normOID(oid string) string {
	oid = strings.TrimSpace(oid)
	if strings.HasPrefix(oid, ".") {
		return oid
	}
	if d, ok := dotted.Load(oid); ok {
		return d.(string)
	}
	d := "." + oid
	if dottedN.Add(1) <= maxDotted {
		dotted.Store(oid, d)
	}
	return d
}

// dotted maps OIDs to their normOID form; dottedN counts its entries.
var (
	dotted  sync.Map
	dottedN atomic.Int64
)

// maxDotted bounds dotted: a few thousand OIDs of profiles, not every OID
// a walk passes through.
const maxDotted = 4096

// underRoot reports whether oid lies strictly below root (both in normOID
// form): "1.3.6.1.2.1.2.2.1.1.1" is under "1.3.6.1.2.1.2.2", while
// "1.3.6.1.2.1.2.20" is not.
func underRoot(oid, root string) bool {
	return len(oid) > len(root) && oid[len(root)] == '.' && oid[:len(root)] == root
}

// oidCompare orders two dotted OIDs by their numeric arcs without
// allocating: -1 when a < b, 0 when equal, +1 when a > b. Arcs that are not
// decimal numbers are ordered by length then bytes, so the order stays total
// for garbage input.
func oidCompare(a, b string) int {
	a = strings.TrimPrefix(a, ".")
	b = strings.TrimPrefix(b, ".")
	// The arcs before the first differing byte are the same bytes, so equal:
	// compare from the start of the arc holding that byte. A walk compares
	// each OID with the one before it, which shares all but its last arcs.
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	if i == len(a) && i == len(b) {
		return 0
	}
	if j := strings.LastIndexByte(a[:i], '.'); j >= 0 {
		a, b = a[j+1:], b[j+1:]
	}
	return arcsCompare(a, b)
}

// arcsCompare is oidCompare of two OIDs without their leading dots, arc by
// arc from the first.
func arcsCompare(a, b string) int {
	for {
		if a == "" || b == "" {
			switch {
			case a == "" && b == "":
				return 0
			case a == "":
				return -1
			default:
				return 1
			}
		}
		var ca, cb string
		ca, a = cutArc(a)
		cb, b = cutArc(b)
		if c := arcCompare(ca, cb); c != 0 {
			return c
		}
	}
}

// cutArc splits the first arc off a dotted OID.
func cutArc(s string) (arc, rest string) {
	if i := strings.IndexByte(s, '.'); i >= 0 {
		return s[:i], s[i+1:]
	}
	return s, ""
}

// arcCompare compares two decimal arcs numerically (leading zeros ignored).
func arcCompare(a, b string) int {
	a = strings.TrimLeft(a, "0")
	b = strings.TrimLeft(b, "0")
	switch {
	case len(a) < len(b):
		return -1
	case len(a) > len(b):
		return 1
	}
	return strings.Compare(a, b)
}
