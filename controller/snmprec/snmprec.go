// Package snmprec reads SNMP recordings in the snmpsim format — one object
// per line, "OID|type|value" — into a sorted, read-only View that an agent
// can answer GET and GETNEXT from with a binary search.
//
// Types are the decimal BER tags snmpsim uses: 2 Integer32, 4 OCTET STRING,
// 5 NULL, 6 OBJECT IDENTIFIER, 64 IpAddress, 65 Counter32, 66 Gauge32,
// 67 TimeTicks, 68 Opaque, 70 Counter64. A type suffix "x" means the value
// is hex; "e" means it is escaped the way Python escapes a string literal
// (\\ \' \" \a \b \f \n \r \t \v \xHH), as snmpsim writes values that hold
// non-printable bytes. Lines are trimmed of surrounding white space like
// snmpsim does; blank lines and lines starting with '#' are ignored; OIDs
// may start with a dot; lines may come in any order.
//
// A line that cannot be used (bad OID, unknown type, bad value, or an OID
// already seen) is skipped and reported as a Warning naming the file and
// line; it never fails the whole recording.
//
// Storage is compact: each record costs a 12-byte index entry plus its OID
// and value in BER content form in one shared byte slice.
package snmprec

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// Type is the BER tag of a recorded value; it is also the number snmpsim
// writes in a record's type field.
type Type uint8

// The value types a recording may hold.
const (
	Integer          Type = 0x02 // Integer32
	OctetString      Type = 0x04 // OCTET STRING
	Null             Type = 0x05 // NULL
	ObjectIdentifier Type = 0x06 // OBJECT IDENTIFIER
	IPAddress        Type = 0x40 // IpAddress (4 octets)
	Counter32        Type = 0x41 // Counter32
	Gauge32          Type = 0x42 // Gauge32 (Unsigned32)
	TimeTicks        Type = 0x43 // TimeTicks (hundredths of a second)
	Opaque           Type = 0x44 // Opaque
	Counter64        Type = 0x46 // Counter64
)

// String returns the type's SMI name.
func (t Type) String() string {
	switch t {
	case Integer:
		return "Integer32"
	case OctetString:
		return "OctetString"
	case Null:
		return "Null"
	case ObjectIdentifier:
		return "ObjectIdentifier"
	case IPAddress:
		return "IpAddress"
	case Counter32:
		return "Counter32"
	case Gauge32:
		return "Gauge32"
	case TimeTicks:
		return "TimeTicks"
	case Opaque:
		return "Opaque"
	case Counter64:
		return "Counter64"
	}
	return "Type(" + strconv.Itoa(int(t)) + ")"
}

// maxValue is the largest value kept: a record must fit one UDP datagram.
const maxValue = math.MaxUint16

// Warning reports one line of a recording that was skipped, or, with Line
// 0, a whole recording that was.
type Warning struct {
	File string // recording name as given to Parse
	Line int    // 1-based line number; 0 for the whole file
	Msg  string // what was wrong
}

// Error formats the warning as "snmprec: FILE:LINE: MSG", so a Warning can
// be used where an error is expected.
func (w Warning) Error() string {
	if w.Line == 0 {
		return fmt.Sprintf("snmprec: %s: %s", w.File, w.Msg)
	}
	return fmt.Sprintf("snmprec: %s:%d: %s", w.File, w.Line, w.Msg)
}

// entry indexes one record in View.data: the OID bytes start at off, the
// value bytes follow them.
type entry struct {
	off    uint32
	oidLen uint16
	valLen uint16
	typ    Type
}

// View is a parsed recording: records sorted by OID, no duplicates. It is
// read-only and safe for concurrent use.
type View struct {
	data []byte
	recs []entry
}

// Record is one object of a View. OID is the BER content of the object
// identifier; Value is the BER content of the value (two's complement for
// the integer types, raw octets for strings, BER content for an OBJECT
// IDENTIFIER). Both slices point into the View and must not be modified.
type Record struct {
	OID   []byte
	Type  Type
	Value []byte
}

// Len returns the number of records.
func (v *View) Len() int { return len(v.recs) }

// Record returns the i-th record in OID order; i must be in [0, Len()).
func (v *View) Record(i int) Record {
	e := v.recs[i]
	o := int(e.off)
	m := o + int(e.oidLen)
	return Record{OID: v.data[o:m:m], Type: e.typ, Value: v.data[m : m+int(e.valLen) : m+int(e.valLen)]}
}

