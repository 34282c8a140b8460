package alerts

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"sort"
	"time"

	"github.com/ngic/ngic/internal/atomicfile"
	"github.com/ngic/ngic/telemetry"
)

// stateVersion is the version of the state file's layout.
const stateVersion = 1

// stateFile is what the state file holds: the conditions with an open
// alert (with its acknowledgement) or a flap history, the run-time
// maintenance windows, and the recent alert changes. Pending conditions
// are not kept: after a restart their `after` starts again. Windows and
// Recent were added later, without a new version: a file without them
// reads as none.
type stateFile struct {
	V       int      `json:"v"`
	Conds   []cond   `json:"conds"`
	Windows []Window `json:"windows,omitempty"`
	// Recent are the latest alert changes, oldest first.
	Recent []telemetry.Alert `json:"recent,omitempty"`
}

// snapshotState copies the conditions to save (nil when there is no state
// file). Called with mu held; cheap, so that Signal does not wait for the
// encoding.
func (e *Engine) snapshotState() *stateFile {
	if e.o.StatePath == "" {
		return nil
	}
	st := &stateFile{V: stateVersion, Conds: []cond{}, Windows: slices.Clone(e.apiWindows),
		Recent: make([]telemetry.Alert, len(e.recent))}
	for _, c := range e.conds {
		if c.Alert != nil || len(c.Flaps) > 0 {
			st.Conds = append(st.Conds, *c)
		}
	}
	for i := range e.recent {
		// The alerts in the ring are never changed in place: a shallow
		// copy is enough.
		st.Recent[i] = e.recent[(e.recentAt+i)%len(e.recent)]
	}
	return st
}

// saveState encodes the state and replaces the file whole (atomicfile).
func (e *Engine) saveState(st *stateFile) error {
	sort.Slice(st.Conds, func(i, j int) bool {
		return condKey(st.Conds[i].Rule, st.Conds[i].Subject, st.Conds[i].Key) <
			condKey(st.Conds[j].Rule, st.Conds[j].Subject, st.Conds[j].Key)
	})
	path := e.o.StatePath
	if err := atomicfile.WriteFunc(path, 0o600, func(w *bufio.Writer) error { return writeState(w, st) }); err != nil {
		return fmt.Errorf("alerts: state %s: %w", path, err)
	}
	return nil
}

// writeState writes st as json.Marshal would, one condition and one alert
// at a time: a national inventory's state runs to hundreds of MB, which
// the file gets without ever being held whole in memory.
func writeState(w *bufio.Writer, st *stateFile) error {
	fmt.Fprintf(w, `{"v":%d,"conds":`, st.V)
	if err := writeArray(w, st.Conds); err != nil {
		return err
	}
	if len(st.Windows) > 0 {
		w.WriteString(`,"windows":`)
		if err := writeJSON(w, st.Windows); err != nil {
			return err
		}
	}
	if len(st.Recent) > 0 {
		w.WriteString(`,"recent":`)
		if err := writeArray(w, st.Recent); err != nil {
			return err
		}
	}
	_, err := w.WriteString("}")
	return err
}

// writeArray writes vs as a JSON array, one element at a time.
func writeArray[T any](w *bufio.Writer, vs []T) error {
	w.WriteByte('[')
	for i := range vs {
		if i > 0 {
			w.WriteByte(',')
		}
		if err := writeJSON(w, &vs[i]); err != nil {
			return err
		}
	}
	return w.WriteByte(']')
}

// writeJSON writes v's JSON encoding to w.
func writeJSON(w *bufio.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("alerts: state: %w", err)
	}
	_, err = w.Write(b)
	return err
}

// loadState reads the state file, if any. Conditions of rules no longer
// configured are resolved (their alerts queued for delivery), so that no
// retained alert is left behind.
func (e *Engine) loadState() error {
	if e.o.StatePath == "" {
		return nil
	}
	b, err := os.ReadFile(e.o.StatePath)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("alerts: state: %w", err)
	}
	var st stateFile
	if err := json.Unmarshal(b, &st); err != nil {
		return fmt.Errorf("alerts: state %s: %w: %w", e.o.StatePath, ErrDamaged, err)
	}
	if st.V != stateVersion {
		return fmt.Errorf("alerts: state %s: %w: version %d, want %d", e.o.StatePath, ErrDamaged, st.V, stateVersion)
	}
	now := e.o.Now()
	if err := e.loadWindows(st.Windows, now); err != nil {
		return err
	}
	if err := e.loadRecent(st.Recent); err != nil {
		return err
	}
	for i := range st.Conds {
		c := &st.Conds[i]
		if c.Alert == nil {
			// Only its flap history counts: whether it holds is for the
			// next signal to say.
			c.Active, c.Suppressed = false, false
		} else if err := c.Alert.Validate(); err != nil {
			return fmt.Errorf("alerts: state %s: %w: condition %d: %w", e.o.StatePath, ErrDamaged, i, err)
		}
		r := e.rules[c.Rule]
		if r == nil || (c.Alert != nil && c.Alert.Kind != r.Kind) {
			if c.Alert != nil {
				a := *c.Alert
				a.State, a.Reason, a.Flapping = telemetry.AlertResolved, "rule removed", false
				t := maxTime(now, a.Started)
				a.Resolved, a.Updated = &t, t
				e.emit(a, c.Notified)
			}
			continue
		}
		c.rule = r
		e.conds[condKey(c.Rule, c.Subject, c.Key)] = c
	}
	return nil
}

// loadWindows takes the saved run-time windows, but those that ended.
func (e *Engine) loadWindows(ws []Window, now time.Time) error {
	for i, w := range ws {
		if err := checkSubject(w.Subject); err != nil || w.ID == "" || w.Source != WindowAPI || !w.End.After(w.Start) {
			return fmt.Errorf("alerts: state %s: %w: window %d: not a valid run-time window", e.o.StatePath, ErrDamaged, i)
		}
		if w.End.After(now) && len(e.apiWindows) < MaxWindows {
			e.apiWindows = append(e.apiWindows, w)
		}
	}
	slices.SortFunc(e.apiWindows, compareWindows)
	return nil
}

// loadRecent takes the saved recent alert changes (oldest first), the
// newest Options.Recent of them.
func (e *Engine) loadRecent(recent []telemetry.Alert) error {
	for i := range recent {
		if err := recent[i].Validate(); err != nil {
			return fmt.Errorf("alerts: state %s: %w: recent alert %d: %w", e.o.StatePath, ErrDamaged, i, err)
		}
	}
	e.recent = slices.Clone(recent[max(0, len(recent)-e.o.Recent):])
	e.recentAt = 0
	return nil
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
