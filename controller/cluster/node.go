package cluster

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/ngic/ngic/telemetry"
)

// DefaultHeartbeat is the default period of a replica's heartbeats.
const DefaultHeartbeat = 5 * time.Second

// Timeouts of the node's MQTT connection.
const (
	connectTimeout = 10 * time.Second
	publishTimeout = 30 * time.Second
	maxReconnect   = 10 * time.Second
)

// NodeOptions configure a Node.
type NodeOptions struct {
	// Broker is the broker URL (as broker.Options.Broker), TLS its TLS
	// configuration (nil for plain TCP or the system's roots).
	Broker string
	TLS    *tls.Config
	// Username is the replica's user name (Shard.User(base, "")): its
	// connection of statuses presents Username-members, its connection of
	// states Username-state, each a user of its own (empty stays empty).
	// Password is the password of both.
	Username, Password string
	// ClientID is the client identifier of the node's connection of
	// statuses, and with "-state" appended of its connection of states;
	// both must differ from every other client's, the replica's ingest
	// included.
	ClientID string
	// Shard is the replica's identity.
	Shard Shard
	// Heartbeat is the period of the heartbeats (default DefaultHeartbeat);
	// a member missing MissedHeartbeats of them is taken for gone.
	Heartbeat time.Duration
	// API is the base URL of the replica's API, advertised in its
	// heartbeats (see Status.API; empty advertises none).
	API string
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Node is one replica's membership of the cluster over MQTT: it publishes
// its retained status (heartbeats, and "offline" as its last will and at
// a clean stop), follows the others' statuses and their shared states,
// and tells of each change of the live members. Its methods are safe for
// concurrent use.
type Node struct {
	o  NodeOptions
	c  mqtt.Client // statuses
	sc mqtt.Client // states

	// changed is signalled when a status or a state arrives.
	changed chan struct{}
	// arrived is signalled when a state arrives (StateArrived).
	arrived chan struct{}

	mu       sync.Mutex
	members  *Membership
	live     []int
	states   map[int]*State
	bad      uint64 // payloads refused
	lastBad  error
	received uint64 // states received
	statuses uint64 // statuses received
	apis     map[int]string
	// barriers counts the replica's own barriers come back (Barrier);
	// barrierSeen is closed, and replaced, at each.
	barriers    uint64
	barrierSeen chan struct{}
	// barrier lets one Barrier run at a time.
	barrier sync.Mutex
}

// NewNode checks the options and prepares a node; it connects in Run.
func NewNode(o NodeOptions) (*Node, error) {
	if o.Broker == "" || o.ClientID == "" {
		return nil, errors.New("cluster: broker URL and client ID are required")
	}
	if err := o.Shard.Validate(); err != nil {
		return nil, err
	}
	if o.Heartbeat == 0 {
		o.Heartbeat = DefaultHeartbeat
	}
	if o.Heartbeat < 10*time.Millisecond || o.Heartbeat > time.Hour {
		return nil, fmt.Errorf("cluster: heartbeat %v outside 10ms..1h", o.Heartbeat)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.API != "" && !validAPI(o.API) {
		return nil, fmt.Errorf("cluster: API %q is not http(s)://host:port", o.API)
	}
	now := o.Now()
	n := &Node{o: o, changed: make(chan struct{}, 1), arrived: make(chan struct{}, 1), states: map[int]*State{}, apis: map[int]string{},
		barrierSeen: make(chan struct{}),
		members:     NewMembership(o.Shard, now, MissedHeartbeats*o.Heartbeat)}
	n.live = n.members.Live(now)
	will := Status{V: telemetry.SchemaVersion, Ordinal: o.Shard.Ordinal, Replicas: o.Shard.Replicas,
		State: StateOffline, Time: now}
	// Two connections: the statuses (small, with the will) never wait
	// behind the states (a few megabytes).
	co := n.clientOptions(o.ClientID, ConnMembers, func(c mqtt.Client) {
		c.Subscribe(telemetry.ControllerFilter, 1, n.handle)
		n.heartbeat()
	}).SetWill(telemetry.ControllerTopic(o.Shard.Ordinal), string(will.Encode()), 1, true)
	n.c = mqtt.NewClient(co)
	n.sc = mqtt.NewClient(n.clientOptions(o.ClientID+"-state", ConnState, func(c mqtt.Client) {
		c.Subscribe(telemetry.ControllerStateFilter, 1, n.handle)
	}))
	return n, nil
}

// clientOptions are the options of one of the node's connections, conn
// (ConnMembers, ConnState).
func (n *Node) clientOptions(id, conn string, onConnect mqtt.OnConnectHandler) *mqtt.ClientOptions {
	user := n.o.Username
	if user != "" {
		user += "-" + conn
	}
	co := mqtt.NewClientOptions().
		AddBroker(n.o.Broker).
		SetClientID(id).
		SetUsername(user).
		SetPassword(n.o.Password).
		SetCleanSession(true). // the retained messages are the whole state: nothing to keep
		SetAutoReconnect(true).
		SetConnectRetry(true).
		SetConnectRetryInterval(time.Second).
		SetMaxReconnectInterval(maxReconnect).
		SetKeepAlive(max(2*n.o.Heartbeat, 2*time.Second)).
		SetConnectTimeout(connectTimeout).
		SetOrderMatters(true). // a will after the last heartbeat stays after it
		SetOnConnectHandler(onConnect)
	if n.o.TLS != nil {
		co.SetTLSConfig(n.o.TLS)
	}
	return co
}

// heartbeat publishes the retained online status without waiting.
func (n *Node) heartbeat() {
	s := Status{V: telemetry.SchemaVersion, Ordinal: n.o.Shard.Ordinal, Replicas: n.o.Shard.Replicas,
		State: StateOnline, Time: n.o.Now(), Heartbeat: n.o.Heartbeat.Seconds(), API: n.o.API}
	n.c.Publish(telemetry.ControllerTopic(n.o.Shard.Ordinal), 1, true, s.Encode())
}

// handle takes a status or a state; it runs in paho's router.
func (n *Node) handle(_ mqtt.Client, m mqtt.Message) {
	ord, isState, err := telemetry.ParseControllerTopic(m.Topic())
	if err == nil && isState && ord == n.o.Shard.Ordinal && len(m.Payload()) == 0 && !m.Retained() {
		n.mu.Lock()
		n.barriers++
		close(n.barrierSeen)
		n.barrierSeen = make(chan struct{})
		n.mu.Unlock()
		return
	}
	if err == nil && len(m.Payload()) == 0 { // a retained message cleared, or another replica's barrier
		return
	}
	var st Status
	var state *State
	switch {
	case err != nil:
	case isState:
		state, err = ParseState(m.Payload())
	default:
		st, err = ParseStatus(m.Payload())
	}
	if err == nil && ((state != nil && state.Ordinal != ord) || (state == nil && st.Ordinal != ord)) {
		err = fmt.Errorf("cluster: %s names replica %d", m.Topic(), max(st.Ordinal, stateOrdinal(state)))
	}
	now := n.o.Now()
	n.mu.Lock()
	switch {
	case err != nil:
		n.bad++
		n.lastBad = err
	case state != nil:
		if ord != n.o.Shard.Ordinal {
			state.Fresh = !m.Retained()
			n.states[ord] = state
			n.received++
			select {
			case n.arrived <- struct{}{}:
			default:
			}
		}
	default:
		if !m.Retained() {
			st.Time = now // a live heartbeat counts from its arrival, whatever the delays on its way
		}
		n.members.Observe(st, now)
		n.statuses++
		if st.State == StateOnline {
			n.apis[ord] = st.API
		}
	}
	n.mu.Unlock()
	n.signal()
}

func stateOrdinal(s *State) int {
	if s == nil {
		return 0
	}
	return s.Ordinal
}

func (n *Node) signal() {
	select {
	case n.changed <- struct{}{}:
	default:
	}
}

// Run connects, sends a heartbeat every period and calls onChange with
// the live members (sorted, the replica itself included) once at the
// start and after each change until ctx ends; then it publishes the
// replica's offline status and disconnects. The calls of onChange come
// one at a time from a goroutine of their own, so that a slow one delays
// no heartbeat; a change that comes while one runs is given once it
// returns (only the latest members, if several).
func (n *Node) Run(ctx context.Context, onChange func(live []int)) error {
	n.mu.Lock()
	n.members.Restart(n.o.Now(), MissedHeartbeats*n.o.Heartbeat) // the grace counts from the connection
	n.mu.Unlock()
	n.c.Connect() // both retry in the background
	n.sc.Connect()
	defer n.stop()
	changes := make(chan []int, 1)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for live := range changes {
			onChange(live)
		}
	}()
	defer func() { close(changes); <-done }()
	tell := func(live []int) {
		select {
		case <-changes: // not taken yet: replaced by the latest
		default:
		}
		changes <- live
	}
	tell(n.Live())
	beat := time.NewTicker(n.o.Heartbeat)
	defer beat.Stop()
	for {
		// Members expire when the replica hears its own heartbeat back
		// (see Membership): a status arrives, and changed is signalled.
		select {
		case <-ctx.Done():
			return nil
		case <-beat.C:
			if n.c.IsConnectionOpen() {
				n.heartbeat()
			}
		case <-n.changed:
		}
		n.mu.Lock()
		live := n.members.Live(n.o.Now())
		same := slices.Equal(live, n.live)
		n.live = live
		n.mu.Unlock()
		if !same {
			tell(slices.Clone(live))
		}
	}
}

// stop says the replica is offline (so that the others take its devices
// at once) and disconnects.
func (n *Node) stop() {
	if n.c.IsConnectionOpen() {
		s := Status{V: telemetry.SchemaVersion, Ordinal: n.o.Shard.Ordinal, Replicas: n.o.Shard.Replicas,
			State: StateOffline, Time: n.o.Now()}
		tok := n.c.Publish(telemetry.ControllerTopic(n.o.Shard.Ordinal), 1, true, s.Encode())
		tok.WaitTimeout(2 * time.Second)
	}
	n.c.Disconnect(250)
	n.sc.Disconnect(250)
}

// StateArrived is signalled when another replica's state arrives (once
// for several, if they come before it is read).
func (n *Node) StateArrived() <-chan struct{} { return n.arrived }

// Live returns the live members, sorted, the replica itself included.
func (n *Node) Live() []int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return slices.Clone(n.live)
}

