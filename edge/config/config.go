// Package config is ngic-edge's configuration: a YAML file decoded strictly
// and validated at start-up, with errors that name the field and its line.
package config

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"slices"
	"time"

	"golang.org/x/sys/unix"

	"github.com/ngic/ngic/drivers/gpio/gpiopins"
	"github.com/ngic/ngic/drivers/gpio/labpin"
	"github.com/ngic/ngic/drivers/rfid"
	"github.com/ngic/ngic/edge/publish/brokerurl"
	"github.com/ngic/ngic/internal/tlsconf"
	"github.com/ngic/ngic/internal/yamlconf"
	"github.com/ngic/ngic/telemetry"
)

// Config is the whole edge configuration.
type Config struct {
	// Gateway names this gateway in topics and payloads.
	Gateway string `yaml:"gateway"`
	// Spool is the on-disk event spool.
	Spool Spool `yaml:"spool"`
	// MQTT is the broker connection.
	MQTT MQTT `yaml:"mqtt"`
	// Readers are the RFID readers on serial ports.
	Readers []Reader `yaml:"readers"`
	// Sensors are the photo-eyes on GPIO pins.
	Sensors []Sensor `yaml:"sensors"`
	// Pairs are pairs of photo-eyes that count passages in and out.
	Pairs []Pair `yaml:"pairs"`
	// HTTP serves /healthz and /metrics.
	HTTP HTTP `yaml:"http"`
	// Health is the periodic health message sent to the broker.
	Health Health `yaml:"health"`
	// Log sets the log level.
	Log Log `yaml:"log"`
	// Update configures signed updates (see Update).
	Update Update `yaml:"update"`

	// checkFiles makes Validate check what run will use on this machine
	// (the secret and certificate files, the spool's file and directory), as
	// Load does for the machine the file is meant for.
	checkFiles bool
	// labPins accepts emulated lab pins in sensors[].pin (Options.LabPins).
	labPins bool
}

// Options change what LoadWith and ParseWith accept.
type Options struct {
	// LabPins accepts emulated lab pins (drivers/gpio/labpin, "lab:door-1")
	// in sensors[].pin. Lab only: ngic-edge sets it only when run with
	// --lab-control, which serves the control that drives them; without it
	// a lab pin is refused.
	LabPins bool
}

// Spool configures the event spool.
type Spool struct {
	// Path is the spool file. Its directory must exist: run does not
	// create it (the systemd unit's StateDirectory does).
	Path string `yaml:"path"`
	// MaxBytes bounds the stored payload bytes (default 64 MiB, at most
	// MaxSpoolBytes).
	MaxBytes int64 `yaml:"max_bytes"`
	// MaxRecords bounds the number of stored events (default 1,000,000, at
	// most MaxSpoolRecords).
	MaxRecords int `yaml:"max_records"`
	// Overflow is "drop-oldest" (default) or "reject-new".
	Overflow string `yaml:"overflow"`
}

// MQTT configures the broker connection.
type MQTT struct {
	// Broker is tcp://host:port, ssl://host:port (also mqtt://, mqtts://,
	// tls://, ws://, wss://), or "embedded" for an in-process broker (demos
	// and labs). It must not carry credentials: an '@' anywhere in it
	// (user:password@) and a query or fragment are refused; the username
	// is Username and the password comes from PasswordFile.
	Broker string `yaml:"broker"`
	// EmbeddedListen is where the embedded broker listens (default
	// 127.0.0.1:1883).
	EmbeddedListen string `yaml:"embedded_listen"`
	// ClientID defaults to ngic-edge-<gateway>.
	ClientID string `yaml:"client_id"`
	// Username for the broker.
	Username string `yaml:"username"`
	// PasswordFile holds the password; else NGIC_MQTT_PASSWORD is used.
	PasswordFile string `yaml:"password_file"`
	// TLS configures certificates for TLS brokers (ssl://, tls://, mqtts://,
	// wss://); setting any of it for a plaintext broker is an error.
	TLS TLS `yaml:"tls"`
	// KeepAlive is the MQTT keep-alive (default 30s), whole seconds from 1s
	// to 65535s (the protocol's 16-bit field).
	KeepAlive time.Duration `yaml:"keepalive"`
	// Window bounds the events published and not yet acknowledged
	// (default 1000, at most 65535); the messages carrying them are as many
	// at most.
	Window int `yaml:"window"`
	// BatchEvents bounds the consecutive events of one source sent in one
	// message (default 64; 1 sends each event alone; at most
	// telemetry.MaxBatchEvents). Only events already spooled are grouped:
	// none waits for another.
	BatchEvents int `yaml:"batch_events"`
	// BatchBytes bounds the size of a message of several events (default
	// 16 KiB, within MinBatchBytes..MaxBatchBytes); an event larger than
	// that goes alone.
	BatchBytes int `yaml:"batch_bytes"`
	// MinBackoff and MaxBackoff bound the wait between reconnects (default 500ms, 30s).
	MinBackoff time.Duration `yaml:"min_backoff"`
	// MaxBackoff is the longest wait between reconnects.
	MaxBackoff time.Duration `yaml:"max_backoff"`
}

