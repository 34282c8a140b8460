package telemetry

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"
)

// AlertTopic is the topic of one alert occurrence. The controller
// publishes the alert there retained while it is open (firing or
// silenced), publishes it once more resolved (not retained), then clears
// the retained message with an empty payload, so a late subscriber sees
// only the open alerts. Subscribers ignore empty payloads.
func AlertTopic(id string) string { return Root + "/alerts/" + id }

// AlertFilter subscribes to every alert.
const AlertFilter = Root + "/alerts/+"

// Alert states.
const (
	// AlertFiring: the condition holds and the alert was delivered.
	AlertFiring = "firing"
	// AlertSilenced: the condition holds but a maintenance window covers
	// the subject; Reason gives the window's reason. Webhooks are not told.
	AlertSilenced = "silenced"
	// AlertSuppressed: the condition holds but the subject sits behind a
	// device that is down; recorded by the controller, never published.
	AlertSuppressed = "suppressed"
	// AlertResolved: the condition cleared; Resolved says when.
	AlertResolved = "resolved"
)

// Alert severities, most severe first.
const (
	SeverityCritical = "critical"
	SeverityMajor    = "major"
	SeverityMinor    = "minor"
	SeverityWarning  = "warning"
	SeverityInfo     = "info"
)

// Severities lists the valid severities, most severe first.
var Severities = []string{SeverityCritical, SeverityMajor, SeverityMinor, SeverityWarning, SeverityInfo}

var alertStates = map[string]bool{AlertFiring: true, AlertSilenced: true, AlertSuppressed: true, AlertResolved: true}

// Alert subject types.
var alertSubjectTypes = map[string]bool{"device": true, "gateway": true, "site": true}

// ValidAlertSubject says whether typ ("device", "gateway" or "site"), id
// and site can make an alert's subject.
func ValidAlertSubject(typ, id, site string) bool {
	return alertSubjectTypes[typ] && id != "" && len(id) <= MaxAlertName && len(site) <= MaxAlertName
}

// AlertSubject is what an alert is about.
type AlertSubject struct {
	// Type is "device", "gateway" or "site".
	Type string `json:"type"`
	// ID is the device ID, gateway name or site ID.
	ID string `json:"id"`
	// Site is the inventory site of the device or gateway, when known.
	Site string `json:"site,omitempty"`
}

// Alert is the payload of one alert occurrence, on AlertTopic and in
// webhook POSTs. An occurrence keeps its ID from the raise to the resolve.
type Alert struct {
	// V is the schema version, SchemaVersion.
	V int `json:"v"`
	// ID identifies the occurrence (see AlertID); a topic level.
	ID string `json:"id"`
	// Rule is the name of the rule that raised it.
	Rule string `json:"rule"`
	// Kind is the rule's kind ("device-down", "pon-drop", ...).
	Kind string `json:"kind"`
	// Severity is one of Severities.
	Severity string `json:"severity"`
	// State is AlertFiring, AlertSilenced, AlertSuppressed or AlertResolved.
	State string `json:"state"`
	// Subject is the device, gateway or site.
	Subject AlertSubject `json:"subject"`
	// Key tells apart several alerts of one kind on one subject (an
	// interface, a PON port, a sensor, reader/tag); empty when there is one.
	Key string `json:"key,omitempty"`
	// Summary is one line for a person.
	Summary string `json:"summary,omitempty"`
	// Attrs are the details of the condition.
	Attrs map[string]string `json:"attrs,omitempty"`
	// Reason says why the alert is silenced (the maintenance window's
	// reason) or suppressed (the device it sits behind).
	Reason string `json:"reason,omitempty"`
	// Flapping is set while the alert is held firing because it raised and
	// resolved too often.
	Flapping bool `json:"flapping,omitempty"`
	// Started is when the condition started to hold.
	Started time.Time `json:"started"`
	// Resolved is when the condition cleared; set only when resolved.
	Resolved *time.Time `json:"resolved,omitempty"`
	// Updated is when this payload was made.
	Updated time.Time `json:"updated"`
	// Ack is set once an operator acknowledged the occurrence (the latest
	// acknowledgement); it stays on the occurrence until it resolves.
	Ack *AlertAck `json:"ack,omitempty"`
}

// AlertAck is an operator's acknowledgement of an open alert.
type AlertAck struct {
	// By names who acknowledged it (the API token's name); at most
	// MaxAlertName bytes.
	By string `json:"by"`
	// At is when it was acknowledged.
	At time.Time `json:"at"`
	// Note is what the operator wrote, at most MaxAlertText bytes.
	Note string `json:"note,omitempty"`
}

// AlertID returns the ID of the occurrence of rule's alert on subject
// (type and id) and key that started at started: 16 hex digits of a
// SHA-256, stable for the occurrence and a valid topic level.
func AlertID(rule, subjectType, subjectID, key string, started time.Time) string {
	h := sha256.New()
	for _, s := range []string{rule, subjectType, subjectID, key, started.UTC().Format(time.RFC3339Nano)} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil)[:8])
}

