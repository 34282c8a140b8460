package daemon_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ngic/ngic/controller/config"
	"github.com/ngic/ngic/controller/daemon"
	"github.com/ngic/ngic/internal/testenv"
)

// TestPprofOnlyOnLoopback: Go's profiles, served without a token, are
// refused on an address reachable from elsewhere, even where
// http.allow_remote lets the rest listen there.
func TestPprofOnlyOnLoopback(t *testing.T) {
	dir := t.TempDir()
	inv := filepath.Join(dir, "inventory")
	if err := os.Mkdir(inv, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(inv, "devices.csv"), []byte("id,site,address,credentials\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "controller.yaml")
	yaml := fmt.Sprintf("inventory: inventory\nmqtt:\n  embedded: true\n  listen: 127.0.0.1:%d\nhttp:\n  listen: 0.0.0.0:%d\n"+
		"  allow_remote: true\nstate_dir: %s\n", testenv.FreePort(t), testenv.FreePort(t), filepath.Join(dir, "state"))
	if err := os.WriteFile(path, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	_, err = daemon.New(cfg, daemon.Options{Pprof: true})
	if err == nil || !strings.Contains(err.Error(), "--pprof") {
		t.Fatalf("--pprof on 0.0.0.0: %v", err)
	}
}
