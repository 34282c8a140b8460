package rollout

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/ngic/ngic/internal/atomicfile"
	"github.com/ngic/ngic/telemetry"
)

// MaxStateFile bounds a rollout's state file.
const MaxStateFile = 256 << 20

// fileExt ends a rollout's state file. A file being written is an
// atomicfile temporary file (earlier versions: fileExt+".tmp").
const fileExt = ".json"

// idRE is what a rollout ID may be.
var idRE = regexp.MustCompile(`^ro-[0-9]{8}T[0-9]{6}Z-[0-9a-f]{6}$`)

// ValidID reports whether id is a rollout ID as the Manager makes them.
func ValidID(id string) bool { return idRE.MatchString(id) }

// Encode returns the JSON of a rollout's state file.
func Encode(r *Rollout) ([]byte, error) {
	b, err := json.MarshalIndent(r, "", " ")
	if err != nil {
		return nil, fmt.Errorf("rollout %s: encoding: %w", r.ID, err)
	}
	return append(b, '\n'), nil
}

// Decode reads and validates a rollout's state file: unknown fields,
// trailing data and any inconsistency are errors wrapping ErrDamaged.
func Decode(b []byte) (*Rollout, error) {
	if len(b) > MaxStateFile {
		return nil, fmt.Errorf("%w: %d bytes, more than %d", ErrDamaged, len(b), MaxStateFile)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var r Rollout
	if err := dec.Decode(&r); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrDamaged, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("%w: data after the rollout", ErrDamaged)
	}
	if err := r.check(); err != nil {
		return nil, fmt.Errorf("%w: rollout %q: %v", ErrDamaged, r.ID, err)
	}
	return &r, nil
}

var rolloutStates = map[string]bool{StateRunning: true, StatePaused: true, StateHalted: true, StateCompleted: true,
	StateAborted: true}

var gatewayStates = map[string]bool{GatewayWaiting: true, GatewaySent: true, GatewayUpdating: true,
	GatewayUpdated: true, GatewayFailed: true, GatewayWithdrawn: true}

// check validates a decoded rollout, so that the Manager can trust every
// index and state in it.
func (r *Rollout) check() error {
	switch {
	case !ValidID(r.ID):
		return errors.New("id: not a rollout ID")
	case !rolloutStates[r.State]:
		return fmt.Errorf("state: %q unknown", r.State)
	case len(r.Waves) == 0 || len(r.Waves) > MaxTargets:
		return fmt.Errorf("waves: %d", len(r.Waves))
	case r.Wave < -1 || r.Wave >= len(r.Waves):
		return fmt.Errorf("wave: %d of %d", r.Wave, len(r.Waves))
	case len(r.Gateways) > MaxTargets:
		return fmt.Errorf("gateways: %d", len(r.Gateways))
	case r.Created.IsZero():
		return errors.New("created: missing")
	}
	if err := r.Spec.Validate(); err != nil {
		return err
	}
	if h, err := hex.DecodeString(r.Bundle.SHA256); err != nil || len(h) != 32 || strings.ToLower(r.Bundle.SHA256) != r.Bundle.SHA256 {
		return errors.New("bundle.sha256: not 64 lower-case hex digits")
	}
	if r.Bundle.Size <= 0 || r.Bundle.Version == "" || r.Bundle.File == "" || strings.ContainsAny(r.Bundle.File, `/\`) {
		return errors.New("bundle: size, version or file missing or wrong")
	}
	sizes := make([]int, len(r.Waves))
	seen := make(map[string]bool, len(r.Gateways))
	for i, g := range r.Gateways {
		switch {
		case telemetry.ValidateName(g.Name) != nil:
			return fmt.Errorf("gateways[%d].name: %q", i, g.Name)
		case seen[g.Name]:
			return fmt.Errorf("gateways[%d].name: %q twice", i, g.Name)
		case g.Wave < 0 || g.Wave >= len(r.Waves):
			return fmt.Errorf("gateways[%d].wave: %d", i, g.Wave)
		case !gatewayStates[g.State]:
			return fmt.Errorf("gateways[%d].state: %q", i, g.State)
		case (g.State == GatewayWaiting) != (g.Wave > r.Wave):
			return fmt.Errorf("gateways[%d]: %s in wave %d, the latest started being %d", i, g.State, g.Wave, r.Wave)
		}
		seen[g.Name] = true
		sizes[g.Wave]++
	}
	for i, w := range r.Waves {
		if w.Size != sizes[i] || w.Size == 0 || w.Allowed < 0 {
			return fmt.Errorf("waves[%d]: size %d, but %d gateways", i, w.Size, sizes[i])
		}
	}
	return nil
}

// store keeps each rollout in its own file of a folder.
type store struct{ dir string }

// path returns the file of rollout id.
func (s store) path(id string) string { return filepath.Join(s.dir, id+fileExt) }

// save writes r atomically: a temporary file, synced, renamed over the
// old one, and the folder synced.
func (s store) save(r *Rollout) error {
	b, err := Encode(r)
	if err != nil {
		return err
	}
	if err := atomicfile.Write(s.path(r.ID), b, 0o640); err != nil {
		return fmt.Errorf("rollout %s: %w", r.ID, err)
	}
	return nil
}

// load reads every rollout of the folder, creating it when absent;
// leftover temporary files are removed.
func (s store) load() ([]*Rollout, error) {
	if err := os.MkdirAll(s.dir, 0o750); err != nil {
		return nil, fmt.Errorf("rollout: %w", err)
	}
	ents, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, fmt.Errorf("rollout: %w", err)
	}
	var out []*Rollout
	for _, e := range ents {
		name := e.Name()
		p := filepath.Join(s.dir, name)
		switch {
		case atomicfile.IsTemp(name) || strings.HasSuffix(name, fileExt+".tmp"):
			os.Remove(p)
			continue
		case !strings.HasSuffix(name, fileExt) || !e.Type().IsRegular():
			continue
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("rollout: %w", err)
		}
		r, err := Decode(b)
		if err == nil && r.ID+fileExt != name {
			err = fmt.Errorf("%w: the file holds rollout %s", ErrDamaged, r.ID)
		}
		if err != nil {
			return nil, &FileError{Path: p, Err: err}
		}
		out = append(out, r)
	}
	return out, nil
}

// FileError is Open's error about one rollout's state file: it wraps
// ErrDamaged when the file cannot be decoded.
type FileError struct {
	Path string
	Err  error
}

// Error returns "path: error".
func (e *FileError) Error() string { return e.Path + ": " + e.Err.Error() }

// Unwrap returns the file's error.
func (e *FileError) Unwrap() error { return e.Err }

// newID makes a rollout ID of the time and random bits.
func newID(now time.Time, random []byte) string {
	return "ro-" + now.UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(random[:3])
}
