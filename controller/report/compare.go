package report

import (
	"errors"
	"fmt"
	"time"

	"github.com/ngic/ngic/controller/config"
	"github.com/ngic/ngic/controller/coverage"
)

// CompareWith compares res with the latest coverage snapshot at or before
// at kept in cfg's state_dir (config.CoverageDir), for Options.Compare.
// The running controller owns that folder: it is only read
// (coverage.ReadAt), a damaged snapshot staying where it is. Errors name
// the time and the folder or the file.
func CompareWith(cfg *config.Config, at time.Time, res *coverage.Result) (*coverage.Diff, error) {
	dir := cfg.StatePath(config.CoverageDir)
	when := at.UTC().Format(time.RFC3339)
	old, err := coverage.ReadAt(dir, at)
	switch {
	case errors.Is(err, coverage.ErrDamaged):
		return nil, fmt.Errorf("report: --compare %s: the snapshot cannot be read: %w", when, err)
	case errors.Is(err, coverage.ErrNoSnapshot):
		return nil, fmt.Errorf("report: --compare %s: no snapshot at or before %s in %s", when, when, dir)
	case err != nil:
		return nil, fmt.Errorf("report: --compare %s: %s: %w", when, dir, err)
	}
	return coverage.Compare(old, res), nil
}
