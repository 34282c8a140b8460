// Package config is ngic-controller's configuration: a YAML file decoded
// strictly (internal/yamlconf, as the edge does), defaults set in one place,
// one Validate whose errors name the field and its line, secrets read from
// files or the environment (never inline), and the inventory folder of CSV
// files (devices.csv, gateways.csv) whose errors name the file, line and
// column.
package config

import (
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/ngic/ngic/controller/alerts"
	"github.com/ngic/ngic/controller/coverage"
	"github.com/ngic/ngic/controller/snmp"
	"github.com/ngic/ngic/edge/publish/brokerurl"
	"github.com/ngic/ngic/internal/tlsconf"
	"github.com/ngic/ngic/internal/yamlconf"
)

// Config is the whole controller configuration.
type Config struct {
	// Inventory is the folder holding devices.csv and gateways.csv; a
	// relative path is relative to the configuration file's folder.
	Inventory string `yaml:"inventory"`
	// Credentials are the named SNMP credentials devices.csv refers to.
	Credentials map[string]Credential `yaml:"credentials"`
	// Poll sets how devices are polled.
	Poll Poll `yaml:"poll"`
	// MQTT is the broker the gateways publish to.
	MQTT MQTT `yaml:"mqtt"`
	// InfluxDB is optional: nil keeps no time series.
	InfluxDB *InfluxDB `yaml:"influxdb"`
	// Ingest tunes how the gateways' messages are taken in.
	Ingest Ingest `yaml:"ingest"`
	// HTTP serves /healthz, /metrics, the API and the dashboard.
	HTTP HTTP `yaml:"http"`
	// Alerts are the alert rules, webhooks and maintenance windows.
	Alerts Alerts `yaml:"alerts"`
	// Coverage sets the coverage classes, what counts as evidence and
	// how snapshots are kept (controller/coverage).
	Coverage Coverage `yaml:"coverage"`
	// Cluster shares the fleet between several replicas (cluster.go).
	Cluster Cluster `yaml:"cluster"`
	// Rollout is optional: nil refuses rollouts of update bundles
	// (rollout.go).
	Rollout *Rollout `yaml:"rollout"`
	// StateDir keeps the state snapshots (default /var/lib/ngic-controller).
	StateDir string `yaml:"state_dir"`

	// inv is the inventory read by Load.
	inv *Inventory
	// fileInv is the inventory folder the file names, resolved; otherInv
	// says that LoadWith read another one.
	fileInv  string
	otherInv bool
	// secrets are the SNMP secrets read by Load, by credential name.
	secrets map[string]credSecrets
}

// Credential is one named set of SNMP credentials. Every secret comes from
// a file (…_file) or an environment variable (…_env), never from the YAML.
type Credential struct {
	// Version is "1", "2c" or "3".
	Version string `yaml:"version"`
	// CommunityFile or CommunityEnv give the v1/v2c community.
	CommunityFile string `yaml:"community_file"`
	// CommunityEnv names the environment variable holding the community.
	CommunityEnv string `yaml:"community_env"`
	// User is the SNMPv3 USM user.
	User string `yaml:"user"`
	// AuthProto is an authentication protocol controller/snmp accepts
	// (MD5, SHA, SHA-224, SHA-256, SHA-384, SHA-512); empty is noAuthNoPriv.
	AuthProto string `yaml:"auth_proto"`
	// AuthPassFile or AuthPassEnv give the authentication passphrase.
	AuthPassFile string `yaml:"auth_pass_file"`
	// AuthPassEnv names the environment variable holding it.
	AuthPassEnv string `yaml:"auth_pass_env"`
	// PrivProto is a privacy protocol controller/snmp accepts (DES, AES,
	// AES-192, AES-256, AES-192-C, AES-256-C); empty is no privacy.
	PrivProto string `yaml:"priv_proto"`
	// PrivPassFile or PrivPassEnv give the privacy passphrase.
	PrivPassFile string `yaml:"priv_pass_file"`
	// PrivPassEnv names the environment variable holding it.
	PrivPassEnv string `yaml:"priv_pass_env"`
	// ContextName is the SNMPv3 context, usually empty.
	ContextName string `yaml:"context_name"`
}

