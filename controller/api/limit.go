package api

import (
	"math"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// Defaults of the failed-authentication limits (Options.FailLimit).
const (
	// DefaultClientFailures failed authentications a client address may
	// make at once, then one more every DefaultClientFailEvery.
	DefaultClientFailures  = 10
	DefaultClientFailEvery = 6 * time.Second
	// DefaultGlobalFailures failed authentications all addresses together
	// may make at once, then one more every DefaultGlobalFailEvery.
	DefaultGlobalFailures  = 300
	DefaultGlobalFailEvery = 100 * time.Millisecond
	// MaxTrackedClients bounds the client addresses whose failures are
	// remembered, and those remembered for a success: under churn of
	// addresses the memory stays bounded, and the global limit still holds.
	MaxTrackedClients = 10_000
	// TrustedFor is how long an address that authenticated is spared the
	// global limit (its own still holds): guessers spread over many
	// addresses cannot lock out the clients known to hold a good token.
	TrustedFor = 24 * time.Hour
)

// FailLimit bounds failed authentications (a wrong bearer token, a wrong
// token signing in): each client address, and all of them together, have
// a bucket of Burst failures refilled one every Every. A client whose
// bucket (or the global one) is empty is answered 429 with Retry-After
// before its token is even looked at; an address that authenticated within
// TrustedFor answers to its own bucket only. Sessions are not limited.
type FailLimit struct {
	// ClientBurst and ClientEvery are one address's bucket (defaults
	// DefaultClientFailures, DefaultClientFailEvery).
	ClientBurst int
	ClientEvery time.Duration
	// GlobalBurst and GlobalEvery are the bucket of all addresses
	// together (defaults DefaultGlobalFailures, DefaultGlobalFailEvery).
	GlobalBurst int
	GlobalEvery time.Duration
}

// bucket is a token bucket: level failures left at time at.
type bucket struct {
	level float64
	at    time.Time
}

// refill brings b to now and returns its level.
func (b *bucket) refill(now time.Time, burst int, every time.Duration) float64 {
	if b.at.IsZero() {
		b.level, b.at = float64(burst), now
	}
	if d := now.Sub(b.at); d > 0 {
		b.level = math.Min(float64(burst), b.level+float64(d)/float64(every))
		b.at = now
	}
	return b.level
}

// wait is how long until b holds one failure again.
func (b *bucket) wait(every time.Duration) time.Duration {
	return time.Duration((1 - b.level) * float64(every))
}

// failLimiter counts failed authentications per client address and
// overall.
type failLimiter struct {
	o   FailLimit
	now func() time.Time

	mu      sync.Mutex
	clients map[string]*bucket
	trusted map[string]time.Time // address → its last authentication
	global  bucket
	limited uint64
}

func newFailLimiter(o FailLimit, now func() time.Time) *failLimiter {
	o.ClientBurst = or(o.ClientBurst, DefaultClientFailures)
	o.ClientEvery = or(o.ClientEvery, DefaultClientFailEvery)
	o.GlobalBurst = or(o.GlobalBurst, DefaultGlobalFailures)
	o.GlobalEvery = or(o.GlobalEvery, DefaultGlobalFailEvery)
	return &failLimiter{o: o, now: now, clients: map[string]*bucket{}, trusted: map[string]time.Time{}}
}

// clientKey is the address a request's failures count against: its
// remote IP, an IPv6 address by its /64 (one host holds a whole /64).
func clientKey(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	ip := net.ParseIP(host)
	if ip == nil {
		return host
	}
	if ip4 := ip.To4(); ip4 != nil {
		return ip4.String()
	}
	return ip.Mask(net.CIDRMask(64, 128)).String() + "/64"
}

// allow reports whether the client key may try a token now, and if not
// how long it should wait.
func (l *failLimiter) allow(key string) (time.Duration, bool) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	wait := time.Duration(0)
	if l.global.refill(now, l.o.GlobalBurst, l.o.GlobalEvery) < 1 && now.Sub(l.trusted[key]) > TrustedFor {
		wait = l.global.wait(l.o.GlobalEvery)
	}
	if b := l.clients[key]; b != nil && b.refill(now, l.o.ClientBurst, l.o.ClientEvery) < 1 {
		wait = max(wait, b.wait(l.o.ClientEvery))
	}
	if wait > 0 {
		l.limited++
		return wait, false
	}
	return 0, true
}

// fail counts a failed authentication of the client key.
func (l *failLimiter) fail(key string) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.global.refill(now, l.o.GlobalBurst, l.o.GlobalEvery)
	l.global.level = max(0, l.global.level-1)
	b := l.clients[key]
	if b == nil {
		l.makeRoom(now)
		b = &bucket{}
		l.clients[key] = b
	}
	b.refill(now, l.o.ClientBurst, l.o.ClientEvery)
	b.level = max(0, b.level-1)
}

// succeed records that the client key authenticated.
func (l *failLimiter) succeed(key string) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, ok := l.trusted[key]; !ok {
		shrink(l.trusted, func(t time.Time) bool { return now.Sub(t) > TrustedFor })
	}
	l.trusted[key] = now
}

// makeRoom keeps the clients remembered under MaxTrackedClients: those
// whose bucket is full again go first (they lose nothing) (l.mu held).
func (l *failLimiter) makeRoom(now time.Time) {
	shrink(l.clients, func(b *bucket) bool {
		return b.refill(now, l.o.ClientBurst, l.o.ClientEvery) >= float64(l.o.ClientBurst)
	})
}

// shrink makes room in m for one more once it holds MaxTrackedClients:
// the entries stale says may go, then any, until a tenth is free.
func shrink[V any](m map[string]V, stale func(V) bool) {
	if len(m) < MaxTrackedClients {
		return
	}
	for k, v := range m {
		if stale(v) {
			delete(m, k)
		}
	}
	for k := range m {
		if len(m) < MaxTrackedClients*9/10 {
			break
		}
		delete(m, k)
	}
}

// tracked is how many client addresses are remembered.
func (l *failLimiter) tracked() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.clients)
}

// writeTooMany answers 429 saying what is too many, with Retry-After
// (whole seconds, at least 1).
func writeTooMany(w http.ResponseWriter, wait time.Duration, what string) {
	secs := max(1, int64(math.Ceil(wait.Seconds())))
	w.Header().Set("Retry-After", strconv.FormatInt(secs, 10))
	writeError(w, http.StatusTooManyRequests, "%s: try again in %d s", what, secs)
}
