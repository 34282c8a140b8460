package cluster

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/ngic/ngic/controller/alerts"
	"github.com/ngic/ngic/telemetry"
)

// handoverReplica is one replica's alert side: its engine, what the
// engine told MQTT and the webhooks (its alert changes), and its
// GatewayAlerts.
type handoverReplica struct {
	eng     *alerts.Engine
	changes <-chan telemetry.Alert
	ga      *GatewayAlerts
}

func (r *handoverReplica) state(ord int) *State {
	st := &State{Ordinal: ord, Alerts: r.eng.Open(), Fresh: true}
	r.ga.Share(st)
	return st
}

// take returns the alert changes the engine made since the last call,
// spelled "<id>:<state>[+ack]".
func (r *handoverReplica) take() []string {
	var out []string
	for {
		select {
		case a := <-r.changes:
			s := a.ID + ":" + a.State
			if a.Ack != nil {
				s += "+ack"
			}
			out = append(out, s)
		default:
			return out
		}
	}
}

// handoverCluster makes three replicas, each with its alert engine
// (door-held and gateway-offline rules), and names a gateway replica 0
// owns, the gateway's owner while 0 is away (next), and the third
// replica, which hears the gateway's door (hearer).
func handoverCluster(t *testing.T) (all []int, gw string, next, hearer int, reps []*handoverReplica) {
	all = []int{0, 1, 2}
	for i := 0; gw == ""; i++ {
		if c := fmt.Sprintf("gw-%d", i); Owner(c, all) == 0 {
			gw = c
		}
	}
	next = Owner(gw, []int{1, 2})
	hearer = 3 - next
	cfg := alerts.Config{Rules: []alerts.Rule{{Name: "door", Kind: alerts.KindDoorHeld},
		{Name: "offline", Kind: alerts.KindGatewayOffline}}}
	reps = make([]*handoverReplica, 3)
	for i := range reps {
		e, err := alerts.New(cfg, alerts.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { e.Close() })
		ch, _ := e.Subscribe(100)
		reps[i] = &handoverReplica{eng: e, changes: ch, ga: NewGatewayAlerts(i, all, e)}
	}
	return all, gw, next, hearer, reps
}