// credSecrets are a credential's secrets once read.
type credSecrets struct{ community, auth, priv string }

// PollSettings are the settings a device may override.
type PollSettings struct {
	// Interval is the time between two polls of a device (default 60s).
	Interval time.Duration `yaml:"interval"`
	// Timeout bounds one SNMP request (default snmp.DefaultTimeout).
	Timeout time.Duration `yaml:"timeout"`
	// Retries is how many times a request is resent (default
	// snmp.DefaultRetries, 0..snmp.MaxRetries; 0 means none).
	Retries *int `yaml:"retries"`
	// MaxRepetitions is the GETBULK max-repetitions (default
	// snmp.DefaultMaxRepetitions, 1..snmp.MaxMaxRepetitions).
	MaxRepetitions int `yaml:"max_repetitions"`
}

// Poll configures polling.
type Poll struct {
	PollSettings `yaml:",inline"`
	// Concurrency bounds the devices polled at once (default snmp.DefaultMaxConcurrent, 256).
	Concurrency int `yaml:"concurrency"`
	// History is the number of samples of rates kept in memory per device
	// (default 120: two hours at the default interval).
	History int `yaml:"history"`
	// Overrides are settings per device id (an id of devices.csv); a zero
	// field keeps the poll-wide value.
	Overrides map[string]PollSettings `yaml:"overrides"`
}

// MQTT configures the broker: an external one (Broker) or the embedded one.
type MQTT struct {
	// Broker is tcp://host:port or ssl://host:port (also mqtt://, mqtts://,
	// tls://, ws://, wss://), without credentials.
	Broker string `yaml:"broker"`
	// Embedded runs mochi-mqtt in the controller instead of using Broker.
	Embedded bool `yaml:"embedded"`
	// Listen is where the embedded broker listens (default 127.0.0.1:1883).
	Listen string `yaml:"listen"`
	// TLS is accepted only with a TLS broker URL.
	TLS TLS `yaml:"tls"`
	// Username for the broker (the ACL's ngic-controller user).
	Username string `yaml:"username"`
	// PasswordFile holds the broker password.
	PasswordFile string `yaml:"password_file"`
	// ClientID is fixed, for a persistent session (default: the username,
	// else ngic-controller).
	ClientID string `yaml:"client_id"`
}

// TLS configures the broker's TLS (shared with the edge's configuration).
type TLS = tlsconf.Client

// InfluxDB configures the time-series writer: 2.x with a token, or 1.8
// with a user and password.
type InfluxDB struct {
	// URL is http(s)://host:port, without credentials.
	URL string `yaml:"url"`
	// TokenFile holds an InfluxDB 2.x token.
	TokenFile string `yaml:"token_file"`
	// User and PasswordFile authenticate to InfluxDB 1.8.
	User string `yaml:"user"`
	// PasswordFile holds User's password.
	PasswordFile string `yaml:"password_file"`
	// Org is the 2.x organisation (ignored by 1.8).
	Org string `yaml:"org"`
	// Bucket is the 2.x bucket, or "db/rp" for 1.8.
	Bucket string `yaml:"bucket"`
	// BufferPath is the on-disk buffer (default <state_dir>/influx-buffer.db).
	BufferPath string `yaml:"buffer_path"`
	// MaxBytes bounds the buffer (default 64 MiB, 64 KiB..1 GiB).
	MaxBytes int64 `yaml:"max_bytes"`
}

// Ingest tunes the ingest of the gateways' messages.
type Ingest struct {
	// OfflineAfter: a gateway silent this long (no event, health or
	// status) is offline, even without a last will (a half-open
	// connection sends none). Default 3m: three missed health messages at
	// the edge's default interval.
	OfflineAfter time.Duration `yaml:"offline_after"`
	// MaxPayload refuses larger payloads (default 64 KiB).
	MaxPayload int `yaml:"max_payload"`
}

// Alerts is the alerts section: rules, webhooks, maintenance windows and
// flap damping (controller/alerts).
type Alerts = alerts.Config

// Coverage is the coverage section: tiers, capability table,
// next-generation technologies, down_after, stale_after and snapshots
// (controller/coverage).
type Coverage = coverage.Config

