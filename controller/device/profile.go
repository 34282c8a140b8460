package device

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
)

//go:embed profiles/*.yaml
var embedded embed.FS

// Profile says how to recognise one kind of device and what to read from it.
type Profile struct {
	// Name identifies the profile; a profile loaded later with the same
	// name replaces an earlier one.
	Name string `yaml:"name"`
	// Class is the class given to matching devices.
	Class Class `yaml:"class"`
	// Vendor is the vendor written into the document.
	Vendor string `yaml:"vendor"`
	// Model is a regular expression applied to sysDescr; its first capture
	// group (or the whole match) is the model.
	Model string `yaml:"model"`
	// Match says which devices the profile applies to.
	Match Match `yaml:"match"`
	// Walk lists the column (or table) roots walked in addition to the
	// interface and entity columns every device gets.
	Walk []string `yaml:"walk"`
	// Access names the registered access extractor ("" for none).
	Access string `yaml:"access"`
	// Priority orders profiles within one classification stage (higher
	// first; ties by name).
	Priority int `yaml:"priority"`

	file    string
	modelRE *regexp.Regexp
}

// Match holds a profile's matching rules. A profile matches a device when
// its sysObjectID starts with one of SysObjectID (if any are given), every
// one of Probes holds, and at least one of Evidence holds (if any is
// given). Profiles are tried in three stages, the first match winning:
// those with SysObjectID (longest matching prefix first), then those
// without, then those with Fallback set (see ProfileSet.Classify).
type Match struct {
	// SysObjectID lists sysObjectID prefixes (dotted, leading dot allowed).
	SysObjectID []string `yaml:"sys_object_id"`
	// Probes must all hold.
	Probes []Probe `yaml:"probes"`
	// Evidence holds when at least one of its probes does. A profile of an
	// access class (Class.IsAccess) must rest on access evidence: a probe
	// or every evidence probe is an if_type(s), table or sys_descr test, so
	// a vendor's enterprise OID alone never makes an OLT, CMTS, DSLAM or
	// modem.
	Evidence []Probe `yaml:"evidence"`
	// Fallback puts the profile in the last stage.
	Fallback bool `yaml:"fallback"`
}

// Probe is one test on what the agent answered. Exactly one of
// IfType/IfTypes, Table, SysServicesLayer and SysDescr is set.
type Probe struct {
	// IfType holds when at least MinCount (default 1) and at most MaxCount
	// (0: no bound) interfaces have this IANA ifType.
	IfType int `yaml:"if_type"`
	// IfTypes is like IfType for a set of types counted together.
	IfTypes []int `yaml:"if_types"`
	// MinCount and MaxCount bound the interface count for IfType(s).
	MinCount int `yaml:"min_count"`
	MaxCount int `yaml:"max_count"`
	// Table holds when some object answers under this root.
	Table string `yaml:"table"`
	// SysServicesLayer holds when sysServices has this OSI layer (1..7)
	// set; with SysServicesOnly, no other layer but 1 may be set besides.
	SysServicesLayer int  `yaml:"sys_services_layer"`
	SysServicesOnly  bool `yaml:"sys_services_only"`
	// SysDescr holds when this regular expression matches sysDescr: an
	// explicit model match.
	SysDescr string `yaml:"sys_descr"`

	descrRE *regexp.Regexp
}

// access reports whether the probe tests access evidence: interfaces, a
// table or the model in sysDescr (not sysServices).
func (pr *Probe) access() bool {
	return pr.IfType != 0 || len(pr.IfTypes) > 0 || pr.Table != "" || pr.SysDescr != ""
}

// IsAccess reports whether c is an access class (olt, cmts, dslam, dsl-cpe,
// cable-modem): one that counts subscribers' lines and so drives coverage.
func (c Class) IsAccess() bool {
	switch c {
	case ClassOLT, ClassCMTS, ClassDSLAM, ClassDSLCPE, ClassCableModem:
		return true
	}
	return false
}

