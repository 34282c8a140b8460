package snmp

import (
	"errors"

	"github.com/gosnmp/gosnmp"
)

// errOID and errOIDRange are what appendRequest fails with for an OID
// gosnmp would not encode either (their text is gosnmp's).
var (
	errOID      = errors.New("unable to marshal OID: Invalid object identifier")
	errOIDRange = errors.New("unable to marshal OID: Value out of range")
)

// appendRequest appends the BER of a v1 or v2c request to dst: the bytes
// gosnmp's SnmpPacket.MarshalMsg writes for the same packet (a, b are the
// error status and index, or for GETBULK the non-repeaters and
// max-repetitions), written into a reused buffer rather than a new one per
// TLV. oids are dotted, with or without a leading dot.
func appendRequest(dst []byte, version gosnmp.SnmpVersion, community string, typ gosnmp.PDUType,
	reqID uint32, a, b uint32, oids []string) ([]byte, error) {
	// The OIDs' contents first, each checked and encoded once, into
	// scratch space (on the stack for a usual request); then the lengths,
	// from the inside out: each varbind is SEQUENCE { OID, NULL }.
	var contentBuf [1024]byte
	var endBuf [64]int
	contents, ends := contentBuf[:0], endBuf[:0]
	vbl := 0
	for _, oid := range oids {
		start := len(contents)
		var err error
		if contents, err = appendOIDContent(contents, oid); err != nil {
			return dst, err
		}
		ends = append(ends, len(contents))
		vbl += tlvLen(tlvLen(len(contents)-start) + 2)
	}
	pdu := intLen(int64(reqID)) + uintLen(a) + uintLen(b) + tlvLen(vbl)
	msg := 3 + tlvLen(len(community)) + tlvLen(pdu)

	dst = appendHeader(dst, 0x30, msg)
	dst = append(dst, 0x02, 0x01, byte(version))
	dst = appendHeader(dst, 0x04, len(community))
	dst = append(dst, community...)
	dst = appendHeader(dst, byte(typ), pdu)
	dst = appendInt(dst, int64(reqID))
	dst = appendUint(dst, a)
	dst = appendUint(dst, b)
	dst = appendHeader(dst, 0x30, vbl)
	start := 0
	for _, end := range ends {
		n := end - start
		dst = appendHeader(dst, 0x30, tlvLen(n)+2)
		dst = appendHeader(dst, 0x06, n)
		dst = append(dst, contents[start:end]...)
		dst = append(dst, 0x05, 0x00)
		start = end
	}
	return dst, nil
}

// tlvLen is the length of a TLV of n content bytes.
func tlvLen(n int) int {
	if n <= 127 {
		return 2 + n
	}
	k := 0
	for v := n; v > 0; v >>= 8 {
		k++
	}
	return 2 + k + n
}

// appendHeader appends a tag and a definite length (short form up to 127,
// else the long form in as few octets as it takes).
func appendHeader(dst []byte, tag byte, n int) []byte {
	if n <= 127 {
		return append(dst, tag, byte(n))
	}
	k := 0
	for v := n; v > 0; v >>= 8 {
		k++
	}
	dst = append(dst, tag, 0x80|byte(k))
	for i := k - 1; i >= 0; i-- {
		dst = append(dst, byte(n>>(8*i)))
	}
	return dst
}

// intLen is the TLV length of an INTEGER in its shortest two's
// complement form, as encoding/asn1 writes it.
func intLen(v int64) int {
	n := 1
	for v > 127 || v < -128 {
		n++
		v >>= 8
	}
	return 2 + n
}

// appendInt appends an INTEGER TLV of v (intLen).
func appendInt(dst []byte, v int64) []byte {
	n := intLen(v) - 2
	dst = append(dst, 0x02, byte(n))
	for i := n - 1; i >= 0; i-- {
		dst = append(dst, byte(v>>(8*i)))
	}
	return dst
}

// uintLen is the TLV length of an unsigned 32-bit INTEGER as gosnmp writes
// it: its bytes without leading zeros (at least one), and a zero byte
// ahead of a high bit.
func uintLen(v uint32) int { return 2 + uintBytes(v) }

func uintBytes(v uint32) int {
	n := 1
	for v > 0xff {
		n++
		v >>= 8
	}
	if v&0x80 != 0 {
		n++
	}
	return n
}

// appendUint appends an unsigned INTEGER TLV of v (uintLen).
func appendUint(dst []byte, v uint32) []byte {
	n := uintBytes(v)
	dst = append(dst, 0x02, byte(n))
	for i := n - 1; i >= 0; i-- {
		if i >= 4 {
			dst = append(dst, 0)
			continue
		}
		dst = append(dst, byte(v>>(8*i)))
	}
	return dst
}

// maxSubID is the largest sub-identifier gosnmp encodes
// (gosnmp.MaxObjectSubIdentifierValue).
const maxSubID = 1<<32 - 1

// appendOIDContent checks a dotted OID as gosnmp's encoder does (empty
// arcs are skipped, 2 to 128 arcs, the first at most 2, the second below
// 40 under 0 and 1, arcs at most 2^32-1) and appends its BER content.
func appendOIDContent(dst []byte, oid string) ([]byte, error) {
	arcs := 0
	var first uint64
	for j := 0; j < len(oid); {
		if oid[j] == '.' {
			j++
			continue
		}
		var v uint64
		for ; j < len(oid) && oid[j] != '.'; j++ {
			d := oid[j] - '0'
			if d > 9 {
				return dst, errOID
			}
			if v = v*10 + uint64(d); v > maxSubID {
				return dst, errOIDRange
			}
		}
		switch arcs {
		case 0:
			if v > 2 {
				return dst, errOID
			}
			first = v
		case 1:
			if first < 2 && v >= 40 {
				return dst, errOID
			}
			if v > maxSubID-80 {
				return dst, errOIDRange
			}
			dst = appendBase128(dst, first*40+v)
		default:
			dst = appendBase128(dst, v)
		}
		arcs++
	}
	if arcs < 2 || arcs > maxArcs {
		return dst, errOID
	}
	return dst, nil
}

// base128Len is the number of 7-bit groups of v (at least one).
func base128Len(v uint64) int {
	n := 1
	for v > 0x7f {
		n++
		v >>= 7
	}
	return n
}

// appendBase128 appends v in base 128, most significant group first.
func appendBase128(dst []byte, v uint64) []byte {
	for i := base128Len(v) - 1; i >= 0; i-- {
		b := byte(v>>(7*i)) & 0x7f
		if i > 0 {
			b |= 0x80
		}
		dst = append(dst, b)
	}
	return dst
}
