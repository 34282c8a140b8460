package cluster

import (
	"cmp"
	"slices"
	"sync"
	"time"

	"github.com/ngic/ngic/controller/alerts"
	"github.com/ngic/ngic/telemetry"
)

// GatewayAlerts makes each gateway's alerts the job of one replica, the
// gateway's rendezvous owner among the live members (Owner on the gateway
// name): without it each replica would raise the same alert, and its
// webhooks would fire once per replica.
//
// Offline alerts: every replica hears every gateway's status and health;
// the owner takes its KindGatewayOffline signals, the others drop them,
// except a clear (Active false), which is a no-op where no alert is open.
// Each replica remembers every gateway's latest offline signal, so that
// when a gateway moves to it (its owner died, or a member came or went)
// it raises what holds at once, timed from when the condition began.
//
// Door alerts (KindDoorHeld) come from the gateway's events, which reach
// one replica each (a shared subscription), not always the owner: each
// replica keeps the latest door signal it heard or read, shares them in
// its state (Shared), and the owner applies those it reads in the
// others' states (Merge) as if it had heard them.
//
// A gateway's open alerts move with it when next is a Handover (the
// alert engine): the new owner adopts the open alerts the others list
// in their states for the gateways it owns now (the same alert, its
// acknowledgement with it, raised nowhere a second time and with no
// second webhook), and resolves them when their condition ends; the
// replica the gateway left releases them without a word. A door signal
// the owner of the time applied is shared as such (Applied): a replica
// that holds a stale copy of an alert another owner resolved meanwhile
// (it was away) releases it rather than resolving it a second time.
//
// A replica that starts (a new one, or one back under its old identity
// with its alerts' state file and the events that waited in its
// session) applies no door signal as owner until it has read a state
// each other live member published since it joined and in which that
// member counts it live (Synced): until then it may hold stale copies
// and stale words (a door closed that another owner already told of),
// and another member may still apply signals of its gateways. It
// records what it hears meanwhile, and settles it all once synced. A
// lone replica is synced at once.
//
// A sequence gap (KindSequenceGap) is dropped: each replica sees gaps in
// its share of a gateway's sequence that are the others' events, not
// lost ones; a gateway's own reports of lost events (KindEventsLost)
// still reach the replica that takes the report. Signals of other kinds
// pass. Its methods are safe for concurrent use.
type GatewayAlerts struct {
	self    int
	next    alerts.Sink
	eng     Handover // next, when it is one
	changed chan struct{}

	mu     sync.Mutex
	live   []int
	latest map[gatewayKey]alerts.Signal // the latest offline signal, Time the start of its state
	doors  map[gatewayKey]doorWord
	others []*State // the others' states, as Merge last read them
	synced bool     // see Synced
	// deferred are the conditions of gateways gained at a change of the
	// members, settled by SettleDeferred (see SetLive); gainedFrom are
	// the live members before the changes not settled yet (nil if none).
	deferred   map[gatewayKey]bool
	gainedFrom []int
	// held are the IDs of the gateways' alerts open here at the last
	// look; gone those that were, and resolved: never adopted again.
	held, gone        map[string]bool
	adopted, released uint64
	adoptErr          error
}

// Handover is the alert engine as GatewayAlerts moves a gateway's open
// alerts between replicas (alerts.Engine is one).
type Handover interface {
	alerts.Sink
	// Open returns the open alerts.
	Open() []telemetry.Alert
	// Adopt takes over an open alert another replica raised, delivering
	// nothing; it reports whether anything changed.
	Adopt(a telemetry.Alert) (bool, error)
	// Release forgets an open alert without delivering anything; it
	// reports whether it was open.
	Release(id string) bool
}

var _ Handover = (*alerts.Engine)(nil)

// gatewayKey names one condition of one gateway.
type gatewayKey struct{ gateway, key string }

