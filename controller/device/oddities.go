package device

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/gosnmp/gosnmp"
)

// oddities collects, while a document is built, the values an agent sent
// outside their column's definition: a status number the column does not
// define, a number sent as an OCTET STRING of digits. Collect turns them
// into one warning per column and device, not one per row. A nil
// *oddities notes nothing.
type oddities struct {
	cols map[string]*oddColumn
}

// oddColumn is what one column sent oddly.
type oddColumn struct {
	rows    int
	samples []string // "ifIndex=value", the first few
}

// maxOddSamples is how many rows a warning quotes.
const maxOddSamples = 3

// note records that column col sent the odd value shown as v at index idx.
func (odd *oddities) note(col, idx, v string) {
	if odd == nil {
		return
	}
	if odd.cols == nil {
		odd.cols = map[string]*oddColumn{}
	}
	c := odd.cols[col]
	if c == nil {
		c = &oddColumn{}
		odd.cols[col] = c
	}
	c.rows++
	if len(c.samples) < maxOddSamples {
		c.samples = append(c.samples, idx+"="+v)
	}
}

// oddColumns names the columns whose odd values are noted, and what is odd
// about them.
var oddColumns = map[string]struct{ name, what string }{
	ifAdminStatus: {"ifAdminStatus", `a value outside up(1), down(2), testing(3), reported as "invalid(N)"`},
	ifOperStatus:  {"ifOperStatus", `a value outside up(1)..lowerLayerDown(7), reported as "invalid(N)"`},
	ifMtu:         {"ifMtu", "a number sent as an OCTET STRING of digits, read as the number"},
	ifSpeed:       {"ifSpeed", "a number sent as an OCTET STRING of digits, read as the number"},
	ifHighSpeed:   {"ifHighSpeed", "a number sent as an OCTET STRING of digits, read as the number"},
}

// warnings returns one warning per odd column, naming the target, the
// column, how many rows were odd and the first few (index=value).
func (odd *oddities) warnings(target string) []error {
	if odd == nil {
		return nil
	}
	var out []error
	for _, col := range sortedKeys(odd.cols) {
		c := odd.cols[col]
		name, what := col, "odd values"
		if d, ok := oddColumns[col]; ok {
			name, what = d.name, d.what
		}
		out = append(out, fmt.Errorf("device: %s: %s (%s) on %d interfaces: %s (ifIndex=value: %s)",
			target, name, col, c.rows, what, strings.Join(c.samples, ", ")))
	}
	return out
}

// colNumber returns a non-negative whole number from a column at an index.
// Besides the numeric SNMP types it accepts an OCTET STRING holding only
// decimal digits (blanks and NULs around them ignored), which some agents
// send for ifSpeed and which net-snmp's tools read as the number; such a
// value is noted into odd.
func (o *Objects) colNumber(root, idx string, odd *oddities) (uint64, bool) {
	p, ok := o.at(root, idx)
	if !ok {
		return 0, false
	}
	if v, ok := pduUint(p); ok {
		return v, true
	}
	v, ok := digitsNumber(p)
	if ok {
		odd.note(root, idx, strconv.Quote(strconv.FormatUint(v, 10)))
	}
	return v, ok
}

// digitsNumber reads an OCTET STRING of decimal digits as a number.
func digitsNumber(p gosnmp.SnmpPDU) (uint64, bool) {
	if p.Type != gosnmp.OctetString {
		return 0, false
	}
	b, ok := pduBytes(p)
	if !ok {
		return 0, false
	}
	s := strings.Trim(string(b), " \t\r\n\x00")
	if s == "" || len(s) > 20 {
		return 0, false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	v, err := strconv.ParseUint(s, 10, 64)
	return v, err == nil
}