// TestGatewayHandover: three replicas, each with its alert engine, share
// a gateway's door through their states as the daemon does (Merge, then
// SetLive on a change). The owner raises the door-held alert from a door
// heard by another; killed while the door is held, the next owner adopts
// the alert with its acknowledgement (no second raise) and resolves it,
// once, when the door closes; the owner back with its stale copy
// releases it silently. A second occurrence, adopted while the owner is
// away, goes back to it with the acknowledgement taken meanwhile, and
// resolves there, once. Every alert is told raised once and resolved
// once, over the whole cluster.
func TestGatewayHandover(t *testing.T) {
	all, gw, next, hearer, reps := handoverCluster(t)
	live := slices.Clone(all)
	last := map[int]*State{} // the latest state of each replica, retained when it dies
	sync := func() {
		for range 2 {
			for _, r := range live {
				last[r] = reps[r].state(r)
			}
			for _, r := range live {
				var others []*State
				for o, s := range last {
					if o != r {
						others = append(others, s)
					}
				}
				reps[r].ga.Merge(others)
			}
		}
	}
	setLive := func(l []int) {
		live = l
		sync()
		for _, r := range live {
			reps[r].ga.SetLive(l)
		}
		sync()
		for _, r := range live {
			reps[r].ga.SettleDeferred() // a moment after the change
		}
	}
	want := func(step string, changes map[int][]string) {
		t.Helper()
		for r := range reps {
			if got, w := reps[r].take(), changes[r]; !slices.Equal(got, w) {
				t.Errorf("%s: replica %d told %q, want %q", step, r, got, w)
			}
		}
	}
	t0 := time.Now().Add(-time.Hour).UTC().Truncate(time.Second)
	door := func(active bool, at time.Time) alerts.Signal {
		return alerts.Signal{Kind: alerts.KindDoorHeld, Subject: alerts.Subject{Type: alerts.SubjectGateway, ID: gw, Site: "s1"},
			Key: "eye-1", Active: active, Time: at, Summary: "door"}
	}
	openOn := func(r int) []telemetry.Alert { return reps[r].eng.Open() }

	// A: the door held, heard by a replica that does not own the gateway:
	// the owner raises the alert; acknowledged there.
	reps[hearer].ga.Signal(door(true, t0))
	sync()
	if len(openOn(0)) != 1 {
		t.Fatalf("the owner has %+v open", openOn(0))
	}
	x := openOn(0)[0].ID
	if _, err := reps[0].eng.Acknowledge(x, "noc", "crew sent", time.Time{}); err != nil {
		t.Fatal(err)
	}
	sync()
	want("A", map[int][]string{0: {x + ":firing", x + ":firing+ack"}})

	// B: the owner dies with the door held: the next owner adopts the
	// alert, acknowledgement included, raising nothing.
	setLive([]int{1, 2})
	want("B", nil)
	if o := openOn(next); len(o) != 1 || o[0].ID != x || o[0].Ack == nil || o[0].Ack.Note != "crew sent" {
		t.Fatalf("replica %d has %+v open, want %s adopted with its acknowledgement", next, o, x)
	}
	if len(openOn(hearer)) != 0 {
		t.Fatalf("replica %d adopted %+v", hearer, openOn(hearer))
	}

	// C: the door closes: resolved once, by the new owner; the dead
	// owner's state still listing the alert brings nothing back.
	reps[hearer].ga.Signal(door(false, t0.Add(time.Minute)))
	sync()
	sync()
	want("C", map[int][]string{next: {x + ":resolved+ack"}})
	if len(openOn(next)) != 0 {
		t.Fatalf("C: %+v still open", openOn(next))
	}

	// D: the owner comes back (a new process, its engine's state file
	// holding the alert): it releases its stale copy without a word.
	reps[0].ga = NewGatewayAlerts(0, all, reps[0].eng)
	setLive(all)
	want("D", nil)
	if len(openOn(0)) != 0 {
		t.Fatalf("D: the owner back still has %+v open", openOn(0))
	}

	// E: held again, the owner raises a new alert; it dies, the next
	// owner adopts it and applies an acknowledgement taken meanwhile.
	reps[hearer].ga.Signal(door(true, t0.Add(2*time.Minute)))
	sync()
	if len(openOn(0)) != 1 || openOn(0)[0].ID == x {
		t.Fatalf("E: the owner has %+v open", openOn(0))
	}
	y := openOn(0)[0].ID
	want("E", map[int][]string{0: {y + ":firing"}})
	setLive([]int{1, 2})
	if _, err := reps[next].eng.Acknowledge(y, "ops", "known", time.Time{}); err != nil {
		t.Fatalf("E: replica %d did not adopt %s: %v", next, y, err)
	}
	want("E", map[int][]string{next: {y + ":firing+ack"}})

	// F: the owner comes back while the door is held (its copy without
	// the acknowledgement): the next owner releases the alert, the owner
	// keeps it and takes the acknowledgement, telling nobody.
	reps[0].ga = NewGatewayAlerts(0, all, reps[0].eng)
	setLive(all)
	want("F", nil)
	if o := openOn(0); len(o) != 1 || o[0].ID != y || o[0].Ack == nil || o[0].Ack.By != "ops" {
		t.Fatalf("F: the owner back has %+v open, want %s acknowledged by ops", o, y)
	}
	if len(openOn(next)) != 0 {
		t.Fatalf("F: replica %d kept %+v", next, openOn(next))
	}

	// G: the door closes: the owner resolves, once.
	reps[hearer].ga.Signal(door(false, t0.Add(3*time.Minute)))
	sync()
	sync()
	want("G", map[int][]string{0: {y + ":resolved+ack"}})
	for r := range reps {
		if len(openOn(r)) != 0 {
			t.Errorf("G: replica %d has %+v open", r, openOn(r))
		}
	}
	if st := reps[next].ga.Stats(); st.Adopted < 2 || st.Released < 1 || st.LastError != nil {
		t.Errorf("replica %d's handover: %+v", next, st)
	}
}

