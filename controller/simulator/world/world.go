// Package world generates a region to test coverage on: a province, its
// counties, townships and villages with households, the sites and access
// devices that serve them, the inventory folder that describes them and
// SNMP recordings of every device, written by the project itself in the
// snmprec format the simulator serves.
//
// A World is deterministic for its Options: the same seed and village count
// give byte-identical files. It also carries the ground truth the files
// were generated from (per village: the intended broadband class under the
// default tiers, digital TV, convergence, subscribers online; per device:
// what its document must say), so that coverage tests can check against
// it. The generation rules are in the package README.
package world

import (
	"errors"
	"fmt"
	"math/rand/v2"
)

// Options say what to generate.
type Options struct {
	// Villages is how many villages the region has (1 to MaxVillages).
	Villages int
	// Seed drives every random choice: the same seed gives the same world.
	Seed int64
	// Port is the simulator's UDP port written into devices.csv addresses
	// (127.0.0.1:PORT); 0 means DefaultOptions.Port.
	Port int
	// Progress, when not nil, is called as Write writes the files, with the
	// files done and the total; calls never overlap.
	Progress func(done, total int)
}

// DefaultOptions are the defaults of the command: 100 villages, seed 1, the
// port snmpsimd's documentation uses.
var DefaultOptions = Options{Villages: 100, Seed: 1, Port: 16100}

// MaxVillages bounds Options.Villages: the 12-digit statistical codes the
// generator gives its counties run out beyond it.
const MaxVillages = 100_000

// Broadband classes under the default tiers: unserved below 25/3 Mbit/s,
// underserved below 100/20, served at or above.
const (
	ClassServed      = "served"
	ClassUnderserved = "underserved"
	ClassUnserved    = "unserved"
)

// Evidence a village's broadband class rests on.
const (
	EvidenceMeasured = "measured" // a polled device that is up with subscribers online
	EvidenceDeclared = "declared" // declared.csv only
	EvidenceNone     = "none"     // nothing: unserved
)

// Access technologies of a village's data service, as measured.
const (
	AccessGPON   = "gpon"
	AccessDOCSIS = "docsis3.0"
	AccessVDSL2  = "vdsl2"
	AccessADSL   = "adsl"
)

// DefaultClass gives the broadband class of a service of down/up Mbit/s
// under the default tiers.
func DefaultClass(downMbps, upMbps float64) string {
	switch {
	case downMbps < 25 || upMbps < 3:
		return ClassUnserved
	case downMbps < 100 || upMbps < 20:
		return ClassUnderserved
	}
	return ClassServed
}

// World is a generated region: what Write puts in the inventory folder and
// the recordings, and the ground truth behind it.
type World struct {
	// Options are the options it was generated with (defaults applied).
	Options Options
	// Regions lists the province, counties, townships and villages in the
	// order of regions.csv (each parent before its children).
	Regions []Region
	// Villages is the ground truth per village, in regions.csv order.
	Villages []Village
	// Sites are the rows of sites.csv.
	Sites []Site
	// Devices are the rows of devices.csv, with what each document must
	// say; each has one recording, named after its ID.
	Devices []Device
	// Gateways are the rows of gateways.csv.
	Gateways []Gateway
	// ServiceAreas are the rows of service_areas.csv.
	ServiceAreas []ServiceArea
	// Declared are the rows of declared.csv.
	Declared []Declared

	villageIx map[string]int
	deviceIx  map[string]int
}

// Region is one row of regions.csv.
type Region struct {
	Code, Name, Parent string
	// Level is "province", "county", "township" or "village".
	Level                  string
	Population, Households int64
	// Lat and Lon are the region's position (a county's seat, a
	// township's centre); the province has none and its cells are blank.
	Lat, Lon float64
	Priority bool
}

// Village is the ground truth of one village under the default tiers.
type Village struct {
	Code, Name string
	// Township and County are the codes of its township and county.
	Township, County       string
	Households, Population int64
	Lat, Lon               float64
	// Priority marks a designated poor or remote village.
	Priority bool

	// Access is the measured data technology (AccessGPON, ...), "" when no
	// device delivers data there with subscribers online.
	Access string
	// Device is the device serving its data ("" for none); Ports are the
	// service_areas.csv port cells of its data rows.
	Device string
	Ports  []string
	// Broadband is its class (ClassServed, ...), Evidence what it rests on.
	Broadband, Evidence string
	// DownMbps and UpMbps are the figures the class rests on: the medians
	// of the attainable rates of the DSL lines in showtime (the mean of the
	// middle two for an even count), or the declared rates; 0 where the
	// class rests on a capability (PON, DOCSIS 3.x) or on nothing.
	DownMbps, UpMbps float64
	// DigitalTV is true when a video source that is up reaches it (DVB-T
	// transmitter on air, cable headend, IPTV over its access network);
	// AnalogueTV when it has none but declares analogue TV.
	DigitalTV, AnalogueTV bool
	// TVSources names the devices that bring it digital TV.
	TVSources []string
	// Converged is true when one access network (the devices.csv network
	// column) delivers its data, voice and video; Network names it.
	Converged bool
	Network   string
	// Subscribers are the subscriber lines of its data device for it (ONTs
	// provisioned, modems in the modem table, DSL ports);
	// SubscribersOnline those online (ONTs online, modems operational, DSL
	// lines in showtime).
	Subscribers, SubscribersOnline int
}

