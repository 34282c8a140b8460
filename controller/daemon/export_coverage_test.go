package daemon

import (
	"context"

	dto "github.com/prometheus/client_model/go"
)

// RecomputeCoverage computes coverage once, as the loop does after a poll
// cycle (beside the loop's own computations).
func RecomputeCoverage(d *Daemon) error { return d.computeCoverage(context.Background(), false) }

// CoverageReused is ngic_coverage_results_reused_total: the results whose
// memory went back to the pool.
func CoverageReused(d *Daemon) float64 {
	var m dto.Metric
	if err := d.cov.reused.Write(&m); err != nil {
		panic(err)
	}
	return m.GetCounter().GetValue()
}
