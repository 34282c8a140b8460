package cluster

import (
	"encoding/json"
	"fmt"
	"net"
	"net/url"
	"slices"
	"time"

	"github.com/ngic/ngic/telemetry"
)

// Member states in Status.State.
const (
	StateOnline  = "online"
	StateOffline = "offline"
)

// MissedHeartbeats is how many heartbeats a member may miss before it is
// taken for gone.
const MissedHeartbeats = 3

// maxStatus bounds a status payload.
const maxStatus = 4 << 10

// Status is the retained message of one replica on
// telemetry.ControllerTopic: "online" with the time of its latest
// heartbeat and the period of its heartbeats, or "offline" (its last
// will, or a clean stop).
type Status struct {
	V        int    `json:"v"`
	Ordinal  int    `json:"ordinal"`
	Replicas int    `json:"replicas,omitempty"`
	State    string `json:"state"`
	// Time is when the message was sent (for a will, when it was set).
	Time time.Time `json:"time"`
	// Heartbeat is the period of the heartbeats, in seconds.
	Heartbeat float64 `json:"heartbeat_s,omitempty"`
	// API is the base URL of the replica's API (http or https, host and
	// port), where the others forward what only the lease holder answers;
	// empty when it advertises none.
	API string `json:"api,omitempty"`
}

// maxAPI bounds a status's API URL.
const maxAPI = 512

// Encode returns the status's JSON payload.
func (s Status) Encode() []byte {
	b, _ := json.Marshal(s) // no value of Status fails to marshal
	return b
}

// ParseStatus decodes and checks a status payload.
func ParseStatus(b []byte) (Status, error) {
	var s Status
	if len(b) > maxStatus {
		return s, fmt.Errorf("cluster: status of %d bytes, more than %d", len(b), maxStatus)
	}
	if err := json.Unmarshal(b, &s); err != nil {
		return s, fmt.Errorf("cluster: status: %w", err)
	}
	switch {
	case s.V != telemetry.SchemaVersion:
		return s, fmt.Errorf("cluster: status of version %d, want %d", s.V, telemetry.SchemaVersion)
	case s.Ordinal < 0 || s.Ordinal >= MaxReplicas:
		return s, fmt.Errorf("cluster: status of ordinal %d outside 0..%d", s.Ordinal, MaxReplicas-1)
	case s.State != StateOnline && s.State != StateOffline:
		return s, fmt.Errorf("cluster: status state %q is neither %s nor %s", s.State, StateOnline, StateOffline)
	case s.State == StateOnline && !(s.Heartbeat > 0 && s.Heartbeat <= 3600):
		return s, fmt.Errorf("cluster: online status with a heartbeat of %v s, want (0, 3600]", s.Heartbeat)
	case s.API != "" && !validAPI(s.API):
		return s, fmt.Errorf("cluster: status of replica %d: API %.64q is not http(s)://host:port", s.Ordinal, s.API)
	}
	return s, nil
}

// Membership follows which replicas are live from their status messages.
// It does no I/O: Node feeds it. A member is live from an "online" status
// until it misses MissedHeartbeats heartbeats, and gone at once on an
// "offline" one (its last will or a clean stop). Missed heartbeats count
// only while the replica hears its own: when it does not (its process
// starved of CPU, the broker slow or away) the silence of the others
// proves nothing, and they keep their devices. The replica itself is
// always live. Its methods are not safe for concurrent use.
type Membership struct {
	self    int
	expires map[int]time.Time // member → end of its liveness
	heard   time.Time         // the replica's own latest heartbeat came back
}

// NewMembership starts with every ordinal of self's shard taken for live
// until grace after now (so that at start no replica polls another's
// devices before it has heard whether that one runs), unless a status
// says otherwise sooner.
func NewMembership(self Shard, now time.Time, grace time.Duration) *Membership {
	m := &Membership{self: self.Ordinal, expires: map[int]time.Time{}}
	for i := 0; i < self.Replicas; i++ {
		if i != self.Ordinal {
			m.expires[i] = now.Add(grace)
		}
	}
	return m
}

// Restart gives every member taken for live a new grace after now (the
// replica starts to listen only now).
func (m *Membership) Restart(now time.Time, grace time.Duration) {
	for o, exp := range m.expires {
		if exp.Before(now.Add(grace)) {
			m.expires[o] = now.Add(grace)
		}
	}
}

// Observe takes a member's status received at received. An online
// status counts from the earlier of its own time and received, so that
// an old retained heartbeat (a member that died with the broker) or a
// sender's clock ahead of ours does not keep a member alive; Node gives
// a heartbeat that is not a retained one its arrival time.
func (m *Membership) Observe(s Status, received time.Time) {
	if s.Ordinal == m.self {
		if s.State == StateOnline && received.After(m.heard) {
			m.heard = received
		}
		return
	}
	if s.State != StateOnline {
		delete(m.expires, s.Ordinal)
		return
	}
	from := received
	if s.Time.Before(from) {
		from = s.Time
	}
	hb := time.Duration(s.Heartbeat * float64(time.Second))
	m.expires[s.Ordinal] = from.Add(MissedHeartbeats * hb)
}

// Live returns the live members at now, sorted, the replica itself
// included; expired members are forgotten.
func (m *Membership) Live(now time.Time) []int {
	out := []int{m.self}
	for o, exp := range m.expires {
		if now.Before(exp) || m.heard.Before(exp) {
			out = append(out, o)
		} else {
			delete(m.expires, o)
		}
	}
	slices.Sort(out)
	return out
}

// LeaseHolder is the member holding the coverage lease among live: the
// lowest ordinal (live is sorted, as Live returns it), -1 if none.
func LeaseHolder(live []int) int {
	if len(live) == 0 {
		return -1
	}
	return live[0]
}

// validAPI tells whether s is an API base URL: http or https, a host and
// a port, no more.
func validAPI(s string) bool {
	if len(s) > maxAPI {
		return false
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.User != nil || u.Opaque != "" ||
		(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return false
	}
	host, port, err := net.SplitHostPort(u.Host)
	return err == nil && host != "" && port != ""
}
