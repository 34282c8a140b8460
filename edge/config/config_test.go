package config

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"

	"github.com/ngic/ngic/drivers/rfid"
	_ "github.com/ngic/ngic/drivers/rfid/all"
	"github.com/ngic/ngic/drivers/rfid/link"
	"github.com/ngic/ngic/edge/publish"
	"github.com/ngic/ngic/internal/testenv"
)

// TestSampleConfigs loads every sample configuration in deploy/edge so they
// never rot.
func TestSampleConfigs(t *testing.T) {
	files, _ := filepath.Glob("../../deploy/edge/*.yaml")
	if len(files) < 2 {
		t.Fatalf("sample configs found: %v", files)
	}
	for _, f := range files {
		// The files the samples name (/etc/ngic/...) exist only on a gateway:
		// check everything else.
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		c, err := Parse(f, b)
		if err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		if c.Gateway == "" || len(c.Readers) == 0 {
			t.Errorf("%s: %+v", f, c)
		}
	}
}

func TestDefaults(t *testing.T) {
	c, err := Parse("t.yaml", []byte("gateway: g1\nmqtt:\n  broker: tcp://127.0.0.1:1883\nreaders:\n  - name: r\n    protocol: magicrf\n    device: /dev/ttyUSB0\nsensors:\n  - name: s\n    pin: GPIO4\n"))
	if err != nil {
		t.Fatal(err)
	}
	if c.MQTT.ClientID != "ngic-edge-g1" || c.MQTT.Window != DefaultWindow || c.MQTT.BatchEvents != DefaultBatchEvents ||
		c.MQTT.BatchBytes != DefaultBatchBytes || c.Spool.Overflow != "drop-oldest" ||
		c.Readers[0].DepartAfter != 3*time.Second || c.Sensors[0].Active != "low" || c.Sensors[0].Debounce != 20*time.Millisecond ||
		c.HTTP.Listen != DefaultHTTPListen || c.Log.Level != "info" {
		t.Fatalf("defaults: %+v", c)
	}
}

// TestBatchBounds: the bounds of a batch are accepted, 1 event sends each
// alone, and the largest batch stays under the controller's default
// ingest.max_payload.
func TestBatchBounds(t *testing.T) {
	base := "gateway: g1\nmqtt:\n  broker: tcp://127.0.0.1:1883\n"
	for _, tc := range []struct {
		yaml          string
		events, bytes int
	}{
		{"  batch_events: 1\n", 1, DefaultBatchBytes},
		{"  batch_events: 1024\n  batch_bytes: 1024\n", 1024, 1024},
		{"  batch_bytes: 61440\n", DefaultBatchEvents, 61440},
	} {
		c, err := Parse("t.yaml", []byte(base+tc.yaml))
		if err != nil {
			t.Errorf("%q: %v", tc.yaml, err)
			continue
		}
		if c.MQTT.BatchEvents != tc.events || c.MQTT.BatchBytes != tc.bytes {
			t.Errorf("%q: batch of %d events, %d bytes", tc.yaml, c.MQTT.BatchEvents, c.MQTT.BatchBytes)
		}
	}
	const controllerMaxPayload = 64 << 10 // controller/config's default ingest.max_payload
	if MaxBatchBytes >= controllerMaxPayload || publish.MinBatchBytes != MinBatchBytes {
		t.Fatalf("batch bytes %d..%d: the publisher's least is %d, the controller's payload bound %d",
			MinBatchBytes, MaxBatchBytes, publish.MinBatchBytes, controllerMaxPayload)
	}
}