// Site is one row of sites.csv.
type Site struct {
	ID, Name, Region string
	Lat, Lon         float64
	// Kind is "central-office", "cabinet", "village-telecom-room",
	// "headend" or "transmitter".
	Kind string
}

// Gateway is one row of gateways.csv.
type Gateway struct{ Name, Site string }

// ServiceArea is one row of service_areas.csv.
type ServiceArea struct {
	Device, Port, Village string
	// Service is "data", "voice" or "video".
	Service string
}

// Declared is one row of declared.csv.
type Declared struct {
	Village, Service, Technology string
	DownMbps, UpMbps             float64
	Source                       string
}

// Kinds of generated devices.
const (
	KindOLTHuawei   = "olt-huawei"        // Huawei MA5680T-style GPON OLT, hwGponDeviceOntControlRunStatus
	KindOLTZTE      = "olt-zte"           // ZTE C300-style GPON OLT, zxGponOntPhaseState
	KindCMTS        = "cmts"              // Topvision CC8800-style C-DOCSIS CMTS, DOCSIS 3.0 modem tables
	KindDSLAMADSL   = "dslam-adsl"        // ZyXEL IES-5005-style ADSL2+ DSLAM
	KindDSLAMVDSL2  = "dslam-vdsl2"       // Huawei MA5616-style VDSL2 DSLAM
	KindTransmitter = "dvb-t-transmitter" // ProTelevision PT3080-style DVB-T transmitter
	KindHeadend     = "headend"           // Teleste Luminato-style headend
)

// Device is one row of devices.csv and what the document of its recording
// must say.
type Device struct {
	ID, Site, Parent, Network string
	// Kind is KindOLTHuawei, ...; Class the device.Class its document
	// carries ("olt", "cmts", "dslam", "tv-transmitter", "tv-headend").
	Kind, Class string
	// Ports are an OLT's PON ports, with their ONTs.
	Ports []PONPort
	// Lines are a DSLAM's lines.
	Lines []Line
	// Modems and ModemsOnline count a CMTS's modem table and the modems
	// operational in it; DOCSIS is its version.
	Modems, ModemsOnline int
	DOCSIS               string
	// OnAir is a transmitter's output: synchronised, its input locked.
	OnAir bool

	serial string
	uptime uint32
}

// PONPort is one PON port of an OLT.
type PONPort struct {
	IfIndex int64
	Name    string
	// Village is the code of the village it serves ("" for a spare port).
	Village         string
	Online, Offline int
}

// Line is one DSL line of a DSLAM; rates in bit/s (0 for a line not in
// showtime).
type Line struct {
	IfIndex           int64
	Name              string
	Village           string
	Showtime          bool
	AttainableDownBps uint64
	AttainableUpBps   uint64
}

// Village returns the ground truth of the village with the code.
func (w *World) Village(code string) (*Village, bool) {
	i, ok := w.villageIx[code]
	if !ok {
		return nil, false
	}
	return &w.Villages[i], true
}

// Device returns the device with the id.
func (w *World) Device(id string) (*Device, bool) {
	i, ok := w.deviceIx[id]
	if !ok {
		return nil, false
	}
	return &w.Devices[i], true
}

// Generate builds a world. It fails only on options out of range.
func Generate(opt Options) (*World, error) {
	if opt.Port == 0 {
		opt.Port = DefaultOptions.Port
	}
	switch {
	case opt.Villages < 1 || opt.Villages > MaxVillages:
		return nil, fmt.Errorf("world: villages %d: want 1 to %d", opt.Villages, MaxVillages)
	case opt.Port < 1 || opt.Port > 65535:
		return nil, fmt.Errorf("world: port %d: want 1 to 65535", opt.Port)
	}
	g := &gen{
		w:   &World{Options: opt},
		rng: rand.New(rand.NewPCG(uint64(opt.Seed), 0x6e676963)),
	}
	g.layout()
	g.plan()
	g.build()
	if err := g.index(); err != nil {
		return nil, err
	}
	return g.w, nil
}

// index fills the lookup maps and checks that ids and codes are unique.
func (g *gen) index() error {
	w := g.w
	w.villageIx = make(map[string]int, len(w.Villages))
	for i, v := range w.Villages {
		w.villageIx[v.Code] = i
	}
	w.deviceIx = make(map[string]int, len(w.Devices))
	for i, d := range w.Devices {
		if _, dup := w.deviceIx[d.ID]; dup {
			return errors.New("world: duplicate device id " + d.ID)
		}
		w.deviceIx[d.ID] = i
	}
	return nil
}
