package world

import (
	"math"
	"path/filepath"
	"testing"
	"time"

	"github.com/ngic/ngic/controller/coverage"
	"github.com/ngic/ngic/controller/device"
)

// TestCoverageAgrees polls every device of a written world through the
// simulator, computes coverage from the loaded inventory and the documents,
// and compares each village with the world's ground truth: class, evidence,
// subscribers online, digital TV and convergence.
func TestCoverageAgrees(t *testing.T) {
	w, dir, inv := loaded(t, 200, 13)
	addr := serveDir(t, filepath.Join(dir, RecordingsDir))
	set, err := device.DefaultProfiles()
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	devs := make([]coverage.DeviceStatus, len(inv.Devices))
	for i, d := range inv.Devices {
		doc := poll(t, addr, d.Community(), set)
		devs[i] = coverage.DeviceStatus{State: coverage.StateUp, Since: now.Add(-time.Hour), PolledAt: now,
			Evidence: coverage.Summarize(doc)}
	}
	cfg := coverage.DefaultConfig()
	res := coverage.Compute(inv, devs, &cfg, now)
	if len(res.Villages) != len(w.Villages) {
		t.Fatalf("%d villages computed, want %d", len(res.Villages), len(w.Villages))
	}
	for i, got := range res.Villages {
		want := w.Villages[i]
		if got.Code != want.Code || got.Broadband != want.Broadband || got.Evidence != want.Evidence ||
			got.SubscribersOnline != float64(want.SubscribersOnline) || got.DigitalTV != want.DigitalTV ||
			got.Converged != want.Converged || (want.Converged && got.Network != want.Network) ||
			(want.Evidence != EvidenceNone && want.DownMbps != 0 && (!near(got.DownMbps, want.DownMbps) || !near(got.UpMbps, want.UpMbps))) {
			t.Errorf("village %s (%s): coverage says %s/%s %g/%g, %g online, digital TV %v, converged %v %q;\n"+
				"  world says %s/%s %g/%g, %d online, digital TV %v, converged %v %q",
				want.Code, want.Access, got.Broadband, got.Evidence, got.DownMbps, got.UpMbps, got.SubscribersOnline, got.DigitalTV,
				got.Converged, got.Network, want.Broadband, want.Evidence, want.DownMbps, want.UpMbps, want.SubscribersOnline,
				want.DigitalTV, want.Converged, want.Network)
		}
		if want.AnalogueTV && got.TV != coverage.TVAnalogue {
			t.Errorf("village %s: TV %s, world says analogue", want.Code, got.TV)
		}
	}
}

// near reports whether two rates agree to a millionth.
func near(a, b float64) bool { return math.Abs(a-b) <= 1e-6*math.Max(1, math.Abs(b)) }