func TestHealthInterval(t *testing.T) {
	base := "gateway: g1\nmqtt:\n  broker: tcp://127.0.0.1:1883\n"
	for _, tc := range []struct {
		name, yaml string
		want       time.Duration
	}{
		{"default", "", DefaultHealthInterval},
		{"set", "health:\n  interval: 5m\n", 5 * time.Minute},
		{"lowest", "health:\n  interval: 5s\n", MinHealthInterval},
		{"highest", "health:\n  interval: 1h\n", MaxHealthInterval},
		{"off", "health:\n  interval: off\n", 0},
		{"zero", "health:\n  interval: 0\n", 0},
		{"zero seconds", "health:\n  interval: 0s\n", 0},
	} {
		c, err := Parse("t.yaml", []byte(base+tc.yaml))
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if c.Health.Every != tc.want {
			t.Errorf("%s: health.interval %q read as %v, want %v", tc.name, c.Health.Interval, c.Health.Every, tc.want)
		}
	}
}

func TestErrorsNameFieldAndLine(t *testing.T) {
	base := "gateway: g1\nmqtt:\n  broker: tcp://127.0.0.1:1883\n"
	for _, tc := range []struct{ name, yaml, want string }{
		{"no broker", "gateway: g1\n", "mqtt.broker"},
		{"bad scheme", "gateway: g1\nmqtt:\n  broker: http://x:1\n", "line 3: mqtt.broker"},
		{"duplicate names", base + "readers:\n  - name: a\n    protocol: em4100\n    device: /dev/a\nsensors:\n  - name: a\n    pin: GPIO1\n", "line 9: sensors[0].name"},
		{"reserved source name", base + "readers:\n  - name: spool\n    protocol: em4100\n    device: /dev/a\n", "line 5: readers[0].name"},
		{"duplicate device", base + "readers:\n  - name: a\n    protocol: em4100\n    device: /dev/a\n  - name: b\n    protocol: em4100\n    device: /dev/a\n", "line 10: readers[1].device"},
		{"power on em4100", base + "readers:\n  - name: a\n    protocol: em4100\n    device: /dev/a\n    power_dbm: 20\n", "line 5: readers[0]"},
		{"pair unknown sensor", base + "sensors:\n  - name: a\n    pin: GPIO1\npairs:\n  - name: p\n    outer: a\n    inner: b\n", "line 10: pairs[0].inner"},
		{"active", base + "sensors:\n  - name: a\n    pin: GPIO1\n    active: sometimes\n", "line 7: sensors[0].active"},
		{"cert without key", base + "  tls:\n    cert_file: /x\n", "mqtt.tls"},
		{"overflow", base + "spool:\n  overflow: drop-newest\n", "line 5: spool.overflow"},
		{"http", base + "http:\n  listen: nowhere\n", "line 5: http.listen"},
		{"log", base + "log:\n  level: loud\n", "line 5: log.level"},
		{"tiny spool", base + "spool:\n  max_bytes: 64\n", "line 5: spool.max_bytes: 64 bytes is below the minimum"},
		{"username", base + "  username: other\n", "line 4: mqtt.username"},
		{"health interval not a duration", base + "health:\n  interval: often\n", "line 5: health.interval: \"often\" is not a duration"},
		{"health interval without unit", base + "health:\n  interval: 60\n", "line 5: health.interval"},
		{"health interval too short", base + "health:\n  interval: 1s\n", "line 5: health.interval: 1s is not within 5s..1h0m0s"},
		{"health interval too long", base + "health:\n  interval: 2h\n", "line 5: health.interval: 2h0m0s is not within"},
		{"health interval negative", base + "health:\n  interval: -10s\n", "line 5: health.interval"},
		{"batch of no events", base + "  batch_events: -1\n", "line 4: mqtt.batch_events: -1 is not within 1..1024"},
		{"batch of too many events", base + "  batch_events: 1025\n", "line 4: mqtt.batch_events: 1025 is not within 1..1024"},
		{"batch too small", base + "  batch_bytes: 1023\n", "line 4: mqtt.batch_bytes: 1023 bytes is not within 1024..61440"},
		{"batch over the controller's payload", base + "  batch_bytes: 61441\n", "line 4: mqtt.batch_bytes: 61441 bytes is not within 1024..61440"},
	} {
		_, err := Parse("t.yaml", []byte(tc.yaml))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want it to name %q", tc.name, err, tc.want)
		}
	}
}

