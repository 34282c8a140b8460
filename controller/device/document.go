package device

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Class is what kind of equipment a device is.
type Class string

// The device classes.
const (
	ClassOLT           Class = "olt"
	ClassCMTS          Class = "cmts"
	ClassCableModem    Class = "cable-modem"
	ClassDSLAM         Class = "dslam"
	ClassDSLCPE        Class = "dsl-cpe"
	ClassTVHeadend     Class = "tv-headend"
	ClassTVTransmitter Class = "tv-transmitter"
	ClassTVReceiver    Class = "tv-receiver"
	ClassRouter        Class = "router"
	ClassSwitch        Class = "switch"
	ClassServer        Class = "server"
	ClassUnknown       Class = "unknown"
)

// Classes lists every valid class.
var Classes = []Class{ClassOLT, ClassCMTS, ClassCableModem, ClassDSLAM, ClassDSLCPE,
	ClassTVHeadend, ClassTVTransmitter, ClassTVReceiver, ClassRouter, ClassSwitch,
	ClassServer, ClassUnknown}

// Document is the normalised state of one device at one poll. Fields the
// device does not give are omitted, never zero.
type Document struct {
	Class            Class       `json:"class"`
	Profile          string      `json:"profile,omitempty"`
	SysName          string      `json:"sys_name,omitempty"`
	SysDescr         string      `json:"sys_descr,omitempty"`
	SysObjectID      string      `json:"sys_object_id,omitempty"`
	SysUptimeSeconds *float64    `json:"sys_uptime_seconds,omitempty"`
	Vendor           string      `json:"vendor,omitempty"`
	Model            string      `json:"model,omitempty"`
	Serial           string      `json:"serial,omitempty"`
	PolledAt         time.Time   `json:"polled_at"`
	Interfaces       []Interface `json:"interfaces"`
	Access           *Access     `json:"access,omitempty"`

	// Truncated is set when the poll cut some table short (the row bound,
	// the call cap, the poll's deadline, or an answer that could not be
	// used): what the document tells of it is a prefix, not the whole
	// table, and the poll's warnings name the roots.
	Truncated bool `json:"truncated,omitempty"`

	// sysUpTimeTicks is the raw sysUpTime, for reset detection.
	sysUpTimeTicks *uint64
}

// Interface is one ifTable row.
type Interface struct {
	Index       int     `json:"index"`
	Name        string  `json:"name,omitempty"`
	Descr       string  `json:"descr,omitempty"`
	Alias       string  `json:"alias,omitempty"`
	Type        *int    `json:"type,omitempty"`
	AdminStatus string  `json:"admin_status,omitempty"`
	OperStatus  string  `json:"oper_status,omitempty"`
	SpeedBps    *uint64 `json:"speed_bps,omitempty"`
	MTU         *int    `json:"mtu,omitempty"`
	MAC         string  `json:"mac,omitempty"`

	// Rates exist only once two polls of the same device exist.
	InBps         *float64 `json:"in_bps,omitempty"`
	OutBps        *float64 `json:"out_bps,omitempty"`
	InErrorsPerS  *float64 `json:"in_errors_per_s,omitempty"`
	OutErrorsPerS *float64 `json:"out_errors_per_s,omitempty"`

	// Counters are the raw counters the rates come from.
	Counters Counters `json:"-"`
}

// Counters are an interface's raw counters at one poll; nil means the agent
// did not give it.
type Counters struct {
	InOctets, OutOctets     *uint64 // 32-bit ifInOctets/ifOutOctets
	HCInOctets, HCOutOctets *uint64 // 64-bit ifHCInOctets/ifHCOutOctets
	InErrors, OutErrors     *uint64 // 32-bit
	Discontinuity           *uint64 // ifCounterDiscontinuityTime (ticks)
}