// Defaults for empty fields.
const (
	DefaultPollInterval   = 60 * time.Second
	DefaultConcurrency    = snmp.DefaultMaxConcurrent
	DefaultHTTPListen     = "127.0.0.1:9480"
	DefaultEmbeddedListen = "127.0.0.1:1883"
	DefaultClientID       = "ngic-controller"
	DefaultStateDir       = "/var/lib/ngic-controller"
	DefaultInfluxMaxBytes = 64 << 20
	DefaultHistory        = 120
	DefaultOfflineAfter   = 3 * time.Minute
	DefaultMaxPayload     = 64 << 10
)

// Bounds of the checked fields.
const (
	MinPollInterval = time.Second
	MinTimeout      = 10 * time.Millisecond
	MaxConcurrency  = 100_000
	MinInfluxBytes  = 64 << 10
	MaxInfluxBytes  = 1 << 30
	MaxHistory      = 100_000
	MinOfflineAfter = 10 * time.Second
	MinMaxPayload   = 1 << 10
	MaxMaxPayload   = 16 << 20
	// MaxSecretFile bounds what is read of a secret file: a secret is one
	// short line.
	MaxSecretFile = 4096
)

// Files and folders of the state folder (state_dir): the daemon writes
// them, the report reads them.
const (
	// DevicesSnapshotFile is the poller's device snapshot
	// (controller/poller).
	DevicesSnapshotFile = "devices.snapshot"
	// CoverageDir is the folder of the coverage snapshots
	// (controller/coverage.Store).
	CoverageDir = "coverage"
)

// StatePath returns the path of name (DevicesSnapshotFile, CoverageDir)
// in the state folder.
func (c *Config) StatePath(name string) string { return filepath.Join(c.StateDir, name) }

// LoadOptions changes what LoadWith reads.
type LoadOptions struct {
	// Inventory, when not empty, is the inventory folder read instead of
	// the one the file names (a relative path is relative to the working
	// directory, as a flag's is). Its devices.csv credentials must name
	// the file's credentials; poll.overrides may name devices it lacks
	// (they are the file's inventory's devices).
	Inventory string
	// NoHost leaves the MQTT and InfluxDB secret and TLS files and the
	// webhooks' tokens unread (see LoadNoHost).
	NoHost bool
}

// Load reads, decodes and validates the file at path, reads every secret
// it names (SNMP, MQTT, InfluxDB) and the TLS files, and reads the
// inventory. check-config and run use it alike.
func Load(path string) (*Config, error) { return LoadWith(path, LoadOptions{}) }

// LoadNoHost is Load without the MQTT and InfluxDB secret and TLS files
// (for sample configurations meant for another machine); SNMP secrets and
// the inventory are still read, since Devices needs them.
func LoadNoHost(path string) (*Config, error) { return LoadWith(path, LoadOptions{NoHost: true}) }

// LoadWith is Load as o says: another inventory than the file's, and the
// host's files left unread.
func LoadWith(path string, o LoadOptions) (*Config, error) {
	var c Config
	doc, err := yamlconf.Load(path, &c)
	if err != nil {
		return nil, err
	}
	if err := c.Validate(doc); err != nil {
		return nil, err
	}
	if err := c.readSecrets(doc); err != nil {
		return nil, err
	}
	c.fileInv = c.Inventory
	if !filepath.IsAbs(c.fileInv) {
		c.fileInv = filepath.Join(filepath.Dir(path), c.fileInv)
	}
	dir := c.fileInv
	if o.Inventory != "" {
		dir, c.otherInv = o.Inventory, true
	}
	inv, err := LoadInventory(dir, c.credentialKinds())
	if err != nil {
		return nil, err
	}
	if err := coverage.CheckOverrides(inv, &c.Coverage); err != nil {
		return nil, err
	}
	c.inv = inv
	for _, id := range sortedKeys(c.Poll.Overrides) {
		if _, ok := inv.Device(id); !ok && !c.otherInv {
			return nil, doc.Errorf("poll.overrides."+id, "device %q is not in %s", id, filepath.Join(inv.Dir, "devices.csv"))
		}
	}
	if !o.NoHost {
		if err := c.checkHost(doc); err != nil {
			return nil, err
		}
	}
	if _, err := c.Devices(); err != nil {
		return nil, err
	}
	return &c, nil
}