// ProfileSet is a validated, ordered set of profiles.
type ProfileSet struct {
	profiles []*Profile
}

// Profiles returns the profiles in classification order.
func (s *ProfileSet) Profiles() []*Profile {
	out := make([]*Profile, len(s.profiles))
	copy(out, s.profiles)
	return out
}

// Lookup returns the profile with the given name.
func (s *ProfileSet) Lookup(name string) (*Profile, bool) {
	for _, p := range s.profiles {
		if p.Name == name {
			return p, true
		}
	}
	return nil, false
}

// DefaultProfiles returns the profiles embedded in the package.
func DefaultProfiles() (*ProfileSet, error) {
	sub, err := fs.Sub(embedded, "profiles")
	if err != nil {
		return nil, fmt.Errorf("device: embedded profiles: %w", err)
	}
	return LoadProfiles(sub)
}

// LoadProfiles reads every *.yaml and *.yml file at the top of each given
// file system, in order; a later profile with the same name replaces an
// earlier one, so LoadProfiles(embedded, site) extends and overrides the
// built-in set.
func LoadProfiles(fsyses ...fs.FS) (*ProfileSet, error) {
	byName := map[string]*Profile{}
	var order []string
	for _, fsys := range fsyses {
		entries, err := fs.ReadDir(fsys, ".")
		if err != nil {
			return nil, fmt.Errorf("device: profiles: %w", err)
		}
		for _, e := range entries {
			n := e.Name()
			if e.IsDir() || !(strings.HasSuffix(n, ".yaml") || strings.HasSuffix(n, ".yml")) {
				continue
			}
			b, err := fs.ReadFile(fsys, n)
			if err != nil {
				return nil, fmt.Errorf("device: profile %s: %w", n, err)
			}
			ps, err := ParseProfiles(n, b)
			if err != nil {
				return nil, err
			}
			for _, p := range ps {
				if _, seen := byName[p.Name]; !seen {
					order = append(order, p.Name)
				}
				byName[p.Name] = p
			}
		}
	}
	set := &ProfileSet{}
	for _, n := range order {
		set.profiles = append(set.profiles, byName[n])
	}
	sort.SliceStable(set.profiles, func(i, j int) bool {
		a, b := set.profiles[i], set.profiles[j]
		if a.Priority != b.Priority {
			return a.Priority > b.Priority
		}
		return a.Name < b.Name
	})
	return set, nil
}

// LoadProfilesDir loads the embedded profiles, then those of dir (which may
// add profiles or replace embedded ones by name). An empty dir gives the
// embedded set.
func LoadProfilesDir(dir string) (*ProfileSet, error) {
	sub, err := fs.Sub(embedded, "profiles")
	if err != nil {
		return nil, fmt.Errorf("device: embedded profiles: %w", err)
	}
	if dir == "" {
		return LoadProfiles(sub)
	}
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return nil, fmt.Errorf("device: profiles folder %q: not a readable folder", dir)
	}
	return LoadProfiles(sub, os.DirFS(dir))
}

// ParseProfiles decodes a YAML file holding one profile (a mapping) or a
// list of profiles (a sequence, so that YAML anchors can share walk lists),
// strictly: unknown keys are errors. Errors name the file, the line and the
// field.
func ParseProfiles(file string, b []byte) ([]*Profile, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(b, &root); err != nil {
		return nil, fmt.Errorf("device: profile %s: %w", file, err)
	}
	if len(root.Content) == 0 {
		return nil, fmt.Errorf("device: profile %s: no profile in file", file)
	}
	doc := root.Content[0]
	var out []*Profile
	var lines []int
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	switch doc.Kind {
	case yaml.SequenceNode:
		if err := dec.Decode(&out); err != nil {
			return nil, fmt.Errorf("device: profile %s: %w", file, err)
		}
		for _, n := range doc.Content {
			lines = append(lines, n.Line)
		}
	case yaml.MappingNode:
		p := &Profile{}
		if err := dec.Decode(p); err != nil {
			return nil, fmt.Errorf("device: profile %s: %w", file, err)
		}
		out, lines = []*Profile{p}, []int{doc.Line}
	default:
		return nil, fmt.Errorf("device: profile %s line %d: want a profile or a list of profiles", file, doc.Line)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("device: profile %s: no profile in file", file)
	}
	for i, p := range out {
		if p == nil {
			return nil, fmt.Errorf("device: profile %s line %d: empty profile", file, lines[i])
		}
		p.file = file
		if err := p.Validate(); err != nil {
			return nil, fmt.Errorf("device: profile %s line %d: %w", file, lines[i], err)
		}
	}
	return out, nil
}

