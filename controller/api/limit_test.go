package api

import (
	"fmt"
	"net/http"
	"testing"
	"time"
)

// Failures spread over many addresses are bounded by the global bucket,
// and the addresses remembered stay under MaxTrackedClients whatever the
// churn.
func TestFailLimiterGlobalAndBounded(t *testing.T) {
	now := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	l := newFailLimiter(FailLimit{ClientBurst: 5, ClientEvery: time.Minute, GlobalBurst: 1000, GlobalEvery: time.Millisecond},
		func() time.Time { return now })
	refused := 0
	for i := range 5 * MaxTrackedClients {
		key := fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255)
		if _, ok := l.allow(key); !ok {
			refused++
			continue
		}
		l.fail(key)
		if n := l.tracked(); n > MaxTrackedClients {
			t.Fatalf("%d addresses remembered after %d, more than %d", n, i+1, MaxTrackedClients)
		}
	}
	if refused != 5*MaxTrackedClients-1000 {
		t.Fatalf("%d of %d attempts refused; the global burst of 1000 should have let 1000 through", refused, 5*MaxTrackedClients)
	}
	now = now.Add(time.Second) // 1000 more
	if wait, ok := l.allow("192.0.2.1"); !ok {
		t.Fatalf("refused after the global bucket refilled (wait %v)", wait)
	}
}

// Failures count per IPv4 address and per IPv6 /64.
func TestClientKey(t *testing.T) {
	for addr, want := range map[string]string{
		"192.0.2.7:5555":              "192.0.2.7",
		"[2001:db8:1:2:3:4:5:6]:5555": "2001:db8:1:2::/64",
		"[2001:db8:1:2:ffff::1]:1":    "2001:db8:1:2::/64",
		"[::ffff:192.0.2.7]:5555":     "192.0.2.7",
		"not an address":              "not an address",
	} {
		if got := clientKey(&http.Request{RemoteAddr: addr}); got != want {
			t.Errorf("%s: key %q, want %q", addr, got, want)
		}
	}
}

// An address that authenticated is spared the global limit (its own
// holds): guessers on many addresses do not lock out a known client. The
// addresses remembered for it stay bounded too.
func TestFailLimiterSparesTrusted(t *testing.T) {
	now := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	l := newFailLimiter(FailLimit{ClientBurst: 2, ClientEvery: time.Minute, GlobalBurst: 3, GlobalEvery: time.Minute},
		func() time.Time { return now })
	l.succeed("192.0.2.1")
	for i := range 3 {
		l.fail(fmt.Sprintf("198.51.100.%d", i))
	}
	if _, ok := l.allow("203.0.113.9"); ok {
		t.Fatal("a new address allowed with the global bucket empty")
	}
	if _, ok := l.allow("192.0.2.1"); !ok {
		t.Fatal("the address that authenticated is held up by others' failures")
	}
	l.fail("192.0.2.1")
	l.fail("192.0.2.1")
	if _, ok := l.allow("192.0.2.1"); ok {
		t.Fatal("the trusted address escapes its own limit")
	}
	now = now.Add(TrustedFor + 2*time.Minute)
	l.fail("198.51.100.9")
	l.fail("198.51.100.9")
	l.fail("198.51.100.8")
	if _, ok := l.allow("192.0.2.1"); ok {
		t.Fatal("still spared the global limit a day after its last authentication")
	}
	for i := range 3 * MaxTrackedClients {
		l.succeed(fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255))
	}
	if n := len(l.trusted); n > MaxTrackedClients {
		t.Fatalf("%d trusted addresses remembered, more than %d", n, MaxTrackedClients)
	}
}

// A token signing in without end pushes out its own oldest sessions,
// never another token's.
func TestSessionsPerTokenCapped(t *testing.T) {
	ss := newSessions()
	now := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	other, _ := ss.add(principal{name: "ops"}, now, time.Hour)
	first, _ := ss.add(principal{name: "spammer"}, now, time.Hour)
	for i := range MaxSessionsPerToken + 200 {
		ss.add(principal{name: "spammer"}, now.Add(time.Duration(i+1)*time.Millisecond), time.Hour)
	}
	if _, ok := ss.get(other, now); !ok {
		t.Fatal("another token's session was pushed out")
	}
	if _, ok := ss.get(first, now); ok {
		t.Fatal("the spamming token's oldest session is still held")
	}
	if n := len(ss.m); n != MaxSessionsPerToken+1 {
		t.Fatalf("%d sessions held, want %d of the spammer and 1", n, MaxSessionsPerToken+1)
	}
}

// Negative limits are refused.
func TestNewRefusesNegativeLimits(t *testing.T) {
	src := &fakeConvergence{}
	for _, o := range []Options{{FailLimit: FailLimit{ClientBurst: -1}}, {FailLimit: FailLimit{GlobalEvery: -time.Second}},
		{MaxStreams: -1}, {MaxStreamsPerClient: -2}} {
		if _, err := New(src, o); err == nil {
			t.Errorf("%+v accepted", o)
		}
	}
}
