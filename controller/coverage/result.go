package coverage

import (
	"time"

	"github.com/ngic/ngic/controller/inventory"
)

// Evidence kinds: what a village's class rests on.
const (
	// EvidenceMeasured: a device that is up (or down within down_after)
	// delivers the service, with subscribers online.
	EvidenceMeasured = "measured"
	// EvidenceDeclared: a row of declared.csv, used where nothing is
	// measured.
	EvidenceDeclared = "declared"
	// EvidenceOverride: a planner's row of overrides.csv.
	EvidenceOverride = "override"
	// EvidenceNone: nothing measured, declared or overridden.
	EvidenceNone = "none"
)

// Voice classes of a village (the classes an override of voice may give).
const (
	VoiceServed   = "served"
	VoiceUnserved = "unserved"
)

// Subset names of a region's figures.
const (
	SubsetAll      = "all"
	SubsetPriority = "priority"
)

// Result is one computation of coverage: every village, every region
// above the villages, and the gap list. The API and the report command
// serialise it as is.
type Result struct {
	// Computed is the time the figures are for (Compute's now).
	Computed time.Time `json:"computed"`
	// Tiers are the broadband classes used, ascending.
	Tiers []Tier `json:"tiers"`
	// Villages are the inventory's villages, in file order.
	Villages []Village `json:"villages"`
	// Regions are every region that is not a village, in file order.
	Regions []Region `json:"regions"`
	// Gaps are the villages below the top tier, most households first
	// (then in file order).
	Gaps []Gap `json:"gaps"`

	// mem is the memory of a result of a Pool (nil for others).
	mem *resultMem
}

// Village is the figures of one village.
type Village struct {
	// Region is the village's row of the inventory: its Code, Name,
	// Parent, Households, Population, Lat, Lon and Priority, read through
	// it (v.Code), and encoded first in JSON as if they were the village's
	// own fields. A result keeps its inventory's regions, which must not
	// change afterwards.
	*inventory.Region

	// Broadband is the tier name; Tier its index in Result.Tiers.
	Broadband string `json:"broadband"`
	Tier      int    `json:"tier"`
	// Evidence is EvidenceMeasured, EvidenceDeclared, EvidenceOverride or
	// EvidenceNone.
	Evidence string `json:"evidence"`
	// DownMbps, UpMbps and Technology are those of the service the class
	// rests on (for an override, of the measured or declared service
	// kept beside it; zero and empty when there is none).
	DownMbps   float64 `json:"down_mbps"`
	UpMbps     float64 `json:"up_mbps"`
	Technology string  `json:"technology,omitempty"`
	// Stale: the evidence was polled longer ago than stale_after.
	Stale bool `json:"stale"`
	// Outage: a device delivering one of the village's services (a
	// service area row of data, voice or video) is down, whether or not
	// a class rests on it and however long it has been down; the trail's
	// entries with Outage name the devices.
	Outage bool `json:"outage"`
	ctN    uint16
	ctLo   uint32

	// SubscribersOnline counts ONTs online, cable modems online and DSL
	// lines in showtime delivering data to the village; a port shared
	// with other villages is split in proportion to households, so the
	// count may be fractional. NextGenSubscribers are those on
	// next-generation technologies.
	SubscribersOnline  float64 `json:"subscribers_online"`
	NextGenSubscribers float64 `json:"next_gen_subscribers"`
	// TakeUp is SubscribersOnline / Households (0 without households).
	TakeUp float64 `json:"take_up"`

	// DigitalTV is TV == TVDigital.
	DigitalTV bool `json:"digital_tv"`
	// TV is TVDigital, TVAnalogue or TVNone; TVEvidence what it rests on.
	TV         TVClass `json:"tv"`
	TVEvidence Basis   `json:"tv_evidence"`
	// Voice: voice is delivered; VoiceEvidence what it rests on.
	Voice         bool  `json:"voice"`
	VoiceEvidence Basis `json:"voice_evidence"`

	// Converged: data, voice and video all reach the village over devices
	// of one access network, named by Network.
	Converged bool `json:"converged"`
	ctBlock   uint16
	Network   string `json:"network,omitempty"`

	// Overrides are the planner's overrides in force for the village, one
	// per service at most, each with the class measured beside it.
	Overrides []OverrideInfo `json:"overrides,omitempty"`

	// Trail is the evidence trail: every row considered, used or not. A
	// result of ComputeCompact keeps it compact instead, and leaves Trail
	// nil: TrailEntries gives it (and JSON carries it) in full.
	Trail []TrailEntry `json:"trail"`

	// ct holds the compact trail of ComputeCompact (nil: none): entries
	// [ctLo, ctLo+ctN) of its block ctBlock. ctN, ctLo and ctBlock stand
	// where the fields around them leave room.
	ct *trailCtx
}