// TLS configures the broker's TLS (shared with the controller's
// configuration).
type TLS = tlsconf.Client

// Reader configures one RFID reader.
type Reader struct {
	// Name is the reader's source name in topics and events.
	Name string `yaml:"name"`
	// Protocol is em4100, magicrf, mercury or chafon.
	Protocol string `yaml:"protocol"`
	// Device is the serial device path.
	Device string `yaml:"device"`
	// Baud defaults to the protocol's usual speed; else one of BaudRates.
	Baud int `yaml:"baud"`
	// DepartAfter is how long a tag must go unread to depart (default 3s).
	DepartAfter time.Duration `yaml:"depart_after"`
	// PowerDBm sets the transmit power of UHF readers (0 keeps the reader's).
	PowerDBm float64 `yaml:"power_dbm"`
	// Region sets a UHF reader's regulatory region (empty keeps the reader's).
	Region string `yaml:"region"`
	// PollInterval overrides the protocol's poll interval.
	PollInterval time.Duration `yaml:"poll_interval"`
}

// Sensor configures one photo-eye.
type Sensor struct {
	// Name is the sensor's source name.
	Name string `yaml:"name"`
	// Pin is the GPIO pin name (e.g. GPIO17).
	Pin string `yaml:"pin"`
	// Active is the level that means "beam blocked": low (default) or high.
	Active string `yaml:"active"`
	// Pull is up, down, none (default: keep) or float.
	Pull string `yaml:"pull"`
	// Debounce is how long a level must hold to count (default 20ms).
	Debounce time.Duration `yaml:"debounce"`
	// HeldAfter raises "held" when blocked this long (0: never).
	HeldAfter time.Duration `yaml:"held_after"`
}

// Pair is two sensors that give direction: outer then inner is "in".
type Pair struct {
	// Name is the pair's source name.
	Name string `yaml:"name"`
	// Outer and Inner name two sensors.
	Outer string `yaml:"outer"`
	// Inner is the sensor passed second on the way in.
	Inner string `yaml:"inner"`
}

// HTTP configures the local status server.
type HTTP struct {
	// Listen is host:port (default 127.0.0.1:9470); "off" disables it.
	Listen string `yaml:"listen"`
}

// Health configures the periodic health message (telemetry.Health on
// telemetry.HealthTopic).
type Health struct {
	// Interval is how often the gateway publishes its health while
	// connected to the broker: a duration within MinHealthInterval and
	// MaxHealthInterval (default 60s), or "off" or 0 to send none.
	Interval string `yaml:"interval"`
	// Every is Interval as Validate read it: 0 when off.
	Every time.Duration `yaml:"-"`
}

// Log configures logging.
type Log struct {
	// Level is debug, info (default), warn or error.
	Level string `yaml:"level"`
}

// Defaults for empty fields.
const (
	DefaultSpoolPath      = "/var/lib/ngic-edge/spool.db"
	DefaultMaxBytes       = 64 << 20
	DefaultMaxRecords     = 1_000_000
	DefaultWindow         = 1000
	DefaultBatchEvents    = 64
	DefaultBatchBytes     = 16 << 10
	DefaultHTTPListen     = "127.0.0.1:9470"
	DefaultEmbeddedListen = "127.0.0.1:1883"
	DefaultKeepAlive      = 30 * time.Second
	DefaultMinBackoff     = 500 * time.Millisecond
	DefaultMaxBackoff     = 30 * time.Second
	DefaultDepartAfter    = 3 * time.Second
	DefaultDebounce       = 20 * time.Millisecond
	DefaultHealthInterval = 60 * time.Second
)