// compareKeys orders conditions by gateway, then key.
func compareKeys(a, b gatewayKey) int {
	return cmp.Or(cmp.Compare(a.gateway, b.gateway), cmp.Compare(a.key, b.key))
}

// doorWord is the latest door signal of a condition, and whether the
// gateway's owner of the time applied it.
type doorWord struct {
	s       alerts.Signal
	applied bool
}

// handedKinds are the gateway alerts that move with their gateway.
var handedKinds = map[string]bool{alerts.KindGatewayOffline: true, alerts.KindDoorHeld: true}

// NewGatewayAlerts passes the gateway signals replica self owns among
// live to next, and moves the gateways' open alerts when next is a
// Handover.
func NewGatewayAlerts(self int, live []int, next alerts.Sink) *GatewayAlerts {
	g := &GatewayAlerts{self: self, next: next, live: slices.Clone(live), latest: map[gatewayKey]alerts.Signal{},
		doors: map[gatewayKey]doorWord{}, held: map[string]bool{}, gone: map[string]bool{}, changed: make(chan struct{}, 1),
		deferred: map[gatewayKey]bool{}}
	g.eng, _ = next.(Handover)
	g.synced = slices.Equal(live, []int{self})
	return g
}

// Synced tells whether the replica has read a state of every other live
// member published since it joined, in which that member counts it
// live: only then does it apply door signals as the gateways' owner.
func (g *GatewayAlerts) Synced() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.synced
}

// trySync marks the replica synced if every other live member's state
// in others came live (not a retained copy from before the replica
// subscribed) and counts the replica among its live members (a state
// from a replica that does not list members counts by coming live), and
// settles what it recorded meanwhile. It reports whether the replica is
// synced. Called with mu held.
func (g *GatewayAlerts) trySync() bool {
	if g.synced {
		return true
	}
	if len(g.unsynced()) > 0 {
		return false
	}
	g.sync()
	return true
}

// unsynced returns the other live members whose state does not sync the
// replica yet. Called with mu held.
func (g *GatewayAlerts) unsynced() []int {
	var out []int
	for _, o := range g.live {
		if o == g.self {
			continue
		}
		i := slices.IndexFunc(g.others, func(st *State) bool { return st.Ordinal == o })
		if i < 0 || !g.others[i].Fresh || (g.others[i].Members != nil && !slices.Contains(g.others[i].Members, g.self)) {
			out = append(out, o)
		}
	}
	return out
}

// ForceSync makes the replica synced although some live members have not
// published a state that syncs it (their states fail to go out, say):
// the caller's bound on the wait, so that a silent member does not keep
// this one from ever raising its gateways' door alerts. It returns those
// members (none if the replica was synced).
func (g *GatewayAlerts) ForceSync() []int {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.synced {
		return nil
	}
	missing := g.unsynced()
	g.sync()
	g.adopt()
	return missing
}

// sync marks the replica synced and settles what it recorded meanwhile.
// Called with mu held.
func (g *GatewayAlerts) sync() {
	g.synced = true
	for _, k := range g.doorKeys() {
		if g.owns(k.gateway) {
			g.settle(k)
		}
	}
	g.kick() // the words settled go out
}

// doorKeys returns the conditions of the door signals known, in order.
// Called with mu held.
func (g *GatewayAlerts) doorKeys() []gatewayKey {
	keys := make([]gatewayKey, 0, len(g.doors))
	for k := range g.doors {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, compareKeys)
	return keys
}

// owns tells whether the replica owns the gateway's alerts. Called with
// mu held.
func (g *GatewayAlerts) owns(gateway string) bool { return Owner(gateway, g.live) == g.self }

// Changed is signalled when a door signal is recorded: the replica's
// state should go out soon, so that the owner hears of it (or, from the
// owner, of the alert it raised).
func (g *GatewayAlerts) Changed() <-chan struct{} { return g.changed }

func (g *GatewayAlerts) kick() {
	select {
	case g.changed <- struct{}{}:
	default:
	}
}

