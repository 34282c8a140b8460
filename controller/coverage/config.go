package coverage

import (
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/ngic/ngic/controller/inventory"
	"github.com/ngic/ngic/internal/yamlconf"
)

// Tier is one named broadband class: a village meets it when its best
// service gives at least DownMbps down and UpMbps up.
type Tier struct {
	// Name is the class's name ("unserved", "served"...).
	Name string `yaml:"name" json:"name"`
	// DownMbps and UpMbps are the thresholds, in Mbit/s.
	DownMbps float64 `yaml:"down_mbps" json:"down_mbps"`
	UpMbps   float64 `yaml:"up_mbps" json:"up_mbps"`
}

// Rate is what one access technology can deliver, in Mbit/s.
type Rate struct {
	// DownMbps and UpMbps are the downstream and upstream rates.
	DownMbps float64 `yaml:"down_mbps" json:"down_mbps"`
	UpMbps   float64 `yaml:"up_mbps" json:"up_mbps"`
}

// Config is the coverage section of the controller's configuration.
type Config struct {
	// Tiers are the broadband classes, ascending; the first is the floor
	// (0/0) that every village meets. Default DefaultTiers.
	Tiers []Tier `yaml:"tiers"`
	// Capability maps a technology to the rate it is counted at when
	// measured in service (PON, DOCSIS; DSL lines that give no attainable
	// rate). Entries given here add to or replace DefaultCapability.
	Capability map[string]Rate `yaml:"capability"`
	// NextGeneration lists the technologies counted as next-generation
	// access; default DefaultNextGeneration. Given, it replaces the default.
	NextGeneration []string `yaml:"next_generation"`
	// DownAfter is how long a device that is down keeps its last class
	// (reported as an outage); default DefaultDownAfter.
	DownAfter time.Duration `yaml:"down_after"`
	// StaleAfter: evidence polled longer ago than this is flagged stale;
	// default DefaultStaleAfter.
	StaleAfter time.Duration `yaml:"stale_after"`
	// SnapshotEvery is the time between two stored snapshots; default
	// DefaultSnapshotEvery.
	SnapshotEvery time.Duration `yaml:"snapshot_every"`
	// Keep bounds the snapshots kept on disk; default DefaultKeep.
	Keep int `yaml:"keep"`
}

// Defaults for fields left empty.
const (
	DefaultDownAfter     = 6 * time.Hour
	DefaultStaleAfter    = 24 * time.Hour
	DefaultSnapshotEvery = 24 * time.Hour
	DefaultKeep          = 400
	// MinDuration bounds down_after, stale_after and snapshot_every from
	// below (a lab or a test may use seconds; a network, hours).
	MinDuration = time.Second
	// MaxKeep bounds Keep.
	MaxKeep = 100_000
	// MaxTiers bounds the number of tiers.
	MaxTiers = 16
)

// DefaultTiers are the classes of issue 8: below 25/3 Mbit/s unserved,
// below 100/20 underserved, served at or above.
func DefaultTiers() []Tier {
	return []Tier{{Name: "unserved"}, {Name: "underserved", DownMbps: 25, UpMbps: 3}, {Name: "served", DownMbps: 100, UpMbps: 20}}
}

// DefaultCapability returns the capability table used by default: the
// line rates of the PON and DOCSIS standards (shared by the subscribers
// of a port, but each of them can be sold 100/20 on it), and, for DSL
// lines that give no attainable rate, the rate a typical loop reaches
// (not the standard's peak, which only the shortest loops see).
func DefaultCapability() map[string]Rate {
	return map[string]Rate{
		TechGPON.String():      {2488, 1244},  // ITU-T G.984
		TechXGPON.String():     {9953, 2488},  // ITU-T G.987
		TechXGSPON.String():    {9953, 9953},  // ITU-T G.9807.1
		TechEPON.String():      {1000, 1000},  // IEEE 802.3ah
		Tech10GEPON.String():   {10000, 1000}, // IEEE 802.3av (asymmetric variant)
		TechDOCSIS30.String():  {343, 122},    // 8 x 6 MHz 256-QAM down, 4 x 6.4 MHz 64-QAM up
		TechDOCSIS31.String():  {10000, 1000}, // DOCSIS 3.1 OFDM/OFDMA
		TechDOCSIS2.String():   {38, 27},      // one channel each way
		TechADSL.String():      {8, 0.8},      // G.992.1
		TechADSL2.String():     {12, 1},       // G.992.3
		TechADSL2Plus.String(): {20, 1},       // G.992.5
		TechVDSL.String():      {50, 10},      // typical VDSL loop
		TechVDSL2.String():     {50, 10},      // typical VDSL2 17a loop
	}
}

