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
	h.add(slow)
	h.add(fast)
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
	h.add(c)
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