// Parse decodes and validates data (named name in errors) without reading
// any file it names.
func Parse(name string, data []byte) (*Config, error) {
	var c Config
	if err := yamlconf.DecodeValid(name, data, &c); err != nil {
		return nil, err
	}
	return &c, nil
}

// Validate fills the defaults and checks every field; doc (may be nil)
// gives the lines for error messages. It reads no file.
func (c *Config) Validate(doc *yamlconf.Doc) error {
	c.setDefaults()
	for _, check := range []func(*yamlconf.Doc) error{
		c.validateInventory, c.validateCredentials, c.Poll.validate, c.MQTT.validate,
		c.validateInfluxDB, c.Ingest.validate, c.HTTP.validate,
		func(doc *yamlconf.Doc) error { return c.Alerts.Validate(doc, "alerts") },
		func(doc *yamlconf.Doc) error { return c.Coverage.Validate(doc, "coverage") },
		c.validateCluster, c.validateRollout,
	} {
		if err := check(doc); err != nil {
			return err
		}
	}
	return nil
}

// setDefaults fills every empty field that has a default: the one place
// defaults are set.
func (c *Config) setDefaults() {
	p := &c.Poll
	p.Interval = or(p.Interval, DefaultPollInterval)
	p.Timeout = or(p.Timeout, snmp.DefaultTimeout)
	if p.Retries == nil {
		r := snmp.DefaultRetries
		p.Retries = &r
	}
	p.MaxRepetitions = or(p.MaxRepetitions, snmp.DefaultMaxRepetitions)
	p.Concurrency = or(p.Concurrency, DefaultConcurrency)
	p.History = or(p.History, DefaultHistory)
	c.Ingest.OfflineAfter = or(c.Ingest.OfflineAfter, DefaultOfflineAfter)
	c.Ingest.MaxPayload = or(c.Ingest.MaxPayload, DefaultMaxPayload)
	m := &c.MQTT
	if m.Embedded {
		m.Listen = or(m.Listen, DefaultEmbeddedListen)
	}
	m.ClientID = or(m.ClientID, or(m.Username, DefaultClientID))
	c.StateDir = or(c.StateDir, DefaultStateDir)
	if in := c.InfluxDB; in != nil {
		in.BufferPath = or(in.BufferPath, filepath.Join(c.StateDir, "influx-buffer.db"))
		in.MaxBytes = or(in.MaxBytes, DefaultInfluxMaxBytes)
	}
	c.HTTP.setDefaults()
	c.Cluster.setDefaults()
}

