package commission

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ngic/ngic/edge/config"
)

func TestEdgeConfigFromChecks(t *testing.T) {
	checks := []Check{
		{Name: "serial a", Port: "/dev/serial/by-id/usb-1a86 x", Status: OK, Reader: &Reader{Protocol: "mercury", Baud: 921600}},
		{Name: "serial b", Port: "/dev/ttyS1", Status: Fail},
		{Name: "gpio GPIO17", Pin: "GPIO17", Status: OK, GPIO: &Edges{Rising: 1, Falling: 1, Idle: "high", Active: "low"}},
		{Name: "gpio GPIO22", Pin: "GPIO22", Status: Fail, GPIO: &Edges{Idle: "low", Active: "high"}},
	}
	data, err := EdgeConfig(Site{Gateway: "cabinet-7", Broker: "ssl://mqtt.example.net:8883", Username: "cabinet-7",
		PasswordFile: "/etc/ngic/pw", CAFile: "/etc/ngic/ca.pem", Pull: "up"}, checks)
	if err != nil {
		t.Fatal(err)
	}
	c, err := config.Parse("written", data)
	if err != nil {
		t.Fatalf("%v\n%s", err, data)
	}
	if len(c.Readers) != 1 || c.Readers[0].Device != "/dev/serial/by-id/usb-1a86 x" || c.Readers[0].Baud != 921600 || c.Readers[0].Protocol != "mercury" {
		t.Errorf("readers %+v", c.Readers)
	}
	if len(c.Sensors) != 1 || c.Sensors[0].Pin != "GPIO17" || c.Sensors[0].Active != "low" || c.Sensors[0].Pull != "up" {
		t.Errorf("sensors %+v", c.Sensors)
	}
	if c.MQTT.TLS.CAFile != "/etc/ngic/ca.pem" || c.MQTT.PasswordFile != "/etc/ngic/pw" {
		t.Errorf("mqtt %+v", c.MQTT)
	}
}

func TestEdgeConfigRefused(t *testing.T) {
	if _, err := EdgeConfig(Site{}, nil); err == nil {
		t.Error("no gateway accepted")
	}
	if _, err := EdgeConfig(Site{Gateway: "a/b"}, nil); err == nil || !strings.Contains(err.Error(), "gateway") {
		t.Errorf("gateway a/b: %v", err)
	}
	// A file that decodes but names a password file missing here is not
	// written, and what was there stays.
	path := filepath.Join(t.TempDir(), "edge.yaml")
	os.WriteFile(path, []byte("before"), 0o600)
	c := ConfigCheck(path, Site{Gateway: "gw", Broker: "tcp://127.0.0.1:1883", PasswordFile: filepath.Join(t.TempDir(), "none")}, nil)
	if c.Status != Fail || c.Fix == "" {
		t.Fatalf("check %+v, want a failure", c)
	}
	if b, _ := os.ReadFile(path); string(b) != "before" {
		t.Errorf("file changed to %q", b)
	}
}

// TestReadSiteRoundTrip: the site an edge configuration was written from
// is read back from it; a file that is no edge configuration is refused
// with its name.
func TestReadSiteRoundTrip(t *testing.T) {
	site := Site{Gateway: "cabinet-7", Broker: "ssl://mqtt.example.net:8883", Username: "cabinet-7", PasswordFile: "/etc/ngic/pw",
		CAFile: "/etc/ngic/ca.pem", CertFile: "/etc/ngic/gw.pem", KeyFile: "/etc/ngic/gw.key", SpoolPath: "/var/lib/ngic/spool.db"}
	data, err := EdgeConfig(site, nil)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "edge.yaml")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := ReadSite(path)
	if err != nil || got != site {
		t.Fatalf("read %+v, %v; want %+v", got, err, site)
	}
	if err := os.WriteFile(path, []byte("gateway: [\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadSite(path); err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("a broken file: %v, want an error naming it", err)
	}
}
