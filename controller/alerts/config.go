package alerts

import (
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/ngic/ngic/internal/yamlconf"
	"github.com/ngic/ngic/telemetry"
)

// Kinds lists every Kind constant, in the order of the documentation.
var Kinds = []string{KindDeviceDown, KindSNMPCredentials, KindUplinkDown, KindPONDrop, KindDSLDrop,
	KindTVOffAir, KindTVAlarm, KindGatewayOffline, KindEventsLost, KindSequenceGap, KindDoorHeld,
	KindTagDeparted}

// oneShot are the kinds whose signals report a moment, not a state: the
// alert stays firing for ClearAfter after the last repeat.
var oneShot = map[string]bool{KindPONDrop: true, KindDSLDrop: true, KindEventsLost: true,
	KindSequenceGap: true, KindTagDeparted: true}

// IsOneShot says whether kind is a one-shot kind.
func IsOneShot(kind string) bool { return oneShot[kind] }

// kindDefaults are each kind's default severity and After.
var kindDefaults = map[string]struct {
	severity string
	after    time.Duration
}{
	KindDeviceDown:      {telemetry.SeverityCritical, 2 * time.Minute},
	KindSNMPCredentials: {telemetry.SeverityMajor, 5 * time.Minute},
	KindUplinkDown:      {telemetry.SeverityCritical, time.Minute},
	KindPONDrop:         {telemetry.SeverityMajor, 0},
	KindDSLDrop:         {telemetry.SeverityMajor, 0},
	KindTVOffAir:        {telemetry.SeverityCritical, 30 * time.Second},
	KindTVAlarm:         {telemetry.SeverityMajor, time.Minute},
	KindGatewayOffline:  {telemetry.SeverityMajor, 2 * time.Minute},
	KindEventsLost:      {telemetry.SeverityWarning, 0},
	KindSequenceGap:     {telemetry.SeverityWarning, time.Minute},
	KindDoorHeld:        {telemetry.SeverityMajor, 0},
	KindTagDeparted:     {telemetry.SeverityMinor, 0},
}

// Defaults for fields left empty.
const (
	DefaultClearAfter     = 15 * time.Minute
	DefaultShare          = 0.5
	DefaultMinONTs        = 8
	DefaultMinLines       = 8
	DefaultWebhookTimeout = 10 * time.Second
	DefaultWebhookQueue   = 10000
	DefaultFlapCount      = 3
	DefaultFlapWindow     = 15 * time.Minute
	DefaultFlapHold       = 10 * time.Minute
	// DefaultUplinkPattern selects the uplinks of the default uplink-down
	// rule by ifName or ifAlias.
	DefaultUplinkPattern = `(?i)uplink|upstream|\bwan\b`
)

// Config is the alerts section of the controller's configuration.
type Config struct {
	// Rules are the alert rules; when none are given, DefaultRules.
	Rules []Rule `yaml:"rules"`
	// Webhooks receive every firing and resolved alert as a JSON POST.
	Webhooks []Webhook `yaml:"webhooks"`
	// Maintenance windows silence the alerts of their subject.
	Maintenance []Window `yaml:"maintenance"`
	// Flap damps alerts that raise and resolve over and over.
	Flap Flap `yaml:"flap"`
}

