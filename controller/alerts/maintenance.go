package alerts

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/ngic/ngic/telemetry"
)

// MaxWindows bounds the run-time maintenance windows (AddMaintenance).
const MaxWindows = 1000

// maxWindowReason bounds a window's reason, in bytes.
const maxWindowReason = 256

// configWindows returns the windows of the configuration with their IDs
// (derived from the fields, so the same window keeps its ID across
// restarts and reloads; a repeated window gets "-2", "-3"...) and Source.
func configWindows(ws []Window) []Window {
	out := make([]Window, len(ws))
	seen := map[string]int{}
	for i, w := range ws {
		h := sha256.New()
		for _, s := range []string{w.Subject, w.Start.UTC().Format(time.RFC3339Nano),
			w.End.UTC().Format(time.RFC3339Nano), w.Reason} {
			h.Write([]byte(s))
			h.Write([]byte{0})
		}
		id := "cfg-" + hex.EncodeToString(h.Sum(nil)[:6])
		seen[id]++
		if n := seen[id]; n > 1 {
			id += "-" + strconv.Itoa(n)
		}
		w.ID, w.Source = id, WindowConfig
		out[i] = w
	}
	return out
}

// newWindowID returns a random ID for a run-time window.
func newWindowID() string {
	var b [8]byte
	rand.Read(b[:]) // never fails (crypto/rand)
	return "api-" + hex.EncodeToString(b[:])
}

// checkRunWindow checks a window given at run time, at now.
func checkRunWindow(w Window, now time.Time) error {
	if err := checkSubject(w.Subject); err != nil {
		return fmt.Errorf("%w maintenance window: subject: %w", ErrInvalid, err)
	}
	switch {
	case w.Start.IsZero() || w.End.IsZero():
		return fmt.Errorf("%w maintenance window: start and end are required", ErrInvalid)
	case !w.End.After(w.Start):
		return fmt.Errorf("%w maintenance window: end %s is not after start %s", ErrInvalid,
			w.End.Format(time.RFC3339), w.Start.Format(time.RFC3339))
	case !w.End.After(now):
		return fmt.Errorf("%w maintenance window: end %s has passed", ErrInvalid, w.End.Format(time.RFC3339))
	case w.Reason == "":
		return fmt.Errorf("%w maintenance window: reason is empty", ErrInvalid)
	case len(w.Reason) > maxWindowReason || !utf8.ValidString(w.Reason):
		return fmt.Errorf("%w maintenance window: reason is not UTF-8 or longer than %d bytes", ErrInvalid, maxWindowReason)
	}
	return nil
}

// AddMaintenance adds a maintenance window at run time and returns it
// with its ID and Source WindowAPI (the ID and Source given are ignored).
// The subject must be device:ID, gateway:NAME or site:ID, start before
// end, end in the future and the reason not empty (at most 256 bytes),
// else ErrInvalid; at most MaxWindows are kept. The window is saved in
// the state file (it survives a restart until it ends) and takes effect
// at once: open alerts of its subject are silenced when it starts.
func (e *Engine) AddMaintenance(w Window) (Window, error) {
	w.ID, w.Source = newWindowID(), WindowAPI
	w.Start, w.End = w.Start.UTC(), w.End.UTC()
	e.mu.Lock()
	now := e.o.Now()
	if err := checkRunWindow(w, now); err != nil {
		e.mu.Unlock()
		return Window{}, err
	}
	if len(e.apiWindows) >= MaxWindows {
		e.mu.Unlock()
		return Window{}, fmt.Errorf("%w maintenance window: already %d run-time windows", ErrInvalid, MaxWindows)
	}
	i, _ := slices.BinarySearchFunc(e.apiWindows, w, compareWindows)
	e.apiWindows = slices.Insert(e.apiWindows, i, w)
	e.dirty = true
	e.rewindowAll(now)
	e.mu.Unlock()
	e.notify()
	return w, nil
}

// compareWindows orders windows by start, then ID.
func compareWindows(a, b Window) int {
	if c := a.Start.Compare(b.Start); c != 0 {
		return c
	}
	switch {
	case a.ID < b.ID:
		return -1
	case a.ID > b.ID:
		return 1
	}
	return 0
}

// RemoveMaintenance removes a run-time window (AddMaintenance). The
// alerts it silenced that no other window covers fire at once (webhooks
// are told unless they already were). An unknown id gives
// ErrUnknownWindow, a window of the configuration ErrConfigWindow.
func (e *Engine) RemoveMaintenance(id string) error {
	e.mu.Lock()
	defer e.notify()
	defer e.mu.Unlock()
	if slices.ContainsFunc(e.cfgWindows, func(w Window) bool { return w.ID == id }) {
		return fmt.Errorf("%w: %q", ErrConfigWindow, id)
	}
	i := slices.IndexFunc(e.apiWindows, func(w Window) bool { return w.ID == id })
	if i < 0 {
		return fmt.Errorf("%w %q", ErrUnknownWindow, id)
	}
	e.apiWindows = slices.Delete(e.apiWindows, i, i+1)
	e.dirty = true
	e.rewindowAll(e.o.Now())
	return nil
}

