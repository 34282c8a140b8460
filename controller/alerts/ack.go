package alerts

import (
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/ngic/ngic/telemetry"
)

// Errors of the run-time operations (Acknowledge, AddMaintenance,
// RemoveMaintenance), wrapped with the ID or the field at fault.
var (
	// ErrUnknownAlert: no open alert has the ID (it never existed, or
	// it resolved).
	ErrUnknownAlert = errors.New("alerts: no open alert")
	// ErrUnknownWindow: no maintenance window has the ID.
	ErrUnknownWindow = errors.New("alerts: no maintenance window")
	// ErrConfigWindow: the window comes from the configuration and cannot
	// be removed at run time.
	ErrConfigWindow = errors.New("alerts: maintenance window from the configuration")
	// ErrInvalid: an argument cannot be taken (an empty name, a note too
	// long, a window that ends before it starts...).
	ErrInvalid = errors.New("alerts: invalid")
)

// Acknowledge records that by (the API token's name) acknowledged the
// open alert id at t (the engine's clock when t is zero or later than
// it; never before the alert started), with an optional note. The alert (firing, silenced or flapping)
// keeps the acknowledgement until it resolves, saved in the state file;
// its new payload goes to MQTT (retained, same topic), to the
// subscribers, and to the webhooks when they were told it fired (an
// acknowledgement is an operator's decision the on-call chain should
// hear of). Acknowledging again replaces the acknowledgement. A later
// occurrence of the same condition (a new ID) is not acknowledged.
// An unknown or resolved id gives ErrUnknownAlert; an empty or too long
// by, or a note over telemetry.MaxAlertText bytes, ErrInvalid.
func (e *Engine) Acknowledge(id, by, note string, t time.Time) (telemetry.Alert, error) {
	switch {
	case by == "" || len(by) > telemetry.MaxAlertName || !utf8.ValidString(by):
		return telemetry.Alert{}, fmt.Errorf("%w acknowledgement: by is empty, not UTF-8 or longer than %d bytes",
			ErrInvalid, telemetry.MaxAlertName)
	case len(note) > telemetry.MaxAlertText || !utf8.ValidString(note):
		return telemetry.Alert{}, fmt.Errorf("%w acknowledgement: note is not UTF-8 or longer than %d bytes",
			ErrInvalid, telemetry.MaxAlertText)
	}
	e.mu.Lock()
	now := e.o.Now()
	if t.Year() < 1970 || t.After(now) {
		t = now
	}
	c := e.openAlert(id)
	if c == nil {
		e.mu.Unlock()
		return telemetry.Alert{}, fmt.Errorf("%w %q", ErrUnknownAlert, id)
	}
	a := *c.Alert // copied on write: a saved snapshot may hold the old one
	t = maxTime(t, a.Started)
	a.Ack = &telemetry.AlertAck{By: by, At: t, Note: note}
	a.Updated = maxTime(now, a.Started)
	c.Alert = &a
	e.emit(a, c.Notified)
	e.mu.Unlock()
	e.notify()
	return cloneAlert(a), nil
}

// openAlert returns the condition whose open alert is id, or nil. Called
// with mu held.
func (e *Engine) openAlert(id string) *cond {
	for _, c := range e.conds {
		if c.Alert != nil && c.Alert.ID == id {
			return c
		}
	}
	return nil
}