// Rule is one alert rule.
type Rule struct {
	// Name identifies the rule; unique.
	Name string `yaml:"name"`
	// Kind is one of Kinds.
	Kind string `yaml:"kind"`
	// After is how long the condition must hold before the alert is
	// raised (0: at once).
	After time.Duration `yaml:"after"`
	// Severity is one of telemetry.Severities; default by kind.
	Severity string `yaml:"severity"`
	// ClearAfter (one-shot kinds only) is how long the alert stays firing
	// after the last repeat of its signal (default DefaultClearAfter).
	ClearAfter time.Duration `yaml:"clear_after"`
	// Subjects, when given, limit the rule to these subjects, each
	// "device:ID", "gateway:NAME" or "site:ID" (a site covers its devices
	// and gateways).
	Subjects []string `yaml:"subjects"`

	// Uplinks (uplink-down) names the uplinks by device ID and ifName.
	Uplinks map[string][]string `yaml:"uplinks"`
	// UplinkPattern (uplink-down) is a regular expression matched against
	// ifName and ifAlias of every device.
	UplinkPattern string `yaml:"uplink_pattern"`
	// Share (pon-drop, dsl-drop) is the share of the online ONTs of a port,
	// or of the lines in showtime of a device, lost between two polls that
	// raises the alert (default DefaultShare).
	Share float64 `yaml:"share"`
	// MinONTs (pon-drop) is the least number of ONTs online before the
	// drop for it to count (default DefaultMinONTs).
	MinONTs int `yaml:"min_onts"`
	// MinLines (dsl-drop) is the least number of lines in showtime before
	// the drop for it to count (default DefaultMinLines).
	MinLines int `yaml:"min_lines"`
	// Tags (tag-departed) are watched tag IDs in hex.
	Tags []string `yaml:"tags"`
	// EPCPrefixes (tag-departed) are EPC URI prefixes of watched tags
	// ("urn:epc:id:sgtin:0614141.").
	EPCPrefixes []string `yaml:"epc_prefixes"`
	// GTINs (tag-departed) are the GTINs (14 digits) of watched tags.
	GTINs []string `yaml:"gtins"`

	uplinkRE *regexp.Regexp
	subjects map[string]bool
	uplinks  map[string]map[string]bool
	tags     map[string]bool
	gtins    map[string]bool
}

// Webhook is one alert receiver.
type Webhook struct {
	// URL is http(s)://host[:port]/path, without credentials or query.
	URL string `yaml:"url"`
	// TokenFile or TokenEnv give a bearer token (never inline).
	TokenFile string `yaml:"token_file"`
	TokenEnv  string `yaml:"token_env"`
	// Timeout bounds one POST (default DefaultWebhookTimeout).
	Timeout time.Duration `yaml:"timeout"`
	// MaxQueue bounds the alerts waiting on disk for this receiver; the
	// oldest are dropped, and counted, beyond it (default
	// DefaultWebhookQueue).
	MaxQueue int `yaml:"max_queue"`

	token string
}

// Window is a maintenance window: the open alerts of its subject are
// silenced while it is open.
type Window struct {
	// ID identifies the window: derived from its fields for a window of
	// the configuration ("cfg-" and 12 hex digits), random for one added
	// with AddMaintenance ("api-" and 16 hex digits). Set by the engine.
	ID string `yaml:"-" json:"id"`
	// Subject is "device:ID", "gateway:NAME" or "site:ID".
	Subject string `yaml:"subject" json:"subject"`
	// Start and End bound the window (RFC 3339).
	Start time.Time `yaml:"start" json:"start"`
	End   time.Time `yaml:"end" json:"end"`
	// Reason is shown in the silenced alerts.
	Reason string `yaml:"reason" json:"reason"`
	// Source is WindowConfig or WindowAPI. Set by the engine.
	Source string `yaml:"-" json:"source"`
}

// Window sources.
const (
	// WindowConfig: from the configuration (or SetMaintenance); not
	// removable at run time.
	WindowConfig = "config"
	// WindowAPI: added at run time by AddMaintenance, kept in the state
	// file until it ends or RemoveMaintenance removes it.
	WindowAPI = "api"
)

// Flap configures flap damping: an alert that raised and resolved Count
// times within Window stays firing, when it next clears, until its
// condition has been quiet for Hold.
type Flap struct {
	// Count is the number of resolves within Window after which the alert
	// is held (default DefaultFlapCount).
	Count int `yaml:"count"`
	// Window (default DefaultFlapWindow) and Hold (default DefaultFlapHold).
	Window time.Duration `yaml:"window"`
	Hold   time.Duration `yaml:"hold"`
	// Disabled turns damping off.
	Disabled bool `yaml:"disabled"`
}

// DefaultRules returns the rules used when none are configured: one per
// kind, named after it, with the kind's default After and severity. There
// is none for tag-departed, which needs the watched tags.
func DefaultRules() []Rule {
	var rs []Rule
	for _, k := range Kinds {
		if k == KindTagDeparted {
			continue
		}
		r := Rule{Name: k, Kind: k, After: kindDefaults[k].after}
		if k == KindUplinkDown {
			r.UplinkPattern = DefaultUplinkPattern
		}
		rs = append(rs, r)
	}
	return rs
}

