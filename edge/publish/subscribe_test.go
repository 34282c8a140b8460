package publish

import (
	"sync"
	"testing"
	"time"

	"github.com/mochi-mqtt/server/v2/packets"
)

// TestSubscriptionsAtEachConnect: a retained message on a subscribed topic
// reaches the handler at the first connect, and again after a reconnect
// (the session is clean).
func TestSubscriptionsAtEachConnect(t *testing.T) {
	s, addr := startBroker(t)
	if err := s.Publish("cmd/g/update", []byte("go"), true, 1); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var got []string
	p, err := New(newMemStore(0), Opts{Broker: "tcp://" + addr, ClientID: "pub", Window: 10, Decode: decode,
		MinBackoff: 10 * time.Millisecond, MaxBackoff: 100 * time.Millisecond,
		Subscriptions: []Subscription{{Topic: "cmd/g/#", QoS: 1, Handle: func(b []byte) {
			mu.Lock()
			got = append(got, string(b))
			mu.Unlock()
		}}}})
	if err != nil {
		t.Fatal(err)
	}
	stop := run(t, p)
	defer stop()
	count := func() int { mu.Lock(); defer mu.Unlock(); return len(got) }
	waitFor(t, "the retained message", func() bool { return count() == 1 })
	if cl, ok := s.Clients.Get("pub"); ok {
		cl.Stop(packets.ErrServerShuttingDown) // the broker drops the session
	} else {
		t.Fatal("no client pub on the broker")
	}
	waitFor(t, "the retained message after a reconnect", func() bool { return count() == 2 && p.Stats().Reconnects >= 1 })
	mu.Lock()
	defer mu.Unlock()
	if got[0] != "go" || got[1] != "go" {
		t.Errorf("handled %q", got)
	}
}