// IF-MIB and ENTITY-MIB columns the document builder reads.
const (
	oidSysDescr     = "1.3.6.1.2.1.1.1.0"
	oidSysObjectID  = "1.3.6.1.2.1.1.2.0"
	oidSysUpTime    = "1.3.6.1.2.1.1.3.0"
	oidSysName      = "1.3.6.1.2.1.1.5.0"
	oidSysServices  = "1.3.6.1.2.1.1.7.0"
	ifIndex         = "1.3.6.1.2.1.2.2.1.1"
	ifDescr         = "1.3.6.1.2.1.2.2.1.2"
	ifType          = "1.3.6.1.2.1.2.2.1.3"
	ifMtu           = "1.3.6.1.2.1.2.2.1.4"
	ifSpeed         = "1.3.6.1.2.1.2.2.1.5"
	ifPhysAddress   = "1.3.6.1.2.1.2.2.1.6"
	ifAdminStatus   = "1.3.6.1.2.1.2.2.1.7"
	ifOperStatus    = "1.3.6.1.2.1.2.2.1.8"
	ifInOctets      = "1.3.6.1.2.1.2.2.1.10"
	ifInErrors      = "1.3.6.1.2.1.2.2.1.14"
	ifOutOctets     = "1.3.6.1.2.1.2.2.1.16"
	ifOutErrors     = "1.3.6.1.2.1.2.2.1.20"
	ifName          = "1.3.6.1.2.1.31.1.1.1.1"
	ifHCInOctets    = "1.3.6.1.2.1.31.1.1.1.6"
	ifHCOutOctets   = "1.3.6.1.2.1.31.1.1.1.10"
	ifHighSpeed     = "1.3.6.1.2.1.31.1.1.1.15"
	ifAlias         = "1.3.6.1.2.1.31.1.1.1.18"
	ifCounterDisc   = "1.3.6.1.2.1.31.1.1.1.19"
	entPhysClass    = "1.3.6.1.2.1.47.1.1.1.1.5"
	entPhysSerial   = "1.3.6.1.2.1.47.1.1.1.1.11"
	entClassChassis = 3
)

// SystemOIDs are the scalars Collect GETs first.
var SystemOIDs = []string{oidSysDescr, oidSysObjectID, oidSysUpTime, oidSysName, oidSysServices}

// BaseColumns are the columns walked on every device, whatever its profile.
var BaseColumns = []string{ifIndex, ifDescr, ifType, ifMtu, ifSpeed, ifPhysAddress,
	ifAdminStatus, ifOperStatus, ifInOctets, ifInErrors, ifOutOctets, ifOutErrors,
	ifName, ifHCInOctets, ifHCOutOctets, ifHighSpeed, ifAlias, ifCounterDisc,
	entPhysClass, entPhysSerial}

// adminStatusWords are ifAdminStatus's values (RFC 2863): up(1), down(2),
// testing(3) and nothing else.
var adminStatusWords = map[int64]string{1: "up", 2: "down", 3: "testing"}

// operStatusWords are ifOperStatus's values (RFC 2863).
var operStatusWords = map[int64]string{1: "up", 2: "down", 3: "testing", 4: "unknown",
	5: "dormant", 6: "notPresent", 7: "lowerLayerDown"}

// statusWord turns a status number into the word its column defines. A
// number the column does not define is reported as "invalid(N)", so that
// it can never be read as a real status (ifOperStatus has a real
// "unknown"); valid is false for it.
func statusWord(words map[int64]string, v int64, ok bool) (word string, valid bool) {
	if !ok {
		return "", true
	}
	if w, found := words[v]; found {
		return w, true
	}
	return fmt.Sprintf("invalid(%d)", v), false
}

// BuildDocument builds a document from what the agent answered, using the
// profile p (nil for none). It never fails: what is missing is omitted.
func BuildDocument(p *Profile, o *Objects) *Document {
	return buildDocument(p, o, nil)
}

// buildDocument is BuildDocument noting into odd (which may be nil) the
// values the agent sent outside their column's definition.
func buildDocument(p *Profile, o *Objects, odd *oddities) *Document {
	d := &Document{Class: ClassUnknown}
	if p != nil {
		d.Class, d.Profile, d.Vendor = p.Class, p.Name, p.Vendor
	}
	d.SysDescr, _ = textAt(o, oidSysDescr)
	d.SysName, _ = textAt(o, oidSysName)
	d.SysObjectID, _ = textAt(o, oidSysObjectID)
	if pdu, ok := o.Get(oidSysUpTime); ok {
		if t, ok := pduUint(pdu); ok {
			d.sysUpTimeTicks = ptr(t)
			d.SysUptimeSeconds = ptr(float64(t) / 100)
		}
	}
	if p != nil && p.modelRE != nil {
		d.Model = matchModel(p.modelRE, d.SysDescr)
	}
	d.Serial = chassisSerial(o)
	d.Interfaces = buildInterfaces(o, odd)
	if p != nil && p.Access != "" {
		if ex, ok := lookupExtractor(p.Access); ok {
			d.Access = ex(o, d)
		}
	}
	return d
}

func textAt(o *Objects, oid string) (string, bool) {
	p, ok := o.Get(oid)
	if !ok {
		return "", false
	}
	return pduText(p)
}

