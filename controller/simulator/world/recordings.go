package world

import (
	"fmt"
	"math/rand/v2"
	"strconv"
)

// Vendor MIB objects the recordings hold, as controller/device reads them.
const (
	huaweiONTRunStatus   = "1.3.6.1.4.1.2011.6.128.1.1.2.46.1.15" // ponIfIndex.ontId: 1 online, 2 offline
	zteONTPhaseState     = "1.3.6.1.4.1.3902.1012.3.28.2.1.4"     // ponIfIndex.ontId: 4 working
	adslAtucAttainable   = "1.3.6.1.2.1.10.94.1.1.2.1.8"
	adslAturAttainable   = "1.3.6.1.2.1.10.94.1.1.3.1.8"
	xdsl2AttainableDs    = "1.3.6.1.2.1.10.251.1.1.1.1.20"
	xdsl2AttainableUs    = "1.3.6.1.2.1.10.251.1.1.1.1.21"
	xdsl2ChActDataRate   = "1.3.6.1.2.1.10.251.1.2.2.1.2" // ifIndex.unit (1 down, 2 up)
	docsIfDownFrequency  = "1.3.6.1.2.1.10.127.1.1.1.1.2"
	docsIfDownPower      = "1.3.6.1.2.1.10.127.1.1.1.1.6"
	docsIfUpFrequency    = "1.3.6.1.2.1.10.127.1.1.2.1.2"
	docsIfSignalNoise    = "1.3.6.1.2.1.10.127.1.1.4.1.5"
	docsIfBaseCapability = "1.3.6.1.2.1.10.127.1.1.5.0"
	docsIfCmtsCmStatus   = "1.3.6.1.2.1.10.127.1.3.3.1.9"    // 6 registrationComplete
	docsIf3CmRegStatus   = "1.3.6.1.4.1.4491.2.1.20.1.3.1.6" // 8 operational
	pt3080               = "1.3.6.1.4.1.18086.3080"
	telesteStatus        = "1.3.6.1.4.1.3715.99.1.2"
)

// record writes the recording of d.
func record(r *recWriter, d *Device) {
	// Each device draws its own figures from its own generator, so that
	// recordings can be written in any order, in parallel.
	rng := rand.New(rand.NewPCG(uint64(d.uptime), uint64(len(d.ID))))
	switch d.Kind {
	case KindOLTHuawei, KindOLTZTE:
		recordOLT(r, d, rng)
	case KindCMTS:
		recordCMTS(r, d, rng)
	case KindDSLAMADSL, KindDSLAMVDSL2:
		recordDSLAM(r, d)
	case KindTransmitter:
		recordTransmitter(r, d, rng)
	case KindHeadend:
		recordHeadend(r, d)
	}
}

// head writes the system group and ifTable (interfaces sorted). The
// device's transmission tables (under 1.3.6.1.2.1.10) follow it, then tail.
func head(r *recWriter, d *Device, descr, objectID string, ifs []iface) {
	sortIfaces(ifs)
	r.system(descr, objectID, d.uptime, d.ID, d.Site)
	r.ifTable(d.uptime, ifs)
}

// tail writes ifXTable and the entity MIB; the vendor tables (under
// 1.3.6.1.4.1) follow it.
func tail(r *recWriter, d *Device, ifs []iface) {
	r.ifXTable(d.uptime, ifs)
	r.entity(d.serial)
}

