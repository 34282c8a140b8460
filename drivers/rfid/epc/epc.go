// Package epc decodes the 96-bit binary EPC encodings of the GS1 EPC Tag
// Data Standard (TDS) into pure-identity URIs and GS1 keys, so that a UHF
// read can be shown as a GTIN or an SSCC rather than as hex.
//
// Supported schemes, by header byte (TDS section 14, "EPC Binary
// Encoding", header table):
//
//	0x30 SGTIN-96  filter 3 bits, partition 3, company prefix + item reference 44, serial 38
//	0x31 SSCC-96   filter 3, partition 3, company prefix + serial reference 58, unallocated 24
//	0x33 GRAI-96   filter 3, partition 3, company prefix + asset type 44, serial 38
//	0x34 GIAI-96   filter 3, partition 3, company prefix + individual asset reference 82
//
// The partition value chooses how the bits (and decimal digits) are split
// between the GS1 company prefix and the rest, per the partition tables of
// TDS 1.x/2.x (tables 14-2 SGTIN, 14-5 SSCC, 14-10 GRAI, 14-12 GIAI).
// Anything else — other headers, partition 7, a field too large for its
// digits — decodes to an Identity with an empty Scheme and URI and a
// Reason; the caller keeps the hex.
//
// Test vectors are the worked examples of TDS Annex E and the GS1 Tag Data
// Translation test suite.
package epc

import (
	"fmt"
	"strconv"
)

// Header values of the supported schemes.
const (
	HeaderSGTIN96 = 0x30
	HeaderSSCC96  = 0x31
	HeaderGRAI96  = 0x33
	HeaderGIAI96  = 0x34
)

// Scheme names as they appear in Identity.Scheme.
const (
	SchemeSGTIN96 = "sgtin-96"
	SchemeSSCC96  = "sscc-96"
	SchemeGRAI96  = "grai-96"
	SchemeGIAI96  = "giai-96"
)

// Identity is what an EPC decodes to.
type Identity struct {
	// Scheme is "sgtin-96", "sscc-96", "grai-96" or "giai-96"; empty when
	// the EPC is not a valid encoding of a supported scheme.
	Scheme string
	// URI is the pure-identity URI, e.g. urn:epc:id:sgtin:0614141.812345.6789;
	// empty when Scheme is.
	URI string
	// Filter is the 3-bit filter value (3 = single shipping/consumer trade
	// item for SGTIN).
	Filter int
	// CompanyPrefix is the GS1 company prefix, with its leading zeros.
	CompanyPrefix string
	// GTIN is the GTIN-14 with its check digit, for SGTIN.
	GTIN string
	// SSCC is the SSCC-18 with its check digit, for SSCC.
	SSCC string
	// Reason says why Scheme is empty; empty when it is not.
	Reason string
}

// partition is one row of a partition table: bits and digits of the
// company prefix and of the field after it.
type partition struct {
	cpBits, cpDigits, refBits, refDigits int
}

// Partition tables, indexed by the partition value 0..6.
var (
	sgtinParts = [7]partition{{40, 12, 4, 1}, {37, 11, 7, 2}, {34, 10, 10, 3}, {30, 9, 14, 4}, {27, 8, 17, 5}, {24, 7, 20, 6}, {20, 6, 24, 7}}
	ssccParts  = [7]partition{{40, 12, 18, 5}, {37, 11, 21, 6}, {34, 10, 24, 7}, {30, 9, 28, 8}, {27, 8, 31, 9}, {24, 7, 34, 10}, {20, 6, 38, 11}}
	graiParts  = [7]partition{{40, 12, 4, 0}, {37, 11, 7, 1}, {34, 10, 10, 2}, {30, 9, 14, 3}, {27, 8, 17, 4}, {24, 7, 20, 5}, {20, 6, 24, 6}}
	giaiParts  = [7]partition{{40, 12, 42, 12}, {37, 11, 45, 13}, {34, 10, 48, 14}, {30, 9, 52, 15}, {27, 8, 55, 16}, {24, 7, 58, 17}, {20, 6, 62, 18}}
)

// bits reads n (at most 64) bits of b starting at bit offset off, most
// significant bit first. The caller guarantees the range is inside b.
func bits(b []byte, off, n int) uint64 {
	var v uint64
	for i := off; i < off+n; i++ {
		v = v<<1 | uint64(b[i>>3]>>(7-uint(i&7))&1)
	}
	return v
}

// pow10 holds 10^0 .. 10^19.
var pow10 = func() (p [20]uint64) {
	p[0] = 1
	for i := 1; i < len(p); i++ {
		p[i] = p[i-1] * 10
	}
	return
}()

// appendDigits appends v as exactly n decimal digits, with leading zeros.
func appendDigits(dst []byte, v uint64, n int) []byte {
	var tmp [20]byte
	for i := n - 1; i >= 0; i-- {
		tmp[i] = byte('0' + v%10)
		v /= 10
	}
	return append(dst, tmp[:n]...)
}

