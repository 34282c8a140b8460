package publish

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sort"
	"strconv"
	"sync"
	"testing"
	"time"

	mqttserver "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/hooks/auth"
	"github.com/mochi-mqtt/server/v2/listeners"
	"github.com/mochi-mqtt/server/v2/packets"

	"github.com/ngic/ngic/edge/spool"
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
	closeFn := func() { once.Do(func() { s.Close() }) }
	t.Cleanup(closeFn)
	return s, addr, closeFn
}

func decode(r spool.Record) (Message, error) {
	if string(r.Data) == "bad" {
		return Message{}, errors.New("unreadable")
	}
	return Message{Topic: "t/events", Payload: append([]byte(nil), r.Data...)}, nil
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

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestInOrderDeletedOnAck publishes with a window of one and of many: every
// record arrives once, in order, and is deleted only after its PUBACK.
func TestInOrderDeletedOnAck(t *testing.T) {
	for _, window := range []int{1, 7, 1000} {
		t.Run(fmt.Sprint(window), func(t *testing.T) {
			broker, addr := startBroker(t)
			var mu sync.Mutex
			var got []string
			broker.Subscribe("t/#", 1, func(_ *mqttserver.Client, _ packets.Subscription, pk packets.Packet) {
				mu.Lock()
				got = append(got, string(pk.Payload))
				mu.Unlock()
			})
			store := newMemStore(500)
			p, err := New(store, Opts{Broker: "tcp://" + addr, ClientID: "pub", Window: window, Decode: decode})
			if err != nil {
				t.Fatal(err)
			}
			stop := run(t, p)
			p.Notify()
			waitFor(t, "all deleted", func() bool { return store.len() == 0 })
			stop()
			mu.Lock()
			defer mu.Unlock()
			if len(got) != 500 {
				t.Fatalf("received %d, want 500", len(got))
			}
			for i, g := range got {
				if g != strconv.Itoa(i+1) {
					t.Fatalf("message %d is %q: out of order", i, g)
				}
			}
			st := p.Stats()
			if st.Published != 500 || st.Acked != 500 || st.InFlight != 0 {
				t.Fatalf("stats: %+v", st)
			}
		})
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
	defer b2.Close()
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