// DefaultNextGeneration lists the technologies counted as next-generation
// access by default: PON, DOCSIS 3.x and VDSL (ifType 97 is what many
// VDSL2 DSLAMs give their lines). ADSL, ADSL2, ADSL2+ and DOCSIS 2 are
// not.
func DefaultNextGeneration() []string {
	var names []string
	for _, t := range []Tech{TechGPON, TechXGPON, TechXGSPON, TechEPON, Tech10GEPON, TechDOCSIS30, TechDOCSIS31, TechVDSL, TechVDSL2} {
		names = append(names, t.String())
	}
	return names
}

// DefaultConfig returns the configuration with every default filled.
func DefaultConfig() Config {
	var c Config
	if err := c.Validate(nil, "coverage"); err != nil {
		panic(err) // the defaults are valid
	}
	return c
}

// tierName is what a tier may be called: it becomes a field key in InfluxDB.
var tierName = regexp.MustCompile(`^[a-z0-9][a-z0-9_+.-]{0,31}$`)

// Validate fills the defaults and checks the section. path is the section's
// place in the file ("coverage") and doc the decoded file, for the line of
// the field an error names (doc may be nil).
func (c *Config) Validate(doc *yamlconf.Doc, path string) error {
	c.setDefaults()
	if err := c.validateTiers(doc, path); err != nil {
		return err
	}
	for _, tech := range sortedKeys(c.Capability) {
		r := c.Capability[tech]
		p := path + ".capability." + tech
		if tech == "" || tech != strings.ToLower(tech) {
			return doc.Errorf(p, "technology %q: write it in lower case", tech)
		}
		if !(r.DownMbps > 0) || !(r.UpMbps > 0) || r.DownMbps > 1e6 || r.UpMbps > 1e6 {
			return doc.Errorf(p, "down_mbps %v and up_mbps %v must both be above 0 and at most 1000000", r.DownMbps, r.UpMbps)
		}
	}
	seen := map[string]int{}
	for i, tech := range c.NextGeneration {
		p := fmt.Sprintf("%s.next_generation[%d]", path, i)
		if tech == "" || tech != strings.ToLower(tech) {
			return doc.Errorf(p, "technology %q: give a lower-case name", tech)
		}
		if j, ok := seen[tech]; ok {
			return doc.Errorf(p, "%q already listed at next_generation[%d]", tech, j)
		}
		seen[tech] = i
	}
	for _, d := range []struct {
		key string
		v   time.Duration
	}{{"down_after", c.DownAfter}, {"stale_after", c.StaleAfter}, {"snapshot_every", c.SnapshotEvery}} {
		if d.v < MinDuration {
			return doc.Errorf(path+"."+d.key, "%v is below %v", d.v, MinDuration)
		}
	}
	if c.Keep < 1 || c.Keep > MaxKeep {
		return doc.Errorf(path+".keep", "%d is not within 1..%d", c.Keep, MaxKeep)
	}
	return nil
}

// setDefaults fills every empty field: the one place defaults are set.
func (c *Config) setDefaults() {
	if len(c.Tiers) == 0 {
		c.Tiers = DefaultTiers()
	}
	caps := DefaultCapability()
	for k, v := range c.Capability {
		caps[k] = v
	}
	c.Capability = caps
	if len(c.NextGeneration) == 0 {
		c.NextGeneration = DefaultNextGeneration()
	}
	c.DownAfter = or(c.DownAfter, DefaultDownAfter)
	c.StaleAfter = or(c.StaleAfter, DefaultStaleAfter)
	c.SnapshotEvery = or(c.SnapshotEvery, DefaultSnapshotEvery)
	c.Keep = or(c.Keep, DefaultKeep)
}