// Bounds of the checked fields.
const (
	// MinSpoolBytes and MinSpoolRecords are the smallest spool bounds
	// accepted: below them a spool would refuse or drop nearly every event.
	MinSpoolBytes   = 64 << 10
	MinSpoolRecords = 100
	// MaxSpoolBytes and MaxSpoolRecords are the largest: the spool is a
	// memory-mapped file holding the payloads and their overhead, and a
	// 32-bit gateway cannot map more than 2 GiB; events are a few hundred
	// bytes, so MaxSpoolBytes binds long before MaxSpoolRecords.
	MaxSpoolBytes   = 1 << 30
	MaxSpoolRecords = 10_000_000
	// MinBatchBytes and MaxBatchBytes bound mqtt.batch_bytes: a batch
	// under 1 KiB would hardly hold two events, and one over 60 KiB could
	// pass the controller's default ingest.max_payload (64 KiB), which
	// refuses the whole message.
	MinBatchBytes = 1 << 10
	MaxBatchBytes = 60 << 10
	// MaxKeepAlive is the longest MQTT keep-alive: the protocol sends it
	// in seconds in 16 bits.
	MaxKeepAlive = 65535 * time.Second
	// MinHealthInterval and MaxHealthInterval bound health.interval: more
	// often would be traffic for nothing, less often would leave a consumer
	// with numbers too old to act on.
	MinHealthInterval = 5 * time.Second
	MaxHealthInterval = time.Hour
)

// BaudRates are the serial speeds the serial driver (tarm/serial on Linux)
// can set; any other is refused when the port is opened.
var BaudRates = []int{50, 75, 110, 134, 150, 200, 300, 600, 1200, 1800, 2400, 4800, 9600, 19200, 38400,
	57600, 115200, 230400, 460800, 500000, 576000, 921600, 1000000, 1152000, 1500000, 2000000, 2500000,
	3000000, 3500000, 4000000}

// Load reads, decodes and validates the file at path, and checks what run
// will use on this machine: the password, CA, certificate and key files are
// read and parsed, and the spool's file and directory checked. Both run and
// check-config use it, so a file that passes check-config starts run.
func Load(path string) (*Config, error) { return LoadWith(path, Options{}) }

// LoadWith is Load with options.
func LoadWith(path string, o Options) (*Config, error) {
	c := Config{checkFiles: true, labPins: o.LabPins}
	doc, err := yamlconf.Load(path, &c)
	if err != nil {
		return nil, err
	}
	if err := c.Validate(doc); err != nil {
		return nil, err
	}
	return &c, nil
}

// Parse decodes and validates data (named name in errors), without looking
// at the files it names.
func Parse(name string, data []byte) (*Config, error) { return ParseWith(name, data, Options{}) }

// ParseWith is Parse with options.
func ParseWith(name string, data []byte, o Options) (*Config, error) {
	c := Config{labPins: o.LabPins}
	if err := yamlconf.DecodeValid(name, data, &c); err != nil {
		return nil, err
	}
	return &c, nil
}

