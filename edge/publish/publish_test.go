package publish

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	mqttserver "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/hooks/auth"
	"github.com/mochi-mqtt/server/v2/listeners"
	"github.com/mochi-mqtt/server/v2/packets"

	"github.com/ngic/ngic/internal/spool"
)

// memStore is an in-memory Store.
type memStore struct {
	mu      sync.Mutex
	recs    map[uint64][]byte
	deleted []uint64
}

func newMemStore(n int) *memStore {
	s := &memStore{recs: map[uint64][]byte{}}
	for i := 1; i <= n; i++ {
		s.recs[uint64(i)] = []byte(strconv.Itoa(i))
	}
	return s
}

func (s *memStore) Next(after uint64, max int) ([]spool.Record, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var keys []uint64
	for k := range s.recs {
		if k > after {
			keys = append(keys, k)
		}
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i] < keys[j] })
	var out []spool.Record
	for _, k := range keys {
		if len(out) == max {
			break
		}
		out = append(out, spool.Record{Seq: k, Data: s.recs[k]})
	}
	return out, nil
}

func (s *memStore) Delete(seqs ...uint64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, k := range seqs {
		delete(s.recs, k)
		s.deleted = append(s.deleted, k)
	}
	return nil
}

func (s *memStore) len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.recs)
}

// startBroker runs mochi-mqtt on a free loopback port.
func startBroker(t *testing.T) (*mqttserver.Server, string) {
	s, addr, _ := startBrokerC(t)
	return s, addr
}

// startBrokerC also returns a close function safe to call more than once.
func startBrokerC(t *testing.T) (*mqttserver.Server, string, func()) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	s := mqttserver.New(&mqttserver.Options{InlineClient: true})
	s.AddHook(new(auth.AllowHook), nil)
	if err := s.AddListener(listeners.NewTCP(listeners.Config{ID: "t", Address: addr})); err != nil {
		t.Fatal(err)
	}
	if err := s.Serve(); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	// closeFn is for closing under a connected publisher; the cleanup
	// comes after the publisher stopped.
	closeFn := func() { once.Do(func() { s.Close() }) }
	t.Cleanup(func() { once.Do(func() { closeWhenIdle(s) }) })
	return s, addr, closeFn
}

// closeWhenIdle closes s once no network client is left on it, or after
// 10 s. mochi-mqtt v2.7.9 can deadlock in Server.Close when a client leaves
// at that moment: Clients.GetByListener read-locks twice while the leaving
// client's Clients.Delete waits to write (seen once in a thousand runs).
func closeWhenIdle(s *mqttserver.Server) {
	deadline := time.Now().Add(10 * time.Second)
	for hasNetClients(s) && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	s.Close()
}

func hasNetClients(s *mqttserver.Server) bool {
	for _, cl := range s.Clients.GetAll() {
		if !cl.Net.Inline {
			return true
		}
	}
	return false
}

// decode is the tests' Decode: a record is its seq, "bad", or a topic
// level and a payload ("a:17" on t/a); its payload goes on t/events.
func decode(dst []byte, r spool.Record) (Message, error) {
	if string(r.Data) == "bad" {
		return Message{}, errors.New("unreadable")
	}
	if level, payload, ok := strings.Cut(string(r.Data), ":"); ok {
		return Message{Topic: "t/" + level, Payload: append(dst, payload...)}, nil
	}
	return Message{Topic: "t/events", Payload: append(dst, r.Data...)}, nil
}

func run(t *testing.T, p *Publisher) func() {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	return func() {
		cancel()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatal("publisher did not stop")
		}
	}
}

// waitFor polls cond until it holds, failing t after 10 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	waitForf(t, cond, func() string { return what })
}

