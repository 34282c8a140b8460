package device

import (
	"regexp"
	"strconv"
	"strings"
)

// PON is the access section of an OLT.
type PON struct {
	// Ports are the PON ports.
	Ports []PONPort `json:"ports"`
	// ONTsOnline and ONTsOffline total the ports' counts; absent when the
	// OLT gives no per-ONT status table.
	ONTsOnline  *int `json:"onts_online,omitempty"`
	ONTsOffline *int `json:"onts_offline,omitempty"`
}

// PONPort is one PON port of an OLT.
type PONPort struct {
	IfIndex     int    `json:"if_index"`
	Name        string `json:"name,omitempty"`
	OperStatus  string `json:"oper_status,omitempty"`
	ONTsOnline  *int   `json:"onts_online,omitempty"`
	ONTsOffline *int   `json:"onts_offline,omitempty"`
}

// IANA ifTypes of PON ports.
const (
	ifTypeGPON = 250
	ifTypeEPON = 117 // gigabitEthernet: what some EPON OLTs give their PON ports
)

func init() {
	RegisterExtractor("olt_generic", extractOLTGeneric)
}

// ponPortName matches PON port names (GPON0/1, EPON0/1, pon0/0/1, Tpon1/1,
// gpon_1/1/1); onuName matches the per-ONU interfaces some OLTs (BDCOM,
// V-SOL) add to ifTable as "<port>:<onu id>".
var (
	ponPortName = regexp.MustCompile(`(?i)^(x?g|e|t|xg)?pon[_ ]?\d+(/\d+)*$`)
	onuName     = regexp.MustCompile(`^(.+):(\d+)$`)
)

// extractOLTGeneric lists the PON ports (ifType 250, or named as PON
// ports), and where the OLT lists each ONU as an interface "<port>:<id>",
// counts them online (ifOperStatus up) and offline per port. Without such
// rows the ONT counts are absent.
func extractOLTGeneric(o *Objects, d *Document) *Access {
	var ports []PONPort
	byName := map[string]int{}
	for _, it := range d.Interfaces {
		if (it.Type != nil && *it.Type == ifTypeGPON) || ponPortName.MatchString(it.Name) {
			byName[it.Name] = len(ports)
			ports = append(ports, PONPort{IfIndex: it.Index, Name: it.Name, OperStatus: it.OperStatus})
		}
	}
	if len(ports) == 0 {
		return nil
	}
	pon := &PON{Ports: ports}
	seen := false
	on, off := make([]int, len(ports)), make([]int, len(ports))
	for _, it := range d.Interfaces {
		m := onuName.FindStringSubmatch(it.Name)
		if m == nil {
			continue
		}
		i, ok := byName[m[1]]
		if !ok {
			continue
		}
		seen = true
		if it.OperStatus == "up" {
			on[i]++
		} else {
			off[i]++
		}
	}
	if seen {
		totOn, totOff := 0, 0
		for i := range pon.Ports {
			pon.Ports[i].ONTsOnline, pon.Ports[i].ONTsOffline = ptr(on[i]), ptr(off[i])
			totOn += on[i]
			totOff += off[i]
		}
		pon.ONTsOnline, pon.ONTsOffline = ptr(totOn), ptr(totOff)
	}
	return &Access{PON: pon}
}

// ontStatus counts ONTs online/offline per PON ifIndex from a run-status
// column indexed by ponIfIndex.ontId with the given online and offline
// values (offline -1: every value but online), and merges them into ports (adding ports the table names).
func ontStatus(o *Objects, d *Document, col string, online, offline int64, ports []PONPort) *PON {
	type count struct{ on, off int }
	per := map[int]*count{}
	var order []int
	for _, idx := range indexes(o.Column(col)) {
		dot := strings.IndexByte(idx, '.')
		if dot <= 0 {
			continue
		}
		port, err := strconv.Atoi(idx[:dot])
		if err != nil {
			continue
		}
		v, ok := o.colInt(col, idx)
		if !ok {
			continue
		}
		c := per[port]
		if c == nil {
			c = &count{}
			per[port] = c
			order = append(order, port)
		}
		switch {
		case v == online:
			c.on++
		case v == offline || offline == -1:
			c.off++
		}
	}
	pon := &PON{Ports: ports}
	if len(per) == 0 {
		return pon
	}
	known := map[int]int{}
	for i, p := range pon.Ports {
		known[p.IfIndex] = i
	}
	for _, port := range order {
		if _, ok := known[port]; !ok {
			pon.Ports = append(pon.Ports, PONPort{IfIndex: port, Name: ifaceName(d, port), OperStatus: ifaceOper(d, port)})
			known[port] = len(pon.Ports) - 1
		}
	}
	totOn, totOff := 0, 0
	for i := range pon.Ports {
		c := per[pon.Ports[i].IfIndex]
		if c == nil {
			c = &count{}
		}
		pon.Ports[i].ONTsOnline = ptr(c.on)
		pon.Ports[i].ONTsOffline = ptr(c.off)
		totOn += c.on
		totOff += c.off
	}
	pon.ONTsOnline, pon.ONTsOffline = ptr(totOn), ptr(totOff)
	return pon
}

// ponPortsByIfType lists the interfaces of ifType t as PON ports.
func ponPortsByIfType(d *Document, t int) []PONPort {
	var ports []PONPort
	for _, it := range d.Interfaces {
		if it.Type != nil && *it.Type == t {
			ports = append(ports, PONPort{IfIndex: it.Index, Name: it.Name, OperStatus: it.OperStatus})
		}
	}
	return ports
}