// Validate fills defaults and checks every field; doc (may be nil) gives
// the lines for error messages.
func (c *Config) Validate(doc *yamlconf.Doc) error {
	c.setDefaults()
	if err := telemetry.ValidateName(c.Gateway); err != nil {
		return doc.Errorf("gateway", "%v", err)
	}
	// The gateway's own events (events.lost) use the source LossSource.
	names := map[string]string{telemetry.LossSource: "the gateway's own events (events.lost)"}
	unique := func(path, name string) error {
		if err := telemetry.ValidateName(name); err != nil {
			return doc.Errorf(path, "%v", err)
		}
		if prev, ok := names[name]; ok {
			return doc.Errorf(path, "name %q already used by %s", name, prev)
		}
		names[name] = path
		return nil
	}
	for _, check := range []func() error{
		func() error { return c.Spool.validate(doc) },
		func() error { return c.MQTT.validate(doc, c.Gateway) },
		func() error { return c.validateReaders(doc, unique) },
		func() error { return c.validateSensors(doc, unique) },
		func() error { return c.validatePairs(doc, unique) },
		func() error { return c.HTTP.validate(doc) },
		c.checkListenClash(doc),
		func() error { return c.Health.validate(doc) },
		func() error { return c.Log.validate(doc) },
		func() error { return c.Update.validate(doc, c.Spool.Path) },
	} {
		if err := check(); err != nil {
			return err
		}
	}
	if c.checkFiles {
		if err := c.Update.checkHost(doc); err != nil {
			return err
		}
		return c.checkHost(doc)
	}
	return nil
}

// checkHost checks, on this machine, what run will use: it reads the
// password file, loads the TLS files as the gateway does, and checks that
// the spool can be opened or created.
func (c *Config) checkHost(doc *yamlconf.Doc) error {
	if err := checkSpoolPath(c.Spool.Path); err != nil {
		return doc.Errorf("spool.path", "%v", err)
	}
	m := &c.MQTT
	if m.PasswordFile != "" {
		if _, err := yamlconf.Secret(m.PasswordFile, ""); err != nil {
			return doc.Errorf("mqtt.password_file", "%v", err)
		}
	}
	if _, key, err := m.TLS.Config(); err != nil {
		return doc.Errorf("mqtt.tls."+key, "%v", err)
	}
	// Run opens each sensor's pin by name and refuses to start without it;
	// looking it up does not claim the line.
	for i, sc := range c.Sensors {
		if labpin.IsLab(sc.Pin) {
			continue // emulated: validateSensors checked it
		}
		if _, err := gpiopins.Open(sc.Pin); err != nil {
			return doc.Errorf(fmt.Sprintf("sensors[%d].pin", i), "%v", err)
		}
	}
	return nil
}

// checkListenClash returns the check that the embedded broker and the
// status server do not listen on the same port: run would start the
// broker, then fail to listen for /healthz.
func (c *Config) checkListenClash(doc *yamlconf.Doc) func() error {
	return func() error {
		if c.MQTT.Broker != "embedded" || c.HTTP.Listen == "off" {
			return nil
		}
		bh, bp, err1 := net.SplitHostPort(c.MQTT.EmbeddedListen)
		hh, hp, err2 := net.SplitHostPort(c.HTTP.Listen)
		if err1 != nil || err2 != nil {
			return nil // reported by their own checks
		}
		bn, _ := net.LookupPort("tcp", bp)
		hn, _ := net.LookupPort("tcp", hp)
		unspecified := func(h string) bool { return h == "" || net.ParseIP(h) != nil && net.ParseIP(h).IsUnspecified() }
		if bn != 0 && bn == hn && (bh == hh || unspecified(bh) || unspecified(hh)) {
			return doc.Errorf("http.listen", "%s is also mqtt.embedded_listen (%s): the two cannot listen on one port",
				c.HTTP.Listen, c.MQTT.EmbeddedListen)
		}
		return nil
	}
}

// setDefaults fills every empty field that has a default.
func (c *Config) setDefaults() {
	s := &c.Spool
	s.Path = or(s.Path, DefaultSpoolPath)
	s.MaxBytes = or(s.MaxBytes, DefaultMaxBytes)
	s.MaxRecords = or(s.MaxRecords, DefaultMaxRecords)
	s.Overflow = or(s.Overflow, "drop-oldest")
	m := &c.MQTT
	if m.Broker == "embedded" {
		m.EmbeddedListen = or(m.EmbeddedListen, DefaultEmbeddedListen)
	}
	m.ClientID = or(m.ClientID, "ngic-edge-"+c.Gateway)
	m.KeepAlive = or(m.KeepAlive, DefaultKeepAlive)
	m.Window = or(m.Window, DefaultWindow)
	m.BatchEvents = or(m.BatchEvents, DefaultBatchEvents)
	m.BatchBytes = or(m.BatchBytes, DefaultBatchBytes)
	m.MinBackoff = or(m.MinBackoff, DefaultMinBackoff)
	m.MaxBackoff = or(m.MaxBackoff, DefaultMaxBackoff)
	for i := range c.Readers {
		c.Readers[i].DepartAfter = or(c.Readers[i].DepartAfter, DefaultDepartAfter)
	}
	for i := range c.Sensors {
		c.Sensors[i].Active = or(c.Sensors[i].Active, "low")
		c.Sensors[i].Debounce = or(c.Sensors[i].Debounce, DefaultDebounce)
	}
	c.HTTP.Listen = or(c.HTTP.Listen, DefaultHTTPListen)
	c.Health.Interval = or(c.Health.Interval, DefaultHealthInterval.String())
	c.Log.Level = or(c.Log.Level, "info")
	c.Update.setDefaults()
}

