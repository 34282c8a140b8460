package config

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ngic/ngic/controller/coverage"
)

// TestCoverageDefaults: without a coverage section, the defaults of
// controller/coverage.
func TestCoverageDefaults(t *testing.T) {
	c, err := Parse("t.yaml", []byte("inventory: inv\nmqtt:\n  embedded: true\n"))
	if err != nil {
		t.Fatal(err)
	}
	cv := c.Coverage
	if len(cv.Tiers) != 3 || cv.Tiers[1] != (coverage.Tier{Name: "underserved", DownMbps: 25, UpMbps: 3}) ||
		cv.DownAfter != coverage.DefaultDownAfter || cv.StaleAfter != coverage.DefaultStaleAfter ||
		cv.SnapshotEvery != coverage.DefaultSnapshotEvery || cv.Keep != coverage.DefaultKeep ||
		cv.Capability["gpon"].DownMbps < 100 || len(cv.NextGeneration) == 0 {
		t.Fatalf("coverage defaults: %+v", cv)
	}
}

// TestCoverageSection: a planner's tiers (Ofcom-style) and a capability
// added to the defaults.
func TestCoverageSection(t *testing.T) {
	c, err := Parse("t.yaml", []byte(`inventory: inv
mqtt:
  embedded: true
coverage:
  tiers:
    - {name: below-10, down_mbps: 0, up_mbps: 0}
    - {name: decent, down_mbps: 10, up_mbps: 1}
    - {name: superfast, down_mbps: 30, up_mbps: 5}
    - {name: ultrafast, down_mbps: 300, up_mbps: 50}
    - {name: gigabit, down_mbps: 1000, up_mbps: 100}
  capability:
    fixed-wireless: {down_mbps: 50, up_mbps: 10}
  next_generation: [gpon, vdsl2]
  down_after: 2h
  stale_after: 12h
  snapshot_every: 1h
  keep: 90
`))
	if err != nil {
		t.Fatal(err)
	}
	cv := c.Coverage
	if len(cv.Tiers) != 5 || cv.Tiers[4].Name != "gigabit" || cv.Capability["fixed-wireless"].DownMbps != 50 ||
		cv.Capability["gpon"].DownMbps == 0 || len(cv.NextGeneration) != 2 || cv.DownAfter != 2*time.Hour ||
		cv.StaleAfter != 12*time.Hour || cv.SnapshotEvery != time.Hour || cv.Keep != 90 {
		t.Fatalf("coverage: %+v", cv)
	}
}

// TestCoverageErrors: each bad coverage section is refused with the
// field's path and its line.
func TestCoverageErrors(t *testing.T) {
	const head = "inventory: inv\nmqtt:\n  embedded: true\ncoverage:\n" // lines 1-4
	tiers := func(rows ...string) string {
		return head + "  tiers:\n" + strings.Join(rows, "") // first tier on line 6
	}
	for _, tc := range []struct {
		name, yaml string
		line       int
		want       string
	}{
		{"floor not zero", tiers("    - {name: a, down_mbps: 1, up_mbps: 0}\n"), 6, "coverage.tiers[0]"},
		{"descending", tiers("    - {name: a}\n", "    - {name: b, down_mbps: 100, up_mbps: 20}\n",
			"    - {name: c, down_mbps: 25, up_mbps: 3}\n"), 8, "coverage.tiers[2]"},
		{"same thresholds", tiers("    - {name: a}\n", "    - {name: b, down_mbps: 10, up_mbps: 1}\n",
			"    - {name: c, down_mbps: 10, up_mbps: 1}\n"), 8, "coverage.tiers[2]"},
		{"duplicate name", tiers("    - {name: a}\n", "    - {name: a, down_mbps: 10, up_mbps: 1}\n"), 7, "coverage.tiers[1].name"},
		{"bad name", tiers("    - {name: 'Not Served'}\n"), 6, "coverage.tiers[0].name"},
		{"negative", tiers("    - {name: a}\n", "    - {name: b, down_mbps: -1, up_mbps: 1}\n"), 7, "coverage.tiers[1]"},
		{"capability zero", head + "  capability:\n    gpon: {down_mbps: 0, up_mbps: 1}\n", 6, "coverage.capability.gpon"},
		{"capability case", head + "  capability:\n    GPON: {down_mbps: 10, up_mbps: 1}\n", 6, "coverage.capability.GPON"},
		{"next generation repeated", head + "  next_generation: [gpon, gpon]\n", 5, "coverage.next_generation[1]"},
		{"down_after", head + "  down_after: 500ms\n", 5, "coverage.down_after"},
		{"stale_after", head + "  stale_after: -1h\n", 5, "coverage.stale_after"},
		{"snapshot_every", head + "  snapshot_every: -1s\n", 5, "coverage.snapshot_every"},
		{"keep", head + "  keep: -1\n", 5, "coverage.keep"},
	} {
		_, err := Parse("c.yaml", []byte(tc.yaml))
		// The error starts with the file, the line and the field's path.
		prefix := fmt.Sprintf("config c.yaml: line %d: ", tc.line)
		switch {
		case err == nil:
			t.Errorf("%s: accepted", tc.name)
		case !strings.HasPrefix(err.Error(), prefix) || !strings.Contains(err.Error(), tc.want):
			t.Errorf("%s: %q does not start with %q and name %s", tc.name, err, prefix, tc.want)
		}
	}
	// An unknown key is the strict decoder's error, naming its line.
	_, err := Parse("c.yaml", []byte(head+"  tier: []\n"))
	if err == nil || !strings.Contains(err.Error(), "line 5: coverage.tier") {
		t.Errorf("unknown key: %v", err)
	}
}

// FuzzParseCoverage: any coverage section is refused with an error or
// accepted with tiers that ascend from a 0/0 floor and a configuration
// that validates again unchanged.
func FuzzParseCoverage(f *testing.F) {
	for _, s := range []string{
		"coverage:\n  tiers:\n    - {name: a}\n    - {name: b, down_mbps: 10, up_mbps: 1}\n",
		"coverage:\n  capability:\n    gpon: {down_mbps: 1, up_mbps: 1}\n  keep: 3\n",
		"coverage:\n  down_after: 1h\n  stale_after: 2h\n  snapshot_every: 3h\n  next_generation: [a, b]\n",
		"coverage:\n  tiers: [{name: x, down_mbps: .nan}]\n",
		"coverage: 7\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, section string) {
		c, err := Parse("c.yaml", []byte("inventory: inv\nmqtt:\n  embedded: true\n"+section))
		if err != nil {
			return
		}
		cv := c.Coverage
		if len(cv.Tiers) == 0 || cv.Tiers[0].DownMbps != 0 || cv.Tiers[0].UpMbps != 0 {
			t.Fatalf("tiers %+v", cv.Tiers)
		}
		for i := 1; i < len(cv.Tiers); i++ {
			if cv.Tiers[i].DownMbps < cv.Tiers[i-1].DownMbps || cv.Tiers[i].UpMbps < cv.Tiers[i-1].UpMbps {
				t.Fatalf("tiers not ascending: %+v", cv.Tiers)
			}
		}
		again := cv
		if err := again.Validate(nil, "coverage"); err != nil || len(again.Tiers) != len(cv.Tiers) || again.Keep != cv.Keep {
			t.Fatalf("validating again: %v", err)
		}
	})
}