// Signal implements alerts.Sink.
func (g *GatewayAlerts) Signal(s alerts.Signal) {
	switch {
	case s.Kind == alerts.KindSequenceGap:
		return
	case s.Subject.Type != alerts.SubjectGateway:
		g.next.Signal(s)
		return
	case sharedKinds[s.Kind]:
		g.door(s)
		return
	case s.Kind != alerts.KindGatewayOffline:
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

// door records a door signal heard here, applies it as the owner (once
// synced), and has it shared.
func (g *GatewayAlerts) door(s alerts.Signal) {
	k := gatewayKey{s.Subject.ID, s.Key}
	g.mu.Lock()
	defer g.mu.Unlock()
	if cur, ok := g.doors[k]; ok && s.Time.Before(cur.s.Time) {
		return // older than what is known
	}
	own := g.synced && g.owns(s.Subject.ID)
	g.doors[k] = doorWord{s: s, applied: own}
	if own {
		g.next.Signal(s)
	}
	g.kick()
}

// Share puts in st the door signals to share and the live members, as
// one reading: a member that reads its own ordinal there knows that st
// holds every signal the sharer applied for the gateways it owned
// before the reader joined.
func (g *GatewayAlerts) Share(st *State) {
	g.mu.Lock()
	out := make([]GatewaySignal, 0, len(g.doors))
	for _, d := range g.doors {
		out = append(out, shareSignal(d.s, d.applied))
	}
	st.Members = slices.Clone(g.live)
	g.mu.Unlock()
	slices.SortFunc(out, func(a, b GatewaySignal) int {
		return cmp.Or(cmp.Compare(a.Gateway, b.Gateway), cmp.Compare(a.Key, b.Key), cmp.Compare(a.Kind, b.Kind))
	})
	st.Signals = out
}

// Merge reads the others' states (live or not): the door signals newer
// than those known are recorded, and applied for the gateways this
// replica owns (once synced); the open alerts of those gateways that
// another replica lists are adopted.
func (g *GatewayAlerts) Merge(others []*State) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.others = others
	// The best word on each condition over all the states first, so that
	// a stale word (one replica's, not yet told that the owner applied
	// it) is not taken for news because its state came first.
	best := map[gatewayKey]*GatewaySignal{}
	for _, st := range others {
		for i := range st.Signals {
			in := &st.Signals[i]
			k := gatewayKey{in.Gateway, in.Key}
			if b, ok := best[k]; !ok || newerWord(in.Time, in.Active, in.Applied, b.Time, b.Active, b.Applied) {
				best[k] = in
			}
		}
	}
	var news []gatewayKey
	for k, in := range best {
		if cur, ok := g.doors[k]; ok && !newerWord(in.Time, in.Active, in.Applied, cur.s.Time, cur.s.Active, cur.applied) {
			continue
		}
		g.doors[k] = doorWord{s: in.signal(), applied: in.Applied}
		news = append(news, k)
	}
	if !g.synced {
		// Adopting tells nobody: safe before the replica is synced, and
		// needed then, for an acknowledgement the member the gateway
		// leaves lets go of when it sees this one.
		g.trySync()
		g.adopt()
		return
	}
	slices.SortFunc(news, compareKeys)
	for _, k := range news {
		if !g.owns(k.gateway) {
			continue
		}
		if !g.doors[k].applied && g.justGained(k.gateway) {
			// A word the owner of the time did not apply, of a gateway
			// just gained, may be old news: its application told in a
			// state still on its way (the dead owner's last, behind
			// the others'). It waits for SettleDeferred.
			g.deferred[k] = true
			continue
		}
		delete(g.deferred, k) // the word applied: nothing to wait for
		g.settle(k)
	}
	g.adopt()
}

// newerWord tells whether a word on a condition (its time, whether the
// door is held, whether an owner applied it) is news against another:
// later, or the same told as applied meanwhile.
func newerWord(t time.Time, active, applied bool, curT time.Time, curActive, curApplied bool) bool {
	return t.After(curT) || (t.Equal(curT) && active == curActive && applied && !curApplied)
}

// settle applies the latest door signal of an owned gateway's condition
// that its owner of the time did not apply; one it did apply, a door
// closed, releases a stale copy of the alert held here. Called with mu
// held.
func (g *GatewayAlerts) settle(k gatewayKey) {
	d := g.doors[k]
	if !d.applied {
		g.next.Signal(d.s)
		d.applied = true
		g.doors[k] = d
		g.kick()
		return
	}
	if d.s.Active || g.eng == nil {
		return // raised by that owner: adopted from its state
	}
	for _, a := range g.eng.Open() {
		if a.Kind == d.s.Kind && a.Subject.Type == alerts.SubjectGateway && a.Subject.ID == k.gateway && a.Key == k.key &&
			!a.Started.After(d.s.Time) && g.eng.Release(a.ID) {
			delete(g.held, a.ID)
			g.gone[a.ID] = true
			g.released++
		}
	}
}

// adopt takes over the open alerts of the gateways this replica owns
// that another replica lists, unless their condition ended since, or
// they were open here and resolved; and an acknowledgement newer than
// the one held here. Called with mu held.
func (g *GatewayAlerts) adopt() {
	if g.eng == nil {
		return
	}
	open := map[string]telemetry.Alert{}
	for _, a := range g.eng.Open() {
		if handed(&a) {
			open[a.ID] = a
		}
	}
	for id := range g.held {
		if _, ok := open[id]; !ok {
			delete(g.held, id)
			g.gone[id] = true
		}
	}
	for id := range open {
		g.held[id] = true
	}
	listed := map[string]bool{}
	for _, st := range g.others {
		for _, a := range st.Alerts {
			if !handed(&a) {
				continue
			}
			listed[a.ID] = true
			gw := a.Subject.ID
			if !g.owns(gw) || Owner(gw, g.live) == st.Ordinal || g.gone[a.ID] || g.ended(&a) {
				continue
			}
			if have, ok := open[a.ID]; ok && (a.Ack == nil || (have.Ack != nil && !have.Ack.At.Before(a.Ack.At))) {
				continue
			}
			if !g.supersede(open, &a) {
				continue
			}
			changed, err := g.eng.Adopt(a)
			if err != nil {
				g.adoptErr = err
				continue
			}
			if changed {
				g.held[a.ID] = true
				g.adopted++
				open[a.ID] = a
			}
		}
	}
	for id := range g.gone {
		if !listed[id] {
			delete(g.gone, id) // no state lists it: nothing to adopt it from
		}
	}
}

// supersede makes room for adopting a: an older occurrence of its
// condition open here is a stale copy (held here while this replica was
// away, and resolved by the owner of the time) and is released. It
// reports false when the occurrence open here is newer than a. Called
// with mu held.
func (g *GatewayAlerts) supersede(open map[string]telemetry.Alert, a *telemetry.Alert) bool {
	for id, b := range open {
		if id == a.ID || b.Kind != a.Kind || b.Subject.ID != a.Subject.ID || b.Key != a.Key {
			continue
		}
		if !b.Started.Before(a.Started) {
			return false
		}
		if g.eng.Release(id) {
			delete(g.held, id)
			delete(open, id)
			g.gone[id] = true
			g.released++
		}
	}
	return true
}

// handed tells whether a is an alert that moves with its gateway.
func handed(a *telemetry.Alert) bool {
	return handedKinds[a.Kind] && a.Subject.Type == alerts.SubjectGateway
}

// ended tells whether the condition of a, as known here, ended after a
// began. Called with mu held.
func (g *GatewayAlerts) ended(a *telemetry.Alert) bool {
	k := gatewayKey{a.Subject.ID, a.Key}
	if a.Kind == alerts.KindGatewayOffline {
		s, ok := g.latest[k]
		return ok && !s.Active && !s.Time.Before(a.Started)
	}
	d, ok := g.doors[k]
	return ok && !d.s.Active && !d.s.Time.Before(a.Started)
}

// SetLive takes the live members after a change: the alerts of the
// gateways that moved away are released, those of the gateways that
// moved here are adopted from the others' states (as Merge last read
// them: call Merge first), and their offline alerts that hold are
// raised; their door conditions wait for SettleDeferred (or a word on
// them that an owner applied), and so does a word on them that Merge
// reads meanwhile that no owner applied (it may be old news).
func (g *GatewayAlerts) SetLive(live []int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	was := g.live
	g.live = slices.Clone(live)
	for _, o := range live {
		if !slices.Contains(was, o) {
			g.kick() // a member joined: it waits for this replica's state
			break
		}
	}
	if !g.synced {
		g.trySync()
	}
	if g.eng != nil {
		for _, a := range g.eng.Open() {
			if handed(&a) && !g.owns(a.Subject.ID) && Owner(a.Subject.ID, was) == g.self && g.eng.Release(a.ID) {
				delete(g.held, a.ID) // released, not resolved: it may come back
				g.released++
			}
		}
		g.adopt()
	}
	gained := func(gw string) bool { return g.owns(gw) && Owner(gw, was) != g.self }
	var raise []alerts.Signal
	for k, s := range g.latest {
		if s.Active && gained(k.gateway) {
			raise = append(raise, s)
		}
	}
	slices.SortFunc(raise, func(a, b alerts.Signal) int { return a.Time.Compare(b.Time) })
	for _, s := range raise {
		g.next.Signal(s)
	}
	if !g.synced {
		return
	}
	if g.gainedFrom == nil {
		g.gainedFrom = was
	}
	for _, k := range g.doorKeys() {
		if gained(k.gateway) {
			g.deferred[k] = true
		}
	}
}

// justGained tells whether the gateway moved to this replica at a change
// of the members not settled yet (SettleDeferred). Called with mu held.
func (g *GatewayAlerts) justGained(gateway string) bool {
	return g.gainedFrom != nil && g.owns(gateway) && Owner(gateway, g.gainedFrom) != g.self
}

// SettleDeferred settles the door conditions of the gateways gained at
// the last changes of the members (SetLive), if still owned. The caller
// waits a moment after the change first: the state a dead owner
// published just before it died (telling that it applied a door signal,
// and listing the alert it raised) may still be on its way, on another
// connection than its last will; settled at once, a word it applied but
// this replica still holds as unapplied would raise its alert a second
// time.
func (g *GatewayAlerts) SettleDeferred() {
	g.mu.Lock()
	defer g.mu.Unlock()
	keys := make([]gatewayKey, 0, len(g.deferred))
	for k := range g.deferred {
		keys = append(keys, k)
	}
	clear(g.deferred)
	g.gainedFrom = nil
	if !g.synced {
		return // settled when synced
	}
	slices.SortFunc(keys, compareKeys)
	for _, k := range keys {
		if g.owns(k.gateway) {
			g.settle(k)
		}
	}
	g.adopt()
}

// HandoverStats are the alerts a GatewayAlerts moved.
type HandoverStats struct {
	// Adopted counts the alerts (and acknowledgements) taken over from
	// other replicas, Released those let go to another.
	Adopted, Released uint64
	// LastError is the last adoption refused.
	LastError error
	// Synced tells whether the replica applies door signals (Synced).
	Synced bool
}

// Stats returns what the GatewayAlerts moved.
func (g *GatewayAlerts) Stats() HandoverStats {
	g.mu.Lock()
	defer g.mu.Unlock()
	return HandoverStats{Adopted: g.adopted, Released: g.released, LastError: g.adoptErr, Synced: g.synced}
}