// or returns v, or def when v is the zero value.
func or[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

func (s *Spool) validate(doc *yamlconf.Doc) error {
	if s.MaxBytes < MinSpoolBytes {
		return doc.Errorf("spool.max_bytes", "%d bytes is below the minimum of %d (64 KiB); the value is in bytes: 67108864 is 64 MiB",
			s.MaxBytes, MinSpoolBytes)
	}
	if s.MaxBytes > MaxSpoolBytes {
		return doc.Errorf("spool.max_bytes", "%d bytes is above the maximum of %d (1 GiB)", s.MaxBytes, MaxSpoolBytes)
	}
	if s.MaxRecords < MinSpoolRecords || s.MaxRecords > MaxSpoolRecords {
		return doc.Errorf("spool.max_records", "%d is not within %d..%d", s.MaxRecords, MinSpoolRecords, MaxSpoolRecords)
	}
	switch s.Overflow {
	case "drop-oldest", "reject-new":
	default:
		return doc.Errorf("spool.overflow", "%q is neither drop-oldest nor reject-new", s.Overflow)
	}
	return nil
}

// checkSpoolPath checks that the spool can be opened or created at path:
// an existing spool is a regular file this process may write; a new one
// goes in an existing directory it may write (run does not create it).
func checkSpoolPath(path string) error {
	fi, err := os.Stat(path)
	switch {
	case err == nil && !fi.Mode().IsRegular():
		return fmt.Errorf("%s is not a regular file (%v)", path, fi.Mode().Type())
	case err == nil:
		if err := unix.Access(path, unix.R_OK|unix.W_OK); err != nil {
			return fmt.Errorf("%s: cannot be read and written: %w", path, err)
		}
		return nil
	case !errors.Is(err, fs.ErrNotExist):
		return err
	}
	dir := filepath.Dir(path)
	di, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("directory %s does not exist (run does not create it; the systemd unit's StateDirectory does)", dir)
	case err != nil:
		return err
	case !di.IsDir():
		return fmt.Errorf("%s is not a directory", dir)
	}
	if err := unix.Access(dir, unix.W_OK|unix.X_OK); err != nil {
		return fmt.Errorf("directory %s: cannot create the spool in it: %w", dir, err)
	}
	return nil
}

