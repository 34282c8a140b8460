package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// labYAML is a configuration with one lab pin (sensors[1], line 8) beside
// a GPIO one.
const labYAML = `gateway: g1
mqtt:
  broker: tcp://127.0.0.1:1883
sensors:
  - name: cabinet
    pin: GPIO4
  - name: door
    pin: lab:door-1
`

// TestLabPinsNeedTheLabFlag: a lab pin is refused, naming the field, its
// line and the flag, unless Options.LabPins is set.
func TestLabPinsNeedTheLabFlag(t *testing.T) {
	_, err := Parse("t.yaml", []byte(labYAML))
	if err == nil {
		t.Fatal("a lab pin is accepted without the lab flag")
	}
	for _, want := range []string{"line 8", "sensors[1].pin", "lab:door-1", "--lab-control"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	c, err := ParseWith("t.yaml", []byte(labYAML), Options{LabPins: true})
	if err != nil {
		t.Fatalf("with LabPins: %v", err)
	}
	if c.Sensors[1].Pin != "lab:door-1" {
		t.Fatalf("pin %q", c.Sensors[1].Pin)
	}
	bad := strings.Replace(labYAML, "lab:door-1", "lab:door/1", 1)
	if _, err := ParseWith("t.yaml", []byte(bad), Options{LabPins: true}); err == nil || !strings.Contains(err.Error(), "sensors[1].pin") {
		t.Fatalf("a malformed lab pin: %v", err)
	}
}

// TestLoadWithLabPins: Load checks the host's GPIO pins but not lab pins,
// which exist only in the process.
func TestLoadWithLabPins(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "edge.yaml")
	y := strings.Replace(labYAML, "  - name: cabinet\n    pin: GPIO4\n", "", 1) +
		"spool:\n  path: " + filepath.Join(dir, "spool.db") + "\n"
	if err := os.WriteFile(path, []byte(y), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(path); err == nil || !strings.Contains(err.Error(), "sensors[0].pin") {
		t.Fatalf("Load without the lab flag: %v", err)
	}
	if _, err := LoadWith(path, Options{LabPins: true}); err != nil {
		t.Fatalf("LoadWith LabPins: %v", err)
	}
}
