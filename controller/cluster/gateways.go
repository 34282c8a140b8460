package cluster

import (
	"slices"
	"sync"

	"github.com/ngic/ngic/controller/alerts"
)

// GatewayAlerts makes each gateway's offline alert the job of one replica:
// every replica hears every gateway's status and health, so without it
// each would raise the same alert and its webhooks would fire once per
// replica. The gateway's rendezvous owner among the live members (Owner
// on the gateway name) takes its KindGatewayOffline signals; the others
// drop them, except a clear (Active false), which resolves an alert a
// replica raised before the gateway moved away from it and is a no-op
// otherwise. Each replica remembers every gateway's latest offline
// signal, so that when a gateway moves to it (its owner died, or a
// member came or went) it raises what holds at once, timed from when the
// condition began. A sequence gap (KindSequenceGap) is dropped: the
// events of a gateway come to the replicas in turns (a shared
// subscription), so each sees gaps in its share of the sequence that are
// the others' events, not lost ones; a gateway's own reports of lost
// events (KindEventsLost) still reach the replica that takes the report.
// Signals of other kinds (from events, which reach one replica each)
// pass. Its methods are safe for concurrent use.
type GatewayAlerts struct {
	self int
	next alerts.Sink

	mu     sync.Mutex
	live   []int
	latest map[gatewayKey]alerts.Signal // the latest offline signal, Time the start of its state
}

// gatewayKey names one condition of one gateway.
type gatewayKey struct{ gateway, key string }

// NewGatewayAlerts passes the gateway signals replica self owns among
// live to next.
func NewGatewayAlerts(self int, live []int, next alerts.Sink) *GatewayAlerts {
	return &GatewayAlerts{self: self, next: next, live: slices.Clone(live), latest: map[gatewayKey]alerts.Signal{}}
}

// owns tells whether the replica owns the gateway's alerts. Called with
// mu held.
func (g *GatewayAlerts) owns(gateway string) bool { return Owner(gateway, g.live) == g.self }

// Signal implements alerts.Sink.
func (g *GatewayAlerts) Signal(s alerts.Signal) {
	switch {
	case s.Kind == alerts.KindSequenceGap:
		return
	case s.Kind != alerts.KindGatewayOffline || s.Subject.Type != alerts.SubjectGateway:
		g.next.Signal(s)
		return
	}
	k := gatewayKey{s.Subject.ID, s.Key}
	g.mu.Lock()
	kept := s
	if prev, ok := g.latest[k]; ok && prev.Active == s.Active && prev.Time.Before(s.Time) {
		kept.Time = prev.Time // the same state goes on: it began then
	}
	g.latest[k] = kept
	pass := !s.Active || g.owns(s.Subject.ID)
	g.mu.Unlock()
	if pass {
		g.next.Signal(s)
	}
}

// SetLive takes the live members after a change and raises, on next,
// the offline alerts of the gateways that moved to this replica and are
// offline now.
func (g *GatewayAlerts) SetLive(live []int) {
	g.mu.Lock()
	was := g.live
	g.live = slices.Clone(live)
	var gained []alerts.Signal
	for k, s := range g.latest {
		if s.Active && g.owns(k.gateway) && Owner(k.gateway, was) != g.self {
			gained = append(gained, s)
		}
	}
	g.mu.Unlock()
	slices.SortFunc(gained, func(a, b alerts.Signal) int { return a.Time.Compare(b.Time) })
	for _, s := range gained {
		g.next.Signal(s)
	}
}
