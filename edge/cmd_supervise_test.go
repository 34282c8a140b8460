package main

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestChildUpdateConfig(t *testing.T) {
	p := filepath.Join(t.TempDir(), "edge.yaml")
	y := "gateway: g1\nmqtt:\n  broker: tcp://h:1883\nupdate:\n  root: /srv/u\n  health_timeout: 45s\n  max_boots: 5\n"
	if err := os.WriteFile(p, []byte(y), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"run", "--config", p}, {"run", "-c", p}, {"run", "--config=" + p}} {
		u, err := childUpdateConfig(args)
		if err != nil || u.Root != "/srv/u" || u.HealthTimeout != 45*time.Second || u.MaxBoots != 5 {
			t.Errorf("%q: %+v, %v", args, u, err)
		}
	}
	u, err := childUpdateConfig([]string{"run", "--config", p + ".missing"})
	if err == nil || u.Root != "/opt/ngic-edge" || u.HealthTimeout != 2*time.Minute || u.MaxBoots != 3 {
		t.Errorf("missing file: %+v, %v", u, err)
	}
}