// waitForf is waitFor with the description made when it fails.
func waitForf(t *testing.T, cond func() bool, what func() string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// ledger is a broker hook that records, for the publisher's client, every
// PUBLISH the broker reads (in order) and every PUBACK it sends, and a
// store that checks each deletion against it: a record may be deleted only
// once the broker has sent its PUBACK.
type ledger struct {
	mqttserver.HookBase
	client string
	// viaGate: PUBACKs count as sent when an ackGate lets them through,
	// not when the broker encodes them.
	viaGate bool
	window  int // when > 0, every PUBLISH is checked against the window

	mu         sync.Mutex
	received   []uint64            // the seqs of every PUBLISH, in order
	messages   []message           // every PUBLISH of events, in order
	snapshots  []packets.Packet    // PUBLISHes on snapshotTopic, kept apart
	snapIDs    map[uint16]bool     // their packet IDs awaiting a PUBACK
	byID       map[uint16][]uint64 // packet ID of a PUBLISH read -> its seqs
	acked      map[uint64]bool     // seqs whose PUBACK was sent
	bad        map[uint64]bool     // seqs Decode refuses, deleted at once
	acks       int                 // events acknowledged
	inUse      int                 // packet IDs of events awaiting a PUBACK
	violations []string
}

// message is a PUBLISH of events the broker read.
type message struct {
	topic   string
	payload string
	seqs    []uint64
}

func newLedger(client string) *ledger {
	return &ledger{client: client, byID: map[uint16][]uint64{}, acked: map[uint64]bool{}, snapIDs: map[uint16]bool{}}
}

// seqsOf reads the seqs of a payload: one seq, or a batch of them as
// telemetry.AppendToBatch frames it.
func seqsOf(payload []byte) ([]uint64, error) {
	s := string(payload)
	if inner, ok := strings.CutPrefix(s, "["); ok {
		inner, ok = strings.CutSuffix(inner, "]")
		if !ok || inner == "" {
			return nil, fmt.Errorf("payload %q is not a batch", payload)
		}
		var seqs []uint64
		for _, f := range strings.Split(inner, ",") {
			seq, err := strconv.ParseUint(f, 10, 64)
			if err != nil {
				return nil, fmt.Errorf("payload %q: %v", payload, err)
			}
			seqs = append(seqs, seq)
		}
		return seqs, nil
	}
	seq, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return nil, fmt.Errorf("payload %q is not a seq", payload)
	}
	return []uint64{seq}, nil
}

func (l *ledger) ID() string { return "ledger" }

func (l *ledger) Provides(b byte) bool {
	return b == mqttserver.OnPublish || b == mqttserver.OnPacketEncode
}

// OnPublish runs as the broker reads a PUBLISH, before it sends the PUBACK.
func (l *ledger) OnPublish(cl *mqttserver.Client, pk packets.Packet) (packets.Packet, error) {
	if cl.ID != l.client {
		return pk, nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if pk.TopicName == snapshotTopic {
		l.snapshots = append(l.snapshots, pk.Copy(false))
		if pk.FixedHeader.Qos > 0 {
			l.snapIDs[pk.PacketID] = true
		}
		return pk, nil
	}
	seqs, err := seqsOf(pk.Payload)
	if err != nil {
		l.violations = append(l.violations, err.Error())
		return pk, nil
	}
	for i := 1; i < len(seqs); i++ {
		if seqs[i] <= seqs[i-1] {
			l.violations = append(l.violations, fmt.Sprintf("batch %q: seqs not ascending", pk.Payload))
		}
	}
	l.received = append(l.received, seqs...)
	l.messages = append(l.messages, message{topic: pk.TopicName, payload: string(pk.Payload), seqs: seqs})
	l.byID[pk.PacketID] = seqs
	l.inUse++
	// The publisher sends an event only once the PUBACKs of all but
	// window-1 of those before it have reached it; the packet IDs in use
	// are then at most as many.
	if l.window > 0 && (len(l.received) > l.acks+l.window || l.inUse > l.window) {
		l.violations = append(l.violations, fmt.Sprintf("PUBLISH of seqs %v with %d events sent, %d acknowledged, %d packets in flight: window %d exceeded",
			seqs, len(l.received), l.acks, l.inUse, l.window))
	}
	return pk, nil
}

// OnPacketEncode runs before the broker writes a packet to a client.
func (l *ledger) OnPacketEncode(cl *mqttserver.Client, pk packets.Packet) packets.Packet {
	if !l.viaGate && cl.ID == l.client && pk.FixedHeader.Type == packets.Puback {
		l.ackSent(pk.PacketID)
	}
	return pk
}

// ackSent records that the PUBACK with packet ID id is on its way to the
// publisher.
func (l *ledger) ackSent(id uint16) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.snapIDs[id] {
		delete(l.snapIDs, id)
		return
	}
	seqs, ok := l.byID[id]
	if !ok {
		l.violations = append(l.violations, fmt.Sprintf("PUBACK %d for no PUBLISH", id))
		return
	}
	delete(l.byID, id)
	for _, seq := range seqs {
		l.acked[seq] = true
	}
	l.acks += len(seqs)
	l.inUse--
}