// OverrideInfo is an override in force, and what it overrides.
type OverrideInfo struct {
	// Service is "data", "voice" or "video".
	Service string `json:"service"`
	// Class is the class the planner set.
	Class  string `json:"class"`
	Reason string `json:"reason,omitempty"`
	// Until is when the override ends (zero: open-ended).
	Until time.Time `json:"until,omitzero"`
	// Measured is the class the evidence gives without the override, and
	// MeasuredEvidence what that rests on (measured, declared or none).
	Measured         string `json:"measured"`
	MeasuredEvidence string `json:"measured_evidence"`
	// Line is the override's line in overrides.csv.
	Line int `json:"line"`
}

// TrailEntry is one piece of evidence considered for a village: a row of
// service_areas.csv (one entry per technology its ports carry), of
// declared.csv or of overrides.csv.
type TrailEntry struct {
	// Service is "data", "voice" or "video".
	Service string `json:"service"`
	// Source is EvidenceMeasured (service_areas.csv), EvidenceDeclared
	// or EvidenceOverride.
	Source string `json:"source"`
	// Line is the row's line in its file.
	Line int `json:"line"`
	// Device and Port are the service area's device and port ("*", an
	// ifIndex or an ifName).
	Device string `json:"device,omitempty"`
	Port   string `json:"port,omitempty"`
	// Technology is the access technology (or the declared one).
	Technology string `json:"technology,omitempty"`
	// Figure, Value and Unit are the figure read: "onts_online",
	// "modems_online", "dsl_lines_showtime" (Unit "subscribers"),
	// "source_up" (Unit "bool": 1 or 0), "declared_down_mbps", or the
	// override's class in Class.
	Figure string  `json:"figure,omitempty"`
	Value  float64 `json:"value"`
	Unit   string  `json:"unit,omitempty"`
	// DownMbps and UpMbps: the rate this row gives (capability, median
	// attainable of its DSL lines in showtime, or declared).
	DownMbps float64 `json:"down_mbps,omitempty"`
	UpMbps   float64 `json:"up_mbps,omitempty"`
	// Class is the class this row gives on its own (a tier name, a TV or a
	// voice class).
	Class string `json:"class,omitempty"`
	// Why says what the figure means for the service ("input locked",
	// "on air", "status normal"...).
	Why string `json:"why,omitempty"`
	// PolledAt is when the evidence was polled; State the device's state
	// (up, down, unknown, auth-failed).
	PolledAt time.Time `json:"polled_at,omitzero"`
	State    string    `json:"state,omitempty"`
	// Used: the village's figure rests on this entry. Rejected says why
	// not when the entry could not count at all ("device down since ...",
	// "no subscribers online", "port not found", "expired"...); an entry
	// that counts but is beaten by a better one is neither used nor
	// rejected.
	Used     bool   `json:"used"`
	Rejected string `json:"rejected,omitempty"`
	// Stale and Outage qualify a measured entry: its evidence was polled
	// longer ago than stale_after; its device is down (the entry may count,
	// within down_after, or be rejected).
	Stale  bool `json:"stale,omitempty"`
	Outage bool `json:"outage,omitempty"`

	// dev is the entry's device's index in the inventory plus one (0: no
	// device), for Compute's own use; row is the entry's row in its file
	// (inventory's ServiceAreas, Declared or Overrides), for compacting.
	dev, row int32
}

// Region is the roll-up of one region above the villages.
type Region struct {
	Code   string `json:"code"`
	Name   string `json:"name"`
	Level  string `json:"level"`
	Parent string `json:"parent,omitempty"`
	// Villages, Households and Population total its villages.
	Villages   int   `json:"villages"`
	Households int64 `json:"households"`
	Population int64 `json:"population"`
	// All covers every village of the region, Priority only its priority
	// villages.
	All      Subset `json:"all"`
	Priority Subset `json:"priority"`
}