// TestGatewayReturnAfterClear: the owner of a gateway dies with its door
// held; the next owner adopts the alert and resolves it when the door
// closes, heard by the third replica. The owner comes back (its state
// file holding its stale copy) and first reads retained states from
// before: the hearer's still telling the door closed and not applied
// (it has not read the next owner's since), the next owner's still
// listing the alert open. It must not take the closed door for news to
// apply: the alert was resolved once, by the next owner. Once it has
// read the others' states published since it joined, it lets its stale
// copy go without a word.
func TestGatewayReturnAfterClear(t *testing.T) {
	all, gw, next, hearer, reps := handoverCluster(t)
	// merge has replica r read the states of from, in that order.
	merge := func(r int, from ...*State) { reps[r].ga.Merge(from) }
	t0 := time.Now().Add(-time.Hour).UTC().Truncate(time.Second)
	door := func(active bool, at time.Time) alerts.Signal {
		return alerts.Signal{Kind: alerts.KindDoorHeld, Subject: alerts.Subject{Type: alerts.SubjectGateway, ID: gw, Site: "s1"},
			Key: "eye-1", Active: active, Time: at, Summary: "door"}
	}
	// Every replica synced: each has read the others' live states.
	for r := range reps {
		var others []*State
		for o := range reps {
			if o != r {
				others = append(others, reps[o].state(o))
			}
		}
		merge(r, others...)
		if !reps[r].ga.Synced() {
			t.Fatalf("replica %d not synced after reading every member's live state", r)
		}
	}

	// The door held, heard by the hearer; the owner raises the alert.
	reps[hearer].ga.Signal(door(true, t0))
	merge(0, reps[hearer].state(hearer))
	if len(reps[0].eng.Open()) != 1 {
		t.Fatalf("the owner has %+v open", reps[0].eng.Open())
	}
	x := reps[0].eng.Open()[0].ID
	dead := reps[0].state(0) // retained as it died
	merge(hearer, dead)
	merge(next, dead)

	// The owner dies: the next owner adopts the alert.
	for _, r := range []int{next, hearer} {
		reps[r].ga.SetLive([]int{1, 2})
		reps[r].ga.SettleDeferred()
	}
	if o := reps[next].eng.Open(); len(o) != 1 || o[0].ID != x {
		t.Fatalf("replica %d has %+v open, want %s adopted", next, o, x)
	}
	nextBefore := reps[next].state(next) // retained: the alert open there

	// The door closes, heard by the hearer: the next owner resolves the
	// alert; the hearer's retained state still tells the word unapplied.
	reps[hearer].ga.Signal(door(false, t0.Add(time.Minute)))
	hearerStale := reps[hearer].state(hearer)
	merge(next, hearerStale, dead)
	if got := reps[next].take(); !slices.Equal(got, []string{x + ":resolved"}) {
		t.Fatalf("replica %d told %q, want %s resolved", next, got, x)
	}

	// The owner comes back with its stale copy and reads the retained
	// states: the hearer's first, then the next owner's from before it
	// resolved the alert.
	reps[0].take()
	reps[0].ga = NewGatewayAlerts(0, all, reps[0].eng)
	hearerStale.Fresh, nextBefore.Fresh = false, false
	merge(0, hearerStale, nextBefore)
	if got := reps[0].take(); len(got) != 0 {
		t.Fatalf("the owner back told %q from retained states: the alert was resolved by replica %d already", got, next)
	}
	if reps[0].ga.Synced() {
		t.Fatal("the owner back synced on retained states")
	}
	// Only the others' states published since, counting it live, sync it.
	for _, r := range []int{next, hearer} {
		reps[r].ga.SetLive(all)
	}
	merge(0, reps[hearer].state(hearer), reps[next].state(next))
	if !reps[0].ga.Synced() {
		t.Fatal("the owner back not synced on the others' live states")
	}
	merge(0, reps[hearer].state(hearer), reps[next].state(next))
	for r := range reps {
		if got := reps[r].take(); len(got) != 0 {
			t.Errorf("replica %d told %q after the owner's return", r, got)
		}
		if o := reps[r].eng.Open(); len(o) != 0 {
			t.Errorf("replica %d still has %+v open", r, o)
		}
	}
	if st := reps[0].ga.Stats(); st.Released != 1 || !st.Synced {
		t.Errorf("the owner back: %+v, want its stale copy released", st)
	}
}

