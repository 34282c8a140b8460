package alerts

import (
	"fmt"
	"maps"
	"time"

	"github.com/ngic/ngic/telemetry"
)

// Adopt makes a, an open alert another controller raised (a gateway's,
// whose ownership moved to this one in a cluster), the open alert of its
// condition here, as it is: same ID, start, state and acknowledgement.
// Nothing is delivered: the raiser told MQTT and the webhooks already.
// From here on the condition goes on as if raised here: a signal that it
// holds raises nothing more, its end resolves the alert (and the webhooks
// hear of it when they were told it fired: a firing alert is taken as
// told). When the condition has that very alert open already, only a's
// acknowledgement is taken, if newer. It reports whether anything
// changed; a that is not open, of a rule the engine does not have, or
// whose condition has another alert open gives ErrInvalid.
func (e *Engine) Adopt(a telemetry.Alert) (bool, error) {
	r := e.rules[a.Rule]
	switch {
	case r == nil:
		return false, fmt.Errorf("%w adoption of %s: no rule %q here", ErrInvalid, a.ID, a.Rule)
	case a.State != telemetry.AlertFiring && a.State != telemetry.AlertSilenced:
		return false, fmt.Errorf("%w adoption of %s: state %q is not open", ErrInvalid, a.ID, a.State)
	case a.Validate() != nil:
		return false, fmt.Errorf("%w adoption of %s: %v", ErrInvalid, a.ID, a.Validate())
	}
	subj := Subject{Type: a.Subject.Type, ID: a.Subject.ID, Site: a.Subject.Site}
	k := condKey(r.Name, subj, a.Key)
	e.mu.Lock()
	defer e.mu.Unlock()
	c := e.conds[k]
	if c != nil && c.Alert != nil {
		if c.Alert.ID != a.ID {
			return false, fmt.Errorf("%w adoption of %s: its condition has alert %s open", ErrInvalid, a.ID, c.Alert.ID)
		}
		if a.Ack == nil || (c.Alert.Ack != nil && !c.Alert.Ack.At.Before(a.Ack.At)) {
			return false, nil
		}
		b := *c.Alert // copied on write: a saved snapshot may hold the old one
		ack := *a.Ack
		b.Ack = &ack
		c.Alert = &b
		e.dirty = true
		return true, nil
	}
	if c == nil {
		c = &cond{Rule: r.Name, Subject: subj, Key: a.Key, rule: r}
		e.conds[k] = c
	}
	own := cloneAlert(a)
	c.Active, c.Since, c.Last = true, a.Started, maxTime(a.Updated, a.Started)
	c.Summary, c.Attrs = a.Summary, maps.Clone(a.Attrs)
	c.Alert, c.Notified, c.Suppressed, c.HoldUntil = &own, a.State == telemetry.AlertFiring, false, time.Time{}
	e.dirty = true
	return true, nil
}

// Release forgets the open alert id, and its condition, without
// delivering anything: its gateway moved to another controller of the
// cluster, which adopts it (Adopt) and resolves it when the condition
// ends, or already resolved it. It reports whether id was open here.
func (e *Engine) Release(id string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	c := e.openAlert(id)
	if c == nil {
		return false
	}
	delete(e.conds, condKey(c.Rule, c.Subject, c.Key))
	e.dirty = true
	return true
}