func TestLoadChecksSecretFiles(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "edge.yaml")
	os.WriteFile(p, []byte("gateway: g1\nmqtt:\n  broker: ssl://h:8883\n  username: g1\n  password_file: "+dir+"/nope\nspool:\n  path: "+dir+"/spool.db\n"), 0o644)
	_, err := Load(p)
	if err == nil || !strings.Contains(err.Error(), "line 5: mqtt.password_file") {
		t.Fatalf("missing password file: %v", err)
	}
	os.WriteFile(filepath.Join(dir, "nope"), []byte("pw\n"), 0o600)
	if _, err := Load(p); err != nil {
		t.Fatalf("with the file: %v", err)
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "none.yaml"))
	if err == nil || !os.IsNotExist(unwrapAll(err)) {
		t.Fatalf("missing file: %v", err)
	}
}

func unwrapAll(err error) error {
	for {
		u, ok := err.(interface{ Unwrap() error })
		if !ok {
			return err
		}
		err = u.Unwrap()
	}
}

func FuzzParse(f *testing.F) {
	b, _ := os.ReadFile("../../deploy/edge/edge.yaml")
	f.Add(b)
	f.Add([]byte("gateway: g\nmqtt:\n  broker: embedded\n"))
	f.Add([]byte("gateway: g\nmqtt: {broker: tcp://h:1}\nreaders: [{name: r, protocol: chafon, device: /d, baud: -3}]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse("fuzz.yaml", data)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error")
			}
			return
		}
		// What validates once validates again, unchanged.
		again := *c
		if err := again.Validate(nil); err != nil {
			t.Fatalf("valid config fails a second validation: %v", err)
		}
	})
}

// TestCredentialsInBrokerURL refuses user information in mqtt.broker,
// naming the field and line and never repeating the secret, whatever the
// form of the URL.
func TestCredentialsInBrokerURL(t *testing.T) {
	for _, broker := range []string{
		"tcp://g1:s3cr3t@127.0.0.1:1883",
		"ssl://g1:s3cr3t@mqtt.example.net:8883",
		"mqtts://s3cr3t@mqtt.example.net",    // a user name only: it would bypass the username rule
		"tcp://other:s3cr3t@h:1883/path?q#f", // with a path
		"tcp://g1:s3cr3t%zz@h:1883",          // not even a valid URL
		"ws://g1:s3cr3t@h:80/mqtt",
	} {
		_, err := Parse("t.yaml", []byte("gateway: g1\nmqtt:\n  broker: "+broker+"\n"))
		if err == nil || !strings.Contains(err.Error(), "line 3: mqtt.broker") || !strings.Contains(err.Error(), "credentials") {
			t.Errorf("%s: err = %v, want line 3: mqtt.broker and credentials", broker, err)
		}
		if err != nil && strings.Contains(err.Error(), "s3cr3t") {
			t.Errorf("%s: the secret is in the error: %v", broker, err)
		}
	}
}

// TestTLSOnlyForTLSBrokers refuses TLS settings with a plaintext broker,
// where they would be ignored and everything sent in the clear, naming the
// TLS field that is set.
func TestTLSOnlyForTLSBrokers(t *testing.T) {
	for _, tc := range []struct{ broker, tls, want string }{
		{"tcp://h:1883", "    ca_file: /ca.pem\n", "line 5: mqtt.tls.ca_file"},
		{"mqtt://h:1883", "    cert_file: /c.pem\n    key_file: /c.key\n", "line 5: mqtt.tls.cert_file"},
		{"ws://h:80/mqtt", "    server_name: broker\n", "line 5: mqtt.tls.server_name"},
		{"embedded", "    ca_file: /ca.pem\n", "line 5: mqtt.tls.ca_file"},
	} {
		_, err := Parse("t.yaml", []byte("gateway: g1\nmqtt:\n  broker: "+tc.broker+"\n  tls:\n"+tc.tls))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s with %q: err = %v, want %q", tc.broker, tc.tls, err, tc.want)
		}
	}
	for _, broker := range []string{"ssl://h:8883", "tls://h:8883", "mqtts://h:8883", "wss://h/mqtt"} {
		if _, err := Parse("t.yaml", []byte("gateway: g1\nmqtt:\n  broker: "+broker+"\n  tls:\n    ca_file: /ca.pem\n")); err != nil {
			t.Errorf("%s: %v", broker, err)
		}
	}
}