// recordOLT writes a GPON OLT: its PON ports and the vendor's ONT status
// table (ONT ids scattered over the port's range, offline ones at random).
func recordOLT(r *recWriter, d *Device, rng *rand.Rand) {
	ifs := make([]iface, 0, len(d.Ports)+1)
	descr, oid, col, online := "Huawei Integrated Access Software MA5680T", "1.3.6.1.4.1.2011.2.248", huaweiONTRunStatus, int64(1)
	offline := []int64{2}
	firstONT := 0
	if d.Kind == KindOLTZTE {
		descr, oid, col, online = "C300 Version V2.1.0 Software, Copyright (c) by ZTE Corporation Compiled",
			"1.3.6.1.4.1.3902.1082.1001.300.2.1", zteONTPhaseState, 4
		offline = []int64{2, 5, 7} // LOS, dying gasp, offline
		firstONT = 1
		ifs = append(ifs, iface{index: 0x10000000 + 19<<16, name: "xgei_1/20/1", descr: "xgei_1/20/1", typ: 6, up: true, speed: 10_000_000_000})
	} else {
		ifs = append(ifs, iface{index: 234938368, name: "ethernet0/9/0", descr: "Huawei-MA5680T-V800R018-ETHERNET", typ: 6, up: true, speed: 10_000_000_000})
	}
	for _, p := range d.Ports {
		pd := "Huawei-MA5680T-V800R018-GPON_UNI"
		if d.Kind == KindOLTZTE {
			pd = p.Name
		}
		ifs = append(ifs, iface{index: p.IfIndex, name: p.Name, descr: pd, typ: 250, up: p.Online+p.Offline > 0, speed: 2_488_320_000})
	}
	head(r, d, descr, oid, ifs)
	tail(r, d, ifs)
	for _, p := range d.Ports {
		n := p.Online + p.Offline
		off := make([]bool, n)
		for _, i := range rng.Perm(n)[:p.Offline] {
			off[i] = true
		}
		for j := range n {
			v := online
			if off[j] {
				v = offline[rng.IntN(len(offline))]
			}
			r.num(tInteger, v, col, p.IfIndex, int64(firstONT+j))
		}
	}
}

// recordCMTS writes a C-DOCSIS CMTS: a MAC domain, 16 downstreams of 8 MHz,
// 4 upstreams, DOCSIS 3.0 capability and its modem tables (DOCS-IF and
// DOCS-IF3), offline modems scattered.
func recordCMTS(r *recWriter, d *Device, rng *rand.Rand) {
	ifs := []iface{{index: 1, name: "cable-mac 1", descr: "cable-mac 1", typ: 127, up: true},
		{index: 2, name: "gei 1/1", descr: "gei 1/1", typ: 6, up: true, speed: 1_000_000_000}}
	const downs, ups = 16, 4
	for k := range downs {
		ifs = append(ifs, iface{index: int64(3 + k), name: fmt.Sprintf("cable-downstream 1/0/%d", k), descr: "cable-downstream",
			typ: 128, up: true, speed: 42_880_000})
	}
	for k := range ups {
		ifs = append(ifs, iface{index: int64(3 + downs + k), name: fmt.Sprintf("cable-upstream 1/0/%d", k), descr: "cable-upstream",
			typ: 129, up: true, speed: 30_720_000})
	}
	head(r, d, "CC8800C-E;hardware version:V2.2.4;software version:V2.3.0.54-C.BT", "1.3.6.1.4.1.32285.11.1.1.1.4.1", ifs)
	for k := range downs {
		r.num(tInteger, 259_000_000+int64(k)*8_000_000, docsIfDownFrequency, int64(3+k))
	}
	for k := range downs {
		r.num(tInteger, 450+rng.Int64N(70), docsIfDownPower, int64(3+k))
	}
	for k := range ups {
		r.num(tInteger, 15_200_000+int64(k)*6_400_000, docsIfUpFrequency, int64(3+downs+k))
	}
	for k := range ups {
		r.num(tInteger, 300+rng.Int64N(100), docsIfSignalNoise, int64(3+downs+k))
	}
	r.num(tInteger, 4, docsIfBaseCapability) // docsis30
	off := make([]bool, d.Modems)
	for _, i := range rng.Perm(d.Modems)[:d.Modems-d.ModemsOnline] {
		off[i] = true
	}
	for i := range d.Modems {
		r.num(tInteger, pick(off[i], 1, 6), docsIfCmtsCmStatus, int64(i+1))
	}
	tail(r, d, ifs)
	for i := range d.Modems {
		r.num(tInteger, pick(off[i], 1, 8), docsIf3CmRegStatus, int64(i+1))
	}
}

// pick returns a when cond holds, else b.
func pick(cond bool, a, b int64) int64 {
	if cond {
		return a
	}
	return b
}