// oid returns the OID of the i-th record.
func (v *View) oid(i int) []byte {
	e := v.recs[i]
	return v.data[e.off : e.off+uint32(e.oidLen)]
}

// Search returns the index of the first record whose OID is not below oid
// (Len() when there is none) and whether that record's OID equals oid. oid
// is BER content; it should be canonical (see CanonicalOID).
func (v *View) Search(oid []byte) (int, bool) {
	lo, hi := 0, len(v.recs)
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if CompareOID(v.oid(mid), oid) < 0 {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	return lo, lo < len(v.recs) && CompareOID(v.oid(lo), oid) == 0
}

// Next returns the index of the first record whose OID is above oid, or
// Len() when there is none: the answer to a GETNEXT.
func (v *View) Next(oid []byte) int {
	i, exact := v.Search(oid)
	if exact {
		i++
	}
	return i
}

// Bytes returns how many bytes the view holds (index and data), for
// capacity planning.
func (v *View) Bytes() int {
	return cap(v.data) + cap(v.recs)*12
}

// Uint64 decodes the value of an unsigned record (Counter32, Gauge32,
// TimeTicks, Counter64). ok is false for other types.
func (r Record) Uint64() (x uint64, ok bool) {
	switch r.Type {
	case Counter32, Gauge32, TimeTicks, Counter64:
	default:
		return 0, false
	}
	for _, c := range r.Value {
		x = x<<8 | uint64(c)
	}
	return x, true
}

// Int64 decodes the value of an Integer32 record. ok is false for other
// types.
func (r Record) Int64() (x int64, ok bool) {
	if r.Type != Integer || len(r.Value) == 0 {
		return 0, false
	}
	x = int64(int8(r.Value[0]))
	for _, c := range r.Value[1:] {
		x = x<<8 | int64(c)
	}
	return x, true
}

// ParseFile reads and parses one recording. Warnings name the file by its
// base name. The error is only for a file that cannot be read: missing (a
// dangling symbolic link too), unreadable, or not a regular file (a folder,
// a FIFO or a device, which is refused before it is opened, so that reading
// it never blocks).
func ParseFile(path string) (*View, []Warning, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, nil, fmt.Errorf("snmprec: read recording: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, nil, fmt.Errorf("snmprec: read recording %s: %s, not a regular file", path, kind(fi.Mode()))
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("snmprec: read recording: %w", err)
	}
	v, w := Parse(filepath.Base(path), b)
	return v, w, nil
}

// kind names a file type that is not a regular file.
func kind(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a folder"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeDevice != 0:
		return "a device"
	}
	return "a special file"
}

// pending is a parsed line before sorting.
type pending struct {
	entry
	line int
}

