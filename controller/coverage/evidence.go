package coverage

import (
	"math"
	"strings"

	"github.com/ngic/ngic/controller/device"
)

// PortKind is what a Port of the evidence is.
type PortKind uint8

// Port kinds.
const (
	// KindPON is one PON port of an OLT; Online counts its ONTs online.
	KindPON PortKind = iota + 1
	// KindCable is a whole CMTS (DOCSIS gives its modem counts per CMTS):
	// it answers to any port a service area names on that device.
	KindCable
	// KindDSL is one DSL line; Online is 1 in showtime, else 0.
	KindDSL
)

// Evidence is the compact summary of one device's document that coverage
// needs, taken once per poll (Summarize). The daemon keeps one per device.
type Evidence struct {
	// Ports are the device's PON ports, its CMTS unit or its DSL lines.
	Ports []Port
	// TV is the state of the device's video source; nil when the device
	// has no TV section.
	TV *TVSource
}

// Port is one unit of access of a device.
type Port struct {
	// Name is the ifName (ifDescr when none); "" for a CMTS unit.
	Name string
	// Technology is one of the Tech constants (or a Tech the device's
	// name got from TechOf).
	Technology Tech
	// IfIndex is the ifIndex (0 for a CMTS unit).
	IfIndex uint32
	// Online is the subscribers online on the port (ONTs, modems, or 1 for
	// a DSL line in showtime); -1 when the device does not tell.
	Online int32
	// DownKbps and UpKbps are a DSL line's attainable rates in kbit/s; 0
	// when the line does not give them.
	DownKbps, UpKbps uint32
	// Kind is KindPON, KindCable or KindDSL.
	Kind PortKind
}

// TVSource is the state of a video source.
type TVSource struct {
	// Known: the document says whether the source is up.
	Known bool
	// Up: the transmitter is on air, an input is locked, or the status
	// is fine.
	Up bool
	// Degraded: the source is up but an active alarm of severity major
	// names its input or its service (loss of an input stream, a service
	// in error): some of its programmes are off the air. A degraded source
	// gives no digital TV.
	Degraded bool
	// Why names the figure that decided ("on air", "input locked",
	// "status normal", "critical alarm fan-failure"...).
	Why string
}

// IANA ifTypes read here.
const (
	ifTypeGPON            = 250
	ifTypeAluEPON         = 266
	ifTypeGigabitEthernet = 117
	ifTypeDocsUpCh30      = 205 // docsCableUpstreamChannel: DOCSIS 3.0 logical upstream
	ifTypeDocsOFDMDn      = 277 // docsOfdmDownstream: DOCSIS 3.1
	ifTypeDocsOFDMAUp     = 278 // docsOfdmaUpstream: DOCSIS 3.1
)

// Summarize takes from a device's document what coverage needs: per PON
// port its technology and ONTs online; a CMTS's DOCSIS version and modems
// online; per DSL line its technology, showtime and attainable rates; and
// whether a TV source is up. It returns nil for a nil document.
func Summarize(doc *device.Document) *Evidence {
	if doc == nil {
		return nil
	}
	ev := &Evidence{}
	a := doc.Access
	if a == nil {
		return ev
	}
	types := ifTypes(doc)
	if a.PON != nil {
		for _, p := range a.PON.Ports {
			ev.Ports = append(ev.Ports, Port{Name: p.Name, Technology: ponTech(p.Name, types[p.IfIndex]),
				IfIndex: ifIndexOf(p.IfIndex), Online: online(p.ONTsOnline), Kind: KindPON})
		}
	}
	if c := a.Cable; c != nil && doc.Class == device.ClassCMTS {
		ev.Ports = append(ev.Ports, Port{Technology: docsisTech(c, types), Online: online(c.ModemsOnline), Kind: KindCable})
	}
	if a.DSL != nil {
		for _, l := range a.DSL.Lines {
			p := Port{Name: l.Name, Technology: TechOf(l.Technology), IfIndex: ifIndexOf(l.IfIndex), Kind: KindDSL}
			if l.Showtime {
				p.Online = 1
			}
			p.DownKbps, p.UpKbps = kbps(l.AttainableDownBps), kbps(l.AttainableUpBps)
			ev.Ports = append(ev.Ports, p)
		}
	}
	if a.TV != nil {
		ev.TV = tvSource(a.TV)
	}
	return ev
}

// ifTypes maps each ifIndex to its ifType.
func ifTypes(doc *device.Document) map[int]int {
	m := make(map[int]int, len(doc.Interfaces))
	for _, it := range doc.Interfaces {
		if it.Type != nil {
			m[it.Index] = *it.Type
		}
	}
	return m
}

// ponTech names a PON port's technology from its name (xgs-pon, xg-pon,
// 10g-epon, epon) or ifType; a port that says nothing more is GPON.
func ponTech(name string, ifType int) Tech {
	n := strings.ToLower(name)
	switch {
	case strings.HasPrefix(n, "xgs") || strings.Contains(n, "xgspon") || strings.Contains(n, "xgs-pon"):
		return TechXGSPON
	case strings.HasPrefix(n, "xg") || strings.Contains(n, "xgpon") || strings.Contains(n, "xg-pon"):
		return TechXGPON
	case strings.Contains(n, "10g-epon") || strings.Contains(n, "10gepon") || strings.HasPrefix(n, "xepon"):
		return Tech10GEPON
	case strings.HasPrefix(n, "epon") || strings.Contains(n, "epon"):
		return TechEPON
	case ifType == ifTypeAluEPON || ifType == ifTypeGigabitEthernet:
		// Some EPON OLTs give their PON ports gigabitEthernet's ifType.
		return TechEPON
	}
	return TechGPON
}

