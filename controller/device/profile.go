package device

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"regexp"
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

// Match holds a profile's matching rules. A profile with SysObjectID
// matches by prefix in the first stage; one with Probes (and no
// SysObjectID) matches in the second stage when every probe holds; one with
// Fallback set matches in the third stage when every probe holds.
type Match struct {
	// SysObjectID lists sysObjectID prefixes (dotted, leading dot allowed).
	SysObjectID []string `yaml:"sys_object_id"`
	// Probes must all hold.
	Probes []Probe `yaml:"probes"`
	// Fallback puts the profile in the last stage.
	Fallback bool `yaml:"fallback"`
}

// Probe is one test on what the agent answered. Exactly one of IfType,
// Table and SysServicesLayer is set.
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
	if len(p.Match.SysObjectID) == 0 && len(p.Match.Probes) == 0 {
		return fmt.Errorf("profile %q: match: needs sys_object_id or probes", p.Name)
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
	if kinds != 1 {
		return errors.New("needs exactly one of if_type/if_types, table, sys_services_layer")
	}
	if pr.MinCount < 0 || pr.MaxCount < 0 || (pr.MaxCount > 0 && pr.MaxCount < pr.MinCount) {
		return fmt.Errorf("min_count/max_count: %d/%d is not a valid range", pr.MinCount, pr.MaxCount)
	}
	return nil
}

// probeRoots returns the table roots the set's probes read.
func (s *ProfileSet) probeRoots() []string {
	seen := map[string]bool{}
	var out []string
	for _, p := range s.profiles {
		for _, pr := range p.Match.Probes {
			if pr.Table != "" && !seen[pr.Table] {
				seen[pr.Table] = true
				out = append(out, pr.Table)
			}
		}
	}
	return out
}

// Classify picks the profile for a device: first by the longest matching
// sysObjectID prefix, then by probes, then by fallback profiles; nil means
// unknown.
func (s *ProfileSet) Classify(o *Objects) *Profile {
	oid, _ := textAt(o, oidSysObjectID)
	oid = normOID(oid)
	var best *Profile
	bestLen := -1
	if oid != "" {
		for _, p := range s.profiles {
			for _, pre := range p.Match.SysObjectID {
				if (oid == pre || strings.HasPrefix(oid, pre+".")) && len(pre) > bestLen {
					best, bestLen = p, len(pre)
				}
			}
		}
	}
	if best != nil {
		return best
	}
	for _, fallback := range []bool{false, true} {
		for _, p := range s.profiles {
			if len(p.Match.SysObjectID) > 0 || p.Match.Fallback != fallback || len(p.Match.Probes) == 0 {
				continue
			}
			if probesHold(p.Match.Probes, o) {
				return p
			}
		}
	}
	return nil
}

// NeedsProbes reports whether classification by sysObjectID alone fails,
// so the probe tables must be walked.
func (s *ProfileSet) NeedsProbes(o *Objects) bool {
	oid, _ := textAt(o, oidSysObjectID)
	oid = normOID(oid)
	for _, p := range s.profiles {
		for _, pre := range p.Match.SysObjectID {
			if oid != "" && (oid == pre || strings.HasPrefix(oid, pre+".")) {
				return false
			}
		}
	}
	return true
}

func probesHold(probes []Probe, o *Objects) bool {
	for _, pr := range probes {
		if !probeHolds(pr, o) {
			return false
		}
	}
	return true
}

func probeHolds(pr Probe, o *Objects) bool {
	switch {
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

// walkRoots returns the roots to walk for a profile: the base columns and
// the profile's own, without duplicates or roots already under another.
func walkRoots(p *Profile, skip map[string]bool) []string {
	var roots []string
	roots = append(roots, BaseColumns...)
	if p != nil {
		roots = append(roots, p.Walk...)
	}
	seen := map[string]bool{}
	var out []string
	for _, r := range roots {
		if seen[r] || skip[r] {
			continue
		}
		seen[r] = true
		out = append(out, r)
	}
	return out
}