// CheckDigit returns the GS1 check digit of a string of decimal digits
// (weights 3,1,3,... from the right).
func CheckDigit(digits []byte) byte {
	sum := 0
	for i := len(digits) - 1; i >= 0; i -= 2 {
		sum += 3 * int(digits[i]-'0')
		if i > 0 {
			sum += int(digits[i-1] - '0')
		}
	}
	return byte('0' + (10-sum%10)%10)
}

// unknown returns the Identity of an EPC that is not decoded.
func unknown(filter int, reason string) Identity {
	return Identity{Filter: filter, Reason: reason}
}

// Decode decodes the EPC bytes of a tag (without PC or CRC). It never
// fails: an EPC it cannot decode gives an Identity with an empty Scheme
// and a Reason. A 96-bit scheme needs 12 bytes; longer EPC memories are
// accepted when the bytes after the 12th are zero.
func Decode(epc []byte) Identity {
	if len(epc) < 12 {
		return unknown(0, fmt.Sprintf("epc: %d bytes, the 96-bit schemes need 12", len(epc)))
	}
	for _, b := range epc[12:] {
		if b != 0 {
			return unknown(0, fmt.Sprintf("epc: %d bytes with data after the 12th, not a 96-bit encoding", len(epc)))
		}
	}
	header := epc[0]
	filter := int(bits(epc, 8, 3))
	p := int(bits(epc, 11, 3))
	var table *[7]partition
	switch header {
	case HeaderSGTIN96:
		table = &sgtinParts
	case HeaderSSCC96:
		table = &ssccParts
	case HeaderGRAI96:
		table = &graiParts
	case HeaderGIAI96:
		table = &giaiParts
	default:
		return unknown(0, fmt.Sprintf("epc: header 0x%02X is not sgtin-96, sscc-96, grai-96 or giai-96", header))
	}
	if p > 6 {
		return unknown(filter, fmt.Sprintf("epc: header 0x%02X: partition %d is not valid (0-6)", header, p))
	}
	part := table[p]
	cp := bits(epc, 14, part.cpBits)
	if cp >= pow10[part.cpDigits] {
		return unknown(filter, fmt.Sprintf("epc: header 0x%02X: company prefix %d exceeds %d digits", header, cp, part.cpDigits))
	}
	ref := bits(epc, 14+part.cpBits, part.refBits)
	if ref >= pow10[part.refDigits] {
		return unknown(filter, fmt.Sprintf("epc: header 0x%02X: reference %d exceeds %d digits", header, ref, part.refDigits))
	}
	// The 38-bit serial of SGTIN-96 and GRAI-96 follows the reference.
	serial := func() uint64 { return bits(epc, 14+part.cpBits+part.refBits, 38) }

	var buf [64]byte
	u := append(buf[:0], "urn:epc:id:"...)
	id := Identity{Filter: filter}
	cpStart := 0
	switch header {
	case HeaderSGTIN96:
		id.Scheme = SchemeSGTIN96
		u = append(u, "sgtin:"...)
		cpStart = len(u)
		u = appendDigits(u, cp, part.cpDigits)
		u = append(u, '.')
		refStart := len(u)
		u = appendDigits(u, ref, part.refDigits)
		u = append(u, '.')
		u = strconv.AppendUint(u, serial(), 10)
		// GTIN-14: indicator digit, company prefix, item reference, check.
		var g [14]byte
		gt := append(g[:0], u[refStart])
		gt = append(gt, u[cpStart:cpStart+part.cpDigits]...)
		gt = append(gt, u[refStart+1:refStart+part.refDigits]...)
		id.GTIN = string(append(gt, CheckDigit(gt)))
	case HeaderSSCC96:
		id.Scheme = SchemeSSCC96
		u = append(u, "sscc:"...)
		cpStart = len(u)
		u = appendDigits(u, cp, part.cpDigits)
		u = append(u, '.')
		refStart := len(u)
		u = appendDigits(u, ref, part.refDigits)
		// SSCC-18: extension digit, company prefix, serial reference, check.
		var s [18]byte
		sc := append(s[:0], u[refStart])
		sc = append(sc, u[cpStart:cpStart+part.cpDigits]...)
		sc = append(sc, u[refStart+1:refStart+part.refDigits]...)
		id.SSCC = string(append(sc, CheckDigit(sc)))
	case HeaderGRAI96:
		id.Scheme = SchemeGRAI96
		u = append(u, "grai:"...)
		cpStart = len(u)
		u = appendDigits(u, cp, part.cpDigits)
		u = append(u, '.')
		u = appendDigits(u, ref, part.refDigits)
		u = append(u, '.')
		u = strconv.AppendUint(u, serial(), 10)
	case HeaderGIAI96:
		id.Scheme = SchemeGIAI96
		u = append(u, "giai:"...)
		cpStart = len(u)
		u = appendDigits(u, cp, part.cpDigits)
		u = append(u, '.')
		u = strconv.AppendUint(u, ref, 10)
	}
	id.URI = string(u)
	id.CompanyPrefix = id.URI[cpStart : cpStart+part.cpDigits]
	return id
}