func (l *ledger) deleted(seqs []uint64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, seq := range seqs {
		if !l.acked[seq] && !l.bad[seq] {
			l.violations = append(l.violations, fmt.Sprintf("seq %d deleted before the broker sent its PUBACK", seq))
		}
	}
}

// msgs returns the PUBLISHes of events read so far.
func (l *ledger) msgs() []message {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]message(nil), l.messages...)
}

func (l *ledger) snapshot() (received []uint64, violations []string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]uint64(nil), l.received...), append([]string(nil), l.violations...)
}

// checkedStore is a memStore whose deletions are checked by a ledger.
type checkedStore struct {
	*memStore
	l *ledger
}

func (s checkedStore) Delete(seqs ...uint64) error {
	s.l.deleted(seqs)
	return s.memStore.Delete(seqs...)
}

// startLedgerBroker runs mochi-mqtt with a ledger of client on a free
// loopback port.
func startLedgerBroker(t *testing.T, l *ledger) string {
	t.Helper()
	s := mqttserver.New(&mqttserver.Options{InlineClient: true})
	s.AddHook(new(auth.AllowHook), nil)
	if err := s.AddHook(l, nil); err != nil {
		t.Fatal(err)
	}
	if err := s.AddListener(listeners.NewTCP(listeners.Config{ID: "t", Address: "127.0.0.1:0"})); err != nil {
		t.Fatal(err)
	}
	if err := s.Serve(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { closeWhenIdle(s) })
	ln, ok := s.Listeners.Get("t")
	if !ok {
		t.Fatal("no listener")
	}
	return ln.Address()
}

// TestInOrderDeletedOnAck publishes with a window of one and of many, an
// event a message and in batches: every record reaches the broker once and
// in order, and is deleted only after the broker sent its PUBACK.
func TestInOrderDeletedOnAck(t *testing.T) {
	for _, tc := range []struct{ window, batch int }{{1, 1}, {7, 1}, {1000, 1}, {1, 64}, {7, 64}, {1000, 64}, {1000, 1024}} {
		t.Run(fmt.Sprintf("window %d batch %d", tc.window, tc.batch), func(t *testing.T) {
			l := newLedger("pub")
			l.window = tc.window
			addr := startLedgerBroker(t, l)
			store := newMemStore(500)
			p, err := New(checkedStore{store, l}, Opts{Broker: "tcp://" + addr, ClientID: "pub", Window: tc.window,
				BatchEvents: tc.batch, Decode: decode})
			if err != nil {
				t.Fatal(err)
			}
			stop := run(t, p)
			p.Notify()
			// Each record is read by the broker before its PUBACK is sent,
			// and deleted after: once the store is empty, the ledger is whole.
			waitFor(t, "all deleted", func() bool { return store.len() == 0 })
			stop()
			checkDelivered(t, l, store, 500)
			st, msgs := p.Stats(), l.msgs()
			if st.Published != 500 || st.Acked != 500 || st.InFlight != 0 || st.Messages != st.MessagesAcked ||
				st.Messages != uint64(len(msgs)) {
				t.Fatalf("stats: %+v; broker read %d messages", st, len(msgs))
			}
			for _, m := range msgs {
				if len(m.seqs) > min(tc.window, tc.batch) {
					t.Fatalf("a message of %d events with window %d and batch %d", len(m.seqs), tc.window, tc.batch)
				}
			}
		})
	}
}

// snapshotTopic is the topic of the snapshots in the tests.
const snapshotTopic = "t/snapshot"

func (l *ledger) snapshotsReceived() []packets.Packet {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]packets.Packet(nil), l.snapshots...)
}