// TestLoadRefusesWhatRunRefuses: each configuration that run (or the
// reader's serial driver, or the broker) would refuse fails Load, which
// check-config and run share, with the field and its line.
func TestLoadRefusesWhatRunRefuses(t *testing.T) {
	dir := t.TempDir()
	pki := testenv.NewPKI(t)
	cert, key := pki.Issue(t, "g1", false)
	_, otherKey := pki.Issue(t, "other", false)
	pw := filepath.Join(dir, "pw")
	os.WriteFile(pw, []byte("pw\n"), 0o600)
	notPEM := filepath.Join(dir, "not.pem")
	os.WriteFile(notPEM, []byte("hello\n"), 0o600)
	aDir := filepath.Join(dir, "adir")
	os.Mkdir(aDir, 0o700)
	spool := filepath.Join(dir, "spool.db")
	good := map[string]string{"spool": spool, "pw": pw, "ca": pki.CAFile, "cert": cert, "key": key, "baud": "0",
		"keepalive": "30s", "max_records": "1000", "max_bytes": "1048576", "listen": "127.0.0.1:0"}
	conf := func(set map[string]string) string {
		v := map[string]string{}
		for k, x := range good {
			v[k] = x
		}
		for k, x := range set {
			v[k] = x
		}
		return fmt.Sprintf(`gateway: g1
spool:
  path: %s
  max_records: %s
  max_bytes: %s
mqtt:
  broker: ssl://127.0.0.1:8883
  username: g1
  password_file: %s
  keepalive: %s
  tls:
    ca_file: %s
    cert_file: %s
    key_file: %s
readers:
  - name: r
    protocol: em4100
    device: /dev/ttyUSB0
    baud: %s
http:
  listen: %s
`, v["spool"], v["max_records"], v["max_bytes"], v["pw"], v["keepalive"], v["ca"], v["cert"], v["key"], v["baud"], v["listen"])
	}
	load := func(y string) error {
		p := filepath.Join(t.TempDir(), "edge.yaml")
		if err := os.WriteFile(p, []byte(y), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := Load(p)
		return err
	}
	if err := load(conf(nil)); err != nil {
		t.Fatalf("the good configuration: %v", err)
	}
	for _, tc := range []struct {
		name string
		set  map[string]string
		want string
	}{
		{"password_file a directory", map[string]string{"pw": aDir}, "line 9: mqtt.password_file"},
		{"password_file missing", map[string]string{"pw": dir + "/none"}, "line 9: mqtt.password_file"},
		{"ca_file a directory", map[string]string{"ca": aDir}, "line 12: mqtt.tls.ca_file"},
		{"ca_file without a certificate", map[string]string{"ca": notPEM}, "line 12: mqtt.tls.ca_file"},
		{"cert_file a directory", map[string]string{"cert": aDir}, "line 13: mqtt.tls.cert_file"},
		{"key_file a directory", map[string]string{"key": aDir}, "line 14: mqtt.tls.key_file"},
		{"key of another certificate", map[string]string{"key": otherKey}, "line 13: mqtt.tls.cert_file"},
		{"spool directory missing", map[string]string{"spool": dir + "/none/spool.db"}, "line 3: spool.path"},
		{"spool path a directory", map[string]string{"spool": aDir}, "line 3: spool.path"},
		{"spool directory a file", map[string]string{"spool": pw + "/spool.db"}, "line 3: spool.path"},
		{"unsupported baud", map[string]string{"baud": "14400"}, "line 19: readers[0].baud"},
		{"negative baud", map[string]string{"baud": "-9600"}, "line 19: readers[0].baud"},
		{"keepalive above 65535s", map[string]string{"keepalive": "65536s"}, "line 10: mqtt.keepalive"},
		{"keepalive of 100 years", map[string]string{"keepalive": "876000h"}, "line 10: mqtt.keepalive"},
		{"keepalive not whole seconds", map[string]string{"keepalive": "1500ms"}, "line 10: mqtt.keepalive"},
		{"max_records of 2^63-1", map[string]string{"max_records": "9223372036854775807"}, "line 4: spool.max_records"},
		{"max_bytes of 2^63-1", map[string]string{"max_bytes": "9223372036854775807"}, "line 5: spool.max_bytes"},
		{"listen port out of range", map[string]string{"listen": "127.0.0.1:99999"}, "line 21: http.listen"},
		{"listen port not a port", map[string]string{"listen": "127.0.0.1:ninety"}, "line 21: http.listen"},
	} {
		err := load(conf(tc.set))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want %q", tc.name, err, tc.want)
		}
	}
}

