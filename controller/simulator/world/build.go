package world

import (
	"fmt"
	"math"
	"slices"
	"strconv"
)

// Networks of the devices.csv network column.
const (
	networkCATV = "catv"  // the cable network: C-DOCSIS CMTSs and the headend
	networkDVBT = "dvb-t" // the transmitters
)

// build places the sites and devices, and writes the service areas, the
// declared rows and the ground truth.
func (g *gen) build() {
	w := g.w
	c0 := g.counties[0]
	w.Sites = append(w.Sites, Site{ID: "he-1", Name: "有线电视前端", Region: c0.code,
		Lat: round6(c0.lat + 0.01), Lon: round6(c0.lon + 0.01), Kind: "headend"})
	w.Devices = append(w.Devices, g.device("headend-1", "he-1", "", networkCATV, KindHeadend))
	g.transmitters()
	for ci := range g.counties {
		g.county(ci)
	}
	g.video()
	g.truth()
}

// transmitters places one DVB-T transmitter per countiesPerTx counties, on
// a hill near the middle county of each group.
func (g *gen) transmitters() {
	w := g.w
	n := max(1, len(g.counties)/countiesPerTx)
	for k := range n {
		c := g.counties[k*len(g.counties)/n+len(g.counties)/n/2]
		id := "tx-" + strconv.Itoa(k+1)
		w.Sites = append(w.Sites, Site{ID: id, Name: g.name("山发射台"), Region: c.code,
			Lat: round6(c.lat + g.jitter(0.05)), Lon: round6(c.lon + g.jitter(0.05)), Kind: "transmitter"})
		d := g.device(id, id, "", networkDVBT, KindTransmitter)
		d.OnAir = true
		w.Devices = append(w.Devices, d)
	}
}

// device makes a device row with its recording's identity.
func (g *gen) device(id, site, parent, network, kind string) Device {
	return Device{ID: id, Site: site, Parent: parent, Network: network, Kind: kind, Class: kindClass[kind],
		serial: fmt.Sprintf("%s%08X", serialPrefix[kind], g.rng.Uint32()), uptime: 100_000 + g.rng.Uint32N(400_000_000)}
}

// kindClass is the device.Class each kind's document carries.
var kindClass = map[string]string{KindOLTHuawei: "olt", KindOLTZTE: "olt", KindCMTS: "cmts",
	KindDSLAMADSL: "dslam", KindDSLAMVDSL2: "dslam", KindTransmitter: "tv-transmitter", KindHeadend: "tv-headend"}

var serialPrefix = map[string]string{KindOLTHuawei: "2102351", KindOLTZTE: "ZTEG", KindCMTS: "CC88",
	KindDSLAMADSL: "S090", KindDSLAMVDSL2: "2102352", KindTransmitter: "PT30", KindHeadend: "LUM"}

// county places a county's central office, OLT, gateway and cabinets, and
// its villages' devices.
func (g *gen) county(ci int) {
	w := g.w
	c := &g.counties[ci]
	code6 := c.code[:6]
	c.centralOff = "co-" + code6
	w.Sites = append(w.Sites, Site{ID: c.centralOff, Name: w.Regions[c.region].Name + "中心局", Region: c.code,
		Lat: round6(c.lat), Lon: round6(c.lon), Kind: "central-office"})
	w.Gateways = append(w.Gateways, Gateway{Name: "gw-" + code6, Site: c.centralOff})
	// Vendors alternate from a random first one, so that a world of two
	// counties has both.
	if ci == 0 {
		g.zteFirst = g.rng.IntN(2) == 0
	}
	c.oltVendor = KindOLTHuawei
	if (ci%2 == 0) == g.zteFirst {
		c.oltVendor = KindOLTZTE
	}
	c.olt = "olt-" + code6
	olt := len(w.Devices)
	w.Devices = append(w.Devices, g.device(c.olt, c.centralOff, "", "fttx-"+code6, c.oltVendor))
	for ti := c.firstTown; ti < c.firstTown+c.towns; ti++ {
		tw := &g.townships[ti]
		tw.cabinet = "cab-" + tw.code[:9]
		w.Sites = append(w.Sites, Site{ID: tw.cabinet, Name: w.Regions[tw.region].Name + "交接箱", Region: tw.code,
			Lat: round6(tw.lat), Lon: round6(tw.lon), Kind: "cabinet"})
		for vi := tw.first; vi < tw.first+tw.n; vi++ {
			g.village(vi, c, tw, olt)
		}
	}
	g.sparePorts(olt)
}

