package world

import (
	"bufio"
	"cmp"
	"math"
	"slices"
	"strconv"
)

// snmprec types, as snmpsim writes them.
const (
	tInteger   = "2"
	tString    = "4"
	tOID       = "6"
	tCounter32 = "65"
	tGauge32   = "66"
	tTicks     = "67"
	tCounter64 = "70"
)

// recWriter writes one recording, one "OID|type|value" line per object.
// Callers write objects in OID order, as snmpsimd needs to walk them.
type recWriter struct {
	w   *bufio.Writer
	buf []byte
}

// begin starts a line with the OID (col and the index arcs) and the type.
func (r *recWriter) begin(typ, col string, idx []int64) {
	r.buf = append(r.buf[:0], col...)
	for _, i := range idx {
		r.buf = append(r.buf, '.')
		r.buf = strconv.AppendInt(r.buf, i, 10)
	}
	r.buf = append(r.buf, '|')
	r.buf = append(r.buf, typ...)
	r.buf = append(r.buf, '|')
}

// end finishes the line and writes it.
func (r *recWriter) end() {
	r.buf = append(r.buf, '\n')
	r.w.Write(r.buf) // a write error sticks in the bufio.Writer; Flush reports it
}

// num writes a numeric object.
func (r *recWriter) num(typ string, v int64, col string, idx ...int64) {
	r.begin(typ, col, idx)
	r.buf = strconv.AppendInt(r.buf, v, 10)
	r.end()
}

// unum writes an unsigned numeric object (Counter64, Gauge32).
func (r *recWriter) unum(typ string, v uint64, col string, idx ...int64) {
	r.begin(typ, col, idx)
	r.buf = strconv.AppendUint(r.buf, v, 10)
	r.end()
}

// text writes an OCTET STRING (printable ASCII) or OBJECT IDENTIFIER.
func (r *recWriter) text(typ, s string, col string, idx ...int64) {
	r.begin(typ, col, idx)
	r.buf = append(r.buf, s...)
	r.end()
}

// system writes the system group.
func (r *recWriter) system(descr, objectID string, uptime uint32, name, location string) {
	const sys = "1.3.6.1.2.1.1"
	r.text(tString, descr, sys+".1.0")
	r.text(tOID, objectID, sys+".2.0")
	r.num(tTicks, int64(uptime), sys+".3.0")
	r.text(tString, "noc@example.net", sys+".4.0")
	r.text(tString, name, sys+".5.0")
	r.text(tString, location, sys+".6.0")
}

// iface is one interface of a recording.
type iface struct {
	index       int64
	name, descr string
	typ         int64
	up          bool
	speed       uint64 // bit/s
}

// sortIfaces puts interfaces in ifIndex order.
func sortIfaces(ifs []iface) {
	slices.SortFunc(ifs, func(a, b iface) int { return cmp.Compare(a.index, b.index) })
}

// counter gives an interface's octet counter a value of its own.
func counter(seed uint32, index int64, out bool) uint64 {
	x := uint64(seed)<<32 ^ uint64(index)
	if out {
		x ^= 0x9e3779b97f4a7c15
	}
	x ^= x >> 33
	x *= 0xff51afd7ed558ccd
	x ^= x >> 33
	x *= 0xc4ceb9fe1a85ec53
	x ^= x >> 33
	return x >> 20 // up to 2^44 octets, about 17 TB
}

// ifTable writes the ifTable columns of the interfaces (sorted). The
// ifIndex column is left out, as Huawei's agents do, when an index does not
// fit its Integer32 (Huawei's 0xFA000000-based PON ports).
func (r *recWriter) ifTable(seed uint32, ifs []iface) {
	const e = "1.3.6.1.2.1.2.2.1"
	if len(ifs) > 0 && ifs[len(ifs)-1].index <= math.MaxInt32 {
		for _, it := range ifs {
			r.num(tInteger, it.index, e+".1", it.index)
		}
	}
	for _, it := range ifs {
		r.text(tString, it.descr, e+".2", it.index)
	}
	for _, it := range ifs {
		r.num(tInteger, it.typ, e+".3", it.index)
	}
	for _, it := range ifs {
		r.unum(tGauge32, min(it.speed, 4294967295), e+".5", it.index)
	}
	for _, it := range ifs {
		r.num(tInteger, 1, e+".7", it.index)
	}
	for _, it := range ifs {
		r.num(tInteger, operStatus(it.up), e+".8", it.index)
	}
	for _, it := range ifs {
		r.unum(tCounter32, counter(seed, it.index, false)&0xffffffff, e+".10", it.index)
	}
	for _, it := range ifs {
		r.unum(tCounter32, counter(seed, it.index, true)&0xffffffff, e+".16", it.index)
	}
}

// operStatus is ifOperStatus up(1) or down(2).
func operStatus(up bool) int64 {
	if up {
		return 1
	}
	return 2
}

// ifXTable writes the ifXTable columns of the interfaces (sorted).
func (r *recWriter) ifXTable(seed uint32, ifs []iface) {
	const e = "1.3.6.1.2.1.31.1.1.1"
	for _, it := range ifs {
		r.text(tString, it.name, e+".1", it.index)
	}
	for _, it := range ifs {
		r.unum(tCounter64, counter(seed, it.index, false), e+".6", it.index)
	}
	for _, it := range ifs {
		r.unum(tCounter64, counter(seed, it.index, true), e+".10", it.index)
	}
	for _, it := range ifs {
		r.unum(tGauge32, it.speed/1_000_000, e+".15", it.index)
	}
}

// entity writes the chassis row of the entity MIB, with its serial.
func (r *recWriter) entity(serial string) {
	const e = "1.3.6.1.2.1.47.1.1.1.1"
	r.num(tInteger, 3, e+".5", 1) // chassis
	r.text(tString, serial, e+".11", 1)
}