// Bounds of an alert's fields.
const (
	// MaxAlertText bounds Key, Summary, Reason and each attribute value, in bytes.
	MaxAlertText = 1024
	// MaxAlertAttrs bounds the number of Attrs.
	MaxAlertAttrs = 64
	// MaxAlertName bounds Rule, Subject.ID, Subject.Site and each attribute name, in bytes.
	MaxAlertName = 128
)

// EncodeAlert returns the JSON of an alert after validating it.
func EncodeAlert(a *Alert) ([]byte, error) {
	if err := a.Validate(); err != nil {
		return nil, err
	}
	return json.Marshal(a)
}

// DecodeAlert parses and validates an alert payload. Unknown members are
// ignored so that newer controllers can add fields.
func DecodeAlert(b []byte) (*Alert, error) {
	var a Alert
	if err := json.Unmarshal(b, &a); err != nil {
		return nil, fmt.Errorf("telemetry: alert payload: %w", err)
	}
	if err := a.Validate(); err != nil {
		return nil, err
	}
	return &a, nil
}

// Validate checks every field of the alert.
func (a *Alert) Validate() error {
	switch {
	case a.V != SchemaVersion:
		return fmt.Errorf("telemetry: alert field v: schema version %d, want %d", a.V, SchemaVersion)
	case a.Rule == "" || len(a.Rule) > MaxAlertName:
		return errors.New("telemetry: alert field rule: empty or longer than 128 bytes")
	case a.Kind == "" || len(a.Kind) > 64:
		return errors.New("telemetry: alert field kind: empty or longer than 64 bytes")
	case !slices.Contains(Severities, a.Severity):
		return fmt.Errorf("telemetry: alert field severity: %q is not a severity", a.Severity)
	case !alertStates[a.State]:
		return fmt.Errorf("telemetry: alert field state: %q is not a state", a.State)
	case !alertSubjectTypes[a.Subject.Type]:
		return fmt.Errorf("telemetry: alert field subject.type: %q is not device, gateway or site", a.Subject.Type)
	case !ValidAlertSubject(a.Subject.Type, a.Subject.ID, a.Subject.Site):
		return errors.New("telemetry: alert field subject: id empty, or id or site longer than 128 bytes")
	case len(a.Key) > MaxAlertText || len(a.Summary) > MaxAlertText || len(a.Reason) > MaxAlertText:
		return fmt.Errorf("telemetry: alert field key/summary/reason: longer than %d bytes", MaxAlertText)
	case len(a.Attrs) > MaxAlertAttrs:
		return fmt.Errorf("telemetry: alert field attrs: more than %d", MaxAlertAttrs)
	case (a.State == AlertResolved) != (a.Resolved != nil):
		return errors.New("telemetry: alert field resolved: set when, and only when, the state is resolved")
	}
	if err := ValidateName(a.ID); err != nil {
		return fmt.Errorf("telemetry: alert field id: %w", err)
	}
	for k, v := range a.Attrs {
		if k == "" || len(k) > MaxAlertName || len(v) > MaxAlertText {
			return fmt.Errorf("telemetry: alert field attrs: key %q empty or too long, or its value too long", k)
		}
	}
	for _, f := range []struct {
		name string
		t    time.Time
	}{{"started", a.Started}, {"updated", a.Updated}} {
		if err := checkAlertTime(f.name, f.t); err != nil {
			return err
		}
	}
	if err := a.Ack.validate(a.State); err != nil {
		return err
	}
	if a.Resolved != nil {
		if err := checkAlertTime("resolved", *a.Resolved); err != nil {
			return err
		}
		if a.Resolved.Before(a.Started) {
			return errors.New("telemetry: alert field resolved: before started")
		}
	}
	return nil
}

// validate checks an acknowledgement (nil: none) of an alert in state.
func (k *AlertAck) validate(state string) error {
	switch {
	case k == nil:
		return nil
	case state == AlertSuppressed:
		return errors.New("telemetry: alert field ack: on a suppressed alert")
	case k.By == "" || len(k.By) > MaxAlertName:
		return errors.New("telemetry: alert field ack.by: empty or longer than 128 bytes")
	case len(k.Note) > MaxAlertText:
		return fmt.Errorf("telemetry: alert field ack.note: longer than %d bytes", MaxAlertText)
	}
	return checkAlertTime("ack.at", k.At)
}

func checkAlertTime(name string, t time.Time) error {
	switch {
	case t.IsZero():
		return fmt.Errorf("telemetry: alert field %s: missing", name)
	case t.Year() < 1678 || t.Year() > 2261:
		return fmt.Errorf("telemetry: alert field %s: year %d out of range", name, t.Year())
	}
	return nil
}