// village gives village vi its access by its plan.
func (g *gen) village(vi int, c *county, tw *township, olt int) {
	w := g.w
	v := &w.Villages[vi]
	p := g.plans[vi]
	switch p {
	case planGPON, planGPONDark:
		g.pon(v, olt, p == planGPONDark)
	case planDOCSIS:
		d := g.device("cmts-"+v.Code, g.villageRoom(v), c.olt, networkCATV, KindCMTS)
		d.Modems = max(1, int(math.Round(float64(v.Households)*(0.5+0.35*g.rng.Float64()))))
		d.ModemsOnline = max(1, d.Modems-int(math.Round(float64(d.Modems)*(0.03+0.09*g.rng.Float64()))))
		d.DOCSIS = "3.0"
		g.serve(v, d.ID, "*", "data", "voice")
		g.serve(v, "headend-1", "*", "video")
		w.Devices = append(w.Devices, d)
	case planVDSL2Fast, planVDSL2Slow:
		d := g.device("dslam-"+v.Code, g.villageRoom(v), c.olt, "fttx-"+c.code[:6], KindDSLAMVDSL2)
		g.dslLines(&d, v, 0.3, p == planVDSL2Fast)
		g.serve(v, d.ID, "*", "data", "voice")
		if g.pct(iptvVDSL2Pct) {
			g.serve(v, d.ID, "*", "video")
		}
		w.Devices = append(w.Devices, d)
	case planADSL:
		d := g.device("dslam-"+v.Code, tw.cabinet, c.olt, "", KindDSLAMADSL)
		g.dslLines(&d, v, 0.2, false)
		g.serve(v, d.ID, "*", "data", "voice")
		if g.pct(declaredADSLPct) {
			w.Declared = append(w.Declared, Declared{Village: v.Code, Service: "data", Technology: "4g",
				DownMbps: 40, UpMbps: 8, Source: "运营商申报 2026"})
		}
		w.Devices = append(w.Devices, d)
	case planDeclared:
		g.declared(v)
	}
	poor := p != planGPON && p != planDOCSIS && p != planVDSL2Fast
	v.Priority = (poor && g.pct(priorityPoorPct)) || (!poor && g.pct(priorityPct))
}

// villageRoom adds the village telecom room of v and returns its id.
func (g *gen) villageRoom(v *Village) string {
	id := "vtr-" + v.Code
	g.w.Sites = append(g.w.Sites, Site{ID: id, Name: v.Name + "通信机房", Region: v.Code,
		Lat: v.Lat, Lon: v.Lon, Kind: "village-telecom-room"})
	return id
}

// serve adds service-area rows of a device port for v.
func (g *gen) serve(v *Village, device, port string, services ...string) {
	for _, s := range services {
		g.w.ServiceAreas = append(g.w.ServiceAreas, ServiceArea{Device: device, Port: port, Village: v.Code, Service: s})
	}
}

// pon gives v GPON ports on the county's OLT (ontsPerPort subscribers
// each), with data and voice over them and, for a share, IPTV; dark ports
// have every ONT offline.
func (g *gen) pon(v *Village, olt int, dark bool) {
	w := g.w
	d := &w.Devices[olt]
	take := 0.55 + 0.35*g.rng.Float64()
	if dark {
		take = 0.3
	}
	subs := max(1, int(math.Round(float64(v.Households)*take)))
	ports := (subs + ontsPerPort - 1) / ontsPerPort
	iptv := !dark && g.pct(iptvGPONPct)
	for k := range ports {
		n := subs / ports
		if k < subs%ports {
			n++
		}
		off := n
		if !dark {
			off = min(n-1, int(math.Round(float64(n)*(0.03+0.09*g.rng.Float64()))))
		}
		pp := g.ponPort(d, len(d.Ports))
		pp.Village, pp.Online, pp.Offline = v.Code, n-off, off
		d.Ports = append(d.Ports, pp)
		cell := pp.Name
		if d.Kind == KindOLTZTE {
			cell = strconv.FormatInt(pp.IfIndex, 10) // ZTE rows name the port by ifIndex
		}
		g.serve(v, d.ID, cell, "data", "voice")
		if iptv {
			g.serve(v, d.ID, cell, "video")
		}
	}
}

// ponPort numbers the i-th PON port of an OLT the vendor's way: Huawei
// "GPON 0/slot/port" (ports 0..15 from slot 1, ifIndex 0xFA000000 +
// slot*8192 + port*256), ZTE "gpon_1/slot/port" (ports 1..16 from slot 1,
// ifIndex 0x10000000 + (slot-1)<<16 + (port-1)<<8).
func (g *gen) ponPort(d *Device, i int) PONPort {
	slot, port := 1+i/portsPerPONBoard, i%portsPerPONBoard
	if d.Kind == KindOLTZTE {
		return PONPort{IfIndex: 0x10000000 + int64(slot-1)<<16 + int64(port)<<8,
			Name: fmt.Sprintf("gpon_1/%d/%d", slot, port+1)}
	}
	return PONPort{IfIndex: 4194304000 + int64(slot)*8192 + int64(port)*256, Name: fmt.Sprintf("GPON 0/%d/%d", slot, port)}
}