// Subset is the figures of a set of villages of a region.
type Subset struct {
	Villages   int   `json:"villages"`
	Households int64 `json:"households"`
	Population int64 `json:"population"`
	// Tiers has one entry per tier, in the order of Result.Tiers.
	Tiers []TierShare `json:"tiers"`
	// Measured, Declared, Override and NoEvidence count the villages by
	// the evidence of their broadband class.
	Measured   Share `json:"measured"`
	Declared   Share `json:"declared"`
	Override   Share `json:"override"`
	NoEvidence Share `json:"no_evidence"`
	// DigitalTV, AnalogueTV, Converged, Voice, Outage and Stale count the
	// villages that are so.
	DigitalTV  Share `json:"digital_tv"`
	AnalogueTV Share `json:"analogue_tv"`
	Converged  Share `json:"converged"`
	Voice      Share `json:"voice"`
	Outage     Share `json:"outage"`
	Stale      Share `json:"stale"`
	// SubscribersOnline and NextGenSubscribers total the villages';
	// NextGenShare is their ratio (0 without subscribers).
	SubscribersOnline  float64 `json:"subscribers_online"`
	NextGenSubscribers float64 `json:"next_gen_subscribers"`
	NextGenShare       float64 `json:"next_gen_share"`
	// TakeUp is SubscribersOnline / Households (0 without households).
	TakeUp float64 `json:"take_up"`
	// DigitalProgress is the analogue-to-digital progress: households of
	// villages with digital TV over those with any TV (digital or
	// analogue only); 0 when none has any.
	DigitalProgress float64 `json:"digital_progress"`
}

// Share is a count of villages with their households and population, and
// their shares of the subset's households and population (0 when the
// subset has none).
type Share struct {
	Villages        int     `json:"villages"`
	Households      int64   `json:"households"`
	Population      int64   `json:"population"`
	ShareHouseholds float64 `json:"share_households"`
	SharePopulation float64 `json:"share_population"`
}

// TierShare is the villages whose broadband class is one tier.
type TierShare struct {
	Name string `json:"name"`
	Share
}

// Gap is a village below the top tier, with the nearest site serving a
// village of a better class. It points to its village, whose fields it
// gives (g.Code, g.Households, g.Broadband, g.Evidence...), and encodes
// in JSON as gapJSON says.
type Gap struct {
	// Village is the village left out, in the result's Villages.
	*Village
	// Site is the nearest site with a device that delivers data, measured,
	// to a village of a better class than this one (nil when there is
	// none); SiteServes the first village it delivers its best class to
	// (whose Broadband is that class); DistanceKm the great-circle
	// distance from this village to the site.
	Site       *inventory.Site
	SiteServes *Village
	DistanceKm float64
}

// Diff is what changed between two results (Compare).
type Diff struct {
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
	// Villages lists the villages whose broadband class, evidence or TV
	// class changed, in the new result's order; villages present in only
	// one result are listed with an empty side.
	Villages []VillageChange `json:"villages"`
	// Regions lists, per region and subset, the shares that moved.
	Regions []RegionChange `json:"regions"`
}

// VillageChange is one village whose class moved.
type VillageChange struct {
	Code       string `json:"code"`
	Name       string `json:"name"`
	Households int64  `json:"households"`
	// FromBroadband/ToBroadband are the tier names ("" when absent from
	// that result); Direction is "up", "down" or "same" (the tier did not
	// move: the evidence or TV class did).
	FromBroadband string  `json:"from_broadband"`
	ToBroadband   string  `json:"to_broadband"`
	Direction     string  `json:"direction"`
	FromEvidence  string  `json:"from_evidence"`
	ToEvidence    string  `json:"to_evidence"`
	FromTV        TVClass `json:"from_tv"`
	ToTV          TVClass `json:"to_tv"`
}

// RegionChange is one figure of one region that moved.
type RegionChange struct {
	Code   string `json:"code"`
	Name   string `json:"name"`
	Level  string `json:"level"`
	Subset string `json:"subset"`
	// Figure names the share ("tier:served", "digital_tv", "converged",
	// "next_gen", "digital_progress", "take_up"), weighted by households.
	Figure string  `json:"figure"`
	From   float64 `json:"from"`
	To     float64 `json:"to"`
	Delta  float64 `json:"delta"`
}