// matchModel returns the first capture group of re in s (the whole match
// when re has no group).
func matchModel(re *regexp.Regexp, s string) string {
	m := re.FindStringSubmatch(s)
	switch {
	case m == nil:
		return ""
	case len(m) > 1:
		for _, g := range m[1:] {
			if g != "" {
				return g
			}
		}
		return ""
	default:
		return m[0]
	}
}

// chassisSerial returns entPhysicalSerialNum of the first chassis entity
// with a non-empty serial.
func chassisSerial(o *Objects) string {
	classes := o.Column(entPhysClass)
	for _, idx := range indexes(classes) {
		c, ok := pduInt(classes[idx])
		if !ok || c != entClassChassis {
			continue
		}
		// A serial of only zeros and blanks is a placeholder, not a serial.
		if s, ok := o.colText(entPhysSerial, idx); ok && strings.Trim(s, "0 \n\t") != "" {
			return s
		}
	}
	return ""
}

// buildInterfaces builds one row per ifTable index (any ifTable column
// defines a row; ifXTable alone does not).
func buildInterfaces(o *Objects, odd *oddities) []Interface {
	var rows, col, merged []ifaceRow
	for _, c := range []string{ifIndex, ifDescr, ifType, ifMtu, ifSpeed, ifPhysAddress,
		ifAdminStatus, ifOperStatus, ifInOctets, ifOutOctets} {
		if col == nil { // the columns mostly have the same rows: room for them at once
			n, _ := o.colSpan(c)
			col, rows, merged = make([]ifaceRow, 0, n), make([]ifaceRow, 0, n), make([]ifaceRow, 0, n)
		}
		col = col[:0]
		o.eachIndex(c, func(idx string) {
			if n, err := strconv.Atoi(idx); err == nil && n >= 0 {
				col = append(col, ifaceRow{n: n, idx: idx})
			}
		})
		if !slices.IsSortedFunc(col, ifaceRow.cmp) {
			slices.SortFunc(col, ifaceRow.cmp)
		}
		merged = mergeRows(merged[:0], rows, col)
		rows, merged = merged, rows
	}
	// In ifIndex order, so that notes quote the first rows. The numbers
	// of all the rows share one allocation.
	out := make([]Interface, 0, len(rows))
	nums := make([]interfaceNumbers, len(rows))
	for k, r := range rows {
		out = append(out, buildInterfaceAt(o, r.n, r.idx, odd, &nums[k]))
	}
	return out
}

// ifaceRow is an ifTable row: its ifIndex and the index text its columns
// are keyed by.
type ifaceRow struct {
	n   int
	idx string
}

func (r ifaceRow) cmp(s ifaceRow) int { return r.n - s.n }

// mergeRows appends to dst the rows of a and b (each in ifIndex order, b
// perhaps with repeats), in ifIndex order, each ifIndex once. An ifIndex
// written otherwise than strconv.Itoa does ("007") is keyed by
// strconv.Itoa's text, which is what a row is read by.
func mergeRows(dst, a, b []ifaceRow) []ifaceRow {
	add := func(r ifaceRow) {
		if len(dst) > 0 && dst[len(dst)-1].n == r.n {
			return
		}
		if r.idx != "0" && (r.idx[0] < '1' || r.idx[0] > '9') {
			r.idx = strconv.Itoa(r.n)
		}
		dst = append(dst, r)
	}
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		if a[i].n <= b[j].n {
			add(a[i])
			i++
		} else {
			add(b[j])
			j++
		}
	}
	for ; i < len(a); i++ {
		add(a[i])
	}
	for ; j < len(b); j++ {
		add(b[j])
	}
	return dst
}

// buildInterface builds the interface row with ifIndex n.
func buildInterface(o *Objects, n int) Interface {
	return buildInterfaceNoting(o, n, nil)
}

// buildInterfaceNoting is buildInterface noting odd values into odd (which
// may be nil).
func buildInterfaceNoting(o *Objects, n int, odd *oddities) Interface {
	return buildInterfaceAt(o, n, strconv.Itoa(n), odd, nil)
}

