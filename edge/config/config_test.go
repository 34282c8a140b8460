package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "github.com/ngic/ngic/drivers/rfid/all"
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
	if c.MQTT.ClientID != "ngic-edge-g1" || c.MQTT.Window != DefaultWindow || c.Spool.Overflow != "drop-oldest" ||
		c.Readers[0].DepartAfter != 3*time.Second || c.Sensors[0].Active != "low" || c.Sensors[0].Debounce != 20*time.Millisecond ||
		c.HTTP.Listen != DefaultHTTPListen || c.Log.Level != "info" {
		t.Fatalf("defaults: %+v", c)
	}
}

func TestErrorsNameFieldAndLine(t *testing.T) {
	base := "gateway: g1\nmqtt:\n  broker: tcp://127.0.0.1:1883\n"
	for _, tc := range []struct{ name, yaml, want string }{
		{"no broker", "gateway: g1\n", "mqtt.broker"},
		{"bad scheme", "gateway: g1\nmqtt:\n  broker: http://x:1\n", "line 3: mqtt.broker"},
		{"duplicate names", base + "readers:\n  - name: a\n    protocol: em4100\n    device: /dev/a\nsensors:\n  - name: a\n    pin: GPIO1\n", "line 9: sensors[0].name"},
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