// Validate fills the defaults and checks the section. path is the
// section's place in the file ("alerts") and doc the decoded file, for
// the line of the field an error names (doc may be nil).
func (c *Config) Validate(doc *yamlconf.Doc, path string) error {
	if len(c.Rules) == 0 {
		c.Rules = DefaultRules()
	}
	names := map[string]int{}
	for i := range c.Rules {
		p := fmt.Sprintf("%s.rules[%d]", path, i)
		r := &c.Rules[i]
		if j, ok := names[r.Name]; ok && r.Name != "" {
			return doc.Errorf(p+".name", "%q already names %s.rules[%d]", r.Name, path, j)
		}
		names[r.Name] = i
		if err := r.validate(doc, p); err != nil {
			return err
		}
	}
	urls := map[string]int{}
	for i := range c.Webhooks {
		p := fmt.Sprintf("%s.webhooks[%d]", path, i)
		if err := c.Webhooks[i].validate(doc, p); err != nil {
			return err
		}
		if j, ok := urls[c.Webhooks[i].URL]; ok {
			return doc.Errorf(p+".url", "the same URL as %s.webhooks[%d]", path, j)
		}
		urls[c.Webhooks[i].URL] = i
	}
	for i, w := range c.Maintenance {
		if err := w.validate(doc, fmt.Sprintf("%s.maintenance[%d]", path, i)); err != nil {
			return err
		}
	}
	return c.Flap.validate(doc, path+".flap")
}

func (r *Rule) validate(doc *yamlconf.Doc, p string) error {
	if r.Name == "" {
		return doc.Errorf(p+".name", "missing")
	}
	if len(r.Name) > 128 {
		return doc.Errorf(p+".name", "longer than 128 bytes")
	}
	def, ok := kindDefaults[r.Kind]
	if !ok {
		return doc.Errorf(p+".kind", "%q is not one of %s", r.Kind, strings.Join(Kinds, ", "))
	}
	orDefault(&r.Severity, def.severity)
	if !slices.Contains(telemetry.Severities, r.Severity) {
		return doc.Errorf(p+".severity", "%q is not one of %s", r.Severity, strings.Join(telemetry.Severities, ", "))
	}
	if r.After < 0 {
		return doc.Errorf(p+".after", "%v is negative", r.After)
	}
	if err := r.validateOneShot(doc, p); err != nil {
		return err
	}
	r.subjects = map[string]bool{}
	for i, s := range r.Subjects {
		if err := checkSubject(s); err != nil {
			return doc.Errorf(fmt.Sprintf("%s.subjects[%d]", p, i), "%v", err)
		}
		r.subjects[s] = true
	}
	if err := r.validateUplinks(doc, p); err != nil {
		return err
	}
	if err := r.validateDrop(doc, p); err != nil {
		return err
	}
	return r.validateTags(doc, p)
}

func (r *Rule) validateOneShot(doc *yamlconf.Doc, p string) error {
	if !oneShot[r.Kind] {
		if r.ClearAfter != 0 {
			return doc.Errorf(p+".clear_after", "only for the one-shot kinds %s", strings.Join(oneShotKinds(), ", "))
		}
		return nil
	}
	orDefault(&r.ClearAfter, DefaultClearAfter)
	if r.ClearAfter < time.Second {
		return doc.Errorf(p+".clear_after", "%v is less than 1s", r.ClearAfter)
	}
	if r.After >= r.ClearAfter {
		return doc.Errorf(p+".after", "%v is not shorter than clear_after %v: the alert could never raise", r.After, r.ClearAfter)
	}
	return nil
}

func oneShotKinds() []string {
	var ks []string
	for _, k := range Kinds {
		if oneShot[k] {
			ks = append(ks, k)
		}
	}
	return ks
}

// only returns an error naming field if it is set on a rule of another
// kind than kinds.
func (r *Rule) only(doc *yamlconf.Doc, field string, set bool, kinds ...string) error {
	if set && !slices.Contains(kinds, r.Kind) {
		return doc.Errorf(field, "only for kind %s", strings.Join(kinds, ", "))
	}
	return nil
}