// SetMaintenance replaces the windows of the configuration (on a reload)
// after checking them; the run-time windows stay. It takes effect at once,
// like AddMaintenance and RemoveMaintenance.
func (e *Engine) SetMaintenance(ws []Window) error {
	for i, w := range ws {
		if err := w.validate(nil, fmt.Sprintf("maintenance[%d]", i)); err != nil {
			return fmt.Errorf("alerts: %w", err)
		}
	}
	e.mu.Lock()
	e.cfgWindows = configWindows(ws)
	e.rewindowAll(e.o.Now())
	e.mu.Unlock()
	e.notify()
	return nil
}

// Maintenance returns the maintenance windows, each with its ID and
// Source: those of the configuration in its order, then the run-time
// ones by start. Run-time windows are dropped once they end.
func (e *Engine) Maintenance() []Window {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append(slices.Clip(slices.Clone(e.cfgWindows)), e.apiWindows...)
}

// window returns the maintenance window covering s at t: the first of the
// configuration's, then of the run-time ones. Called with mu held.
func (e *Engine) window(s Subject, t time.Time) (Window, bool) {
	for _, ws := range [2][]Window{e.cfgWindows, e.apiWindows} {
		for _, w := range ws {
			if !t.Before(w.Start) && t.Before(w.End) &&
				(subjectIs(w.Subject, s.Type, s.ID) || (s.Site != "" && subjectIs(w.Subject, SubjectSite, s.Site))) {
				return w, true
			}
		}
	}
	return Window{}, false
}

// subjectIs says whether subject is typ:id.
func subjectIs(subject, typ, id string) bool {
	return len(subject) == len(typ)+1+len(id) && subject[len(typ)] == ':' &&
		subject[:len(typ)] == typ && subject[len(typ)+1:] == id
}

// windowKey is a window's subject, split.
type windowKey struct{ typ, id string }

// activeWindows indexes the windows open at one time by subject: the
// first in order for each, with its place in that order.
type activeWindows map[windowKey]struct {
	w     Window
	order int
}

// windowsAt returns the windows open at t, for checking many alerts at
// once (window checks one). Called with mu held.
func (e *Engine) windowsAt(t time.Time) activeWindows {
	ix := activeWindows{}
	n := 0
	for _, ws := range [2][]Window{e.cfgWindows, e.apiWindows} {
		for _, w := range ws {
			n++
			if t.Before(w.Start) || !t.Before(w.End) {
				continue
			}
			typ, id, _ := strings.Cut(w.Subject, ":")
			k := windowKey{typ, id}
			if _, ok := ix[k]; !ok {
				ix[k] = struct {
					w     Window
					order int
				}{w, n}
			}
		}
	}
	return ix
}

// cover returns the first open window of s's subject or site.
func (ix activeWindows) cover(s Subject) (Window, bool) {
	if len(ix) == 0 {
		return Window{}, false
	}
	own, ok := ix[windowKey{s.Type, s.ID}]
	if s.Site != "" {
		if site, ok2 := ix[windowKey{SubjectSite, s.Site}]; ok2 && (!ok || site.order < own.order) {
			return site.w, true
		}
	}
	return own.w, ok
}

func windowReason(w Window) string {
	if w.Reason != "" {
		return "maintenance: " + w.Reason
	}
	return "maintenance until " + w.End.UTC().Format(time.RFC3339)
}

// rewindow brings the condition's open alert in line with the windows ix
// open at now: silenced (published again, webhooks not told) when a window covers
// its subject, firing again when none does (webhooks told unless they
// already were). It reports whether the alert changed. Called with mu
// held, c.Alert not nil.
func (e *Engine) rewindow(c *cond, ix activeWindows, now time.Time) bool {
	a := *c.Alert // copied on write: a saved snapshot may hold the old one
	w, in := ix.cover(c.Subject)
	switch {
	case in && (a.State != telemetry.AlertSilenced || a.Reason != windowReason(w)):
		a.State, a.Reason = telemetry.AlertSilenced, windowReason(w)
		a.Updated = maxTime(now, a.Started)
		c.Alert = &a
		e.emit(a, false)
		return true
	case !in && a.State == telemetry.AlertSilenced:
		a.State, a.Reason = telemetry.AlertFiring, ""
		a.Updated = maxTime(now, a.Started)
		hook := !c.Notified
		c.Alert, c.Notified = &a, true
		e.emit(a, hook)
		return true
	}
	return false
}

// rewindowAll applies rewindow to every open alert. Called with mu held.
func (e *Engine) rewindowAll(now time.Time) {
	ix := e.windowsAt(now)
	for _, c := range e.conds {
		if c.Alert != nil {
			e.rewindow(c, ix, now)
		}
	}
}

// pruneWindows drops the run-time windows that ended. Called with mu
// held.
func (e *Engine) pruneWindows(now time.Time) {
	n := len(e.apiWindows)
	e.apiWindows = slices.DeleteFunc(e.apiWindows, func(w Window) bool { return !now.Before(w.End) })
	if len(e.apiWindows) != n {
		e.dirty = true
	}
}
