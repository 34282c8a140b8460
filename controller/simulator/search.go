package simulator

import (
	"cmp"

	"github.com/ngic/ngic/controller/snmprec"
)

// Every request names objects by OID and most are answered from a binary
// search of a recording: the comparison below is the agent's inner loop.

// compareOID orders two canonical BER-encoded OIDs as snmprec.CompareOID
// does (arc by arc, a prefix first), from their first differing octet:
// the octets before it are equal, so the arc holding it starts at the
// same place in both, and canonical arcs (no leading 0x80 octet) compare
// by length first, then octet by octet.
func compareOID(a, b []byte) int {
	n := min(len(a), len(b))
	k := 0
	for k < n && a[k] == b[k] {
		k++
	}
	if k == n { // one is the other's prefix, whole arcs since both end one
		return cmp.Compare(len(a), len(b))
	}
	ea, eb := k, k
	for ea < len(a)-1 && a[ea]&0x80 != 0 {
		ea++
	}
	for eb < len(b)-1 && b[eb]&0x80 != 0 {
		eb++
	}
	if ea-k != eb-k {
		return cmp.Compare(ea-k, eb-k)
	}
	return cmp.Compare(a[k], b[k])
}

// search is snmprec.View.Search with compareOID: the index of the first
// record not below the canonical oid (Len() when none) and whether its OID
// is oid.
func search(v *snmprec.View, oid []byte) (int, bool) {
	lo, hi := 0, v.Len()
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if compareOID(v.Record(mid).OID, oid) < 0 {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	return lo, lo < v.Len() && compareOID(v.Record(lo).OID, oid) == 0
}

// next is snmprec.View.Next with compareOID: the index of the first record
// above the canonical oid, the answer to a GETNEXT.
func next(v *snmprec.View, oid []byte) int {
	i, exact := search(v, oid)
	if exact {
		i++
	}
	return i
}