var oidRE = regexp.MustCompile(`^\.?[0-9]+(\.[0-9]+)+$`)

// Validate checks a profile and compiles its model expression; errors name
// the field.
func (p *Profile) Validate() error {
	if strings.TrimSpace(p.Name) == "" {
		return errors.New("name: missing")
	}
	valid := false
	for _, c := range Classes {
		if p.Class == c {
			valid = true
		}
	}
	if !valid {
		return fmt.Errorf("profile %q: class: %q is not one of %v", p.Name, p.Class, Classes)
	}
	if p.Model != "" {
		re, err := regexp.Compile(p.Model)
		if err != nil {
			return fmt.Errorf("profile %q: model: %v", p.Name, err)
		}
		p.modelRE = re
	}
	if len(p.Match.SysObjectID) == 0 && len(p.Match.Probes) == 0 && len(p.Match.Evidence) == 0 {
		return fmt.Errorf("profile %q: match: needs sys_object_id, probes or evidence", p.Name)
	}
	for i, o := range p.Match.SysObjectID {
		if !oidRE.MatchString(o) {
			return fmt.Errorf("profile %q: match.sys_object_id[%d]: %q is not a dotted OID", p.Name, i, o)
		}
		p.Match.SysObjectID[i] = normOID(o)
	}
	for i := range p.Match.Probes {
		if err := p.Match.Probes[i].validate(); err != nil {
			return fmt.Errorf("profile %q: match.probes[%d]: %w", p.Name, i, err)
		}
	}
	for i := range p.Match.Evidence {
		if err := p.Match.Evidence[i].validate(); err != nil {
			return fmt.Errorf("profile %q: match.evidence[%d]: %w", p.Name, i, err)
		}
	}
	if p.Class.IsAccess() && !p.Match.accessEvidence() {
		return fmt.Errorf("profile %q: match: class %s is an access class and must rest on access evidence: a probe, or every evidence entry, testing if_type/if_types, table or sys_descr", p.Name, p.Class)
	}
	for i, w := range p.Walk {
		if !oidRE.MatchString(w) {
			return fmt.Errorf("profile %q: walk[%d]: %q is not a dotted OID", p.Name, i, w)
		}
		p.Walk[i] = normOID(w)
	}
	if p.Access != "" {
		if _, ok := lookupExtractor(p.Access); !ok {
			return fmt.Errorf("profile %q: access: no extractor named %q (have %s)", p.Name, p.Access, strings.Join(ExtractorNames(), ", "))
		}
	}
	return nil
}

func (pr *Probe) validate() error {
	kinds := 0
	if pr.IfType != 0 || len(pr.IfTypes) > 0 {
		kinds++
	}
	if pr.Table != "" {
		kinds++
		if !oidRE.MatchString(pr.Table) {
			return fmt.Errorf("table: %q is not a dotted OID", pr.Table)
		}
		pr.Table = normOID(pr.Table)
	}
	if pr.SysServicesLayer != 0 {
		kinds++
		if pr.SysServicesLayer < 1 || pr.SysServicesLayer > 7 {
			return fmt.Errorf("sys_services_layer: %d is not 1..7", pr.SysServicesLayer)
		}
	}
	if pr.SysDescr != "" {
		kinds++
		re, err := regexp.Compile(pr.SysDescr)
		if err != nil {
			return fmt.Errorf("sys_descr: %v", err)
		}
		pr.descrRE = re
	}
	if kinds != 1 {
		return errors.New("needs exactly one of if_type/if_types, table, sys_services_layer, sys_descr")
	}
	if pr.MinCount < 0 || pr.MaxCount < 0 || (pr.MaxCount > 0 && pr.MaxCount < pr.MinCount) {
		return fmt.Errorf("min_count/max_count: %d/%d is not a valid range", pr.MinCount, pr.MaxCount)
	}
	return nil
}

