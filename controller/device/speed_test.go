package device

import (
	"testing"

	"github.com/gosnmp/gosnmp"
)

// TestInterfaceSpeed builds one interface row from ifSpeed, ifHighSpeed and
// ifHCInOctets and checks which speed the document reports. ifSpeed is exact
// to the bit and must win unless missing or saturated; ifHighSpeed counts
// whole Mbit/s.
func TestInterfaceSpeed(t *testing.T) {
	u := func(v uint64) *uint64 { return &v }
	cases := []struct {
		name  string
		speed *uint64 // ifSpeed (Gauge32, bit/s); nil = absent
		high  *uint64 // ifHighSpeed (Gauge32, Mbit/s); nil = absent
		hc    bool    // ifHCInOctets present (the agent has the 64-bit table)
		want  *uint64 // speed_bps; nil = omitted
	}{
		{"800k DSL with HC counters", u(800_000), u(1), true, u(800_000)},
		{"1.5M DSL with HC counters", u(1_536_000), u(2), true, u(1_536_000)},
		{"GPON line rate", u(2_488_320_000), u(2488), true, u(2_488_320_000)},
		{"exact without HC", u(1_536_000), u(2), false, u(1_536_000)},
		{"saturated ifSpeed, 10G", u(4294967295), u(10_000), true, u(10_000_000_000)},
		{"saturated ifSpeed, no HC", u(4294967295), u(40_000), false, u(40_000_000_000)},
		{"saturated ifSpeed, ifHighSpeed 0", u(4294967295), u(0), true, u(4294967295)},
		{"saturated ifSpeed, no ifHighSpeed", u(4294967295), nil, false, u(4294967295)},
		{"only ifHighSpeed", nil, u(100), true, u(100_000_000)},
		{"only ifSpeed", u(10_000_000), nil, false, u(10_000_000)},
		{"ifSpeed 0, ifHighSpeed set", u(0), u(1000), true, u(1_000_000_000)},
		{"both 0", u(0), u(0), true, u(0)},
		{"ifHighSpeed 0, ifSpeed exact", u(64_000), u(0), true, u(64_000)},
		{"neither", nil, nil, true, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var pdus []gosnmp.SnmpPDU
			if c.speed != nil {
				pdus = append(pdus, pdu(ifSpeed+".7", gosnmp.Gauge32, uint(*c.speed)))
			}
			if c.high != nil {
				pdus = append(pdus, pdu(ifHighSpeed+".7", gosnmp.Gauge32, uint(*c.high)))
			}
			if c.hc {
				pdus = append(pdus, pdu(ifHCInOctets+".7", gosnmp.Counter64, uint64(12345)))
			}
			it := buildInterface(NewObjects(pdus), 7)
			switch {
			case c.want == nil && it.SpeedBps != nil:
				t.Errorf("speed_bps = %d, want none", *it.SpeedBps)
			case c.want != nil && it.SpeedBps == nil:
				t.Errorf("speed_bps missing, want %d", *c.want)
			case c.want != nil && *it.SpeedBps != *c.want:
				t.Errorf("speed_bps = %d, want %d", *it.SpeedBps, *c.want)
			}
		})
	}
}
