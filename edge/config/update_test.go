package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ngic/ngic/internal/bundle"
)

func TestUpdateSection(t *testing.T) {
	const base = "gateway: g1\nmqtt:\n  broker: tcp://h:1883\nspool:\n  path: /var/lib/ngic-edge/spool.db\n"
	c, err := Parse("t.yaml", []byte(base))
	if err != nil {
		t.Fatal(err)
	}
	if u := c.Update; u.Root != DefaultUpdateRoot || u.HealthTimeout != DefaultHealthTimeout || u.MaxBoots != DefaultMaxBoots ||
		u.PollEvery != DefaultPollEvery || u.Keys != "" {
		t.Errorf("defaults: %+v", u)
	}
	for _, tc := range []struct{ name, yaml, want string }{
		{"relative root", "update:\n  root: opt\n", "line 7: update.root: \"opt\" is not an absolute path"},
		{"root holds the spool", "update:\n  root: /var/lib\n", "line 7: update.root: /var/lib holds spool.path"},
		{"relative keys", "update:\n  keys: k.pub\n", "line 7: update.keys"},
		{"timeout too short", "update:\n  health_timeout: 100ms\n", "line 7: update.health_timeout: 100ms is not within 1s..1h0m0s"},
		{"timeout too long", "update:\n  health_timeout: 2h\n", "line 7: update.health_timeout"},
		{"boots", "update:\n  max_boots: 11\n", "line 7: update.max_boots: 11 is not within 1..10"},
		{"poll every", "update:\n  poll_every: 10ms\n", "line 7: update.poll_every"},
		{"poll http", "update:\n  keys: /k\n  poll_url: http://10.0.0.1/u\n", "line 8: update.poll_url: \"http://10.0.0.1/u\" is neither https"},
		{"poll credentials", "update:\n  keys: /k\n  poll_url: https://u:p@h/u\n", "line 8: update.poll_url"},
		{"poll without keys", "update:\n  poll_url: https://h/u\n", "update.poll_url: set, but update.keys is not"},
		{"unknown key", "update:\n  rooot: /opt\n", "line 7"},
		{"relative CA", "update:\n  ca_file: ca.pem\n", "line 7: update.ca_file"},
	} {
		_, err := Parse("t.yaml", []byte(base+tc.yaml))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want it to name %q", tc.name, err, tc.want)
		}
	}
	ok := base + "update:\n  root: /srv/edge\n  keys: /etc/k.pub\n  health_timeout: 30s\n  max_boots: 1\n" +
		"  poll_url: http://127.0.0.1:8080/u\n  poll_every: 1m\n"
	c, err = Parse("t.yaml", []byte(ok))
	if err != nil {
		t.Fatal(err)
	}
	if u := c.Update; u.Root != "/srv/edge" || u.HealthTimeout != 30*time.Second || u.MaxBoots != 1 || u.PollEvery != time.Minute {
		t.Errorf("set: %+v", u)
	}
}

// TestLoadChecksUpdateKeys: Load reads update.keys and update.ca_file as
// the agent will.
func TestLoadChecksUpdateKeys(t *testing.T) {
	dir := t.TempDir()
	keys := filepath.Join(dir, "keys.pub")
	p := filepath.Join(dir, "edge.yaml")
	os.WriteFile(p, []byte("gateway: g1\nmqtt:\n  broker: tcp://h:1883\nspool:\n  path: "+dir+"/spool.db\nupdate:\n  root: "+
		dir+"/opt\n  keys: "+keys+"\n"), 0o644)
	if _, err := Load(p); err == nil || !strings.Contains(err.Error(), "line 8: update.keys") {
		t.Fatalf("missing keys file: %v", err)
	}
	os.WriteFile(keys, []byte("# no key\n"), 0o644)
	if _, err := Load(p); err == nil || !strings.Contains(err.Error(), "line 8: update.keys") {
		t.Fatalf("keys file without a key: %v", err)
	}
	pub, _, _ := bundle.GenerateKey()
	os.WriteFile(keys, []byte(bundle.FormatPublicKey(pub)), 0o644)
	if _, err := Load(p); err != nil {
		t.Fatalf("with a key: %v", err)
	}
	ca := filepath.Join(dir, "ca.pem")
	os.WriteFile(p, []byte("gateway: g1\nmqtt:\n  broker: tcp://h:1883\nspool:\n  path: "+dir+"/spool.db\nupdate:\n  root: "+
		dir+"/opt\n  keys: "+keys+"\n  ca_file: "+ca+"\n"), 0o644)
	os.WriteFile(ca, []byte("not a certificate\n"), 0o644)
	if _, err := Load(p); err == nil || !strings.Contains(err.Error(), "line 9: update.ca_file: no PEM certificate") {
		t.Fatalf("CA file without a certificate: %v", err)
	}
}
