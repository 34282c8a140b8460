// Package inventory reads the controller's inventory folder: CSV files that
// planners edit in a spreadsheet, naming the regions down to villages, the
// sites, the devices polled, the gateways, which device serves which village
// with which service, declared coverage and planners' overrides.
//
// Load validates everything and returns either a whole inventory or an error
// naming, for each problem found, the file, line, column and column name.
package inventory

import (
	"strconv"
	"strings"
	"time"
)

// Level of a region.
type Level uint8

// The levels of regions, from the top down. Middle levels may be absent from
// a chain of parents, but a child's level is always deeper than its
// parent's.
const (
	LevelProvince Level = iota + 1
	LevelPrefecture
	LevelCounty
	LevelTownship
	LevelVillage
)

// levelNames are the names of the levels, as written in regions.csv.
var levelNames = [...]string{
	LevelProvince:   "province",
	LevelPrefecture: "prefecture",
	LevelCounty:     "county",
	LevelTownship:   "township",
	LevelVillage:    "village",
}

// String returns the level's name as written in regions.csv ("province",
// ...), or "level(N)" for a value that is none of the levels.
func (l Level) String() string {
	if l >= LevelProvince && l <= LevelVillage {
		return levelNames[l]
	}
	return "level(" + strconv.Itoa(int(l)) + ")"
}

// ParseLevel returns the level named s (case-insensitive), or false.
func ParseLevel(s string) (Level, bool) {
	for l := LevelProvince; l <= LevelVillage; l++ {
		if strings.EqualFold(s, levelNames[l]) {
			return l, true
		}
	}
	return 0, false
}

// Service delivered to a village.
type Service string

// The services a device delivers to a village.
const (
	ServiceData  Service = "data"
	ServiceVoice Service = "voice"
	ServiceVideo Service = "video"
)

// ParseService returns the service named s (case-insensitive), or false.
func ParseService(s string) (Service, bool) {
	for _, v := range [...]Service{ServiceData, ServiceVoice, ServiceVideo} {
		if strings.EqualFold(s, string(v)) {
			return v, true
		}
	}
	return "", false
}

// Region is one row of regions.csv: a province, prefecture, county,
// township or village. A coverage result's village points to its region,
// and encodes it in JSON as the json tags say (the region's own fields,
// without its place in the file and the tree).
type Region struct {
	// Code identifies the region (e.g. a 12-digit statistical code, leading
	// zeros kept); Name is its name; Parent is the code of the region it
	// belongs to, empty for a root.
	Code   string `json:"code"`
	Name   string `json:"name"`
	Parent string `json:"parent,omitempty"`
	// Households and Population are the region's own figures (0 when
	// blank).
	Households int64 `json:"households"`
	Population int64 `json:"population"`
	// Lat and Lon are decimal degrees, valid when HasPos.
	Lat float64 `json:"lat"`
	Lon float64 `json:"lon"`
	// Line is the row's line in regions.csv.
	Line int `json:"-"`

	// Index is the region's own index into Inventory.Regions (filled by
	// Load).
	Index int32 `json:"-"`
	// ParentIx is the parent's index into Inventory.Regions, -1 for a root.
	ParentIx int32 `json:"-"`
	// Children are the indexes of the regions whose parent this is, in file
	// order.
	Children []int32 `json:"-"`

	// Level is the region's level.
	Level Level `json:"-"`
	// HasPos is true when lat and lon were given; always true for a village.
	HasPos bool `json:"-"`
	// Priority marks a designated poor or remote area.
	Priority bool `json:"priority"`
}

// Site is one row of sites.csv: a central office, cabinet, village telecom
// room, headend, transmitter, ...
type Site struct {
	// ID identifies the site; Name is its name; Region is the code of the
	// region it stands in; Kind is free text (cabinet, headend, ...).
	ID, Name, Region, Kind string
	// Lat and Lon are decimal degrees.
	Lat, Lon float64
	// Line is the row's line in sites.csv.
	Line int
	// RegionIx is the region's index into Inventory.Regions.
	RegionIx int32
}

// Device is one row of devices.csv: a device the controller polls.
type Device struct {
	// ID names the device; unique.
	ID string
	// Site is where the device stands.
	Site string
	// Address is host or host:port (port 161 by default).
	Address string
	// Credentials names an entry of the configuration's credentials; it is
	// empty for a row with an inline community (community:<string>, v2c).
	Credentials string
	// Parent is the ID of the device this one sits behind, or empty.
	Parent string
	// Network names the access network the device belongs to; it is the
	// device's ID when the cell is blank or the column absent.
	Network string
	// Line is the row's line in devices.csv.
	Line int

	// community is the inline community, never shown.
	community string
	// parentCol is the column of the parent cell, for errors.
	parentCol int
}

