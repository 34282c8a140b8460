package coverage

import (
	"strings"
	"testing"
)

// TestAppendLines: one line per region and subset, with the figures of
// TestRegions.
func TestAppendLines(t *testing.T) {
	r := computeSmall(t)
	b, err := r.AppendLines(nil)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	if len(lines) != 2*len(r.Regions) {
		t.Fatalf("%d lines for %d regions", len(lines), len(r.Regions))
	}
	// T1 (all): 300 households, 150 of them served (0.5); T1 has no
	// priority village but V01, V05, V06: 190 hh, V01's 100 served.
	for _, want := range []string{
		"coverage_region,level=township,region=T1,subset=all villages=6i,households=300i,population=920i,households_unserved=30i,",
		"households_served=150i,share_households_served=0.5,",
		"coverage_region,level=township,region=T1,subset=priority villages=3i,households=190i,population=590i,",
		"coverage_region,level=province,region=P1,subset=all villages=12i,households=670i,",
	} {
		if !strings.Contains(string(b), want) {
			t.Errorf("no %q in\n%s", want, b)
		}
	}
}