// heardDoor syncs the replicas (each reads the others' states), has the
// hearer hear gw's door held, a minute ago, and returns the hearer's
// state that tells of it.
func heardDoor(reps []*handoverReplica, gw string, hearer int) *State {
	for r := range reps {
		var others []*State
		for o := range reps {
			if o != r {
				others = append(others, reps[o].state(o))
			}
		}
		reps[r].ga.Merge(others)
	}
	reps[hearer].ga.Signal(alerts.Signal{Kind: alerts.KindDoorHeld, Subject: alerts.Subject{Type: alerts.SubjectGateway, ID: gw, Site: "s1"},
		Key: "eye-1", Active: true, Time: time.Now().Add(-time.Minute).UTC().Truncate(time.Second)})
	return reps[hearer].state(hearer)
}

// TestGatewayDeadOwnerStateLate: the owner applies a door held heard by
// another replica, raises the alert and dies; its last state, which
// tells so, reaches the next owner only after its last will (they come on
// two connections). The next owner settles the gateways it gained a
// moment after the change (SettleDeferred), so it adopts the alert from
// that state rather than raising it a second time. When no such state
// comes, it raises the alert itself then.
func TestGatewayDeadOwnerStateLate(t *testing.T) {
	for _, late := range []bool{true, false} {
		_, gw, next, hearer, reps := handoverCluster(t)
		heard := heardDoor(reps, gw, hearer)
		reps[next].ga.Merge([]*State{heard, reps[0].state(0)})
		reps[0].ga.Merge([]*State{heard, reps[next].state(next)})
		if o := reps[0].eng.Open(); len(o) != 1 {
			t.Fatalf("the owner has %+v open", o)
		}
		x := reps[0].eng.Open()[0].ID
		dead := reps[0].state(0) // its last state, still on its way
		reps[0].take()

		for _, r := range []int{next, hearer} {
			reps[r].ga.SetLive([]int{1, 2})
		}
		if late {
			reps[next].ga.Merge([]*State{dead, heard})
		}
		reps[next].ga.SettleDeferred()
		want := []string{x + ":firing"} // raised by the next owner, the dead one's state never having come
		if late {
			want = nil // adopted from the state that came late
		}
		if got := reps[next].take(); !slices.Equal(got, want) {
			t.Errorf("late state %v: replica %d told %q, want %q", late, next, got, want)
		}
		if o := reps[next].eng.Open(); len(o) != 1 || o[0].ID != x {
			t.Errorf("late state %v: replica %d has %+v open, want %s", late, next, o, x)
		}
	}
}

// TestGatewayDeadOwnerStateBehindOthers: the owner applies a door held
// heard by another replica, raises the alert and dies; the next owner
// learns of the death (the last will) before it has read the hearer's
// state that told of the door (the will overtakes states queued on the
// other connection), and reads that state, with the door not applied,
// before the dead owner's last state. The word is not news to settle at
// once: the gateway was just gained, and it waits for SettleDeferred,
// by when the dead owner's state came, and the alert is adopted, not
// raised a second time.
func TestGatewayDeadOwnerStateBehindOthers(t *testing.T) {
	_, gw, next, hearer, reps := handoverCluster(t)
	heard := heardDoor(reps, gw, hearer)
	reps[0].ga.Merge([]*State{heard, reps[next].state(next)})
	if o := reps[0].eng.Open(); len(o) != 1 {
		t.Fatalf("the owner has %+v open", o)
	}
	x := reps[0].eng.Open()[0].ID
	dead := reps[0].state(0) // its last state, behind the hearer's on the way to next

	reps[next].ga.SetLive([]int{1, 2})
	reps[next].ga.Merge([]*State{heard})
	if got := reps[next].take(); len(got) != 0 {
		t.Fatalf("replica %d told %q on reading the hearer's state before the dead owner's", next, got)
	}
	reps[next].ga.Merge([]*State{dead, heard})
	reps[next].ga.SettleDeferred()
	if got := reps[next].take(); len(got) != 0 {
		t.Errorf("replica %d told %q, want nothing (the alert adopted)", next, got)
	}
	if o := reps[next].eng.Open(); len(o) != 1 || o[0].ID != x {
		t.Errorf("replica %d has %+v open, want %s", next, o, x)
	}
}