// sparePorts fills the OLT's last board with unused ports (at least one
// board).
func (g *gen) sparePorts(olt int) {
	d := &g.w.Devices[olt]
	for len(d.Ports) == 0 || len(d.Ports)%portsPerPONBoard != 0 {
		d.Ports = append(d.Ports, g.ponPort(d, len(d.Ports)))
	}
}

// dslLines gives a DSLAM the lines of v: subscribers in showtime at about
// take of the households, on 24-port boards with some ports not in
// showtime; attainable rates per the plan.
func (g *gen) dslLines(d *Device, v *Village, take float64, fast bool) {
	subs := max(1, int(math.Round(float64(v.Households)*(take+0.3*g.rng.Float64()))))
	ports := (subs + subs/8 + 23) / 24 * 24
	showtime := make([]bool, ports)
	for _, i := range g.rng.Perm(ports)[:subs] {
		showtime[i] = true
	}
	for i := range ports {
		l := Line{Village: v.Code, Showtime: showtime[i]}
		if d.Kind == KindDSLAMADSL {
			l.IfIndex, l.Name = int64(i+1), "adsl-"+strconv.Itoa(i+1)
		} else {
			slot, port := 1+i/24, i%24
			l.IfIndex, l.Name = 201326592+int64(slot)*8192+int64(port)*64, fmt.Sprintf("VDSL 0/%d/%d", slot, port)
		}
		if l.Showtime {
			var down, up float64
			switch {
			case d.Kind == KindDSLAMADSL:
				down, up = 4+16*g.rng.Float64(), 0.5+0.6*g.rng.Float64()
			case fast:
				down, up = 105+75*g.rng.Float64(), 22+28*g.rng.Float64()
			default:
				down, up = 30+65*g.rng.Float64(), 4+15*g.rng.Float64()
			}
			l.AttainableDownBps, l.AttainableUpBps = kbps(down), kbps(up)
		}
		d.Lines = append(d.Lines, l)
	}
}

// kbps turns Mbit/s into bit/s rounded to the kbit/s.
func kbps(mbps float64) uint64 { return uint64(math.Round(mbps*1000)) * 1000 }

// declared gives v a declared data service only: fixed wireless, 4G or
// satellite.
func (g *gen) declared(v *Village) {
	d := Declared{Village: v.Code, Service: "data"}
	switch g.rng.IntN(3) {
	case 0:
		d.Technology, d.DownMbps, d.UpMbps, d.Source = "fixed-wireless", 10+float64(g.rng.IntN(41)), 2+float64(g.rng.IntN(9)), "无线接入普查"
	case 1:
		d.Technology, d.DownMbps, d.UpMbps, d.Source = "4g", 20+float64(g.rng.IntN(41)), 3+float64(g.rng.IntN(10)), "运营商申报 2026"
	default:
		d.Technology, d.DownMbps, d.UpMbps, d.Source = "satellite", 50+float64(g.rng.IntN(101)), 5+float64(g.rng.IntN(21)), "卫星服务商申报"
	}
	g.w.Declared = append(g.w.Declared, d)
}

// video gives every village within transmitterKm of a transmitter a video
// row from it, and half of the villages with no digital TV a declared
// analogue service.
func (g *gen) video() {
	w := g.w
	var txs []Site
	for _, s := range w.Sites {
		if s.Kind == "transmitter" {
			txs = append(txs, s)
		}
	}
	hasVideo := make(map[string]bool)
	for _, a := range w.ServiceAreas {
		if a.Service == "video" {
			hasVideo[a.Village] = true
		}
	}
	for i := range w.Villages {
		v := &w.Villages[i]
		for _, t := range txs {
			if distanceKm(v.Lat, v.Lon, t.Lat, t.Lon) <= transmitterKm {
				g.serve(v, t.ID, "*", "video")
				hasVideo[v.Code] = true
			}
		}
		if !hasVideo[v.Code] && g.pct(analoguePct) {
			w.Declared = append(w.Declared, Declared{Village: v.Code, Service: "video", Technology: "analogue",
				Source: "广电普查"})
		}
	}
}

// network is the access network a device belongs to: its network column,
// or its id.
func (d *Device) network() string {
	if d.Network != "" {
		return d.Network
	}
	return d.ID
}

