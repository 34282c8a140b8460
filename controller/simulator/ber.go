package simulator

// The few BER pieces an SNMP v1/v2c agent writes, hand-written so that a
// request is answered without allocating; reading is internal/ber's.

import "github.com/ngic/ngic/controller/simulator/internal/ber"

// BER and SNMP tags.
const (
	tagInteger     = ber.TagInteger
	tagOctetString = ber.TagOctetString
	tagNull        = ber.TagNull
	tagOID         = ber.TagOID
	tagSequence    = ber.TagSequence

	pduGet      = 0xa0
	pduGetNext  = 0xa1
	pduResponse = 0xa2
	pduSet      = 0xa3
	pduGetBulk  = 0xa5

	excNoSuchObject   = 0x80
	excNoSuchInstance = 0x81
	excEndOfMibView   = 0x82
)

// Error-status values (RFC 3416).
const (
	errNoError     = 0
	errTooBig      = 1
	errNoSuchName  = 2
	errNotWritable = 17
)

// putHeader writes tag and length n so that they end at buf[end]; it
// returns where they start.
func putHeader(buf []byte, end int, tag byte, n int) int {
	s := end - 1 - ber.LenSize(n)
	buf[s] = tag
	ber.AppendLen(buf[s+1:s+1], n)
	return s
}

// putBytes copies b to end at buf[end] and returns where it starts.
func putBytes(buf []byte, end int, b []byte) int {
	s := end - len(b)
	copy(buf[s:end], b)
	return s
}

// putSmallInt writes an INTEGER TLV of the non-negative x (below 2^31)
// ending at buf[end] and returns where it starts.
func putSmallInt(buf []byte, end int, x int) int {
	n := 1
	for y := x; y > 127; y >>= 8 {
		n++
	}
	s := end - n
	for i := n - 1; i >= 0; i-- {
		buf[s+i] = byte(x)
		x >>= 8
	}
	return putHeader(buf, s, tagInteger, n)
}

// appendVarbind appends SEQUENCE { OID oid, tag value }.
func appendVarbind(dst, oid []byte, tag byte, value []byte) []byte {
	oidTLV := 1 + ber.LenSize(len(oid)) + len(oid)
	valTLV := 1 + ber.LenSize(len(value)) + len(value)
	dst = append(dst, tagSequence)
	dst = ber.AppendLen(dst, oidTLV+valTLV)
	dst = ber.AppendTLV(dst, tagOID, oid)
	return ber.AppendTLV(dst, tag, value)
}
