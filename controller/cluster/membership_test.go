package cluster

import (
	"slices"
	"testing"
	"time"

	"github.com/ngic/ngic/telemetry"
)

func online(ord int, at time.Time) Status {
	return Status{V: telemetry.SchemaVersion, Ordinal: ord, State: StateOnline, Time: at, Heartbeat: 1}
}

func TestMembership(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	m := NewMembership(Shard{1, 3}, t0, 3*time.Second)
	// hear makes the replica (1) hear its own heartbeat at t.
	hear := func(at time.Time) { m.Observe(online(1, at), at) }
	if got := m.Live(t0); !slices.Equal(got, []int{0, 1, 2}) {
		t.Fatalf("at start every replica is taken for live: %v", got)
	}
	if got := LeaseHolder(m.Live(t0)); got != 0 {
		t.Fatalf("lease holder %d, want 0", got)
	}
	// 0 heartbeats, 2 says nothing.
	m.Observe(online(0, t0.Add(2*time.Second)), t0.Add(2*time.Second))
	if got := m.Live(t0.Add(4 * time.Second)); !slices.Equal(got, []int{0, 1, 2}) {
		t.Fatalf("past the grace but before the replica heard itself: %v, want every replica", got)
	}
	hear(t0.Add(4 * time.Second))
	if got := m.Live(t0.Add(4 * time.Second)); !slices.Equal(got, []int{0, 1}) {
		t.Fatalf("after the grace: %v, want [0 1]", got)
	}
	// 0 misses its heartbeats: gone 3 periods after the last, once the
	// replica hears itself after that.
	hear(t0.Add(4999 * time.Millisecond))
	if got := m.Live(t0.Add(4999 * time.Millisecond)); !slices.Equal(got, []int{0, 1}) {
		t.Fatalf("before 3 missed heartbeats: %v", got)
	}
	if got := m.Live(t0.Add(9 * time.Second)); !slices.Equal(got, []int{0, 1}) {
		t.Fatalf("3 heartbeats missed while the replica did not hear itself (starved): %v, want [0 1]", got)
	}
	hear(t0.Add(9 * time.Second))
	if got := m.Live(t0.Add(9 * time.Second)); !slices.Equal(got, []int{1}) {
		t.Fatalf("after 3 missed heartbeats: %v, want [1]", got)
	}
	if got := LeaseHolder([]int{1}); got != 1 {
		t.Fatalf("the lease goes to the lowest live ordinal: %d", got)
	}
	// A new member (ordinal 3, beyond the replicas at start) joins; its will
	// removes it at once.
	now := t0.Add(10 * time.Second)
	m.Observe(online(3, now), now)
	if got := m.Live(now); !slices.Equal(got, []int{1, 3}) {
		t.Fatalf("after 3 joined: %v", got)
	}
	m.Observe(Status{V: 1, Ordinal: 3, State: StateOffline, Time: t0}, now)
	if got := m.Live(now); !slices.Equal(got, []int{1}) {
		t.Fatalf("after 3's will: %v", got)
	}
	// A retained heartbeat that is old counts from its own time; one from a
	// clock ahead counts from its arrival.
	m.Observe(online(2, now.Add(-time.Hour)), now)
	hear(now)
	if got := m.Live(now); !slices.Equal(got, []int{1}) {
		t.Fatalf("an old retained heartbeat made 2 live: %v", got)
	}
	m.Observe(online(2, now.Add(time.Hour)), now)
	hear(now.Add(3 * time.Second))
	if got := m.Live(now.Add(3 * time.Second)); !slices.Equal(got, []int{1}) {
		t.Fatalf("a heartbeat from the future kept 2 alive: %v", got)
	}
	// Its own status never removes the replica.
	m.Observe(Status{V: 1, Ordinal: 1, State: StateOffline}, now)
	if got := m.Live(now); !slices.Equal(got, []int{1}) {
		t.Fatalf("own will: %v", got)
	}
}

func TestParseStatus(t *testing.T) {
	good := Status{V: 1, Ordinal: 2, Replicas: 3, State: StateOnline, Time: time.Unix(1e9, 0).UTC(), Heartbeat: 5,
		API: "https://ngic-controller-2.ngic-controller-headless:9480"}
	got, err := ParseStatus(good.Encode())
	if err != nil || got != good {
		t.Fatalf("round trip: %+v, %v", got, err)
	}
	for _, bad := range []string{
		``, `{}`, `[]`, `{"v":2,"ordinal":0,"state":"online","heartbeat_s":1}`,
		`{"v":1,"ordinal":-1,"state":"offline"}`,
		`{"v":1,"ordinal":1024,"state":"offline"}`,
		`{"v":1,"ordinal":0,"state":"gone"}`,
		`{"v":1,"ordinal":0,"state":"online"}`,
		`{"v":1,"ordinal":0,"state":"online","heartbeat_s":-1}`,
		`{"v":1,"ordinal":0,"state":"online","heartbeat_s":1e9}`,
		`{"v":1,"ordinal":0,"state":"online","heartbeat_s":1,"api":"ftp://a:1"}`,
		`{"v":1,"ordinal":0,"state":"online","heartbeat_s":1,"api":"http://a"}`,
		`{"v":1,"ordinal":0,"state":"online","heartbeat_s":1,"api":"http://a:1/x"}`,
		`{"v":1,"ordinal":0,"state":"online","heartbeat_s":1,"api":"http://u@a:1"}`,
	} {
		if _, err := ParseStatus([]byte(bad)); err == nil {
			t.Errorf("ParseStatus(%s) accepted", bad)
		}
	}
}

// TestMembershipRestart: the grace of the start counts again from
// Restart (a replica whose start took long does not find every other
// replica expired when it begins to listen).
func TestMembershipRestart(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	m := NewMembership(Shard{0, 2}, t0, 3*time.Second)
	m.Restart(t0.Add(10*time.Second), 3*time.Second)
	m.Observe(online(0, t0.Add(12*time.Second)), t0.Add(12*time.Second))
	if got := m.Live(t0.Add(12 * time.Second)); !slices.Equal(got, []int{0, 1}) {
		t.Fatalf("after Restart: %v, want [0 1]", got)
	}
	m.Observe(online(0, t0.Add(13*time.Second)), t0.Add(13*time.Second))
	if got := m.Live(t0.Add(13 * time.Second)); !slices.Equal(got, []int{0}) {
		t.Fatalf("after the new grace: %v, want [0]", got)
	}
}