// accessEvidence reports whether a match rests on access evidence: one of
// its probes (which must all hold) tests it, or every evidence entry does.
func (m *Match) accessEvidence() bool {
	for i := range m.Probes {
		if m.Probes[i].access() {
			return true
		}
	}
	if len(m.Evidence) == 0 {
		return false
	}
	for i := range m.Evidence {
		if !m.Evidence[i].access() {
			return false
		}
	}
	return true
}

// probeRoots returns the table roots the set's probes and evidence read.
func (s *ProfileSet) probeRoots() []string {
	return tableRoots(s.profiles)
}

// tableRoots returns the table roots the profiles' probes and evidence
// read.
func tableRoots(profiles []*Profile) []string {
	seen := map[string]bool{}
	var out []string
	for _, p := range profiles {
		for _, list := range [][]Probe{p.Match.Probes, p.Match.Evidence} {
			for _, pr := range list {
				if pr.Table != "" && !seen[pr.Table] {
					seen[pr.Table] = true
					out = append(out, pr.Table)
				}
			}
		}
	}
	return out
}

// prefixLen returns the length of p's longest sysObjectID prefix that oid
// starts with, or -1.
func (p *Profile) prefixLen(oid string) int {
	best := -1
	if oid == "" {
		return best
	}
	for _, pre := range p.Match.SysObjectID {
		if (oid == pre || strings.HasPrefix(oid, pre+".")) && len(pre) > best {
			best = len(pre)
		}
	}
	return best
}

// candidates returns the first-stage profiles whose sysObjectID prefix the
// device's sysObjectID starts with, longest prefix first, then in set order
// (priority, then name).
func (s *ProfileSet) candidates(o *Objects) []*Profile {
	oid, _ := textAt(o, oidSysObjectID)
	oid = normOID(oid)
	var out []*Profile
	var lens []int
	for _, p := range s.profiles {
		if p.Match.Fallback {
			continue
		}
		if n := p.prefixLen(oid); n >= 0 {
			out = append(out, p)
			lens = append(lens, n)
		}
	}
	idx := make([]int, len(out))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return lens[idx[a]] > lens[idx[b]] })
	sorted := make([]*Profile, len(out))
	for i, k := range idx {
		sorted[i] = out[k]
	}
	return sorted
}

// Classify picks the profile for a device; nil means unknown. Stage 1: the
// profiles whose sysObjectID prefix matches, longest prefix first, the
// first whose probes and evidence hold; a vendor's OID whose evidence does
// not hold (a vendor's LTE router under a DSL-CPE profile) falls through.
// Stage 2: the profiles without sysObjectID, by priority, the first whose
// probes and evidence hold. Stage 3: the fallback profiles likewise (with
// their sysObjectID prefix, if any, matching too).
func (s *ProfileSet) Classify(o *Objects) *Profile {
	if p := s.firstStage(o); p != nil {
		return p
	}
	oid, _ := textAt(o, oidSysObjectID)
	oid = normOID(oid)
	for _, fallback := range []bool{false, true} {
		for _, p := range s.profiles {
			m := &p.Match
			if m.Fallback != fallback || (!fallback && len(m.SysObjectID) > 0) {
				continue
			}
			if len(m.SysObjectID) > 0 && p.prefixLen(oid) < 0 {
				continue
			}
			if m.holds(o) {
				return p
			}
		}
	}
	return nil
}

