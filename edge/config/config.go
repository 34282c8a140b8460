// Package config is ngic-edge's configuration: a YAML file decoded strictly
// and validated at start-up, with errors that name the field and its line.
package config

import (
	"fmt"
	"net"
	"net/url"
	"os"
	"time"

	"github.com/ngic/ngic/drivers/rfid"
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
	// Log sets the log level.
	Log Log `yaml:"log"`

	// checkFiles makes Validate open the secret and certificate files, as
	// Load does for the machine the file is meant for.
	checkFiles bool
}

// Spool configures the event spool.
type Spool struct {
	// Path is the spool file.
	Path string `yaml:"path"`
	// MaxBytes bounds the stored payload bytes (default 64 MiB).
	MaxBytes int64 `yaml:"max_bytes"`
	// MaxRecords bounds the number of stored events (default 1,000,000).
	MaxRecords int `yaml:"max_records"`
	// Overflow is "drop-oldest" (default) or "reject-new".
	Overflow string `yaml:"overflow"`
}

// MQTT configures the broker connection.
type MQTT struct {
	// Broker is tcp://host:port, ssl://host:port (also mqtts://, tls://), or
	// "embedded" for an in-process broker (demos and labs).
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
	// TLS configures certificates for ssl:// brokers.
	TLS TLS `yaml:"tls"`
	// KeepAlive is the MQTT keep-alive (default 30s).
	KeepAlive time.Duration `yaml:"keepalive"`
	// Window bounds the unacknowledged QoS 1 publishes (default 1000, at most 65535).
	Window int `yaml:"window"`
	// MinBackoff and MaxBackoff bound the wait between reconnects (default 500ms, 30s).
	MinBackoff time.Duration `yaml:"min_backoff"`
	MaxBackoff time.Duration `yaml:"max_backoff"`
}

// TLS configures the broker's TLS.
type TLS struct {
	// CAFile is a PEM bundle of the CAs to trust; empty uses the system's.
	CAFile string `yaml:"ca_file"`
	// CertFile and KeyFile are the client certificate and key (PEM).
	CertFile string `yaml:"cert_file"`
	KeyFile  string `yaml:"key_file"`
	// ServerName overrides the name checked in the broker's certificate.
	ServerName string `yaml:"server_name"`
}

// Reader configures one RFID reader.
type Reader struct {
	// Name is the reader's source name in topics and events.
	Name string `yaml:"name"`
	// Protocol is em4100, magicrf, mercury or chafon.
	Protocol string `yaml:"protocol"`
	// Device is the serial device path.
	Device string `yaml:"device"`
	// Baud defaults to the protocol's usual speed.
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
	Inner string `yaml:"inner"`
}

// HTTP configures the local status server.
type HTTP struct {
	// Listen is host:port (default 127.0.0.1:9470); "off" disables it.
	Listen string `yaml:"listen"`
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
	DefaultHTTPListen     = "127.0.0.1:9470"
	DefaultEmbeddedListen = "127.0.0.1:1883"
	// MinSpoolBytes and MinSpoolRecords are the smallest spool bounds
	// accepted: below them a spool would refuse or drop nearly every event.
	MinSpoolBytes   = 64 << 10
	MinSpoolRecords = 100
)

// Load reads, decodes and validates the file at path.
func Load(path string) (*Config, error) {
	c := Config{checkFiles: true}
	doc, err := yamlconf.Load(path, &c)
	if err != nil {
		return nil, err
	}
	if err := c.Validate(doc); err != nil {
		return nil, err
	}
	return &c, nil
}

// Parse decodes and validates data (named name in errors).
func Parse(name string, data []byte) (*Config, error) {
	var c Config
	doc, err := yamlconf.Decode(name, data, &c)
	if err != nil {
		return nil, err
	}
	if err := c.Validate(doc); err != nil {
		return nil, err
	}
	return &c, nil
}

