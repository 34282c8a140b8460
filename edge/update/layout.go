package update

import (
	"fmt"
	"os"
	"path/filepath"
)

// Binary is the name of the program in a slot (and in a bundle).
const Binary = "ngic-edge"

// Slot names: the two places a bundle is installed into.
const (
	SlotA = "a"
	SlotB = "b"
)

// Other returns the slot that is not s; the inactive slot when s is active.
func Other(s string) string {
	if s == SlotA {
		return SlotB
	}
	return SlotA
}

// ValidSlot reports whether s names a slot.
func ValidSlot(s string) bool { return s == SlotA || s == SlotB }

// Layout is the install root and the paths under it.
type Layout struct {
	// Root is the install root (config update.root).
	Root string
}

// SlotDir returns the folder of slot s.
func (l Layout) SlotDir(s string) string { return filepath.Join(l.Root, "slots", s) }

// SlotBinary returns the path of the program in slot s.
func (l Layout) SlotBinary(s string) string { return filepath.Join(l.SlotDir(s), Binary) }

// StatePath returns the path of state.json.
func (l Layout) StatePath() string { return filepath.Join(l.Root, "state.json") }

// TrialOKPath returns the path of the file a version on trial writes once
// healthy (MarkHealthy).
func (l Layout) TrialOKPath() string { return filepath.Join(l.Root, "trial-ok") }

// DownloadDir returns the folder of downloads.
func (l Layout) DownloadDir() string { return filepath.Join(l.Root, "download") }

// PartPath returns the partial download of the bundle with SHA-256 sum.
func (l Layout) PartPath(sum string) string { return filepath.Join(l.DownloadDir(), sum+".part") }

// Prepare creates the root's folders.
func (l Layout) Prepare() error {
	for _, d := range []string{l.Root, filepath.Join(l.Root, "slots"), l.DownloadDir()} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return fmt.Errorf("update: %w", err)
		}
	}
	return nil
}
