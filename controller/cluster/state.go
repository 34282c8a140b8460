package cluster

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/ngic/ngic/controller/coverage"
	"github.com/ngic/ngic/controller/poller"
	"github.com/ngic/ngic/telemetry"
)

// MaxState bounds a state payload: 64 MiB holds well over 100,000 devices.
const MaxState = 64 << 20

// Device is what a replica shares of one device it polls: its state
// (without document nor history), the class of its latest document, and
// the evidence coverage needs.
type Device struct {
	poller.DeviceState
	Class    string             `json:"class,omitempty"`
	Evidence *coverage.Evidence `json:"evidence,omitempty"`
	// PolledAt is when the poll that gave Evidence started.
	PolledAt time.Time `json:"polled_at,omitzero"`
}

// State is the retained message a replica publishes on
// telemetry.ControllerStateTopic every cycle: the devices it polls, its
// open alerts, and the acknowledgements it took for alerts another
// replica raised.
type State struct {
	V       int               `json:"v"`
	Ordinal int               `json:"ordinal"`
	Time    time.Time         `json:"time"`
	Devices []Device          `json:"devices"`
	Alerts  []telemetry.Alert `json:"alerts,omitempty"`
	Acks    []Ack             `json:"acks,omitempty"`
	// Signals are the latest word the replica has on each condition of
	// the gateways' events (GatewayAlerts.Shared).
	Signals []GatewaySignal `json:"signals,omitempty"`
	// Members are the live members as the replica saw them when it
	// shared Signals (GatewayAlerts.Share).
	Members []int `json:"members,omitempty"`
	// Coverage is when the coverage the replica holds was computed (the
	// lease holder's; zero for the others): the others tell their event
	// streams of a new result by it.
	Coverage time.Time `json:"coverage,omitzero"`
	// Fresh tells that the state came as its replica published it, after
	// this replica subscribed, not as a retained copy from before; set by
	// Node, never sent.
	Fresh bool `json:"-"`
}

// Ack is an acknowledgement a replica's API took for an alert another
// replica raised: that one applies it when it reads the state (an alert
// is acknowledged on the replica that raised it, so that its webhooks
// hear of it once).
type Ack struct {
	// Alert is the alert's ID.
	Alert string `json:"alert"`
	telemetry.AlertAck
}

// Encode returns the state's JSON payload.
func (s *State) Encode() ([]byte, error) {
	b, err := json.Marshal(s)
	if err != nil {
		return nil, fmt.Errorf("cluster: state of replica %d: %w", s.Ordinal, err)
	}
	return b, nil
}

// ParseState decodes and checks a state payload: its version, ordinal,
// each device's ID and state, and each alert.
func ParseState(b []byte) (*State, error) {
	if len(b) > MaxState {
		return nil, fmt.Errorf("cluster: state of %d bytes, more than %d", len(b), MaxState)
	}
	s := &State{}
	if err := json.Unmarshal(b, s); err != nil {
		return nil, fmt.Errorf("cluster: state: %w", err)
	}
	if s.V != telemetry.SchemaVersion {
		return nil, fmt.Errorf("cluster: state of version %d, want %d", s.V, telemetry.SchemaVersion)
	}
	if s.Ordinal < 0 || s.Ordinal >= MaxReplicas {
		return nil, fmt.Errorf("cluster: state of ordinal %d outside 0..%d", s.Ordinal, MaxReplicas-1)
	}
	for i := range s.Devices {
		d := &s.Devices[i]
		if d.ID == "" || !slices.Contains(poller.States, d.State) {
			return nil, fmt.Errorf("cluster: state of replica %d: device %d: id %q, state %q", s.Ordinal, i, d.ID, d.State)
		}
		d.Document, d.History = nil, nil
	}
	for i := range s.Alerts {
		if err := s.Alerts[i].Validate(); err != nil {
			return nil, fmt.Errorf("cluster: state of replica %d: alert %d: %w", s.Ordinal, i, err)
		}
	}
	for i, a := range s.Acks {
		if a.Alert == "" || len(a.Alert) > telemetry.MaxAlertName || a.By == "" || len(a.By) > telemetry.MaxAlertName ||
			len(a.Note) > telemetry.MaxAlertText || !utf8.ValidString(a.By+a.Note) {
			return nil, fmt.Errorf("cluster: state of replica %d: acknowledgement %d: alert %.64q by %.64q: empty, too long or not UTF-8",
				s.Ordinal, i, a.Alert, a.By)
		}
	}
	if len(s.Signals) > MaxSignals {
		return nil, fmt.Errorf("cluster: state of replica %d: %d gateway signals, more than %d", s.Ordinal, len(s.Signals), MaxSignals)
	}
	for i := range s.Signals {
		if err := s.Signals[i].validate(); err != nil {
			return nil, fmt.Errorf("cluster: state of replica %d: gateway signal %d: %w", s.Ordinal, i, err)
		}
	}
	if len(s.Members) > MaxReplicas {
		return nil, fmt.Errorf("cluster: state of replica %d: %d members, more than %d", s.Ordinal, len(s.Members), MaxReplicas)
	}
	for i, m := range s.Members {
		if m < 0 || m >= MaxReplicas {
			return nil, fmt.Errorf("cluster: state of replica %d: member %d: ordinal %d outside 0..%d", s.Ordinal, i, m, MaxReplicas-1)
		}
	}
	return s, nil
}

// Merge returns one entry per device of local and the others' states:
// the newest by LastPoll (local wins a tie, then the lower ordinal), so
// that a device moved from a dead replica shows its last known state
// until its new owner has polled it. The result is sorted by ID.
func Merge(local []Device, others []*State) []Device {
	others = slices.Clone(others)
	best := make(map[string]Device, len(local))
	for _, d := range local {
		best[d.ID] = d
	}
	slices.SortFunc(others, func(a, b *State) int { return a.Ordinal - b.Ordinal })
	for _, s := range others {
		for _, d := range s.Devices {
			if have, ok := best[d.ID]; !ok || d.LastPoll.After(have.LastPoll) {
				best[d.ID] = d
			}
		}
	}
	out := make([]Device, 0, len(best))
	for _, d := range best {
		out = append(out, d)
	}
	slices.SortFunc(out, func(a, b Device) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// OpenAlerts returns local's alerts and those of the others' states, each
// ID once (local first, then by ordinal).
func OpenAlerts(local []telemetry.Alert, others []*State) []telemetry.Alert {
	others = slices.Clone(others)
	seen := make(map[string]bool, len(local))
	out := make([]telemetry.Alert, 0, len(local))
	for _, a := range local {
		seen[a.ID] = true
		out = append(out, a)
	}
	slices.SortFunc(others, func(a, b *State) int { return a.Ordinal - b.Ordinal })
	for _, s := range others {
		for _, a := range s.Alerts {
			if !seen[a.ID] {
				seen[a.ID] = true
				out = append(out, a)
			}
		}
	}
	return out
}
