package snmp

import (
	"bytes"
	"cmp"
)

// A GETBULK answer goes on past the end of its columns: each column's rows
// continue into whatever follows the column's root, up to the
// repetitions asked for or the agent's message size. The walk reads the
// first varbind past a root only as that column's end, and skips the rest
// of the column's varbinds unread; decoding them is most of what a small
// table's walk costs. pruneBulk reads the answer's BER (tags and lengths,
// and the OIDs' bytes compared in place with the roots', nothing decoded)
// and leaves those varbinds out before gosnmp decodes the answer, with a
// plan saying what became of each, so that the walk ends the same columns
// at the same places as if it had read them.

// What became of each varbind of an answer, in a plan.
const (
	// planKept: left in the answer, decoded and fed to the walk.
	planKept byte = iota
	// planEnd: left out as its column's quiet end: an exception value
	// (endOfMibView, noSuchObject, noSuchInstance), or an OID past its
	// column's whole subtree, which the walk reads as the end without a
	// warning.
	planEnd
	// planSkip: left out, coming after its column's end in the answer,
	// which the walk skips unread.
	planSkip
)

// maxPruneColumns bounds the columns of a request whose answer is pruned.
const maxPruneColumns = 128

// pruneBulk appends to dst the GETBULK answer msg less the varbinds the
// walk would skip, or read only as the quiet end of their column, and
// appends to plan[:0] one entry per varbind of msg. roots are the BER
// contents of the OIDs of the request's columns, in request order: the
// varbind k of the answer belongs to column k % len(roots). It returns the
// number of varbinds kept, and ok false (dst and plan then mean nothing)
// when msg is not a v1 or v2c GetResponse without error status laid out
// as expected, or when nothing would be left out: the caller then decodes
// msg as it is.
func pruneBulk(dst, msg []byte, roots [][]byte, plan []byte) (out, planOut []byte, kept int, ok bool) {
	n := len(roots)
	if n == 0 || n > maxPruneColumns {
		return dst, plan, 0, false
	}
	// SEQUENCE { version, community, GetResponse-PDU }, nothing after it.
	body, ok := berSeq(msg, 0x30)
	if !ok {
		return dst, plan, 0, false
	}
	head, rest, ok := berFields(body, 0x02, 0x04)
	if !ok {
		return dst, plan, 0, false
	}
	pdu, ok := berSeq(rest, 0xa2)
	if !ok {
		return dst, plan, 0, false
	}
	// GetResponse-PDU { request-id, error-status, error-index, varbinds }.
	ids, rest, ok := berFields(pdu, 0x02, 0x02, 0x02)
	if !ok || !noErrorStatus(ids) {
		return dst, plan, 0, false
	}
	vbl, ok := berSeq(rest, 0x30)
	if !ok {
		return dst, plan, 0, false
	}
	var ended [maxPruneColumns]bool
	plan = plan[:0]
	size := 0
	for v := vbl; len(v) > 0; {
		tag, content, rest, ok := berTLV(v)
		if !ok || tag != 0x30 {
			return dst, plan, 0, false
		}
		col := len(plan) % n
		fate := planSkip
		if !ended[col] {
			var ends bool
			if fate, ends, ok = columnFate(content, roots[col]); !ok {
				return dst, plan, 0, false
			}
			ended[col] = ends
		}
		plan = append(plan, fate)
		if fate == planKept {
			kept++
			size += len(v) - len(rest)
		}
		v = rest
	}
	if kept == len(plan) {
		return dst, plan, 0, false
	}
	pduLen := len(ids) + tlvLen(size)
	dst = appendHeader(dst, 0x30, len(head)+tlvLen(pduLen))
	dst = append(dst, head...)
	dst = appendHeader(dst, 0xa2, pduLen)
	dst = append(dst, ids...)
	dst = appendHeader(dst, 0x30, size)
	k := 0
	for v := vbl; len(v) > 0; k++ {
		_, _, rest, _ := berTLV(v)
		if plan[k] == planKept {
			dst = append(dst, v[:len(v)-len(rest)]...)
		}
		v = rest
	}
	return dst, plan, kept, true
}

