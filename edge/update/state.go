package update

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"time"

	"github.com/ngic/ngic/internal/atomicfile"
	"github.com/ngic/ngic/telemetry"
)

// StateVersion is the schema version of state.json.
const StateVersion = 1

// MaxHandled is how many command IDs State remembers.
const MaxHandled = 64

// State is R/state.json: what runs, what is on trial, and what the last
// update did. It is written whole and atomically (WriteState), so a kill at
// any moment leaves either the old or the new state.
type State struct {
	// V is StateVersion.
	V int `json:"v"`
	// Active is the slot known to work; "" before any install, when the
	// supervisor runs its own executable.
	Active string `json:"active,omitempty"`
	// Trial is the slot on trial, if any.
	Trial *Trial `json:"trial,omitempty"`
	// Handled are the IDs of the commands acted on, oldest first, at most
	// MaxHandled.
	Handled []string `json:"handled,omitempty"`
	// Last is the last update's report.
	Last *telemetry.UpdateReport `json:"last,omitempty"`
}

// Trial is a slot that must prove healthy before it becomes active.
type Trial struct {
	// Slot is the slot on trial; Previous the active one it replaces.
	Slot     string `json:"slot"`
	Previous string `json:"previous,omitempty"`
	// ID and Rollout are the command's; From and To the versions.
	ID      string `json:"id"`
	Rollout string `json:"rollout,omitempty"`
	From    string `json:"from,omitempty"`
	To      string `json:"to"`
	// Boots counts the starts of the new version so far; the supervisor
	// counts one before each start, so its own kill counts too.
	Boots int `json:"boots"`
	// Started is when the trial was written.
	Started time.Time `json:"started"`
}

// Report returns a report of the trial at step, with reason.
func (t *Trial) Report(step, reason string, now time.Time) *telemetry.UpdateReport {
	return &telemetry.UpdateReport{ID: t.ID, Rollout: t.Rollout, Step: step, From: t.From, To: t.To,
		Reason: reason, Time: now.UTC()}
}

// HasHandled reports whether the command id was acted on.
func (s *State) HasHandled(id string) bool { return slices.Contains(s.Handled, id) }

// AddHandled remembers id, forgetting the oldest beyond MaxHandled.
func (s *State) AddHandled(id string) {
	if s.HasHandled(id) {
		return
	}
	s.Handled = append(s.Handled, id)
	if n := len(s.Handled) - MaxHandled; n > 0 {
		s.Handled = slices.Delete(s.Handled, 0, n)
	}
}

// DecodeState parses and validates state.json.
func DecodeState(b []byte) (*State, error) {
	var s State
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("update: state: %w", err)
	}
	if err := s.validate(); err != nil {
		return nil, err
	}
	return &s, nil
}

func (s *State) validate() error {
	switch {
	case s.V != StateVersion:
		return fmt.Errorf("update: state field v: %d, want %d", s.V, StateVersion)
	case s.Active != "" && !ValidSlot(s.Active):
		return fmt.Errorf("update: state field active: %q is not a slot", s.Active)
	case len(s.Handled) > MaxHandled:
		return fmt.Errorf("update: state field handled: %d IDs, want at most %d", len(s.Handled), MaxHandled)
	}
	if t := s.Trial; t != nil {
		switch {
		case !ValidSlot(t.Slot) || t.Slot == s.Active:
			return fmt.Errorf("update: state field trial.slot: %q is not the inactive slot", t.Slot)
		case t.Previous != s.Active:
			return fmt.Errorf("update: state field trial.previous: %q, but %q is active", t.Previous, s.Active)
		case t.ID == "":
			return errors.New("update: state field trial.id: missing")
		case t.Boots < 0:
			return fmt.Errorf("update: state field trial.boots: %d is negative", t.Boots)
		}
	}
	if s.Last != nil {
		// The status's own rules: a report that its decoder would refuse
		// is refused here.
		st := telemetry.Status{V: telemetry.SchemaVersion, Gateway: "state", State: telemetry.StateOnline, Update: s.Last}
		if _, err := telemetry.EncodeStatus(&st); err != nil {
			return fmt.Errorf("update: state field last: %w", err)
		}
	}
	return nil
}

// ReadState reads the state at l. A missing file is the state before any
// install: a zero State (of version StateVersion).
func (l Layout) ReadState() (*State, error) {
	b, err := os.ReadFile(l.StatePath())
	if errors.Is(err, fs.ErrNotExist) {
		return &State{V: StateVersion}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("update: %w", err)
	}
	s, err := DecodeState(b)
	if err != nil {
		return nil, fmt.Errorf("%w (%s)", err, l.StatePath())
	}
	return s, nil
}

// WriteState writes s atomically: a temporary file, fsync, rename over
// state.json, fsync of the folder.
func (l Layout) WriteState(s *State) error {
	s.V = StateVersion
	if err := s.validate(); err != nil {
		return err
	}
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return fmt.Errorf("update: state: %w", err)
	}
	if err := atomicfile.Write(l.StatePath(), append(b, '\n'), 0o600); err != nil {
		return fmt.Errorf("update: state: %w", err)
	}
	return nil
}