// firstStage returns the first stage-1 profile that holds, or nil.
func (s *ProfileSet) firstStage(o *Objects) *Profile {
	for _, p := range s.candidates(o) {
		if p.Match.holds(o) {
			return p
		}
	}
	return nil
}

// NeedsProbes reports whether the system group alone cannot decide the
// classification, so the interface and probe tables must be walked first:
// unless a first-stage profile is decided by sysDescr and sysServices
// alone (and the profiles before it are decided against), it does.
func (s *ProfileSet) NeedsProbes(o *Objects) bool {
	for _, p := range s.candidates(o) {
		switch p.Match.decide(o) {
		case yes:
			return false
		case unsure:
			return true
		}
	}
	return true
}

// tri is a test's outcome when only part of the answers is known.
type tri int

const (
	no tri = iota
	yes
	unsure
)

// holds reports whether every probe and (if any) one evidence entry hold.
func (m *Match) holds(o *Objects) bool {
	return m.eval(o, func(pr *Probe) tri {
		if probeHolds(*pr, o) {
			return yes
		}
		return no
	}) == yes
}

// decide is holds on the system group alone: tests of interfaces and
// tables are unsure.
func (m *Match) decide(o *Objects) tri {
	return m.eval(o, func(pr *Probe) tri {
		if pr.SysDescr == "" && pr.SysServicesLayer == 0 {
			return unsure
		}
		if probeHolds(*pr, o) {
			return yes
		}
		return no
	})
}

// eval combines probe outcomes: all of Probes and any of Evidence.
func (m *Match) eval(o *Objects, test func(*Probe) tri) tri {
	out := yes
	for i := range m.Probes {
		switch test(&m.Probes[i]) {
		case no:
			return no
		case unsure:
			out = unsure
		}
	}
	if len(m.Evidence) == 0 {
		return out
	}
	ev := no
	for i := range m.Evidence {
		switch test(&m.Evidence[i]) {
		case yes:
			ev = yes
		case unsure:
			if ev == no {
				ev = unsure
			}
		}
		if ev == yes {
			break
		}
	}
	switch {
	case ev == no:
		return no
	case ev == unsure:
		return unsure
	}
	return out
}

func probeHolds(pr Probe, o *Objects) bool {
	switch {
	case pr.SysDescr != "":
		d, ok := textAt(o, oidSysDescr)
		return ok && pr.descrRE != nil && pr.descrRE.MatchString(d)
	case pr.Table != "":
		return o.HasUnder(pr.Table)
	case pr.SysServicesLayer != 0:
		p, ok := o.Get(oidSysServices)
		if !ok {
			return false
		}
		v, ok := pduInt(p)
		if !ok || v < 0 || v > 127 {
			return false
		}
		bit := int64(1) << (pr.SysServicesLayer - 1)
		if v&bit == 0 {
			return false
		}
		return !pr.SysServicesOnly || v&^(bit|1) == 0
	default:
		want := map[int64]bool{}
		if pr.IfType != 0 {
			want[int64(pr.IfType)] = true
		}
		for _, t := range pr.IfTypes {
			want[int64(t)] = true
		}
		n := 0
		for _, p := range o.Column(ifType) {
			if v, ok := pduInt(p); ok && want[v] {
				n++
			}
		}
		min := pr.MinCount
		if min == 0 {
			min = 1
		}
		return n >= min && (pr.MaxCount == 0 || n <= pr.MaxCount)
	}
}

// walkRoots returns the roots to walk for a profile: the base columns,
// the profile's own and extra, without duplicates or those in skip.
func walkRoots(p *Profile, skip map[string]bool, extra ...string) []string {
	var walk []string
	if p != nil {
		walk = p.Walk
	}
	// A few dozen roots: a scan of those kept costs less than a map.
	out := make([]string, 0, len(BaseColumns)+len(walk)+len(extra))
	for _, list := range [][]string{BaseColumns, walk, extra} {
		for _, r := range list {
			if !skip[r] && !slices.Contains(out, r) {
				out = append(out, r)
			}
		}
	}
	return out
}
