package update

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/ngic/ngic/internal/atomicfile"
)

// TrialEnv is the environment variable the supervisor sets to the command
// ID when it starts a version on trial; a process that finds it set calls
// MarkHealthy with it once it is healthy.
const TrialEnv = "NGIC_UPDATE_TRIAL"

// MarkHealthy writes R/trial-ok holding id: the version on trial for the
// command id is healthy (its broker connected, every reader open, its
// spool writable). The supervisor, not this process, then keeps it.
func (l Layout) MarkHealthy(id string) error {
	if err := atomicfile.Write(l.TrialOKPath(), []byte(id+"\n"), 0o600); err != nil {
		return fmt.Errorf("update: %w", err)
	}
	return nil
}

// healthyFor reports whether R/trial-ok holds id.
func (l Layout) healthyFor(id string) (bool, error) {
	b, err := os.ReadFile(l.TrialOKPath())
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("update: %w", err)
	}
	return string(bytes.TrimSpace(b)) == id, nil
}

// clearHealthy removes R/trial-ok.
func (l Layout) clearHealthy() error {
	if err := os.Remove(l.TrialOKPath()); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("update: %w", err)
	}
	return nil
}
