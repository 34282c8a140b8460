package device

import (
	"sync"

	"github.com/ngic/ngic/controller/snmp"
)

// Rates fills the rate fields of successive documents of the same devices.
// It keeps the previous document per device key. Safe for concurrent use.
type Rates struct {
	mu   sync.Mutex
	prev map[string]*Document
}

// NewRates returns an empty rate keeper.
func NewRates() *Rates { return &Rates{prev: map[string]*Document{}} }

// Apply fills d's interface rates from the previous document kept under
// key, then keeps d as the new previous one. Nothing is filled on the first
// poll, when the interval is not positive, when sysUpTime went back (the
// device restarted) or, per interface, when ifCounterDiscontinuityTime
// changed. 64-bit (HC) octet counters are preferred over 32-bit ones;
// wraps are handled by snmp.CounterDelta.
func (r *Rates) Apply(key string, d *Document) {
	if d == nil {
		return
	}
	r.mu.Lock()
	prev := r.prev[key]
	r.prev[key] = d
	r.mu.Unlock()
	if prev == nil {
		return
	}
	secs := d.PolledAt.Sub(prev.PolledAt).Seconds()
	if secs <= 0 {
		return
	}
	if prev.sysUpTimeTicks != nil && d.sysUpTimeTicks != nil && *d.sysUpTimeTicks < *prev.sysUpTimeTicks {
		return
	}
	old := map[int]*Interface{}
	for i := range prev.Interfaces {
		old[prev.Interfaces[i].Index] = &prev.Interfaces[i]
	}
	for i := range d.Interfaces {
		it := &d.Interfaces[i]
		was, ok := old[it.Index]
		if !ok {
			continue
		}
		c, pc := it.Counters, was.Counters
		if c.Discontinuity != nil && pc.Discontinuity != nil && *c.Discontinuity != *pc.Discontinuity {
			continue
		}
		it.InBps = octetRate(pc.HCInOctets, c.HCInOctets, pc.InOctets, c.InOctets, secs)
		it.OutBps = octetRate(pc.HCOutOctets, c.HCOutOctets, pc.OutOctets, c.OutOctets, secs)
		it.InErrorsPerS = rate(pc.InErrors, c.InErrors, 32, secs, 1)
		it.OutErrorsPerS = rate(pc.OutErrors, c.OutErrors, 32, secs, 1)
	}
}

// Forget drops the previous document kept for key.
func (r *Rates) Forget(key string) {
	r.mu.Lock()
	delete(r.prev, key)
	r.mu.Unlock()
}

func octetRate(phc, chc, p32, c32 *uint64, secs float64) *float64 {
	if phc != nil && chc != nil {
		return rate(phc, chc, 64, secs, 8)
	}
	return rate(p32, c32, 32, secs, 8)
}

func rate(prev, cur *uint64, bits int, secs, scale float64) *float64 {
	if prev == nil || cur == nil {
		return nil
	}
	d, ok := snmp.CounterDelta(*prev, *cur, bits)
	if !ok {
		return nil
	}
	return ptr(float64(d) * scale / secs)
}