// Validate fills defaults and checks every field; doc (may be nil) gives
// the lines for error messages.
func (c *Config) Validate(doc *yamlconf.Doc) error {
	if err := telemetry.ValidateName(c.Gateway); err != nil {
		return doc.Errorf("gateway", "%v", err)
	}
	if c.Spool.Path == "" {
		c.Spool.Path = DefaultSpoolPath
	}
	if c.Spool.MaxBytes == 0 {
		c.Spool.MaxBytes = DefaultMaxBytes
	}
	if c.Spool.MaxBytes < MinSpoolBytes {
		return doc.Errorf("spool.max_bytes", "%d bytes is below the minimum of %d (64 KiB); the value is in bytes: 67108864 is 64 MiB",
			c.Spool.MaxBytes, MinSpoolBytes)
	}
	if c.Spool.MaxRecords == 0 {
		c.Spool.MaxRecords = DefaultMaxRecords
	}
	if c.Spool.MaxRecords < MinSpoolRecords {
		return doc.Errorf("spool.max_records", "%d is below the minimum of %d", c.Spool.MaxRecords, MinSpoolRecords)
	}
	switch c.Spool.Overflow {
	case "":
		c.Spool.Overflow = "drop-oldest"
	case "drop-oldest", "reject-new":
	default:
		return doc.Errorf("spool.overflow", "%q is neither drop-oldest nor reject-new", c.Spool.Overflow)
	}
	if err := c.validateMQTT(doc); err != nil {
		return err
	}
	names := map[string]string{}
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
		if r.Baud < 0 || r.Baud > 4_000_000 {
			return doc.Errorf(p+".baud", "%d is not a serial speed", r.Baud)
		}
		if r.DepartAfter < 0 || r.PollInterval < 0 {
			return doc.Errorf(p, "depart_after and poll_interval must not be negative")
		}
		if r.DepartAfter == 0 {
			r.DepartAfter = 3 * time.Second
		}
		if _, err := proto.NewSession(r.SessionOptions()); err != nil {
			return doc.Errorf(p, "%v", err)
		}
	}
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
		if prev, ok := pins[s.Pin]; ok {
			return doc.Errorf(p+".pin", "%s already used by %s", s.Pin, prev)
		}
		pins[s.Pin] = p
		switch s.Active {
		case "":
			s.Active = "low"
		case "low", "high":
		default:
			return doc.Errorf(p+".active", "%q is neither low nor high", s.Active)
		}
		switch s.Pull {
		case "", "up", "down", "none", "float":
		default:
			return doc.Errorf(p+".pull", "%q is not up, down, none or float", s.Pull)
		}
		if s.Debounce < 0 || s.HeldAfter < 0 {
			return doc.Errorf(p, "debounce and held_after must not be negative")
		}
		if s.Debounce == 0 {
			s.Debounce = 20 * time.Millisecond
		}
	}
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
	if c.HTTP.Listen == "" {
		c.HTTP.Listen = DefaultHTTPListen
	}
	if c.HTTP.Listen != "off" {
		if _, _, err := net.SplitHostPort(c.HTTP.Listen); err != nil {
			return doc.Errorf("http.listen", "%v", err)
		}
	}
	switch c.Log.Level {
	case "":
		c.Log.Level = "info"
	case "debug", "info", "warn", "error":
	default:
		return doc.Errorf("log.level", "%q is not debug, info, warn or error", c.Log.Level)
	}
	return nil
}

func (c *Config) hasSensor(name string) bool {
	for _, s := range c.Sensors {
		if s.Name == name {
			return true
		}
	}
	return false
}

func (c *Config) validateMQTT(doc *yamlconf.Doc) error {
	m := &c.MQTT
	if m.Broker == "" {
		return doc.Errorf("mqtt.broker", "missing (tcp://host:1883, ssl://host:8883 or embedded)")
	}
	if m.Broker == "embedded" {
		if m.EmbeddedListen == "" {
			m.EmbeddedListen = DefaultEmbeddedListen
		}
		if _, _, err := net.SplitHostPort(m.EmbeddedListen); err != nil {
			return doc.Errorf("mqtt.embedded_listen", "%v", err)
		}
	} else {
		u, err := url.Parse(m.Broker)
		if err != nil {
			return doc.Errorf("mqtt.broker", "%v", err)
		}
		switch u.Scheme {
		case "tcp", "mqtt", "ssl", "tls", "mqtts":
		default:
			return doc.Errorf("mqtt.broker", "scheme %q: want tcp, mqtt, ssl, tls or mqtts", u.Scheme)
		}
		if u.Host == "" {
			return doc.Errorf("mqtt.broker", "no host in %q", m.Broker)
		}
	}
	if m.ClientID == "" {
		m.ClientID = "ngic-edge-" + c.Gateway
	}
	if len(m.ClientID) > 65535 {
		return doc.Errorf("mqtt.client_id", "too long")
	}
	if m.Username != "" && m.Username != c.Gateway {
		// The broker's ACL (deploy/mosquitto/ngic.acl) lets a user write only
		// under its own name; MQTT 3.1.1 brokers acknowledge a denied publish
		// and drop it, so a mismatch would lose every event silently.
		return doc.Errorf("mqtt.username", "%q differs from gateway %q: the broker's ACL grants each gateway the topics of its own name, so the username must be the gateway name", m.Username, c.Gateway)
	}
	for _, f := range []struct{ path, file string }{
		{"mqtt.password_file", m.PasswordFile}, {"mqtt.tls.ca_file", m.TLS.CAFile},
		{"mqtt.tls.cert_file", m.TLS.CertFile}, {"mqtt.tls.key_file", m.TLS.KeyFile},
	} {
		if f.file == "" || !c.checkFiles {
			continue
		}
		fh, err := os.Open(f.file)
		if err != nil {
			return doc.Errorf(f.path, "%v", err)
		}
		fh.Close()
	}
	if (m.TLS.CertFile == "") != (m.TLS.KeyFile == "") {
		return doc.Errorf("mqtt.tls", "cert_file and key_file go together")
	}
	if m.KeepAlive == 0 {
		m.KeepAlive = 30 * time.Second
	}
	if m.KeepAlive < time.Second {
		return doc.Errorf("mqtt.keepalive", "%v is below 1s", m.KeepAlive)
	}
	if m.Window == 0 {
		m.Window = DefaultWindow
	}
	if m.Window < 1 || m.Window > 65535 {
		return doc.Errorf("mqtt.window", "%d is not within 1..65535 (MQTT packet identifiers)", m.Window)
	}
	if m.MinBackoff == 0 {
		m.MinBackoff = 500 * time.Millisecond
	}
	if m.MaxBackoff == 0 {
		m.MaxBackoff = 30 * time.Second
	}
	if m.MinBackoff < 0 || m.MaxBackoff < m.MinBackoff {
		return doc.Errorf("mqtt.max_backoff", "must be at least min_backoff (%v)", m.MinBackoff)
	}
	return nil
}

// SessionOptions returns the reader's protocol options.
func (r *Reader) SessionOptions() rfid.Options {
	return rfid.Options{Power: r.PowerDBm, Region: r.Region, PollInterval: r.PollInterval}
}