// or returns v, or def when v is the zero value.
func or[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

func (c *Config) validateInventory(doc *yamlconf.Doc) error {
	if c.Inventory == "" {
		return doc.Errorf("inventory", "missing: the folder holding devices.csv and gateways.csv")
	}
	return nil
}

// credName is what a credential may be called: it is a step of a field
// path and a cell of devices.csv.
var credName = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

func (c *Config) validateCredentials(doc *yamlconf.Doc) error {
	for _, name := range sortedKeys(c.Credentials) {
		p := "credentials." + name
		if !credName.MatchString(name) {
			return doc.Errorf(p, "the name %q is not 1 to 64 letters, digits, '-' or '_'", name)
		}
		cr := c.Credentials[name]
		if err := cr.validate(doc, p); err != nil {
			return err
		}
	}
	return nil
}

// secretSource checks that a secret has exactly one source.
func secretSource(doc *yamlconf.Doc, p, what, file, env string, required bool) error {
	switch {
	case file != "" && env != "":
		return doc.Errorf(p+"_file", "give %s_file or %s_env, not both", what, what)
	case required && file == "" && env == "":
		return doc.Errorf(p+"_file", "missing: give %s_file (a file holding it) or %s_env (an environment variable); never the secret itself", what, what)
	case !required && (file != "" || env != ""):
		if file != "" {
			return doc.Errorf(p+"_file", "set, but not used here")
		}
		return doc.Errorf(p+"_env", "set, but not used here")
	}
	return nil
}

func (cr *Credential) validate(doc *yamlconf.Doc, p string) error {
	switch cr.Version {
	case "1", "2c":
		if err := secretSource(doc, p+".community", "community", cr.CommunityFile, cr.CommunityEnv, true); err != nil {
			return err
		}
		for _, f := range []struct{ key, v string }{{"user", cr.User}, {"auth_proto", cr.AuthProto},
			{"auth_pass_file", cr.AuthPassFile}, {"auth_pass_env", cr.AuthPassEnv}, {"priv_proto", cr.PrivProto},
			{"priv_pass_file", cr.PrivPassFile}, {"priv_pass_env", cr.PrivPassEnv}, {"context_name", cr.ContextName}} {
			if f.v != "" {
				return doc.Errorf(p+"."+f.key, "is for version 3, not %s", cr.Version)
			}
		}
	case "3":
		if cr.CommunityFile != "" || cr.CommunityEnv != "" {
			return doc.Errorf(p+".version", "3 has no community: remove community_file/community_env, or use version 2c")
		}
		if cr.User == "" {
			return doc.Errorf(p+".user", "missing: version 3 needs a USM user")
		}
		if !snmp.ValidAuthProto(cr.AuthProto) {
			return doc.Errorf(p+".auth_proto", "%q is not one of MD5, SHA, SHA-224, SHA-256, SHA-384, SHA-512", cr.AuthProto)
		}
		if !snmp.ValidPrivProto(cr.PrivProto) {
			return doc.Errorf(p+".priv_proto", "%q is not one of DES, AES, AES-192, AES-256, AES-192-C, AES-256-C", cr.PrivProto)
		}
		noAuth, noPriv := snmp.NoAuth(cr.AuthProto), snmp.NoPriv(cr.PrivProto)
		if !noPriv && noAuth {
			return doc.Errorf(p+".priv_proto", "%q needs an auth_proto (SNMPv3 has no privacy without authentication)", cr.PrivProto)
		}
		if err := secretSource(doc, p+".auth_pass", "auth_pass", cr.AuthPassFile, cr.AuthPassEnv, !noAuth); err != nil {
			return err
		}
		if err := secretSource(doc, p+".priv_pass", "priv_pass", cr.PrivPassFile, cr.PrivPassEnv, !noPriv); err != nil {
			return err
		}
	case "":
		return doc.Errorf(p+".version", "missing: 1, 2c or 3")
	default:
		return doc.Errorf(p+".version", "%q is not 1, 2c or 3", cr.Version)
	}
	return nil
}

func (s *PollSettings) validate(doc *yamlconf.Doc, p string) error {
	if s.Interval != 0 && s.Interval < MinPollInterval {
		return doc.Errorf(p+".interval", "%v is below %v", s.Interval, MinPollInterval)
	}
	if s.Timeout != 0 && s.Timeout < MinTimeout {
		return doc.Errorf(p+".timeout", "%v is below %v", s.Timeout, MinTimeout)
	}
	if s.Retries != nil && (*s.Retries < 0 || *s.Retries > snmp.MaxRetries) {
		return doc.Errorf(p+".retries", "%d is not within 0..%d", *s.Retries, snmp.MaxRetries)
	}
	if s.MaxRepetitions != 0 && (s.MaxRepetitions < 1 || s.MaxRepetitions > snmp.MaxMaxRepetitions) {
		return doc.Errorf(p+".max_repetitions", "%d is not within 1..%d", s.MaxRepetitions, snmp.MaxMaxRepetitions)
	}
	return nil
}

func (p *Poll) validate(doc *yamlconf.Doc) error {
	if err := p.PollSettings.validate(doc, "poll"); err != nil {
		return err
	}
	if p.Concurrency < 1 || p.Concurrency > MaxConcurrency {
		return doc.Errorf("poll.concurrency", "%d is not within 1..%d", p.Concurrency, MaxConcurrency)
	}
	if p.History < 1 || p.History > MaxHistory {
		return doc.Errorf("poll.history", "%d is not within 1..%d", p.History, MaxHistory)
	}
	for _, id := range sortedKeys(p.Overrides) {
		s := p.Overrides[id]
		if err := s.validate(doc, "poll.overrides."+id); err != nil {
			return err
		}
	}
	return nil
}

func (in *Ingest) validate(doc *yamlconf.Doc) error {
	if in.OfflineAfter < MinOfflineAfter {
		return doc.Errorf("ingest.offline_after", "%v is below %v", in.OfflineAfter, MinOfflineAfter)
	}
	if in.MaxPayload < MinMaxPayload || in.MaxPayload > MaxMaxPayload {
		return doc.Errorf("ingest.max_payload", "%d is not within %d..%d", in.MaxPayload, MinMaxPayload, MaxMaxPayload)
	}
	return nil
}

func (m *MQTT) validate(doc *yamlconf.Doc) error {
	tlsSet := !m.TLS.IsZero()
	if m.Embedded {
		if m.Broker != "" {
			return doc.Errorf("mqtt.broker", "set with embedded: true: give one of them")
		}
		if err := tlsconf.CheckListen(m.Listen); err != nil {
			return doc.Errorf("mqtt.listen", "%v", err)
		}
		if tlsSet {
			return doc.Errorf(tlsField(m.TLS), "set, but the embedded broker speaks plain TCP: remove mqtt.tls")
		}
		if m.PasswordFile != "" {
			return doc.Errorf("mqtt.password_file", "set, but the embedded broker takes no password")
		}
	} else {
		if m.Broker == "" {
			return doc.Errorf("mqtt.broker", "missing (tcp://host:1883 or ssl://host:8883), or set embedded: true")
		}
		if m.Listen != "" {
			return doc.Errorf("mqtt.listen", "is for the embedded broker (embedded: true)")
		}
		// Check never repeats credentials put in the URL.
		if err := brokerurl.Check(m.Broker, false); err != nil {
			return doc.Errorf("mqtt.broker", "%v", err)
		}
		if tlsSet && !brokerurl.IsTLS(m.Broker) {
			return doc.Errorf(tlsField(m.TLS), "set, but mqtt.broker %s is plaintext: the TLS settings would be ignored and "+
				"the password and events sent in the clear; use ssl://host:8883", m.Broker)
		}
	}
	if (m.TLS.CertFile == "") != (m.TLS.KeyFile == "") {
		return doc.Errorf("mqtt.tls", "cert_file and key_file go together")
	}
	if m.PasswordFile != "" && m.Username == "" {
		return doc.Errorf("mqtt.password_file", "set without mqtt.username")
	}
	if len(m.ClientID) > 65535 {
		return doc.Errorf("mqtt.client_id", "too long")
	}
	return nil
}

// tlsField returns the path of the first TLS field that is set.
func tlsField(t TLS) string {
	if k := t.FirstSet(); k != "" {
		return "mqtt.tls." + k
	}
	return "mqtt.tls"
}

func (c *Config) validateInfluxDB(doc *yamlconf.Doc) error {
	in := c.InfluxDB
	if in == nil {
		return nil
	}
	if err := checkHTTPURL(in.URL); err != nil {
		return doc.Errorf("influxdb.url", "%v", err)
	}
	switch {
	case in.TokenFile != "" && (in.User != "" || in.PasswordFile != ""):
		return doc.Errorf("influxdb.token_file", "give token_file (2.x) or user and password_file (1.8), not both")
	case (in.User == "") != (in.PasswordFile == ""):
		if in.User == "" {
			return doc.Errorf("influxdb.password_file", "set without influxdb.user")
		}
		return doc.Errorf("influxdb.user", "set without influxdb.password_file")
	}
	if in.Bucket == "" {
		return doc.Errorf("influxdb.bucket", "missing (a 2.x bucket, or db/rp for 1.8)")
	}
	if in.TokenFile != "" && in.Org == "" {
		return doc.Errorf("influxdb.org", "missing: InfluxDB 2.x needs an organisation with a token")
	}
	if in.MaxBytes < MinInfluxBytes || in.MaxBytes > MaxInfluxBytes {
		return doc.Errorf("influxdb.max_bytes", "%d is not within %d (64 KiB)..%d (1 GiB)", in.MaxBytes, MinInfluxBytes, MaxInfluxBytes)
	}
	return nil
}

// checkHTTPURL checks an http(s) URL that must carry no credentials; its
// errors never repeat what may be a secret.
func checkHTTPURL(s string) error {
	if s == "" {
		return fmt.Errorf("missing (http://host:port or https://host:port)")
	}
	if brokerurl.HasUserinfo(s) {
		return fmt.Errorf("%s carries credentials (user:password@): remove them", brokerurl.Redact(s))
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%q is not an http:// or https:// URL with a host", brokerurl.Redact(s))
	}
	if u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
		return fmt.Errorf("%q has a query or fragment: remove it (tokens are given as files)", brokerurl.Redact(s))
	}
	return nil
}

