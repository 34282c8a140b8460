package api

import (
	"testing"
	"time"
)

// A client whose queue is full is dropped at the next event, while the
// others keep receiving: publishing never blocks.
func TestHubDropsASlowClient(t *testing.T) {
	h := newHub()
	slow := &client{ch: make(chan event, 2), gone: make(chan struct{}), vis: visibility{all: true}}
	fast := &client{ch: make(chan event, 16), gone: make(chan struct{}), vis: visibility{all: true}}
	h.add(slow, 10, 10)
	h.add(fast, 10, 10)
	for i := range 3 {
		h.publish(event{frame: frame(EventCoverage, i)})
		<-fast.ch
	}
	select {
	case <-slow.gone:
	default:
		t.Fatal("the slow client was not dropped")
	}
	select {
	case <-fast.gone:
		t.Fatal("the fast client was dropped")
	default:
	}
	if h.dropped.Load() != 1 || len(h.clients) != 1 {
		t.Fatalf("dropped %d, clients %d; want 1 and 1", h.dropped.Load(), len(h.clients))
	}
	h.remove(slow) // removing a dropped client again is harmless
	h.remove(fast)
	if len(h.clients) != 0 {
		t.Fatal("clients left")
	}
}

// A region-limited client only gets the events of its sites (and those
// of no site at all).
func TestHubFiltersBySite(t *testing.T) {
	h := newHub()
	c := &client{ch: make(chan event, 8), gone: make(chan struct{}), vis: visibility{sites: map[string]bool{"s1": true}}}
	h.add(c, 10, 10)
	h.publish(event{site: "s2", frame: frame(EventDevice, 1)})
	h.publish(event{site: orNoSite(""), frame: frame(EventDevice, 2)})
	h.publish(event{site: "s1", frame: frame(EventDevice, 3)})
	h.publish(event{frame: frame(EventCoverage, time.Time{})})
	if got := len(c.ch); got != 2 {
		t.Fatalf("%d events queued, want 2 (s1's and coverage)", got)
	}
	if ev := <-c.ch; ev.site != "s1" {
		t.Fatalf("first event of site %q", ev.site)
	}
}

// An address may hold MaxStreamsPerClient streams; when all streams are
// taken, a newcomer gets the oldest stream of the address holding the
// most, unless no address holds two more than it.
func TestHubCapsStreams(t *testing.T) {
	h := newHub()
	mk := func(key string) *client {
		return &client{ch: make(chan event, 1), gone: make(chan struct{}), vis: visibility{all: true}, key: key}
	}
	var greedy []*client
	for range 3 {
		c := mk("10.0.0.1")
		if !h.add(c, 4, 3) {
			t.Fatal("a stream within the limits refused")
		}
		greedy = append(greedy, c)
	}
	if h.add(mk("10.0.0.1"), 4, 3) {
		t.Fatal("a fourth stream of one address admitted with 3 per client")
	}
	other := mk("10.0.0.2")
	if !h.add(other, 4, 3) {
		t.Fatal("a second address refused while streams were free")
	}
	third := mk("10.0.0.3")
	if !h.add(third, 4, 3) {
		t.Fatal("a newcomer refused while one address held three of four streams")
	}
	select {
	case <-greedy[0].gone:
	default:
		t.Fatal("the greedy address's oldest stream was not closed for the newcomer")
	}
	// Now 2+1+1: no address holds two more than a newcomer from .2.
	if h.add(mk("10.0.0.2"), 4, 3) {
		t.Fatal("admitted beyond the total without anyone to displace")
	}
	if h.refused.Load() != 2 || len(h.clients) != 4 || h.perKey["10.0.0.1"] != 2 {
		t.Fatalf("refused %d, clients %d, per key %v", h.refused.Load(), len(h.clients), h.perKey)
	}
	for c := range h.clients {
		h.remove(c)
	}
	if len(h.perKey) != 0 {
		t.Fatalf("per key left: %v", h.perKey)
	}
}
