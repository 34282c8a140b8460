package bundle

import (
	"fmt"
	"strconv"
)

// Reason says why a bundle is refused.
type Reason string

// The reasons Acceptable refuses a bundle for.
const (
	ReasonOtherProduct  Reason = "other-product"  // the bundle is for another program
	ReasonOtherPlatform Reason = "other-platform" // another OS, architecture or a higher GOARM
	ReasonDowngrade     Reason = "downgrade"      // older than the running version
	ReasonSameVersion   Reason = "same-version"   // the running version already
	ReasonBelowMinimum  Reason = "below-minimum"  // the running version is older than MinVersion
	ReasonTooLarge      Reason = "too-large"      // the files do not fit in the free disk
	ReasonBadTarget     Reason = "bad-target"     // the Target itself is invalid
)

// RefusedError is Acceptable's error: a Reason and what was compared.
type RefusedError struct {
	Reason Reason
	Detail string
}

// Error returns "bundle refused (reason): detail".
func (e *RefusedError) Error() string {
	return fmt.Sprintf("bundle refused (%s): %s", e.Reason, e.Detail)
}

// Target is what an update agent is running and has room for.
type Target struct {
	// Name is the program's name, compared with Manifest.Name.
	Name string
	// Version is the running version (semantic).
	Version string
	// OS, Arch and ARM are the running GOOS, GOARCH and GOARM ("" unless arm).
	OS, Arch, ARM string
	// FreeBytes is the space free where the files will be installed.
	FreeBytes uint64
}

// Acceptable returns nil when a verified manifest m may replace what t runs,
// or a *RefusedError naming the reason.
func Acceptable(m *Manifest, t Target) error {
	refuse := func(r Reason, format string, a ...any) error {
		return &RefusedError{Reason: r, Detail: fmt.Sprintf(format, a...)}
	}
	if m.Name != t.Name {
		return refuse(ReasonOtherProduct, "bundle is %q, this is %q", m.Name, t.Name)
	}
	if m.OS != t.OS || m.Arch != t.Arch {
		return refuse(ReasonOtherPlatform, "bundle is for %s/%s, this is %s/%s", m.OS, m.Arch, t.OS, t.Arch)
	}
	if m.Arch == "arm" {
		need, _ := strconv.Atoi(m.ARM)
		have, err := strconv.Atoi(t.ARM)
		if err != nil || have < need {
			return refuse(ReasonOtherPlatform, "bundle needs GOARM %s, this is GOARM %q", m.ARM, t.ARM)
		}
	}
	running, err := ParseVersion(t.Version)
	if err != nil {
		return refuse(ReasonBadTarget, "running version: %v", err)
	}
	offered, err := ParseVersion(m.Version)
	if err != nil {
		return refuse(ReasonBadTarget, "bundle version: %v", err)
	}
	switch offered.Compare(running) {
	case -1:
		return refuse(ReasonDowngrade, "bundle %s is older than the running %s", m.Version, t.Version)
	case 0:
		return refuse(ReasonSameVersion, "bundle %s is the running version %s", m.Version, t.Version)
	}
	if m.MinVersion != "" {
		min, err := ParseVersion(m.MinVersion)
		if err != nil {
			return refuse(ReasonBadTarget, "bundle min_version: %v", err)
		}
		if running.Compare(min) < 0 {
			return refuse(ReasonBelowMinimum, "bundle %s replaces %s or newer, this runs %s", m.Version, m.MinVersion, t.Version)
		}
	}
	if size := m.TotalSize(); uint64(size) > t.FreeBytes {
		return refuse(ReasonTooLarge, "bundle's files need %d bytes, %d are free", size, t.FreeBytes)
	}
	return nil
}