// TestSnapshotsBesideEvents: snapshots published while events flow reach
// the broker (QoS 1, retained as asked) and leave the events' order,
// window and deletion on PUBACK intact; without a session they are
// dropped and counted, never queued.
func TestSnapshotsBesideEvents(t *testing.T) {
	l := newLedger("pub")
	l.window = 7
	addr := startLedgerBroker(t, l)
	store := newMemStore(500)
	p, err := New(checkedStore{store, l}, Opts{Broker: "tcp://" + addr, ClientID: "pub", Window: 7, Decode: decode})
	if err != nil {
		t.Fatal(err)
	}
	if p.PublishSnapshot(snapshotTopic, []byte("before"), true) {
		t.Fatal("snapshot published before any session")
	}
	stop := run(t, p)
	waitFor(t, "connected", func() bool { return p.Stats().Connected })
	// As many snapshots as the publisher takes while the events flow: one
	// at a time, a new one dropped while the last awaits its PUBACK.
	sent, dropped := 0, 0
	for store.len() > 0 {
		if p.PublishSnapshot(snapshotTopic, []byte(fmt.Sprint(sent)), sent%2 == 0) {
			sent++
		} else {
			dropped++
		}
		p.Notify()
	}
	if sent == 0 {
		t.Fatal("no snapshot published while connected")
	}
	waitFor(t, "every snapshot received", func() bool { return len(l.snapshotsReceived()) == sent })
	stop()
	checkDelivered(t, l, store, 500)
	for i, pk := range l.snapshotsReceived() {
		if string(pk.Payload) != fmt.Sprint(i) || pk.FixedHeader.Qos != 1 || pk.FixedHeader.Retain != (i%2 == 0) {
			t.Fatalf("snapshot %d received as %q, QoS %d, retained %v", i, pk.Payload, pk.FixedHeader.Qos, pk.FixedHeader.Retain)
		}
	}
	st := p.Stats()
	if st.Snapshots != uint64(sent) || st.SnapshotsDropped != uint64(dropped)+1 || st.Published != 500 || st.Acked != 500 {
		t.Fatalf("%d snapshots sent, %d dropped: stats %+v", sent, dropped, st)
	}
	if p.PublishSnapshot(snapshotTopic, []byte("after"), false) || p.Stats().SnapshotsDropped != uint64(dropped)+2 {
		t.Fatalf("snapshot after the stop: stats %+v", p.Stats())
	}
}

// TestSnapshotsQoS0WithFullWindow: with a window that can hold every MQTT
// packet identifier, snapshots go at QoS 0 and take none.
func TestSnapshotsQoS0WithFullWindow(t *testing.T) {
	l := newLedger("pub")
	addr := startLedgerBroker(t, l)
	p, err := New(newMemStore(0), Opts{Broker: "tcp://" + addr, ClientID: "pub", Window: 65535, Decode: decode})
	if err != nil {
		t.Fatal(err)
	}
	stop := run(t, p)
	defer stop()
	waitFor(t, "connected", func() bool { return p.Stats().Connected })
	if !p.PublishSnapshot(snapshotTopic, []byte("s"), false) {
		t.Fatal("snapshot dropped while connected")
	}
	waitFor(t, "the snapshot received", func() bool { return len(l.snapshotsReceived()) == 1 })
	if pk := l.snapshotsReceived()[0]; pk.FixedHeader.Qos != 0 {
		t.Fatalf("snapshot at QoS %d with a window of 65535", pk.FixedHeader.Qos)
	}
}

// checkDelivered checks that seqs 1..n reached the broker once each, in
// order, and were deleted once each, in order, each after its PUBACK.
func checkDelivered(t *testing.T, l *ledger, store *memStore, n int) {
	t.Helper()
	received, violations := l.snapshot()
	for _, v := range violations {
		t.Error(v)
	}
	if len(received) != n {
		t.Fatalf("broker read %d publishes, want %d", len(received), n)
	}
	for i, seq := range received {
		if seq != uint64(i+1) {
			t.Fatalf("publish %d is seq %d: out of order", i, seq)
		}
	}
	store.mu.Lock()
	defer store.mu.Unlock()
	if len(store.deleted) != n {
		t.Fatalf("%d deletions, want %d", len(store.deleted), n)
	}
	for i, seq := range store.deleted {
		if seq != uint64(i+1) {
			t.Fatalf("deletion %d is seq %d: out of order", i, seq)
		}
	}
}

// ackGate is a TCP proxy between a publisher and a broker that holds the
// broker's PUBACKs until it is opened, and tells the ledger of each one it
// lets through.
type ackGate struct {
	addr  string
	open  chan struct{}
	allow chan struct{} // each lets one PUBACK through (letThrough)

	mu    sync.Mutex
	conns []net.Conn
	dead  []chan struct{} // closed when cut, one a connection
}

// letThrough lets n more PUBACKs through while the gate is closed.
func (g *ackGate) letThrough(n int) {
	for range n {
		g.allow <- struct{}{}
	}
}

