// Package deploy_test loads every sample configuration of deploy/ and
// checks that it fits what else is shipped: the paths each daemon writes
// lie inside what its systemd unit leaves writable, and the broker users
// the samples name are users of the shipped ACL (a gateway's user being
// its own name, as the ACL's patterns require).
package deploy_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	ctlconfig "github.com/ngic/ngic/controller/config"
	_ "github.com/ngic/ngic/drivers/rfid/all" // the sample readers' protocols
	edgeconfig "github.com/ngic/ngic/edge/config"
)

// writable returns the folders a unit leaves writable: /var/lib/<dir> of
// each StateDirectory= and each ReadWritePaths= path.
func writable(t *testing.T, unit string) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("systemd", unit))
	if err != nil {
		t.Fatal(err)
	}
	var dirs []string
	for _, line := range strings.Split(string(b), "\n") {
		key, val, ok := strings.Cut(strings.TrimSpace(line), "=")
		if !ok {
			continue
		}
		for _, f := range strings.Fields(val) {
			switch key {
			case "StateDirectory":
				dirs = append(dirs, "/var/lib/"+f)
			case "ReadWritePaths":
				dirs = append(dirs, strings.TrimLeft(f, "-+"))
			}
		}
	}
	if len(dirs) == 0 {
		t.Fatalf("%s leaves nothing writable", unit)
	}
	return dirs
}

// inside fails t unless path lies in one of dirs.
func inside(t *testing.T, what, path string, dirs []string) {
	t.Helper()
	for _, d := range dirs {
		if strings.HasPrefix(filepath.Clean(path)+"/", d+"/") {
			return
		}
	}
	t.Errorf("%s %s is outside what its unit leaves writable (%v)", what, path, dirs)
}

// aclUsers returns the users the shipped ACL names.
func aclUsers(t *testing.T) map[string]bool {
	t.Helper()
	b, err := os.ReadFile("mosquitto/ngic.acl")
	if err != nil {
		t.Fatal(err)
	}
	users := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^user (\S+)$`).FindAllStringSubmatch(string(b), -1) {
		users[m[1]] = true
	}
	return users
}

func TestControllerSamples(t *testing.T) {
	t.Setenv("NGIC_LAB_COMMUNITY", "sample-community")
	t.Setenv("NGIC_CORE_AUTH_PASS", "sample-auth-pass")
	t.Setenv("NGIC_CORE_PRIV_PASS", "sample-priv-pass")
	t.Setenv("NGIC_API_PLANNERS_TOKEN", "sample-token-planners")
	t.Setenv("NGIC_API_LAB_TOKEN", "sample-token-lab")
	files, _ := filepath.Glob("controller/*.yaml")
	if len(files) < 2 {
		t.Fatalf("controller samples: %v", files)
	}
	dirs := writable(t, "ngic-controller.service")
	users := aclUsers(t)
	for _, f := range files {
		c, err := ctlconfig.LoadNoHost(f)
		if err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		if devs, err := c.Devices(); err != nil || len(devs) == 0 {
			t.Errorf("%s: devices %d: %v", f, len(devs), err)
		}
		inside(t, f+": state_dir", c.StateDir, dirs)
		if c.InfluxDB != nil {
			inside(t, f+": influxdb.buffer_path", c.InfluxDB.BufferPath, dirs)
		}
		if !c.MQTT.Embedded {
			if !strings.HasPrefix(c.MQTT.Broker, "ssl://") || c.MQTT.TLS.CertFile == "" {
				t.Errorf("%s: broker %s without a client certificate; the shipped broker requires TLS and one", f, c.MQTT.Broker)
			}
			if !users[c.MQTT.Username] {
				t.Errorf("%s: user %q is not a user of the shipped ACL (%v)", f, c.MQTT.Username, users)
			}
		}
	}
}

func TestEdgeSamples(t *testing.T) {
	files, _ := filepath.Glob("edge/*.yaml")
	if len(files) < 2 {
		t.Fatalf("edge samples: %v", files)
	}
	dirs := writable(t, "ngic-edge.service")
	users := aclUsers(t)
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		// The files the samples name (/etc/ngic/...) exist only on a
		// gateway; Parse checks everything else.
		c, err := edgeconfig.Parse(f, b)
		if err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		inside(t, f+": spool.path", c.Spool.Path, dirs)
		if c.MQTT.Broker == "embedded" {
			continue
		}
		if c.MQTT.Username != c.Gateway || users[c.MQTT.Username] {
			t.Errorf("%s: user %q for gateway %q: the ACL grants a gateway the topics of its own name, and no service user may pass for one",
				f, c.MQTT.Username, c.Gateway)
		}
		if !strings.HasPrefix(c.MQTT.Broker, "ssl://") || c.MQTT.TLS.CertFile == "" {
			t.Errorf("%s: broker %s without a client certificate; the shipped broker requires TLS and one", f, c.MQTT.Broker)
		}
	}
}