// API returns the API base URL the member ordinal advertised in its
// latest online status ("" when none was heard, or it advertised none).
func (n *Node) API(ordinal int) string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.apis[ordinal]
}

// LeaseHolder returns the ordinal holding the coverage lease (the lowest
// live one).
func (n *Node) LeaseHolder() int { return LeaseHolder(n.Live()) }

// HoldsLease tells whether this replica holds the coverage lease.
func (n *Node) HoldsLease() bool { return n.LeaseHolder() == n.o.Shard.Ordinal }

// Others returns the latest state of every other replica, live or not
// (a dead one's devices keep their last known state until polled again),
// sorted by ordinal.
func (n *Node) Others() []*State {
	n.mu.Lock()
	out := make([]*State, 0, len(n.states))
	for _, s := range n.states {
		out = append(out, s)
	}
	n.mu.Unlock()
	slices.SortFunc(out, func(a, b *State) int { return a.Ordinal - b.Ordinal })
	return out
}

// PublishState publishes the replica's state, retained, and waits for the
// broker to take it.
func (n *Node) PublishState(ctx context.Context, s *State) error {
	s.V, s.Ordinal = telemetry.SchemaVersion, n.o.Shard.Ordinal
	b, err := s.Encode()
	if err != nil {
		return err
	}
	tok := n.sc.Publish(telemetry.ControllerStateTopic(s.Ordinal), 1, true, b)
	ctx, cancel := context.WithTimeout(ctx, publishTimeout)
	defer cancel()
	select {
	case <-tok.Done():
	case <-ctx.Done():
		return fmt.Errorf("cluster: publish state of replica %d: %w", s.Ordinal, ctx.Err())
	}
	if err := tok.Error(); err != nil {
		return fmt.Errorf("cluster: publish state of replica %d: %w", s.Ordinal, err)
	}
	return nil
}

// NodeStats are a node's counters.
type NodeStats struct {
	// Connected tells whether the broker connection is up.
	Connected bool
	// States counts the other replicas' states received, Statuses the
	// status messages, Refused the status and state payloads refused;
	// LastRefusal is the latter's last error.
	States, Statuses, Refused uint64
	LastRefusal               error
}

// Stats returns the node's counters.
func (n *Node) Stats() NodeStats {
	n.mu.Lock()
	defer n.mu.Unlock()
	return NodeStats{Connected: n.c.IsConnectionOpen() && n.sc.IsConnectionOpen(), States: n.received, Statuses: n.statuses, Refused: n.bad,
		LastRefusal: n.lastBad}
}
