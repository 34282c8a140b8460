package simulator

// The few BER pieces an SNMP v1/v2c agent needs, hand-written so that a
// request is answered without allocating.

// BER and SNMP tags.
const (
	tagInteger     = 0x02
	tagOctetString = 0x04
	tagNull        = 0x05
	tagOID         = 0x06
	tagSequence    = 0x30

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

// readTLV splits the first TLV off b: its tag, its whole encoding (tlv),
// its content, and what follows. ok is false for a truncated or malformed
// TLV, multi-byte tags, indefinite lengths and lengths beyond 4 octets.
func readTLV(b []byte) (tag byte, tlv, content, rest []byte, ok bool) {
	if len(b) < 2 || b[0]&0x1f == 0x1f {
		return 0, nil, nil, nil, false
	}
	tag = b[0]
	n := int(b[1])
	h := 2
	if n&0x80 != 0 {
		k := n & 0x7f
		if k == 0 || k > 3 || len(b) < 2+k {
			return 0, nil, nil, nil, false
		}
		n = 0
		for _, c := range b[2 : 2+k] {
			n = n<<8 | int(c)
		}
		h += k
	}
	if n > len(b)-h {
		return 0, nil, nil, nil, false
	}
	return tag, b[:h+n], b[h : h+n], b[h+n:], true
}

// readInt decodes an INTEGER TLV's content as int64; ok is false for an
// empty or over-long content or a wrong tag.
func readInt(tag byte, content []byte) (int64, bool) {
	if tag != tagInteger || len(content) == 0 || len(content) > 8 {
		return 0, false
	}
	x := int64(int8(content[0]))
	for _, c := range content[1:] {
		x = x<<8 | int64(c)
	}
	return x, true
}

// lenSize is how many octets the BER length n takes.
func lenSize(n int) int {
	switch {
	case n < 0x80:
		return 1
	case n <= 0xff:
		return 2
	case n <= 0xffff:
		return 3
	}
	return 4
}

// appendLen appends the minimal BER length n.
func appendLen(dst []byte, n int) []byte {
	switch {
	case n < 0x80:
		return append(dst, byte(n))
	case n <= 0xff:
		return append(dst, 0x81, byte(n))
	case n <= 0xffff:
		return append(dst, 0x82, byte(n>>8), byte(n))
	}
	return append(dst, 0x83, byte(n>>16), byte(n>>8), byte(n))
}

// putHeader writes tag and length n so that they end at buf[end]; it
// returns where they start.
func putHeader(buf []byte, end int, tag byte, n int) int {
	s := end - 1 - lenSize(n)
	buf[s] = tag
	appendLen(buf[s+1:s+1], n)
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

// appendTLV appends tag, length and content.
func appendTLV(dst []byte, tag byte, content []byte) []byte {
	dst = append(dst, tag)
	dst = appendLen(dst, len(content))
	return append(dst, content...)
}

// appendVarbind appends SEQUENCE { OID oid, tag value }.
func appendVarbind(dst, oid []byte, tag byte, value []byte) []byte {
	oidTLV := 1 + lenSize(len(oid)) + len(oid)
	valTLV := 1 + lenSize(len(value)) + len(value)
	dst = append(dst, tagSequence)
	dst = appendLen(dst, oidTLV+valTLV)
	dst = appendTLV(dst, tagOID, oid)
	return appendTLV(dst, tag, value)
}