// truth derives each village's ground truth from the rows written: data
// from a device with subscribers online for it (measured), else declared,
// else none; digital TV from any video row (every generated video source
// is up); converged when one network carries data, voice and video.
func (g *gen) truth() {
	w := g.w
	ix := make(map[string]int, len(w.Villages))
	for i, v := range w.Villages {
		ix[v.Code] = i
	}
	devs := make(map[string]*Device, len(w.Devices))
	for i := range w.Devices {
		devs[w.Devices[i].ID] = &w.Devices[i]
	}
	// Subscribers per village and data device.
	for i := range w.Devices {
		d := &w.Devices[i]
		for _, p := range d.Ports {
			if p.Village != "" {
				v := &w.Villages[ix[p.Village]]
				v.Subscribers += p.Online + p.Offline
				v.SubscribersOnline += p.Online
			}
		}
		var down, up []float64
		for _, l := range d.Lines {
			v := &w.Villages[ix[l.Village]]
			v.Subscribers++
			if l.Showtime {
				v.SubscribersOnline++
				down = append(down, float64(l.AttainableDownBps))
				up = append(up, float64(l.AttainableUpBps))
			}
		}
		if len(d.Lines) > 0 {
			v := &w.Villages[ix[d.Lines[0].Village]]
			v.DownMbps, v.UpMbps = median(down)/1e6, median(up)/1e6
		}
		if d.Kind == KindCMTS {
			// The CMTS serves one village: its service-area rows name it.
			for _, a := range w.ServiceAreas {
				if a.Device == d.ID && a.Service == "data" {
					v := &w.Villages[ix[a.Village]]
					v.Subscribers, v.SubscribersOnline = d.Modems, d.ModemsOnline
					break
				}
			}
		}
	}
	type nets struct{ data, voice, video []string }
	per := make([]nets, len(w.Villages))
	for _, a := range w.ServiceAreas {
		v := &w.Villages[ix[a.Village]]
		d := devs[a.Device]
		n := &per[ix[a.Village]]
		switch a.Service {
		case "data":
			if v.Device == "" {
				v.Device = d.ID
			}
			v.Ports = append(v.Ports, a.Port)
			if v.SubscribersOnline > 0 {
				v.Access = accessOf[d.Kind]
				n.data = append(n.data, d.network())
			}
		case "voice":
			n.voice = append(n.voice, d.network())
		case "video":
			v.DigitalTV = true
			if !slices.Contains(v.TVSources, d.ID) {
				v.TVSources = append(v.TVSources, d.ID)
			}
			n.video = append(n.video, d.network())
		}
	}
	for i := range w.Villages {
		v := &w.Villages[i]
		for _, net := range per[i].data {
			if slices.Contains(per[i].voice, net) && slices.Contains(per[i].video, net) {
				v.Converged, v.Network = true, net
				break
			}
		}
		switch {
		case v.Access == AccessGPON || v.Access == AccessDOCSIS:
			v.Broadband, v.Evidence = ClassServed, EvidenceMeasured
		case v.Access != "":
			v.Broadband, v.Evidence = DefaultClass(v.DownMbps, v.UpMbps), EvidenceMeasured
		default:
			v.Broadband, v.Evidence = ClassUnserved, EvidenceNone
		}
	}
	for _, d := range w.Declared {
		v := &w.Villages[ix[d.Village]]
		switch {
		case d.Service == "data" && v.Evidence == EvidenceNone:
			v.Broadband, v.Evidence = DefaultClass(d.DownMbps, d.UpMbps), EvidenceDeclared
			v.DownMbps, v.UpMbps = d.DownMbps, d.UpMbps
		case d.Service == "video" && d.Technology == "analogue" && !v.DigitalTV:
			v.AnalogueTV = true
		}
	}
	for i, v := range w.Villages {
		w.Regions[g.regionOf(i)].Priority = v.Priority
	}
}

// accessOf is the access technology of each kind of data device.
var accessOf = map[string]string{KindOLTHuawei: AccessGPON, KindOLTZTE: AccessGPON, KindCMTS: AccessDOCSIS,
	KindDSLAMVDSL2: AccessVDSL2, KindDSLAMADSL: AccessADSL}

// regionOf returns the index in World.Regions of village i.
func (g *gen) regionOf(i int) int {
	// Villages follow their township's row: find the township holding i.
	k, _ := slices.BinarySearchFunc(g.townships, i, func(t township, i int) int {
		switch {
		case i < t.first:
			return 1
		case i >= t.first+t.n:
			return -1
		}
		return 0
	})
	t := g.townships[k]
	return t.region + 1 + (i - t.first)
}

// median returns the median of xs (the mean of the middle two for an even
// count); 0 for none.
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	m := s[len(s)/2]
	if len(s)%2 == 0 {
		m = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return m
}
