package rollout_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/ngic/ngic/controller/rollout"
	"github.com/ngic/ngic/telemetry"
)

// BenchmarkReportStep10k is one gateway's report taken in and the next
// step (which writes the state file) in a rollout of 10,000 gateways
// whose first wave has 1,000: the cost of each report in a large rollout.
func BenchmarkReportStep10k(b *testing.B) {
	f := newFixture(b, 10_000)
	r := f.start(rollout.Spec{Bundle: "edge-1.1.0.ngb", Region: "east", CanaryPercent: 10})
	f.step()
	r = f.get(r.ID)
	var first []string
	for _, g := range r.Gateways {
		if g.Wave == 0 {
			first = append(first, g.Name)
		}
	}
	steps := []string{telemetry.UpdateReceived, telemetry.UpdateDownloading, telemetry.UpdateVerified,
		telemetry.UpdateInstalled, telemetry.UpdateRestarting, telemetry.UpdateTrial}
	b.ResetTimer()
	for i := range b.N {
		f.report(r, first[i%len(first)], steps[(i/len(first))%len(steps)], "")
		f.step()
	}
	b.StopTimer()
	st, err := os.Stat(filepath.Join(f.dir, "rollouts", r.ID+".json"))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(st.Size()), "state-bytes")
}