// cut closes the connections through the gate, dropping the PUBACKs held
// on them; new connections are accepted.
func (g *ackGate) cut() {
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, c := range g.conns {
		c.Close()
	}
	for _, d := range g.dead {
		close(d)
	}
	g.conns, g.dead = nil, nil
}

func startAckGate(t *testing.T, broker string, l *ledger) *ackGate {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	g := &ackGate{addr: ln.Addr().String(), open: make(chan struct{}), allow: make(chan struct{}, 1<<16)}
	var wg sync.WaitGroup
	t.Cleanup(func() {
		ln.Close()
		g.cut()
		select {
		case <-g.open:
		default:
			close(g.open)
		}
		wg.Wait()
	})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			down, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", broker)
			if err != nil {
				down.Close()
				continue
			}
			dead := make(chan struct{})
			g.mu.Lock()
			g.conns, g.dead = append(g.conns, down, up), append(g.dead, dead)
			g.mu.Unlock()
			wg.Add(2)
			go func() { defer wg.Done(); io.Copy(up, down); up.Close() }()
			go func() { defer wg.Done(); g.relay(down, up, l, dead); down.Close() }()
		}
	}()
	return g
}

// relay copies MQTT packets from the broker to the publisher, holding each
// PUBACK until the gate is open or lets it through, or the connection is
// cut (dead).
func (g *ackGate) relay(down, up net.Conn, l *ledger, dead <-chan struct{}) {
	r := bufio.NewReader(up)
	for {
		pk, err := readPacket(r)
		if err != nil {
			return
		}
		if pk[0]>>4 == packets.Puback && len(pk) >= 4 {
			select {
			case <-g.open:
			case <-g.allow:
			case <-dead:
				return
			}
			l.ackSent(binary.BigEndian.Uint16(pk[len(pk)-2:]))
		}
		if _, err := down.Write(pk); err != nil {
			return
		}
	}
}

// readPacket reads one MQTT packet: the fixed header (type byte, remaining
// length as a variable byte integer) and the rest.
func readPacket(r *bufio.Reader) ([]byte, error) {
	head := make([]byte, 1, 5)
	var err error
	if head[0], err = r.ReadByte(); err != nil {
		return nil, err
	}
	n, shift := 0, 0
	for {
		b, err := r.ReadByte()
		if err != nil {
			return nil, err
		}
		head = append(head, b)
		n |= int(b&0x7f) << shift
		if b&0x80 == 0 {
			break
		}
		if shift += 7; shift > 21 {
			return nil, errors.New("bad remaining length")
		}
	}
	pk := make([]byte, len(head)+n)
	copy(pk, head)
	_, err = io.ReadFull(r, pk[len(head):])
	return pk, err
}

// TestWindowBoundsUnacknowledged holds the broker's PUBACKs: the publisher
// sends exactly a window of publishes and waits; released, it sends the
// rest, never more than a window ahead of the PUBACKs it has received.
func TestWindowBoundsUnacknowledged(t *testing.T) {
	for _, batch := range []int{1, 4, 64} {
		t.Run(fmt.Sprint("batch ", batch), func(t *testing.T) { testWindowBoundsUnacknowledged(t, batch) })
	}
}

func testWindowBoundsUnacknowledged(t *testing.T, batch int) {
	const window, n = 7, 60
	l := newLedger("pub")
	l.viaGate, l.window = true, window
	gate := startAckGate(t, startLedgerBroker(t, l), l)
	store := newMemStore(n)
	p, err := New(checkedStore{store, l}, Opts{Broker: "tcp://" + gate.addr, ClientID: "pub", Window: window,
		BatchEvents: batch, Decode: decode})
	if err != nil {
		t.Fatal(err)
	}
	stop := run(t, p)
	// With every PUBACK held, the window fills and the publisher waits;
	// any publish beyond it is a violation the ledger records as it
	// happens.
	waitForf(t, func() bool {
		received, _ := l.snapshot()
		return len(received) >= window && p.Stats().InFlight == window
	}, func() string {
		received, violations := l.snapshot()
		return fmt.Sprintf("a full window of %d: broker read %d, in flight %d, violations %v",
			window, len(received), p.Stats().InFlight, violations)
	})
	if received, violations := l.snapshot(); len(received) != window || len(violations) > 0 || store.len() != n {
		t.Fatalf("with PUBACKs held: broker read %d publishes (window %d), %d of %d records left, violations %v",
			len(received), window, store.len(), n, violations)
	}
	close(gate.open)
	waitFor(t, "all deleted", func() bool { return store.len() == 0 })
	stop()
	checkDelivered(t, l, store, n)
	if st := p.Stats(); st.Published != n || st.Acked != n || st.InFlight != 0 {
		t.Fatalf("stats: %+v", st)
	}
}

