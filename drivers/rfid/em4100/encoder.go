package em4100

import "fmt"

const hexDigits = "0123456789ABCDEF"

// Checksum returns the XOR of the data bytes, as the reader computes it.
func Checksum(tag []byte) byte {
	var c byte
	for _, b := range tag {
		c ^= b
	}
	return c
}

// AppendFrame appends to dst the frame a reader sends for tag (5 bytes:
// version and 32-bit card ID), with upper-case hex digits. It fails when tag
// is not 5 bytes long.
func AppendFrame(dst []byte, tag []byte) ([]byte, error) {
	if err := checkTag(tag); err != nil {
		return dst, fmt.Errorf("em4100: frame: %w", err)
	}
	dst = append(dst, STX)
	for _, b := range tag {
		dst = append(dst, hexDigits[b>>4], hexDigits[b&0x0F])
	}
	c := Checksum(tag)
	dst = append(dst, hexDigits[c>>4], hexDigits[c&0x0F], ETX)
	return dst, nil
}