// readSecrets reads every SNMP secret, each error naming the field.
func (c *Config) readSecrets(doc *yamlconf.Doc) error {
	c.secrets = map[string]credSecrets{}
	for _, name := range sortedKeys(c.Credentials) {
		cr := c.Credentials[name]
		p := "credentials." + name
		var s credSecrets
		var err error
		read := func(field, file, env string, minLen int) string {
			if err != nil || (file == "" && env == "") {
				return ""
			}
			var v string
			v, err = ReadSecret(file, env)
			path := p + "." + field + "_file"
			if file == "" {
				path = p + "." + field + "_env"
			}
			switch {
			case err != nil:
				err = doc.Errorf(path, "%v", err)
			case len(v) < minLen:
				err = doc.Errorf(path, "the %s is shorter than %d characters, the least SNMPv3 takes", field, minLen)
			}
			return v
		}
		s.community = read("community", cr.CommunityFile, cr.CommunityEnv, 1)
		s.auth = read("auth_pass", cr.AuthPassFile, cr.AuthPassEnv, 8)
		s.priv = read("priv_pass", cr.PrivPassFile, cr.PrivPassEnv, 8)
		if err != nil {
			return err
		}
		c.secrets[name] = s
	}
	return nil
}

// ReadSecret reads a secret of one line from the file at path (at most
// MaxSecretFile bytes, its line break dropped), or else from the
// environment variable env. An empty or unset secret is an error. Errors
// name the file or variable, never the content.
func ReadSecret(path, env string) (string, error) {
	var s string
	if path != "" {
		f, err := os.Open(path)
		if err != nil {
			return "", err
		}
		defer f.Close()
		b, err := io.ReadAll(io.LimitReader(f, MaxSecretFile+1))
		if err != nil {
			return "", fmt.Errorf("read %s: %w", path, err)
		}
		if len(b) > MaxSecretFile {
			return "", fmt.Errorf("%s: more than %d bytes, not a secret of one line", path, MaxSecretFile)
		}
		s = string(b)
	} else {
		v, ok := os.LookupEnv(env)
		if !ok {
			return "", fmt.Errorf("environment variable %s is not set", env)
		}
		s = v
	}
	what := path
	if what == "" {
		what = "environment variable " + env
	}
	s = strings.TrimRight(s, "\r\n")
	switch {
	case s == "":
		return "", fmt.Errorf("%s is empty", what)
	case strings.ContainsAny(s, "\r\n"):
		return "", fmt.Errorf("%s holds more than one line (a secret is one line)", what)
	}
	return s, nil
}

