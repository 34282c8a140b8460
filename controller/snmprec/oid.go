package snmprec

import (
	"errors"
	"fmt"
	"math"
	"strconv"
)

// OIDs are kept in their BER content form (the bytes inside an OBJECT
// IDENTIFIER TLV, first two arcs merged as 40*X+Y, base-128 arcs). That is
// the form an agent reads from and writes to the wire, and it is compact:
// a typical IF-MIB instance OID takes 10 to 12 bytes. CompareOID orders such
// byte strings the way SNMP orders OIDs (arc by arc), which plain byte order
// does not.

// maxArcs is the most sub-identifiers an SNMP OID may have (RFC 2578 3.5).
const maxArcs = 128

// errOID is the cause wrapped into every dotted-OID error.
var errOID = errors.New("bad OID")

// AppendOID appends the BER content encoding of the dotted OID s (with or
// without a leading dot) to dst. The OID needs at least two arcs, the first
// 0, 1 or 2, the second below 40 unless the first is 2, and every arc below
// 2^32.
func AppendOID(dst []byte, s string) ([]byte, error) {
	return appendOID(dst, s)
}

// appendOID is AppendOID for strings and byte slices alike, so the parser
// need not copy each line's OID into a string.
func appendOID[S string | []byte](dst []byte, s S) ([]byte, error) {
	if len(s) > 0 && s[0] == '.' {
		s = s[1:]
	}
	if len(s) == 0 {
		return dst, fmt.Errorf("snmprec: %w %q: empty", errOID, s)
	}
	n := 0
	var first uint64
	start := 0
	for i := 0; i <= len(s); i++ {
		if i < len(s) && s[i] != '.' {
			if s[i] < '0' || s[i] > '9' {
				return dst, fmt.Errorf("snmprec: %w %q: %q is not a digit", errOID, s, s[i])
			}
			continue
		}
		if i == start {
			return dst, fmt.Errorf("snmprec: %w %q: empty arc", errOID, s)
		}
		var arc uint64
		for _, c := range []byte(s[start:i]) {
			arc = arc*10 + uint64(c-'0')
			if arc > math.MaxUint32 {
				return dst, fmt.Errorf("snmprec: %w %q: arc %q out of range", errOID, s, s[start:i])
			}
		}
		start = i + 1
		n++
		switch {
		case n > maxArcs:
			return dst, fmt.Errorf("snmprec: %w %q: more than %d arcs", errOID, s, maxArcs)
		case n == 1:
			if arc > 2 {
				return dst, fmt.Errorf("snmprec: %w %q: first arc %d above 2", errOID, s, arc)
			}
			first = arc
		case n == 2:
			if first < 2 && arc >= 40 {
				return dst, fmt.Errorf("snmprec: %w %q: second arc %d not below 40", errOID, s, arc)
			}
			dst = appendArc(dst, first*40+arc)
		default:
			dst = appendArc(dst, arc)
		}
	}
	if n < 2 {
		return dst, fmt.Errorf("snmprec: %w %q: fewer than two arcs", errOID, s)
	}
	return dst, nil
}

// appendArc appends one base-128 sub-identifier.
func appendArc(dst []byte, v uint64) []byte {
	var tmp [10]byte
	i := len(tmp) - 1
	tmp[i] = byte(v & 0x7f)
	for v >>= 7; v > 0; v >>= 7 {
		i--
		tmp[i] = byte(v&0x7f) | 0x80
	}
	return append(dst, tmp[i:]...)
}

// FormatOID returns the dotted form (no leading dot) of a BER-encoded OID.
// Malformed input gives a best-effort string ending in "?" rather than an
// error, as it is meant for messages and tests.
func FormatOID(b []byte) string {
	buf := make([]byte, 0, len(b)*3)
	var v uint64
	first := true
	for i, c := range b {
		v = v<<7 | uint64(c&0x7f)
		if c&0x80 != 0 {
			if i == len(b)-1 || v > 1<<32 {
				return string(buf) + "?"
			}
			continue
		}
		if first {
			x := v / 40
			if x > 2 {
				x = 2
			}
			buf = strconv.AppendUint(buf, x, 10)
			buf = append(buf, '.')
			buf = strconv.AppendUint(buf, v-40*x, 10)
			first = false
		} else {
			buf = append(buf, '.')
			buf = strconv.AppendUint(buf, v, 10)
		}
		v = 0
	}
	return string(buf)
}

// CompareOID orders two canonical BER-encoded OIDs as SNMP does: arc by arc,
// a prefix before the OIDs it prefixes. It returns -1, 0 or +1. Within an
// arc a longer encoding is a larger number, so arcs are compared first by
// length and then byte by byte.
func CompareOID(a, b []byte) int {
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		// Find the end of the current arc in each.
		ei := i
		for ei < len(a)-1 && a[ei]&0x80 != 0 {
			ei++
		}
		ej := j
		for ej < len(b)-1 && b[ej]&0x80 != 0 {
			ej++
		}
		la, lb := ei-i, ej-j
		if la != lb {
			if la < lb {
				return -1
			}
			return 1
		}
		for k := 0; k <= la; k++ {
			if a[i+k] != b[j+k] {
				if a[i+k] < b[j+k] {
					return -1
				}
				return 1
			}
		}
		i, j = ei+1, ej+1
	}
	switch {
	case len(a)-i < len(b)-j:
		return -1
	case len(a)-i > len(b)-j:
		return 1
	}
	return 0
}

// CanonicalOID reports whether b is a well-formed BER OID content in
// canonical form: not empty, no arc with a leading 0x80 byte, every
// sub-identifier below 2^32, the last byte ending an arc, at most 128 arcs.
func CanonicalOID(b []byte) bool {
	if len(b) == 0 || b[len(b)-1]&0x80 != 0 {
		return false
	}
	subs := 0
	for i := 0; i < len(b); {
		if b[i] == 0x80 {
			return false
		}
		e := i
		for b[e]&0x80 != 0 {
			e++
		}
		if n := e - i + 1; n > 5 || (n == 5 && b[i] > 0x8f) {
			return false
		}
		subs++
		i = e + 1
	}
	return subs < maxArcs
}