// TestReplayAfterBrokerLoss closes the broker mid-stream and starts a new
// one on the same address: what was not acknowledged is published again.
func TestReplayAfterBrokerLoss(t *testing.T) {
	_, addr, closeBroker := startBrokerC(t)
	store := newMemStore(0)
	p, err := New(store, Opts{Broker: "tcp://" + addr, ClientID: "pub", Window: 10, Decode: decode,
		MinBackoff: 20 * time.Millisecond, MaxBackoff: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	stop := run(t, p)
	defer stop()
	waitFor(t, "connected", func() bool { return p.Stats().Connected })
	closeBroker()
	waitFor(t, "disconnect noticed", func() bool { return !p.Stats().Connected })
	for i := 1; i <= 50; i++ { // spooled while the broker is away
		store.mu.Lock()
		store.recs[uint64(i)] = []byte(strconv.Itoa(i))
		store.mu.Unlock()
	}
	p.Notify()
	time.Sleep(100 * time.Millisecond)
	if store.len() != 50 {
		t.Fatalf("records deleted without a broker: %d left", store.len())
	}
	b2 := mqttserver.New(&mqttserver.Options{InlineClient: true})
	b2.AddHook(new(auth.AllowHook), nil)
	b2.AddListener(listeners.NewTCP(listeners.Config{ID: "t2", Address: addr}))
	if err := b2.Serve(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { closeWhenIdle(b2) })
	waitFor(t, "replay after reconnect", func() bool { return store.len() == 0 })
	if st := p.Stats(); st.Reconnects < 1 || st.Acked != 50 {
		t.Fatalf("stats: %+v", st)
	}
}

func TestBadRecordIsDropped(t *testing.T) {
	_, addr := startBroker(t)
	store := newMemStore(3)
	store.recs[2] = []byte("bad")
	var badSeq uint64
	p, err := New(store, Opts{Broker: "tcp://" + addr, ClientID: "pub", Window: 5, Decode: decode,
		OnBadRecord: func(seq uint64, err error) { badSeq = seq }})
	if err != nil {
		t.Fatal(err)
	}
	stop := run(t, p)
	waitFor(t, "all deleted", func() bool { return store.len() == 0 })
	stop()
	if st := p.Stats(); st.BadRecords != 1 || badSeq != 2 || st.Acked != 2 {
		t.Fatalf("stats %+v, bad seq %d", st, badSeq)
	}
}

func TestNewRejectsBadOptions(t *testing.T) {
	for _, o := range []Opts{
		{ClientID: "c", Window: 1, Decode: decode},
		{Broker: "tcp://x:1", Window: 1, Decode: decode},
		{Broker: "tcp://x:1", ClientID: "c", Window: 0, Decode: decode},
		{Broker: "tcp://x:1", ClientID: "c", Window: 65536, Decode: decode},
		{Broker: "tcp://x:1", ClientID: "c", Window: 1},
	} {
		if _, err := New(newMemStore(0), o); err == nil {
			t.Errorf("accepted %+v", o)
		}
	}
}

func TestNewRefusesCredentialsAndPlaintextTLS(t *testing.T) {
	for _, tc := range []struct {
		broker string
		tls    bool
		want   string
	}{
		{"tcp://gw:s3cr3t@127.0.0.1:1883", false, "credentials"},
		{"ssl://gw@127.0.0.1:8883", true, "credentials"},
		{"tcp://gw:s3cr3t%zz@127.0.0.1:1883", false, "credentials"}, // does not parse either
		{"tcp://127.0.0.1:1883", true, "plaintext"},
		{"mqtt://127.0.0.1:1883", true, "plaintext"},
		{"ws://127.0.0.1:80/mqtt", true, "plaintext"},
		{"http://127.0.0.1:1883", false, "scheme"},
		{"tcp://", false, "no host"},
	} {
		o := Opts{Broker: tc.broker, ClientID: "c", Window: 1, Decode: decode}
		if tc.tls {
			o.TLS = &tls.Config{}
		}
		_, err := New(newMemStore(0), o)
		if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "s3cr3t") {
			t.Errorf("%s (TLS %v): err = %v, want it to say %q and never the password", tc.broker, tc.tls, err, tc.want)
		}
	}
	for _, ok := range []string{"ssl://127.0.0.1:8883", "tls://h:8883", "mqtts://h:8883", "wss://h/mqtt"} {
		if _, err := New(newMemStore(0), Opts{Broker: ok, ClientID: "c", Window: 1, Decode: decode, TLS: &tls.Config{}}); err != nil {
			t.Errorf("%s with TLS: %v", ok, err)
		}
	}
}

// stateLog records OnStateChange calls.
type stateLog struct {
	mu  sync.Mutex
	got []string
}

func (s *stateLog) record(connected bool, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case connected:
		s.got = append(s.got, "connected")
	case err != nil:
		s.got = append(s.got, "down: "+err.Error())
	default:
		s.got = append(s.got, "stopped")
	}
}