// checkHost reads the MQTT and InfluxDB secret files, loads the TLS
// files, as run will, and reads the webhooks' tokens.
func (c *Config) checkHost(doc *yamlconf.Doc) error {
	m := &c.MQTT
	if m.PasswordFile != "" {
		if _, err := ReadSecret(m.PasswordFile, ""); err != nil {
			return doc.Errorf("mqtt.password_file", "%v", err)
		}
	}
	if _, key, err := m.TLS.Config(); err != nil {
		return doc.Errorf("mqtt.tls."+key, "%v", err)
	}
	if in := c.InfluxDB; in != nil {
		for _, f := range []struct{ path, file string }{{"influxdb.token_file", in.TokenFile}, {"influxdb.password_file", in.PasswordFile}} {
			if f.file == "" {
				continue
			}
			if _, err := ReadSecret(f.file, ""); err != nil {
				return doc.Errorf(f.path, "%v", err)
			}
		}
	}
	if err := c.HTTP.readHTTP(doc, c.inv); err != nil {
		return err
	}
	if err := c.checkRolloutHost(doc); err != nil {
		return err
	}
	return c.Alerts.ReadSecrets(doc, "alerts", ReadSecret)
}

// credentialKinds returns the version of each named credential, for the
// inventory's checks.
func (c *Config) credentialKinds() map[string]string {
	k := make(map[string]string, len(c.Credentials))
	for name, cr := range c.Credentials {
		k[name] = cr.Version
	}
	return k
}