// Parse parses a recording held in memory; name is used in warnings. Bad
// lines and repeated OIDs (the first one wins) are skipped and reported.
func Parse(name string, src []byte) (*View, []Warning) {
	var warns []Warning
	// A record needs at least "1.3|5|" and typically ~40 bytes of text.
	recs := make([]pending, 0, len(src)/40+1)
	data := make([]byte, 0, len(src)/2+16)
	line := 0
	for len(src) > 0 {
		line++
		var l []byte
		if i := bytes.IndexByte(src, '\n'); i >= 0 {
			l, src = src[:i], src[i+1:]
		} else {
			l, src = src, nil
		}
		l = bytes.TrimSpace(l)
		if len(l) == 0 || l[0] == '#' {
			continue
		}
		start := len(data)
		var typ Type
		var oidLen int
		var err error
		data, typ, oidLen, err = appendLine(data, l)
		if err != nil {
			data = data[:start]
			warns = append(warns, Warning{File: name, Line: line, Msg: err.Error()})
			continue
		}
		valLen := len(data) - start - oidLen
		if valLen > maxValue || start > math.MaxUint32-2*maxValue {
			data = data[:start]
			warns = append(warns, Warning{File: name, Line: line, Msg: "value or recording too large"})
			continue
		}
		recs = append(recs, pending{entry: entry{off: uint32(start), oidLen: uint16(oidLen), valLen: uint16(valLen), typ: typ}, line: line})
	}
	oidOf := func(p *pending) []byte { return data[p.off : p.off+uint32(p.oidLen)] }
	// Most recordings are already in order; the stable sort keeps the first
	// of equal OIDs first.
	sorted := slices.IsSortedFunc(recs, func(a, b pending) int { return CompareOID(oidOf(&a), oidOf(&b)) })
	if !sorted {
		slices.SortStableFunc(recs, func(a, b pending) int { return CompareOID(oidOf(&a), oidOf(&b)) })
	}
	v := &View{recs: make([]entry, 0, len(recs))}
	size := 0
	for i := range recs {
		if i > 0 && CompareOID(oidOf(&recs[i-1]), oidOf(&recs[i])) == 0 {
			warns = append(warns, Warning{File: name, Line: recs[i].line,
				Msg: fmt.Sprintf("duplicate OID %s (first on line %d), skipped", FormatOID(oidOf(&recs[i])), firstLine(recs, i))})
			recs[i].typ = 0 // marks a duplicate
			continue
		}
		size += int(recs[i].oidLen) + int(recs[i].valLen)
	}
	// Copy into an exact-size buffer in OID order: no slack, and a walk
	// reads memory sequentially.
	v.data = make([]byte, 0, size)
	for i := range recs {
		p := &recs[i]
		if p.typ == 0 {
			continue
		}
		off := len(v.data)
		v.data = append(v.data, data[p.off:p.off+uint32(p.oidLen)+uint32(p.valLen)]...)
		v.recs = append(v.recs, entry{off: uint32(off), oidLen: p.oidLen, valLen: p.valLen, typ: p.typ})
	}
	if len(v.recs) < cap(v.recs)/4*3 {
		v.recs = slices.Clip(v.recs)
	}
	slices.SortStableFunc(warns, func(a, b Warning) int { return a.Line - b.Line })
	return v, warns
}

// firstLine finds the line of the first record equal to recs[i].
func firstLine(recs []pending, i int) int {
	j := i
	for j > 0 && recs[j-1].typ == 0 {
		j--
	}
	if j > 0 {
		j--
	}
	return recs[j].line
}

// appendLine parses one trimmed, non-comment line and appends its OID and
// value encodings to data.
func appendLine(data, l []byte) ([]byte, Type, int, error) {
	a := bytes.IndexByte(l, '|')
	if a < 0 {
		return data, 0, 0, fmt.Errorf("no '|' separator, want OID|type|value")
	}
	b := bytes.IndexByte(l[a+1:], '|')
	if b < 0 {
		return data, 0, 0, fmt.Errorf("one '|' separator, want OID|type|value")
	}
	oid, tag, val := l[:a], l[a+1:a+1+b], l[a+2+b:]
	start := len(data)
	data, err := appendOID(data, oid)
	if err != nil {
		return data, 0, 0, err
	}
	oidLen := len(data) - start
	suffix := byte(0)
	if n := len(tag); n > 0 && (tag[n-1] == 'x' || tag[n-1] == 'e') {
		suffix, tag = tag[n-1], tag[:n-1]
	}
	num := 0
	for _, c := range tag {
		if c < '0' || c > '9' || num > 255 {
			num = -1
			break
		}
		num = num*10 + int(c-'0')
	}
	if num < 0 || num > 255 || len(tag) == 0 {
		return data, 0, 0, fmt.Errorf("OID %s: unknown type %q", oid, l[a+1:a+1+b])
	}
	typ := Type(num)
	data, err = appendValue(data, typ, suffix, val)
	if err != nil {
		return data, 0, 0, fmt.Errorf("OID %s: type %s: %v", oid, string(l[a+1:a+1+b]), err)
	}
	return data, typ, oidLen, nil
}

