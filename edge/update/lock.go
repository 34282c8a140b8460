package update

import (
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// Change reads the state, lets f change it, and writes it back, holding an
// exclusive lock on R/.lock so that the agent and the supervisor, two
// processes, never lose each other's changes. When f fails nothing is
// written.
func (l Layout) Change(f func(*State) error) (*State, error) {
	lk, err := os.OpenFile(filepath.Join(l.Root, ".lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("update: %w", err)
	}
	defer lk.Close() // releases the lock
	if err := unix.Flock(int(lk.Fd()), unix.LOCK_EX); err != nil {
		return nil, fmt.Errorf("update: locking %s: %w", lk.Name(), err)
	}
	s, err := l.ReadState()
	if err != nil {
		return nil, err
	}
	if err := f(s); err != nil {
		return nil, err
	}
	if err := l.WriteState(s); err != nil {
		return nil, err
	}
	return s, nil
}