func (r *Rule) validateUplinks(doc *yamlconf.Doc, p string) error {
	if err := r.only(doc, p+".uplinks", len(r.Uplinks) > 0, KindUplinkDown); err != nil {
		return err
	}
	if err := r.only(doc, p+".uplink_pattern", r.UplinkPattern != "", KindUplinkDown); err != nil {
		return err
	}
	if r.Kind != KindUplinkDown {
		return nil
	}
	if len(r.Uplinks) == 0 && r.UplinkPattern == "" {
		return doc.Errorf(p+".uplinks", "missing: give uplinks (device: [ifName, ...]) or uplink_pattern, or both")
	}
	r.uplinks = map[string]map[string]bool{}
	for dev, names := range r.Uplinks {
		if dev == "" || len(names) == 0 {
			return doc.Errorf(p+".uplinks", "device %q with no interface", dev)
		}
		r.uplinks[dev] = map[string]bool{}
		for _, n := range names {
			if n == "" {
				return doc.Errorf(p+".uplinks."+dev, "an empty ifName")
			}
			r.uplinks[dev][n] = true
		}
	}
	if r.UplinkPattern != "" {
		re, err := regexp.Compile(r.UplinkPattern)
		if err != nil {
			return doc.Errorf(p+".uplink_pattern", "%v", err)
		}
		r.uplinkRE = re
	}
	return nil
}

func (r *Rule) validateDrop(doc *yamlconf.Doc, p string) error {
	drops := []string{KindPONDrop, KindDSLDrop}
	if err := r.only(doc, p+".share", r.Share != 0, drops...); err != nil {
		return err
	}
	if err := r.only(doc, p+".min_onts", r.MinONTs != 0, KindPONDrop); err != nil {
		return err
	}
	if err := r.only(doc, p+".min_lines", r.MinLines != 0, KindDSLDrop); err != nil {
		return err
	}
	if !slices.Contains(drops, r.Kind) {
		return nil
	}
	orDefault(&r.Share, DefaultShare)
	if !(r.Share > 0 && r.Share <= 1) {
		return doc.Errorf(p+".share", "%v is not in (0, 1]", r.Share)
	}
	if r.Kind == KindPONDrop && r.MinONTs == 0 {
		r.MinONTs = DefaultMinONTs
	}
	if r.Kind == KindDSLDrop && r.MinLines == 0 {
		r.MinLines = DefaultMinLines
	}
	if r.MinONTs < 0 {
		return doc.Errorf(p+".min_onts", "%d is negative", r.MinONTs)
	}
	if r.MinLines < 0 {
		return doc.Errorf(p+".min_lines", "%d is negative", r.MinLines)
	}
	return nil
}

var (
	hexRE  = regexp.MustCompile(`^[0-9A-Fa-f]+$`)
	gtinRE = regexp.MustCompile(`^[0-9]{14}$`)
)

func (r *Rule) validateTags(doc *yamlconf.Doc, p string) error {
	for _, f := range []struct {
		name string
		set  bool
	}{{"tags", len(r.Tags) > 0}, {"epc_prefixes", len(r.EPCPrefixes) > 0}, {"gtins", len(r.GTINs) > 0}} {
		if err := r.only(doc, p+"."+f.name, f.set, KindTagDeparted); err != nil {
			return err
		}
	}
	if r.Kind != KindTagDeparted {
		return nil
	}
	if len(r.Tags)+len(r.EPCPrefixes)+len(r.GTINs) == 0 {
		return doc.Errorf(p+".tags", "missing: give tags, epc_prefixes or gtins (the watched tags)")
	}
	r.tags = map[string]bool{}
	for i, t := range r.Tags {
		if !hexRE.MatchString(t) || len(t)%2 != 0 {
			return doc.Errorf(fmt.Sprintf("%s.tags[%d]", p, i), "%q is not a tag ID in hex", t)
		}
		r.tags[strings.ToUpper(t)] = true
	}
	for i, e := range r.EPCPrefixes {
		if !strings.HasPrefix(e, "urn:epc:id:") || len(e) <= len("urn:epc:id:") {
			return doc.Errorf(fmt.Sprintf("%s.epc_prefixes[%d]", p, i), "%q is not an EPC URI prefix (urn:epc:id:...)", e)
		}
	}
	r.gtins = map[string]bool{}
	for i, g := range r.GTINs {
		if !gtinRE.MatchString(g) {
			return doc.Errorf(fmt.Sprintf("%s.gtins[%d]", p, i), "%q is not a GTIN of 14 digits", g)
		}
		r.gtins[g] = true
	}
	return nil
}