func (s *stateLog) list() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.got...)
}

// TestStateReportedOncePerCause feeds the publisher's reporter a sequence
// of outcomes: while disconnected, a cause already reported is not
// reported again, even after another cause came between.
func TestStateReportedOncePerCause(t *testing.T) {
	var log stateLog
	p := &Publisher{opts: Opts{OnStateChange: log.record}}
	a, b := errors.New("refused"), errors.New("unknown authority")
	for _, step := range []struct {
		connected bool
		err       error
	}{{false, a}, {false, a}, {false, b}, {false, a}, {false, b}, {true, nil}, {true, nil}, {false, a}, {false, a}, {false, nil}} {
		p.report(step.connected, step.err)
	}
	want := []string{"down: refused", "down: unknown authority", "connected", "down: refused", "stopped"}
	if got := log.list(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("reports %q, want %q", got, want)
	}
}

// TestStateChangesWithBroker connects, loses the broker, meets a broker
// that refuses the client many times over, and connects again: each change
// is reported once, with its cause.
func TestStateChangesWithBroker(t *testing.T) {
	_, addr, closeBroker := startBrokerC(t)
	var log stateLog
	p, err := New(newMemStore(0), Opts{Broker: "tcp://" + addr, ClientID: "pub", Window: 10, Decode: decode,
		MinBackoff: 5 * time.Millisecond, MaxBackoff: 10 * time.Millisecond, OnStateChange: log.record})
	if err != nil {
		t.Fatal(err)
	}
	stop := run(t, p)
	waitFor(t, "connected", func() bool { return p.Stats().Connected })
	closeBroker()

	// A broker that answers every CONNECT with "not authorised".
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	var attempts atomic.Int64
	refused := make(chan struct{})
	go func() {
		defer close(refused)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			if _, err := readPacket(bufio.NewReader(c)); err == nil {
				c.Write([]byte{
					0x20, 0x02, // CONNACK, remaining length 2
					0x00, // no session present
					0x05, // return code 5: not authorised
				})
				attempts.Add(1)
			}
			c.Close()
		}
	}()
	waitFor(t, "five refused attempts", func() bool { return attempts.Load() >= 5 })
	ln.Close()
	<-refused
	b2 := mqttserver.New(&mqttserver.Options{InlineClient: true})
	b2.AddHook(new(auth.AllowHook), nil)
	b2.AddListener(listeners.NewTCP(listeners.Config{ID: "t2", Address: addr}))
	if err := b2.Serve(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { closeWhenIdle(b2) })
	waitFor(t, "reconnected", func() bool { return p.Stats().Connects == 2 })
	stop()

	got := log.list()
	notAuthorised := 0
	for i, g := range got {
		if i > 0 && g == got[i-1] {
			t.Errorf("%q reported twice in a row", g)
		}
		if strings.HasPrefix(g, "down: ") && strings.Contains(strings.ToLower(g), "not authori") {
			notAuthorised++
		}
	}
	// Between the loss and the refusals, attempts may also meet a closed
	// port ("connection refused"): at most one report for it.
	if len(got) < 5 || len(got) > 6 || got[0] != "connected" || !strings.HasPrefix(got[1], "down: publish: connection lost") ||
		notAuthorised != 1 || got[len(got)-2] != "connected" || got[len(got)-1] != "stopped" {
		t.Fatalf("after %d refused attempts, reports:\n%s", attempts.Load(), strings.Join(got, "\n"))
	}
}