// Community returns the device's inline community (from a credentials cell
// community:<string>), or "" when it names the configuration's credentials.
func (d *Device) Community() string { return d.community }

// Gateway is one row of gateways.csv: which edge gateway watches which site.
type Gateway struct {
	// Name is the gateway's name, as in its topics.
	Name string
	// Site is where the gateway stands.
	Site string
	// Line is the row's line in gateways.csv.
	Line int
}

// ServiceArea is one row of service_areas.csv: a device (or one of its
// ports) delivers a service to a village.
type ServiceArea struct {
	// Device is the device's ID.
	Device string
	// Port is "*" (the whole device), an ifIndex in digits, or an ifName.
	Port string
	// Village is the village's region code.
	Village string
	// Service is what is delivered.
	Service Service
	// Line is the row's line in service_areas.csv.
	Line int
	// DeviceIx and VillageIx are indexes into Inventory.Devices and
	// Inventory.Regions.
	DeviceIx, VillageIx int32
}

// Declared is one row of declared.csv: coverage a provider declares, used
// only where nothing is measured.
type Declared struct {
	// Village is the village's region code.
	Village string
	// Service is the service declared.
	Service Service
	// Technology is free text, lower-cased (gpon, 4g, fixed-wireless, ...).
	Technology string
	// DownMbps and UpMbps are the declared rates (0 when blank).
	DownMbps, UpMbps float64
	// Source says who declared it.
	Source string
	// Line is the row's line in declared.csv.
	Line int
	// VillageIx is the village's index into Inventory.Regions.
	VillageIx int32
}

// Override is one row of overrides.csv: a planner's correction of a
// village's class for a service.
type Override struct {
	// Village is the village's region code.
	Village string
	// Service is the service whose class is set.
	Service Service
	// Class is the class set (checked by the coverage package against its
	// configuration; the inventory only checks it is not empty).
	Class string
	// Reason says why (a field check, a challenge, ...).
	Reason string
	// Until is when the override ends; zero means open-ended. A date
	// (2026-12-31) means the end of that day UTC: its last nanosecond.
	Until time.Time
	// Line is the row's line in overrides.csv.
	Line int
	// VillageIx is the village's index into Inventory.Regions.
	VillageIx int32
}

// Inventory is the content of an inventory folder, validated whole.
type Inventory struct {
	// Dir is the folder read.
	Dir string
	// Regions are the rows of regions.csv, in file order.
	Regions []Region
	// Sites are the rows of sites.csv, in file order.
	Sites []Site
	// Devices are the rows of devices.csv, in file order.
	Devices []Device
	// Gateways are the rows of gateways.csv, in file order.
	Gateways []Gateway
	// ServiceAreas are the rows of service_areas.csv, in file order.
	ServiceAreas []ServiceArea
	// Declared are the rows of declared.csv, in file order.
	Declared []Declared
	// Overrides are the rows of overrides.csv, in file order.
	Overrides []Override

	regionIx   map[string]int32
	siteIx     map[string]int32
	deviceIx   map[string]int32
	villages   []int32
	hasRegions bool
}

// Region returns the index into Regions of the region with the code.
func (inv *Inventory) Region(code string) (int32, bool) {
	i, ok := inv.regionIx[code]
	return i, ok
}

// Site returns the index into Sites of the site with the id.
func (inv *Inventory) Site(id string) (int32, bool) {
	i, ok := inv.siteIx[id]
	return i, ok
}

// Device returns the index into Devices of the device with the id.
func (inv *Inventory) Device(id string) (int32, bool) {
	i, ok := inv.deviceIx[id]
	return i, ok
}

// Villages returns the indexes into Regions of the regions of level village,
// in file order. The slice is shared: do not modify it.
func (inv *Inventory) Villages() []int32 { return inv.villages }

// HasRegions reports whether regions.csv was present.
func (inv *Inventory) HasRegions() bool { return inv.hasRegions }

// Options of Load.
type Options struct {
	// Credentials maps each credential name of the controller's
	// configuration to its SNMP version ("1", "2c", "3"); a devices.csv
	// credentials cell must name one of them (or be community:<string>).
	// Nil Credentials: no check of the names (report coverage without
	// --config).
	Credentials map[string]string
}