// recordDSLAM writes an ADSL2+ (ZyXEL IES-5005-style, lines ifIndex 1..n)
// or VDSL2 (Huawei MA5616-style) DSLAM: its lines, up in showtime, with
// attainable rates (0 for lines not in showtime) and, for VDSL2, the actual
// rates of the bearer channel.
func recordDSLAM(r *recWriter, d *Device) {
	ifs := make([]iface, 0, len(d.Lines)+1)
	adsl := d.Kind == KindDSLAMADSL
	descr, oid, lineType := "Huawei Integrated Access Software MA5616", "1.3.6.1.4.1.2011.2.123", int64(251)
	if adsl {
		descr, oid, lineType = "IES-5005", "1.3.6.1.4.1.890.1.5.13.7", 94
		ifs = append(ifs, iface{index: 1001, name: "enet1", descr: "up1", typ: 6, up: true, speed: 1_000_000_000})
	} else {
		ifs = append(ifs, iface{index: 234881024, name: "GE 0/0/0", descr: "Huawei-MA5616-ETHERNET", typ: 6, up: true, speed: 1_000_000_000})
	}
	for _, l := range d.Lines {
		ifs = append(ifs, iface{index: l.IfIndex, name: l.Name, descr: l.Name, typ: lineType, up: l.Showtime,
			speed: actualRate(l.AttainableDownBps)})
	}
	head(r, d, descr, oid, ifs)
	down, up := xdsl2AttainableDs, xdsl2AttainableUs
	if adsl {
		down, up = adslAtucAttainable, adslAturAttainable
	}
	for _, l := range d.Lines {
		r.unum(tGauge32, l.AttainableDownBps, down, l.IfIndex)
	}
	for _, l := range d.Lines {
		r.unum(tGauge32, l.AttainableUpBps, up, l.IfIndex)
	}
	if !adsl {
		for _, l := range d.Lines {
			r.unum(tGauge32, actualRate(l.AttainableDownBps), xdsl2ChActDataRate, l.IfIndex, 1)
			r.unum(tGauge32, actualRate(l.AttainableUpBps), xdsl2ChActDataRate, l.IfIndex, 2)
		}
	}
	tail(r, d, ifs)
}

// actualRate is the rate a line trains at: 85% of its attainable rate, to
// the kbit/s.
func actualRate(attainable uint64) uint64 { return attainable * 85 / 100 / 1000 * 1000 }

// recordTransmitter writes a DVB-T transmitter on air (ProTelevision
// PT3080-MIB): primary transport stream available, output synchronised,
// its frequency, level and GPS lock.
func recordTransmitter(r *recWriter, d *Device, rng *rand.Rand) {
	ifs := []iface{{index: 1, name: "eth0", descr: "eth0", typ: 6, up: true, speed: 100_000_000},
		{index: 2, name: "asi1", descr: "asi1", typ: 214, up: true}}
	head(r, d, "PT3080 DVB-T transmitter", "1.3.6.1.4.1.18086.8", ifs)
	tail(r, d, ifs)
	r.num(tInteger, pick(d.OnAir, 0, 2), pt3080+".3.36.0") // TS primary: 0 available, 2 no sync
	r.num(tInteger, 1, pt3080+".3.37.0")                   // TS secondary: unavailable
	r.num(tInteger, 22118, pt3080+".3.41.0")               // HP TS bitrate, kbit/s
	r.num(tInteger, 474_000_000+8_000_000*rng.Int64N(40), pt3080+".4.2.0")
	r.num(tInteger, pick(d.OnAir, 1, 0), pt3080+".4.6.0") // synchronised
	r.num(tInteger, 3000+rng.Int64N(1500), pt3080+".4.17.0")
	r.num(tInteger, 0, pt3080+".7.1.0") // GPS 1PPS locked
}

// recordHeadend writes a headend in normal state (Teleste Luminato status
// group) with eight QAM transport-stream outputs up.
func recordHeadend(r *recWriter, d *Device) {
	ifs := []iface{{index: 1, name: "eth0", descr: "eth0", typ: 6, up: true, speed: 1_000_000_000}}
	for k := range 8 {
		ifs = append(ifs, iface{index: int64(10 + k), name: "qam" + strconv.Itoa(k+1), descr: "QAM output", typ: 214, up: true})
	}
	head(r, d, "Teleste Luminato 4X4 20.8.23", "1.3.6.1.4.1.3715.17", ifs)
	tail(r, d, ifs)
	for _, col := range []string{".1.0", ".5.0", ".6.0", ".7.0", ".8.0"} {
		r.num(tInteger, 1, telesteStatus+col) // normal / ok
	}
}