// appendValue encodes a value's text as BER content.
func appendValue(data []byte, typ Type, suffix byte, val []byte) ([]byte, error) {
	switch typ {
	case OctetString, Opaque, IPAddress:
		start := len(data)
		switch suffix {
		case 'x':
			if len(val)%2 != 0 {
				return data, fmt.Errorf("odd number of hex digits in %q", val)
			}
			data = slices.Grow(data, len(val)/2)
			n, err := hex.Decode(data[start:start+len(val)/2], val)
			if err != nil {
				return data, fmt.Errorf("bad hex %q: %v", val, err)
			}
			data = data[:start+n]
		case 'e':
			var err error
			if data, err = appendUnescaped(data, val); err != nil {
				return data, err
			}
		default:
			if typ == IPAddress && len(val) != 4 {
				// Like pysnmp, four characters are the raw octets
				// (snmpsim records printable addresses that way);
				// anything else is a dotted quad.
				return appendIPv4(data, string(val))
			}
			data = append(data, val...)
		}
		if typ == IPAddress && len(data)-start != 4 {
			return data, fmt.Errorf("IpAddress of %d octets, want 4", len(data)-start)
		}
		return data, nil
	}
	if suffix != 0 {
		return data, fmt.Errorf("suffix %q not allowed for this type", suffix)
	}
	s := string(val)
	switch typ {
	case Integer:
		x, err := strconv.ParseInt(s, 10, 32)
		if err != nil {
			return data, fmt.Errorf("bad Integer32 %q", s)
		}
		return AppendInt(data, x), nil
	case Counter32, Gauge32, TimeTicks:
		x, err := strconv.ParseUint(s, 10, 32)
		if err != nil {
			return data, fmt.Errorf("bad unsigned 32-bit value %q", s)
		}
		return AppendUint(data, x), nil
	case Counter64:
		x, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return data, fmt.Errorf("bad Counter64 %q", s)
		}
		return AppendUint(data, x), nil
	case Null:
		if s != "" {
			return data, fmt.Errorf("NULL with a value %q", s)
		}
		return data, nil
	case ObjectIdentifier:
		return appendOID(data, val)
	}
	return data, fmt.Errorf("unsupported type")
}

// appendIPv4 encodes a dotted quad.
func appendIPv4(data []byte, s string) ([]byte, error) {
	parts := strings.Split(s, ".")
	if len(parts) != 4 {
		return data, fmt.Errorf("bad IpAddress %q", s)
	}
	for _, p := range parts {
		n, err := strconv.ParseUint(p, 10, 8)
		if err != nil {
			return data, fmt.Errorf("bad IpAddress %q", s)
		}
		data = append(data, byte(n))
	}
	return data, nil
}

// appendUnescaped decodes snmpsim's escaped strings: a backslash followed by
// one of \ ' " a b f n r t v, or by x and two hex digits. Any other escape
// is an error. Like snmpsim, an escape cut short by the end of the value is
// dropped.
func appendUnescaped(data, val []byte) ([]byte, error) {
	for i := 0; i < len(val); i++ {
		c := val[i]
		if c != '\\' {
			data = append(data, c)
			continue
		}
		i++
		if i >= len(val) {
			break
		}
		switch val[i] {
		case '\\', '\'', '"':
			data = append(data, val[i])
		case 'a':
			data = append(data, 7)
		case 'b':
			data = append(data, 8)
		case 'f':
			data = append(data, 12)
		case 'n':
			data = append(data, 10)
		case 'r':
			data = append(data, 13)
		case 't':
			data = append(data, 9)
		case 'v':
			data = append(data, 11)
		case 'x':
			if i+2 >= len(val) {
				return data, nil // cut short: dropped, as snmpsim does
			}
			hi, ok1 := unhex(val[i+1])
			lo, ok2 := unhex(val[i+2])
			if !ok1 || !ok2 {
				return data, fmt.Errorf("bad \\x escape in %q", val)
			}
			data = append(data, hi<<4|lo)
			i += 2
		default:
			return data, fmt.Errorf("unknown escape \\%c in %q", val[i], val)
		}
	}
	return data, nil
}

// unhex decodes one hex digit.
func unhex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// AppendInt appends the minimal two's-complement BER content of x.
func AppendInt(dst []byte, x int64) []byte {
	n := 1
	for y := x; y > 127 || y < -128; y >>= 8 {
		n++
	}
	for i := n - 1; i >= 0; i-- {
		dst = append(dst, byte(x>>(8*i)))
	}
	return dst
}

// AppendUint appends the minimal BER content of the unsigned x (a leading
// zero octet when the top bit would otherwise read as a sign).
func AppendUint(dst []byte, x uint64) []byte {
	n := 1
	for y := x; y > 127; y >>= 8 {
		n++
	}
	if n > 8 {
		dst = append(dst, 0)
		n = 8
	}
	for i := n - 1; i >= 0; i-- {
		dst = append(dst, byte(x>>(8*i)))
	}
	return dst
}