func (m *MQTT) validate(doc *yamlconf.Doc, gateway string) error {
	if m.Broker == "" {
		return doc.Errorf("mqtt.broker", "missing (tcp://host:1883, ssl://host:8883 or embedded)")
	}
	// Credentials in the URL would bypass the username rule below and show
	// wherever the broker is shown; the message never repeats them.
	if brokerurl.HasUserinfo(m.Broker) {
		return doc.Errorf("mqtt.broker", "%s carries credentials (user:password@): remove them; the username is mqtt.username "+
			"and the password comes from mqtt.password_file or NGIC_MQTT_PASSWORD", brokerurl.Redact(m.Broker))
	}
	tlsSet := m.TLS != TLS{}
	if m.Broker == "embedded" {
		if err := tlsconf.CheckListen(m.EmbeddedListen); err != nil {
			return doc.Errorf("mqtt.embedded_listen", "%v", err)
		}
		if tlsSet {
			return doc.Errorf(tlsField(m.TLS), "set, but the embedded broker speaks plain TCP: remove mqtt.tls")
		}
	} else {
		if err := brokerurl.Check(m.Broker, false); err != nil {
			return doc.Errorf("mqtt.broker", "%v", err)
		}
		if tlsSet && !brokerurl.IsTLS(m.Broker) {
			return doc.Errorf(tlsField(m.TLS), "set, but mqtt.broker %s is plaintext: the TLS settings would be ignored and "+
				"the password and events sent in the clear; use ssl://host:8883", m.Broker)
		}
	}
	if len(m.ClientID) > 65535 {
		return doc.Errorf("mqtt.client_id", "too long")
	}
	if m.Username != "" && m.Username != gateway {
		// The broker's ACL (deploy/mosquitto/ngic.acl) lets a user write only
		// under its own name; MQTT 3.1.1 brokers acknowledge a denied publish
		// and drop it, so a mismatch would lose every event silently.
		return doc.Errorf("mqtt.username", "%q differs from gateway %q: the broker's ACL grants each gateway the topics of its own name, so the username must be the gateway name", m.Username, gateway)
	}
	if (m.TLS.CertFile == "") != (m.TLS.KeyFile == "") {
		return doc.Errorf("mqtt.tls", "cert_file and key_file go together")
	}
	if m.KeepAlive < time.Second || m.KeepAlive > MaxKeepAlive {
		return doc.Errorf("mqtt.keepalive", "%v is not within 1s..%v (MQTT sends it in seconds in 16 bits)", m.KeepAlive, MaxKeepAlive)
	}
	if m.KeepAlive%time.Second != 0 {
		return doc.Errorf("mqtt.keepalive", "%v is not a whole number of seconds (MQTT sends it in seconds)", m.KeepAlive)
	}
	if m.Window < 1 || m.Window > 65535 {
		return doc.Errorf("mqtt.window", "%d is not within 1..65535 (MQTT packet identifiers)", m.Window)
	}
	if m.BatchEvents < 1 || m.BatchEvents > telemetry.MaxBatchEvents {
		return doc.Errorf("mqtt.batch_events", "%d is not within 1..%d (1 sends each event alone)", m.BatchEvents, telemetry.MaxBatchEvents)
	}
	if m.BatchBytes < MinBatchBytes || m.BatchBytes > MaxBatchBytes {
		return doc.Errorf("mqtt.batch_bytes", "%d bytes is not within %d..%d (1 KiB..60 KiB: a message stays under the controller's "+
			"ingest.max_payload, 64 KiB by default)", m.BatchBytes, MinBatchBytes, MaxBatchBytes)
	}
	if m.MinBackoff < 0 {
		return doc.Errorf("mqtt.min_backoff", "%v is negative", m.MinBackoff)
	}
	if m.MaxBackoff < m.MinBackoff {
		return doc.Errorf("mqtt.max_backoff", "must be at least min_backoff (%v)", m.MinBackoff)
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

func (c *Config) validateReaders(doc *yamlconf.Doc, unique func(path, name string) error) error {
	devices := map[string]string{}
	for i := range c.Readers {
		r := &c.Readers[i]
		p := fmt.Sprintf("readers[%d]", i)
		if err := unique(p+".name", r.Name); err != nil {
			return err
		}
		proto, err := rfid.Lookup(r.Protocol)
		if err != nil {
			return doc.Errorf(p+".protocol", "%v", err)
		}
		if r.Device == "" {
			return doc.Errorf(p+".device", "missing serial device path")
		}
		if prev, ok := devices[r.Device]; ok {
			return doc.Errorf(p+".device", "%s already used by %s", r.Device, prev)
		}
		devices[r.Device] = p
		if r.Baud != 0 && !slices.Contains(BaudRates, r.Baud) {
			return doc.Errorf(p+".baud", "%d is not a serial speed the driver can set: one of %v", r.Baud, BaudRates)
		}
		if r.DepartAfter < 0 {
			return doc.Errorf(p+".depart_after", "%v is negative", r.DepartAfter)
		}
		if r.PollInterval < 0 {
			return doc.Errorf(p+".poll_interval", "%v is negative", r.PollInterval)
		}
		if _, err := proto.NewSession(r.SessionOptions()); err != nil {
			return doc.Errorf(p, "%v", err)
		}
	}
	return nil
}

func (c *Config) validateSensors(doc *yamlconf.Doc, unique func(path, name string) error) error {
	pins := map[string]string{}
	for i := range c.Sensors {
		s := &c.Sensors[i]
		p := fmt.Sprintf("sensors[%d]", i)
		if err := unique(p+".name", s.Name); err != nil {
			return err
		}
		if s.Pin == "" {
			return doc.Errorf(p+".pin", "missing GPIO pin name")
		}
		if err := c.checkLabPin(s.Pin); err != nil {
			return doc.Errorf(p+".pin", "%v", err)
		}
		if prev, ok := pins[s.Pin]; ok {
			return doc.Errorf(p+".pin", "%s already used by %s", s.Pin, prev)
		}
		pins[s.Pin] = p
		switch s.Active {
		case "low", "high":
		default:
			return doc.Errorf(p+".active", "%q is neither low nor high", s.Active)
		}
		switch s.Pull {
		case "", "up", "down", "none", "float":
		default:
			return doc.Errorf(p+".pull", "%q is not up, down, none or float", s.Pull)
		}
		if s.Debounce < 0 {
			return doc.Errorf(p+".debounce", "%v is negative", s.Debounce)
		}
		if s.HeldAfter < 0 {
			return doc.Errorf(p+".held_after", "%v is negative", s.HeldAfter)
		}
	}
	return nil
}

// checkLabPin checks a pin name that is a lab pin's: accepted only with
// Options.LabPins, and well formed.
func (c *Config) checkLabPin(pin string) error {
	if !labpin.IsLab(pin) {
		return nil
	}
	if !c.labPins {
		return fmt.Errorf("%s is an emulated lab pin (%q): lab only, accepted only with the lab flag "+
			"(ngic-edge run --lab-control ADDR, check-config --lab); a gateway in service names a GPIO pin (GPIO17)", pin, labpin.Prefix)
	}
	return labpin.CheckName(pin)
}

func (c *Config) validatePairs(doc *yamlconf.Doc, unique func(path, name string) error) error {
	for i := range c.Pairs {
		pr := &c.Pairs[i]
		p := fmt.Sprintf("pairs[%d]", i)
		if err := unique(p+".name", pr.Name); err != nil {
			return err
		}
		for _, f := range []struct{ field, v string }{{"outer", pr.Outer}, {"inner", pr.Inner}} {
			if !c.hasSensor(f.v) {
				return doc.Errorf(p+"."+f.field, "%q is not a configured sensor", f.v)
			}
		}
		if pr.Outer == pr.Inner {
			return doc.Errorf(p+".inner", "outer and inner are the same sensor %q", pr.Inner)
		}
	}
	return nil
}

func (h *HTTP) validate(doc *yamlconf.Doc) error {
	if h.Listen == "off" {
		return nil
	}
	if err := tlsconf.CheckListen(h.Listen); err != nil {
		return doc.Errorf("http.listen", "%v", err)
	}
	return nil
}

func (h *Health) validate(doc *yamlconf.Doc) error {
	h.Every = 0
	if h.Interval == "off" {
		return nil
	}
	d, err := time.ParseDuration(h.Interval)
	if err != nil {
		return doc.Errorf("health.interval", "%q is not a duration (60s, 5m) nor off", h.Interval)
	}
	if d != 0 && (d < MinHealthInterval || d > MaxHealthInterval) {
		return doc.Errorf("health.interval", "%v is not within %v..%v (or off)", d, MinHealthInterval, MaxHealthInterval)
	}
	h.Every = d
	return nil
}

func (l *Log) validate(doc *yamlconf.Doc) error {
	switch l.Level {
	case "debug", "info", "warn", "error":
		return nil
	}
	return doc.Errorf("log.level", "%q is not debug, info, warn or error", l.Level)
}

func (c *Config) hasSensor(name string) bool {
	for _, s := range c.Sensors {
		if s.Name == name {
			return true
		}
	}
	return false
}

// SessionOptions returns the reader's protocol options.
func (r *Reader) SessionOptions() rfid.Options {
	return rfid.Options{Power: r.PowerDBm, Region: r.Region, PollInterval: r.PollInterval}
}