func (c *Config) validateTiers(doc *yamlconf.Doc, path string) error {
	if len(c.Tiers) > MaxTiers {
		return doc.Errorf(path+".tiers", "%d tiers: at most %d", len(c.Tiers), MaxTiers)
	}
	names := map[string]int{}
	for i, t := range c.Tiers {
		p := fmt.Sprintf("%s.tiers[%d]", path, i)
		if !tierName.MatchString(t.Name) {
			return doc.Errorf(p+".name", "%q is not 1 to 32 lower-case letters, digits, '_', '+', '.' or '-' (starting with a letter or digit)", t.Name)
		}
		if j, ok := names[t.Name]; ok {
			return doc.Errorf(p+".name", "%q already names tiers[%d]", t.Name, j)
		}
		names[t.Name] = i
		if t.DownMbps < 0 || t.UpMbps < 0 || t.DownMbps > 1e6 || t.UpMbps > 1e6 || t.DownMbps != t.DownMbps || t.UpMbps != t.UpMbps {
			return doc.Errorf(p, "down_mbps %v and up_mbps %v must be within 0..1000000", t.DownMbps, t.UpMbps)
		}
		if i == 0 {
			if t.DownMbps != 0 || t.UpMbps != 0 {
				return doc.Errorf(p, "the first tier is the floor every village meets: give it down_mbps 0 and up_mbps 0")
			}
			continue
		}
		prev := c.Tiers[i-1]
		if t.DownMbps < prev.DownMbps || t.UpMbps < prev.UpMbps || (t.DownMbps == prev.DownMbps && t.UpMbps == prev.UpMbps) {
			return doc.Errorf(p, "%v/%v Mbit/s is not above tiers[%d] (%v/%v): list tiers in ascending order",
				t.DownMbps, t.UpMbps, i-1, prev.DownMbps, prev.UpMbps)
		}
	}
	return nil
}

// TierIndex returns the index of the tier named name.
func (c *Config) TierIndex(name string) (int, bool) {
	for i, t := range c.Tiers {
		if t.Name == name {
			return i, true
		}
	}
	return 0, false
}

// tierOf returns the best tier whose thresholds down/up meet.
func tierOf(tiers []Tier, down, up float64) int {
	best := 0
	for i, t := range tiers {
		if down >= t.DownMbps && up >= t.UpMbps {
			best = i
		}
	}
	return best
}

// or returns v, or def when v is the zero value.
func or[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// CheckOverrides checks the class of every row of the inventory's
// overrides.csv against the configuration: a tier name for data, digital,
// analogue or none for video, served or unserved for voice. The error
// joins one line per bad row, naming the file and line (Compute rejects
// such rows in the trail, so a report can still be made).
func CheckOverrides(inv *inventory.Inventory, cfg *Config) error {
	c := computation{cfg: cfg}
	var errs []error
	for i := range inv.Overrides {
		o := &inv.Overrides[i]
		if !c.validClass(o.Service, o.Class) {
			errs = append(errs, fmt.Errorf("%s:%d: class: %q is not one of %s", filepath.Join(inv.Dir, "overrides.csv"),
				o.Line, o.Class, strings.Join(classesOf(cfg, o.Service), ", ")))
		}
	}
	return errors.Join(errs...)
}

// classesOf lists the classes an override of service may set.
func classesOf(cfg *Config, service inventory.Service) []string {
	switch service {
	case inventory.ServiceVideo:
		return []string{TVDigital.String(), TVAnalogue.String(), TVNone.String()}
	case inventory.ServiceVoice:
		return []string{VoiceServed, VoiceUnserved}
	}
	var names []string
	for _, t := range cfg.Tiers {
		names = append(names, t.Name)
	}
	return names
}