// docsisTech names a CMTS's DOCSIS version: the one the CMTS gives
// (docsIfDocsisBaseCapability, or DOCS-IF3 answering); else 3.1 with an
// OFDM or OFDMA channel, 3.0 with bonded channels (a DOCSIS 3.0 logical
// upstream, or more than one downstream), else 2.
func docsisTech(c *device.Cable, types map[int]int) Tech {
	switch c.DOCSIS {
	case "3.1":
		return TechDOCSIS31
	case "3.0":
		return TechDOCSIS30
	case "2.0", "1.1", "1.0":
		return TechDOCSIS2
	}
	v30 := len(c.Downstreams) > 1
	for _, t := range types {
		switch t {
		case ifTypeDocsOFDMDn, ifTypeDocsOFDMAUp:
			return TechDOCSIS31
		case ifTypeDocsUpCh30:
			v30 = true
		}
	}
	if v30 {
		return TechDOCSIS30
	}
	return TechDOCSIS2
}

// tvSource decides whether a TV device's source is up, from the first of
// its figures that tells: a critical alarm active, the on-air flag, the
// output's synchronisation, the inputs' lock, the status word, the
// transport streams' state, the output streams' fullness. A source that is
// up with an active major alarm naming its input or service is degraded.
func tvSource(tv *device.TV) *TVSource {
	for _, al := range tv.Alarms {
		if al.Active && al.Severity == "critical" {
			return &TVSource{Known: true, Why: "critical alarm " + al.Name}
		}
	}
	s := tvState(tv)
	if s.Up {
		if names := degrading(tv.Alarms); names != "" {
			s.Degraded, s.Why = true, "major alarm "+names
		}
	}
	return s
}

// degrading names the active major alarms that name a source's input or
// its service ("gbe-loss-of-input-stream", "service-in-error"), joined by
// ", "; "" when there is none.
func degrading(alarms []device.TVAlarm) string {
	var names []string
	for _, al := range alarms {
		n := strings.ToLower(al.Name)
		if al.Active && al.Severity == "major" && (strings.Contains(n, "input") || strings.Contains(n, "service")) {
			names = append(names, al.Name)
		}
	}
	return strings.Join(names, ", ")
}

// tvState decides whether a source without a critical alarm is up (see
// tvSource).
func tvState(tv *device.TV) *TVSource {
	out := tv.Output
	if out != nil && out.OnAir != nil {
		if *out.OnAir {
			return &TVSource{Known: true, Up: true, Why: "on air"}
		}
		return &TVSource{Known: true, Why: "off air"}
	}
	if out != nil && out.Synchronized != nil && !*out.Synchronized {
		return &TVSource{Known: true, Why: "output not synchronized"}
	}
	locks := 0
	for _, in := range tv.Inputs {
		if in.Locked == nil {
			continue
		}
		locks++
		if *in.Locked {
			return &TVSource{Known: true, Up: true, Why: "input locked"}
		}
	}
	if locks > 0 {
		return &TVSource{Known: true, Why: "no input locked"}
	}
	switch tv.Status {
	case "":
	case "alarm":
		return &TVSource{Known: true, Why: "status alarm"}
	default:
		return &TVSource{Known: true, Up: true, Why: "status " + tv.Status}
	}
	if len(tv.TransportStreams) > 0 {
		for _, ts := range tv.TransportStreams {
			if ts.OperStatus == "up" {
				return &TVSource{Known: true, Up: true, Why: "transport stream up"}
			}
		}
		return &TVSource{Known: true, Why: "no transport stream up"}
	}
	if out != nil && len(out.TSUtilizationPct) > 0 {
		for _, u := range out.TSUtilizationPct {
			if u > 0 {
				return &TVSource{Known: true, Up: true, Why: "output streams carrying"}
			}
		}
		return &TVSource{Known: true, Why: "output streams empty"}
	}
	if out != nil && out.Synchronized != nil {
		return &TVSource{Known: true, Up: true, Why: "output synchronized"}
	}
	return &TVSource{Why: "source state not given"}
}

func online(v *int) int32 {
	if v == nil {
		return -1
	}
	return clampInt32(*v)
}

func clampInt32(v int) int32 {
	switch {
	case v > math.MaxInt32:
		return math.MaxInt32
	case v < math.MinInt32:
		return math.MinInt32
	}
	return int32(v)
}

// ifIndexOf keeps an ifIndex in 32 bits (some OLTs number theirs above
// 2^31); one out of range is 0, which names no interface.
func ifIndexOf(v int) uint32 {
	if v < 0 || v > math.MaxUint32 {
		return 0
	}
	return uint32(v)
}

// kbps turns an optional bit/s rate into kbit/s (0 when absent).
func kbps(bps *uint64) uint32 {
	if bps == nil {
		return 0
	}
	k := *bps / 1000
	if k > math.MaxUint32 {
		return math.MaxUint32
	}
	return uint32(k)
}