// TestBaudRatesAreTheDriverRates opens a pseudo-terminal through the
// serial driver at every rate of BaudRates, and fails to at a rate outside
// it; every protocol's default rate is in the list.
func TestBaudRatesAreTheDriverRates(t *testing.T) {
	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	defer ptmx.Close()
	defer tty.Close()
	for _, b := range BaudRates {
		p, err := link.OpenSerial(tty.Name(), b, 10*time.Millisecond)
		if err != nil {
			t.Errorf("baud %d: %v", b, err)
			continue
		}
		p.Close()
	}
	for _, b := range []int{14400, 28800, 4000001} {
		if p, err := link.OpenSerial(tty.Name(), b, 10*time.Millisecond); err == nil {
			p.Close()
			t.Errorf("baud %d is outside BaudRates but the driver sets it", b)
		}
	}
	for _, name := range rfid.Names() {
		proto, _ := rfid.Lookup(name)
		if !slices.Contains(BaudRates, proto.DefaultBaud) {
			t.Errorf("%s: default baud %d not in BaudRates", name, proto.DefaultBaud)
		}
	}
}

// TestCheckConfigRefusesWhatRunRefuses: configurations that run refuses
// at start (a sensor pin this host does not have, the status server on the
// embedded broker's port) are refused by Load, naming the field.
func TestCheckConfigRefusesWhatRunRefuses(t *testing.T) {
	dir := t.TempDir()
	base := "gateway: g1\nspool:\n  path: " + dir + "/spool.db\n"
	for _, tc := range []struct{ name, yaml, want string }{
		{"unknown pin", base + "mqtt:\n  broker: tcp://127.0.0.1:1883\nsensors:\n  - name: door\n    pin: NGIC-NO-SUCH-PIN\n",
			"line 8: sensors[0].pin"},
		{"same port", base + "mqtt:\n  broker: embedded\n  embedded_listen: 127.0.0.1:19480\nhttp:\n  listen: 127.0.0.1:19480\n",
			"line 8: http.listen"},
		{"same port, any address", base + "mqtt:\n  broker: embedded\n  embedded_listen: 127.0.0.1:19480\nhttp:\n  listen: \":19480\"\n",
			"line 8: http.listen"},
	} {
		p := filepath.Join(dir, "edge.yaml")
		if err := os.WriteFile(p, []byte(tc.yaml), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := Load(p); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: Load: %v, want an error at %s", tc.name, err, tc.want)
		}
	}
	// Different ports, and port 0 (any free port) on both, are fine.
	p := filepath.Join(dir, "edge.yaml")
	for _, y := range []string{
		base + "mqtt:\n  broker: embedded\n  embedded_listen: 127.0.0.1:19480\nhttp:\n  listen: 127.0.0.1:19481\n",
		base + "mqtt:\n  broker: embedded\n  embedded_listen: 127.0.0.1:0\nhttp:\n  listen: 127.0.0.1:0\n",
	} {
		if err := os.WriteFile(p, []byte(y), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := Load(p); err != nil {
			t.Errorf("Load(%q): %v", y, err)
		}
	}
}