// LoadedInventory returns the inventory read by Load (nil after Parse).
func (c *Config) LoadedInventory() *Inventory { return c.inv }

// DeviceConfig is one device to poll: its row of devices.csv turned into an
// SNMP configuration, secrets included, and its poll interval.
type DeviceConfig struct {
	// ID, Site and Parent are the device's columns of devices.csv.
	ID, Site, Parent string
	// Interval is the time between two polls.
	Interval time.Duration
	// SNMP is the device's SNMP configuration, validated, defaults filled.
	SNMP snmp.Config
}

// Devices turns each row of devices.csv into a DeviceConfig, with the
// poll settings (and the device's overrides) and the secrets read by Load.
// Errors name devices.csv and the device's line, never a secret.
func (c *Config) Devices() ([]DeviceConfig, error) {
	if c.inv == nil {
		return nil, fmt.Errorf("config: no inventory loaded (Load reads it, Parse does not)")
	}
	return c.devicesOf(c.inv)
}

// FileDevices returns the devices of the inventory the file names, as
// Devices does: those of the loaded inventory, unless LoadWith read
// another, in which case the file's inventory is read now (its
// credentials checked as Load checks them). A report over another
// inventory uses it to poll with the configuration's credentials only
// the devices the configuration polls.
func (c *Config) FileDevices() ([]DeviceConfig, error) {
	if !c.otherInv {
		return c.Devices()
	}
	inv, err := LoadInventory(c.fileInv, c.credentialKinds())
	if err != nil {
		return nil, err
	}
	return c.devicesOf(inv)
}

// devicesOf is Devices for the inventory inv.
func (c *Config) devicesOf(inv *Inventory) ([]DeviceConfig, error) {
	out := make([]DeviceConfig, 0, len(inv.Devices))
	for _, d := range inv.Devices {
		s := c.Poll.PollSettings
		if o, ok := c.Poll.Overrides[d.ID]; ok {
			s.Interval = or(o.Interval, s.Interval)
			s.Timeout = or(o.Timeout, s.Timeout)
			s.MaxRepetitions = or(o.MaxRepetitions, s.MaxRepetitions)
			if o.Retries != nil {
				s.Retries = o.Retries
			}
		}
		sc := snmp.Config{Target: d.Address, Timeout: s.Timeout, Retries: *s.Retries, MaxRepetitions: uint32(s.MaxRepetitions)}
		if sc.Retries == 0 {
			sc.Retries = -1 // snmp.Config reads 0 as the default
		}
		if d.Credentials == "" {
			sc.Version, sc.Community = "2c", d.Community()
		} else {
			cr, sec := c.Credentials[d.Credentials], c.secrets[d.Credentials]
			sc.Version = cr.Version
			if cr.Version == "3" {
				sc.V3 = snmp.V3{User: cr.User, AuthProto: cr.AuthProto, AuthPass: sec.auth,
					PrivProto: cr.PrivProto, PrivPass: sec.priv, ContextName: cr.ContextName}
			} else {
				sc.Community = sec.community
			}
		}
		if err := sc.Validate(); err != nil {
			return nil, fmt.Errorf("%s:%d: device %s: %w", filepath.Join(inv.Dir, "devices.csv"), d.Line, d.ID, err)
		}
		out = append(out, DeviceConfig{ID: d.ID, Site: d.Site, Parent: d.Parent, Interval: s.Interval, SNMP: sc})
	}
	return out, nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
