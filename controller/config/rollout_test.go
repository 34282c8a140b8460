package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ngic/ngic/controller/rollout"
	"github.com/ngic/ngic/internal/bundle"
)

func TestRollout(t *testing.T) {
	c, err := Parse("c.yaml", []byte(goodYAML+"rollout:\n  bundles: /srv/bundles\n  keys: /etc/k.pub\n  base_url: https://ngic.example:9480\n"))
	if err != nil {
		t.Fatal(err)
	}
	if r := c.Rollout; r == nil || r.Timeout != rollout.DefaultTimeout || r.BaseURL != "https://ngic.example:9480" {
		t.Fatalf("rollout %+v", r)
	}
	if c, err := Parse("c.yaml", []byte(goodYAML)); err != nil || c.Rollout != nil {
		t.Fatalf("without the section: %+v, %v", c.Rollout, err)
	}
}

func TestRolloutRefused(t *testing.T) {
	base := goodYAML + "rollout:\n"
	for _, c := range []struct{ yaml, want string }{
		{base + "  keys: k\n  base_url: https://a.example\n", "line 16: rollout.bundles: missing"},
		{base + "  bundles: b\n  base_url: https://a.example\n", "rollout.keys: missing"},
		{base + "  bundles: b\n  keys: k\n", "rollout.base_url: missing"},
		{base + "  bundles: b\n  keys: k\n  base_url: http://ngic.example\n", "neither https nor http to a loopback"},
		{base + "  bundles: b\n  keys: k\n  base_url: https://u:p@ngic.example\n", "no credentials"},
		{base + "  bundles: b\n  keys: k\n  base_url: https://a.example\n  timeout: 1ms\n", "rollout.timeout: 1ms is not within"},
		{base + "  bundles: b\n  keys: k\n  base_url: https://a.example\n  waves: 3\n", "waves"},
	} {
		_, err := Parse("c.yaml", []byte(c.yaml))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: %v, want %q", c.yaml, err, c.want)
		}
	}
	if _, err := Parse("c.yaml", []byte(base+"  bundles: b\n  keys: k\n  base_url: http://127.0.0.1:9480\n")); err != nil {
		t.Errorf("http to loopback refused: %v", err)
	}
}

// Load reads the keys and checks the bundles folder.
func TestRolloutLoad(t *testing.T) {
	t.Setenv("NGIC_TEST_PRIV", testPriv)
	dir := t.TempDir()
	pub, _, _ := bundle.GenerateKey()
	keys := filepath.Join(dir, "keys.pub")
	os.WriteFile(keys, []byte(bundle.FormatPublicKey(pub)), 0o644)
	os.WriteFile(filepath.Join(dir, "not-keys"), []byte("nothing\n"), 0o644)
	sect := func(bundles, keys string) string {
		return goodYAML + "rollout:\n  bundles: " + bundles + "\n  keys: " + keys + "\n  base_url: https://a.example\n"
	}
	if _, err := Load(writeSetup(t, sect(dir, keys), goodDevices, goodGateways)); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ yaml, want string }{
		{sect(dir, filepath.Join(dir, "not-keys")), "rollout.keys"},
		{sect(dir, filepath.Join(dir, "absent")), "rollout.keys"},
		{sect(filepath.Join(dir, "absent"), keys), "rollout.bundles"},
		{sect(keys, keys), "rollout.bundles: " + keys + " is not a folder"},
	} {
		_, err := Load(writeSetup(t, c.yaml, goodDevices, goodGateways))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v, want %q", err, c.want)
		}
	}
}
