// Package ber reads and writes the few BER pieces SNMP v1/v2c messages
// are made of, without allocating: the simulator's agent and its load
// generator share them.
package ber

// BER tags.
const (
	TagInteger     = 0x02
	TagOctetString = 0x04
	TagNull        = 0x05
	TagOID         = 0x06
	TagSequence    = 0x30
)

// ReadTLV splits the first TLV off b: its tag, its whole encoding (tlv),
// its content, and what follows. ok is false for a truncated or malformed
// TLV, multi-byte tags, indefinite lengths and lengths beyond 4 octets.
func ReadTLV(b []byte) (tag byte, tlv, content, rest []byte, ok bool) {
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

// ReadInt decodes an INTEGER TLV's content as int64; ok is false for an
// empty or over-long content or a wrong tag.
func ReadInt(tag byte, content []byte) (int64, bool) {
	if tag != TagInteger || len(content) == 0 || len(content) > 8 {
		return 0, false
	}
	x := int64(int8(content[0]))
	for _, c := range content[1:] {
		x = x<<8 | int64(c)
	}
	return x, true
}

// LenSize is how many octets the BER length n takes.
func LenSize(n int) int {
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

// AppendLen appends the minimal BER length n.
func AppendLen(dst []byte, n int) []byte {
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

// AppendTLV appends tag, length and content.
func AppendTLV(dst []byte, tag byte, content []byte) []byte {
	dst = append(dst, tag)
	dst = AppendLen(dst, len(content))
	return append(dst, content...)
}
