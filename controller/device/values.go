package device

import (
	"encoding/hex"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/gosnmp/gosnmp"
)

// normOID strips the leading dot and surrounding blanks of a dotted OID.
func normOID(oid string) string {
	return strings.TrimPrefix(strings.TrimSpace(oid), ".")
}

// absent reports whether a PDU carries no value (missing object, end of view
// or null).
func absent(p gosnmp.SnmpPDU) bool {
	switch p.Type {
	case gosnmp.NoSuchObject, gosnmp.NoSuchInstance, gosnmp.EndOfMibView, gosnmp.Null, gosnmp.UnknownType:
		return true
	}
	return p.Value == nil
}

// pduInt returns an integer value of any numeric SNMP type.
func pduInt(p gosnmp.SnmpPDU) (int64, bool) {
	if absent(p) {
		return 0, false
	}
	switch v := p.Value.(type) {
	case int:
		return int64(v), true
	case int8:
		return int64(v), true
	case int16:
		return int64(v), true
	case int32:
		return int64(v), true
	case int64:
		return v, true
	case uint:
		return int64(v), v <= 1<<63-1
	case uint8:
		return int64(v), true
	case uint16:
		return int64(v), true
	case uint32:
		return int64(v), true
	case uint64:
		return int64(v), v <= 1<<63-1
	}
	return 0, false
}

// pduUint returns a non-negative numeric value (counters, gauges, ticks).
func pduUint(p gosnmp.SnmpPDU) (uint64, bool) {
	if absent(p) {
		return 0, false
	}
	switch v := p.Value.(type) {
	case uint:
		return uint64(v), true
	case uint8:
		return uint64(v), true
	case uint16:
		return uint64(v), true
	case uint32:
		return uint64(v), true
	case uint64:
		return v, true
	}
	i, ok := pduInt(p)
	if !ok || i < 0 {
		return 0, false
	}
	return uint64(i), true
}

// pduBytes returns the raw bytes of an octet string.
func pduBytes(p gosnmp.SnmpPDU) ([]byte, bool) {
	if absent(p) {
		return nil, false
	}
	switch v := p.Value.(type) {
	case []byte:
		return v, true
	case string:
		return []byte(v), true
	}
	return nil, false
}

// pduText returns a value as display text. Octet strings are decoded as
// UTF-8 when valid, else as Latin-1, with NULs stripped and blanks trimmed;
// an agent that answers a string in hex (type 4x in a recording) therefore
// reads the same as one that answers it as text. Object identifiers lose
// their leading dot; numbers are printed in decimal.
func pduText(p gosnmp.SnmpPDU) (string, bool) {
	if absent(p) {
		return "", false
	}
	switch v := p.Value.(type) {
	case []byte:
		return decodeText(v), true
	case string:
		if p.Type == gosnmp.ObjectIdentifier {
			return normOID(v), true
		}
		return decodeText([]byte(v)), true
	}
	if i, ok := pduInt(p); ok {
		return fmt.Sprint(i), true
	}
	if u, ok := pduUint(p); ok {
		return fmt.Sprint(u), true
	}
	return "", false
}

// decodeText decodes device text: NULs stripped, UTF-8 when valid, else
// Latin-1; other control characters than tab and newline become spaces.
func decodeText(b []byte) string {
	if plainText(b) {
		return string(b)
	}
	clean := make([]byte, 0, len(b))
	for _, c := range b {
		if c != 0 {
			clean = append(clean, c)
		}
	}
	var s string
	if utf8.Valid(clean) {
		s = string(clean)
	} else {
		r := make([]rune, len(clean))
		for i, c := range clean {
			r[i] = rune(c)
		}
		s = string(r)
	}
	s = strings.Map(func(r rune) rune {
		if r == '\t' || r == '\n' {
			return r
		}
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return ' '
		}
		return r
	}, s)
	return strings.TrimSpace(s)
}

// plainText reports whether decodeText(b) is b as it is: printable ASCII,
// tabs and newlines, with no white space at either end.
func plainText(b []byte) bool {
	if len(b) > 0 && (isEdgeSpace(b[0]) || isEdgeSpace(b[len(b)-1])) {
		return false
	}
	for _, c := range b {
		if (c < 0x20 || c >= 0x7f) && c != '\t' && c != '\n' {
			return false
		}
	}
	return true
}

func isEdgeSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' }

// sameText reports whether p is an OCTET STRING whose bytes are s: its
// text is then s too, when s is what decodeText returned (decodeText
// leaves its own results as they are).
func sameText(p gosnmp.SnmpPDU, s string) bool {
	b, ok := p.Value.([]byte)
	return ok && !absent(p) && string(b) == s
}

// formatMAC prints a 6-byte (or EUI-64) physical address as lower-case
// colon-separated hex; other lengths give "".
func formatMAC(b []byte) string {
	if len(b) != 6 && len(b) != 8 {
		return ""
	}
	allZero := true
	for _, c := range b {
		if c != 0 {
			allZero = false
		}
	}
	if allZero {
		return ""
	}
	h := hex.EncodeToString(b)
	parts := make([]string, 0, len(b))
	for i := 0; i < len(h); i += 2 {
		parts = append(parts, h[i:i+2])
	}
	return strings.Join(parts, ":")
}