// columnFate says what becomes of a varbind (its SEQUENCE's content) that
// comes before its column's end, in a column whose root has the BER
// content root: planEnd for an exception value or an OID past the root's
// whole subtree (the walk ends the column there quietly), else planKept;
// ends reports whether the column ends at this varbind, so that its later
// varbinds are skipped: so does a varbind kept for an OID at or before the
// root, which the walk ends the column at with a warning. An OID not in
// BER's shortest form is kept, and does not end the column: the walk
// decides. ok is false for a varbind that is not an OID and a value.
func columnFate(vb, root []byte) (fate byte, ends, ok bool) {
	tag, oid, value, ok := berTLV(vb)
	if !ok || tag != 0x06 {
		return 0, false, false
	}
	vtag, _, _, ok := berTLV(value)
	if !ok {
		return 0, false, false
	}
	switch {
	case vtag >= 0x80 && vtag <= 0x82:
		return planEnd, true, true
	case !shortestOID(oid):
		return planKept, false, true
	case len(oid) > len(root) && bytes.HasPrefix(oid, root):
		return planKept, false, true // under the root
	}
	if c, known := berOIDCompare(oid, root); known && c > 0 {
		return planEnd, true, true
	} else if known {
		return planKept, true, true
	}
	return planKept, false, true
}

// noErrorStatus reports whether the request-id, error-status and
// error-index fields ids carry error status 0.
func noErrorStatus(ids []byte) bool {
	_, _, rest, _ := berTLV(ids)
	_, status, _, _ := berTLV(rest)
	return len(status) == 1 && status[0] == 0
}

// berSeq returns the content of the TLV of the given tag that b holds,
// with nothing after it.
func berSeq(b []byte, tag byte) ([]byte, bool) {
	t, content, rest, ok := berTLV(b)
	if !ok || t != tag || len(rest) != 0 {
		return nil, false
	}
	return content, true
}

// berFields splits off the start of b the TLVs of the given tags, in
// order, returning their bytes and what follows.
func berFields(b []byte, tags ...byte) (fields, rest []byte, ok bool) {
	rest = b
	for _, want := range tags {
		var t byte
		if t, _, rest, ok = berTLV(rest); !ok || t != want {
			return nil, nil, false
		}
	}
	return b[:len(b)-len(rest)], rest, true
}

// shortestOID reports whether an OID's BER content is well formed in its
// shortest form: no sub-identifier starts with a 0x80 padding octet, and
// the last one ends.
func shortestOID(oid []byte) bool {
	if len(oid) == 0 || oid[len(oid)-1]&0x80 != 0 {
		return false
	}
	start := true
	for _, c := range oid {
		if start && c == 0x80 {
			return false
		}
		start = c&0x80 == 0
	}
	return true
}

// berOIDCompare orders two OIDs given as BER contents in their shortest
// form by their sub-identifiers' values (the first two arcs are one
// sub-identifier, 40×first+second, which keeps their order), fewer arcs
// first at a common prefix. known is false for a sub-identifier too long
// to hold.
func berOIDCompare(a, b []byte) (c int, known bool) {
	for len(a) > 0 && len(b) > 0 {
		va, ra, okA := berArc(a)
		vb, rb, okB := berArc(b)
		if !okA || !okB {
			return 0, false
		}
		if va != vb {
			return cmp.Compare(va, vb), true
		}
		a, b = ra, rb
	}
	return cmp.Compare(len(a), len(b)), true
}

// berArc reads one base-128 sub-identifier of at most 9 octets.
func berArc(b []byte) (v uint64, rest []byte, ok bool) {
	for i, c := range b {
		if i == 9 {
			return 0, nil, false
		}
		v = v<<7 | uint64(c&0x7f)
		if c&0x80 == 0 {
			return v, b[i+1:], true
		}
	}
	return 0, nil, false
}