// checkSubject checks "device:ID", "gateway:NAME" or "site:ID".
func checkSubject(s string) error {
	typ, id, ok := strings.Cut(s, ":")
	if !ok || id == "" || (typ != SubjectDevice && typ != SubjectGateway && typ != SubjectSite) {
		return fmt.Errorf("%q is not device:ID, gateway:NAME or site:ID", s)
	}
	return nil
}

func (w *Webhook) validate(doc *yamlconf.Doc, p string) error {
	u, err := url.Parse(w.URL)
	switch {
	case w.URL == "":
		return doc.Errorf(p+".url", "missing (http://host:port/path or https://...)")
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		return doc.Errorf(p+".url", "not an http:// or https:// URL with a host")
	case u.User != nil:
		return doc.Errorf(p+".url", "carries credentials (user:password@): give token_file or token_env")
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "":
		return doc.Errorf(p+".url", "has a query or fragment: remove it (tokens are given as files)")
	case w.TokenFile != "" && w.TokenEnv != "":
		return doc.Errorf(p+".token_file", "give token_file or token_env, not both")
	case w.Timeout < 0:
		return doc.Errorf(p+".timeout", "%v is negative", w.Timeout)
	case w.MaxQueue < 0:
		return doc.Errorf(p+".max_queue", "%d is negative", w.MaxQueue)
	}
	orDefault(&w.Timeout, DefaultWebhookTimeout)
	orDefault(&w.MaxQueue, DefaultWebhookQueue)
	return nil
}

func (w Window) validate(doc *yamlconf.Doc, p string) error {
	if err := checkSubject(w.Subject); err != nil {
		return doc.Errorf(p+".subject", "%v", err)
	}
	switch {
	case w.Start.IsZero():
		return doc.Errorf(p+".start", "missing (RFC 3339, 2026-12-01T22:00:00Z)")
	case w.End.IsZero():
		return doc.Errorf(p+".end", "missing (RFC 3339, 2026-12-01T23:00:00Z)")
	case !w.End.After(w.Start):
		return doc.Errorf(p+".end", "%s is not after start %s", w.End.Format(time.RFC3339), w.Start.Format(time.RFC3339))
	case len(w.Reason) > 256:
		return doc.Errorf(p+".reason", "longer than 256 bytes")
	}
	return nil
}

func (f *Flap) validate(doc *yamlconf.Doc, p string) error {
	switch {
	case f.Count < 0:
		return doc.Errorf(p+".count", "%d is negative", f.Count)
	case f.Window < 0:
		return doc.Errorf(p+".window", "%v is negative", f.Window)
	case f.Hold < 0:
		return doc.Errorf(p+".hold", "%v is negative", f.Hold)
	}
	orDefault(&f.Count, DefaultFlapCount)
	orDefault(&f.Window, DefaultFlapWindow)
	orDefault(&f.Hold, DefaultFlapHold)
	return nil
}

// orDefault sets *v to def when it is the zero value.
func orDefault[T comparable](v *T, def T) {
	var zero T
	if *v == zero {
		*v = def
	}
}

// ReadSecrets reads every webhook's bearer token with read (the
// controller's secret reader: a file, or else an environment variable,
// one line, never empty). Call it after Validate; errors name the field.
func (c *Config) ReadSecrets(doc *yamlconf.Doc, path string, read func(file, env string) (string, error)) error {
	for i := range c.Webhooks {
		w := &c.Webhooks[i]
		if w.TokenFile == "" && w.TokenEnv == "" {
			continue
		}
		field := fmt.Sprintf("%s.webhooks[%d].token_file", path, i)
		if w.TokenFile == "" {
			field = fmt.Sprintf("%s.webhooks[%d].token_env", path, i)
		}
		tok, err := read(w.TokenFile, w.TokenEnv)
		if err != nil {
			return doc.Errorf(field, "%v", err)
		}
		w.token = tok
	}
	return nil
}