// buildInterfaceAt is buildInterfaceNoting of the row keyed idx
// (strconv.Itoa(n)), its numbers kept in nums (nil: a new one, if any).
func buildInterfaceAt(o *Objects, n int, idx string, odd *oddities, nums *interfaceNumbers) Interface {
	it := Interface{Index: n}
	it.Descr, _ = o.colText(ifDescr, idx)
	it.Alias, _ = o.colText(ifAlias, idx)
	if p, ok := o.at(ifName, idx); ok && !sameText(p, it.Descr) {
		if name, ok := pduText(p); ok && name != "" {
			it.Name = name
		} else {
			it.Name = it.Descr
		}
	} else {
		it.Name = it.Descr
	}
	// The numbers the interface points to share one allocation: an
	// interface costs one, not one per counter.
	num := func() *interfaceNumbers {
		if nums == nil {
			nums = new(interfaceNumbers)
		}
		return nums
	}
	if t, ok := o.colInt(ifType, idx); ok {
		n := num()
		n.ints[0] = int(t)
		it.Type = &n.ints[0]
	}
	var valid bool
	v, ok := o.colInt(ifAdminStatus, idx)
	if it.AdminStatus, valid = statusWord(adminStatusWords, v, ok); !valid {
		odd.note(ifAdminStatus, idx, strconv.FormatInt(v, 10))
	}
	v, ok = o.colInt(ifOperStatus, idx)
	if it.OperStatus, valid = statusWord(operStatusWords, v, ok); !valid {
		odd.note(ifOperStatus, idx, strconv.FormatInt(v, 10))
	}
	if m, ok := o.colNumber(ifMtu, idx, odd); ok && m <= 1<<31-1 {
		n := num()
		n.ints[1] = int(m)
		it.MTU = &n.ints[1]
	}
	if p, ok := o.at(ifPhysAddress, idx); ok {
		if b, ok := pduBytes(p); ok {
			it.MAC = formatMAC(b)
		}
	}
	speed, speedOK := o.colNumber(ifSpeed, idx, odd)
	high, highOK := o.colNumber(ifHighSpeed, idx, odd)
	if v, ok := speedBps(speed, speedOK, high, highOK); ok {
		n := num()
		n.uints[7] = v
		it.SpeedBps = &n.uints[7]
	}
	c := &it.Counters
	set := func(dst **uint64, k int, col string) {
		if v, ok := o.colUint(col, idx); ok {
			n := num()
			n.uints[k] = v
			*dst = &n.uints[k]
		}
	}
	set(&c.InOctets, 0, ifInOctets)
	set(&c.OutOctets, 1, ifOutOctets)
	set(&c.HCInOctets, 2, ifHCInOctets)
	set(&c.HCOutOctets, 3, ifHCOutOctets)
	set(&c.InErrors, 4, ifInErrors)
	set(&c.OutErrors, 5, ifOutErrors)
	set(&c.Discontinuity, 6, ifCounterDisc)
	return it
}

// interfaceNumbers holds the numbers an Interface points to: its type and
// MTU, and its counters.
type interfaceNumbers struct {
	ints  [2]int
	uints [8]uint64
}

// ifSpeedSaturated is the ifSpeed value (2^32-1) that RFC 2863 has an agent
// report for interfaces faster than a Gauge32 can hold.
const ifSpeedSaturated = 4294967295

// speedBps picks an interface's speed in bit/s. ifSpeed is exact to
// the bit, so it wins whenever it is present, not saturated and not zero;
// ifHighSpeed counts whole Mbit/s, so it would round an 800 kbit/s or
// 1.5 Mbit/s DSL port to 1 or 2 Mbit/s. ifHighSpeed×10^6 is used only where
// ifSpeed is missing, saturated, or zero while ifHighSpeed is not (an agent
// that fills only the 64-bit table). A saturated ifSpeed with no usable
// ifHighSpeed is kept as the lower bound it is; ok is false when neither
// column gives a speed.
func speedBps(speed uint64, speedOK bool, high uint64, highOK bool) (uint64, bool) {
	exact := speedOK && speed < ifSpeedSaturated
	highUsable := highOK && high <= 1<<63/1_000_000 && !(high == 0 && speedOK && speed > 0)
	switch {
	case exact && speed > 0:
		return speed, true
	case highUsable:
		return high * 1_000_000, true
	case speedOK:
		return speed, true
	}
	return 0, false
}

// ifTypeOf returns the ifType of the interface with the given index.
func ifTypeOf(d *Document, index int) (int, bool) {
	for _, it := range d.Interfaces {
		if it.Index == index && it.Type != nil {
			return *it.Type, true
		}
	}
	return 0, false
}

// interfaceByIndex returns the interface row with the given index.
func interfaceByIndex(d *Document, index int) *Interface {
	for i := range d.Interfaces {
		if d.Interfaces[i].Index == index {
			return &d.Interfaces[i]
		}
	}
	return nil
}
