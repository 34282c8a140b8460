package device

import (
	"math"
	"sort"
	"sync"
	"time"

	"github.com/ngic/ngic/controller/snmp"
)

// Rates fills the rate fields of successive documents of the same devices.
// It keeps the time and interface counters of the previous document per
// device key (not the document). Safe for concurrent use.
type Rates struct {
	mu   sync.Mutex
	prev map[string]*ratePrev
}

// ratePrev is what Rates keeps of a device's previous document: its time
// and the counters of its interfaces, not the document itself (a DSLAM's
// holds thousands of objects), in a slice ordered by ifIndex with no
// pointers: some 70 bytes an interface.
type ratePrev struct {
	polledAt time.Time
	ticks    uint64
	hasTicks bool
	ifs      []ifPrev
}

// ifPrev is one interface's counters and speed at the previous poll; has
// says which of vals are known (bit i for vals[i]).
type ifPrev struct {
	index int
	has   uint8
	vals  [8]uint64
}

// The counters of an ifPrev, in the order of vals.
const (
	cInOctets = iota
	cOutOctets
	cHCInOctets
	cHCOutOctets
	cInErrors
	cOutErrors
	cDiscontinuity
	cSpeed
)

// fields returns pointers to the counters of c and the speed, in the order
// of ifPrev.vals.
func fields(c *Counters, speed **uint64) [8]**uint64 {
	return [8]**uint64{&c.InOctets, &c.OutOctets, &c.HCInOctets, &c.HCOutOctets, &c.InErrors, &c.OutErrors,
		&c.Discontinuity, speed}
}

// keep returns what Rates keeps of d.
func keep(d *Document) *ratePrev {
	p := &ratePrev{polledAt: d.PolledAt, ifs: make([]ifPrev, len(d.Interfaces))}
	if d.sysUpTimeTicks != nil {
		p.ticks, p.hasTicks = *d.sysUpTimeTicks, true
	}
	for i := range d.Interfaces {
		it := &d.Interfaces[i]
		k := &p.ifs[i]
		k.index = it.Index
		for j, f := range fields(&it.Counters, &it.SpeedBps) {
			if *f != nil {
				k.has |= 1 << j
				k.vals[j] = **f
			}
		}
	}
	sort.Slice(p.ifs, func(a, b int) bool { return p.ifs[a].index < p.ifs[b].index })
	return p
}

// find returns the kept interface of ifIndex n.
func (p *ratePrev) find(n int) (Counters, *uint64, bool) {
	i := sort.Search(len(p.ifs), func(i int) bool { return p.ifs[i].index >= n })
	if i == len(p.ifs) || p.ifs[i].index != n {
		return Counters{}, nil, false
	}
	k := &p.ifs[i]
	var c Counters
	var speed *uint64
	for j, f := range fields(&c, &speed) {
		if k.has&(1<<j) != 0 {
			v := k.vals[j]
			*f = &v
		}
	}
	return c, speed, true
}

func NewRates() *Rates { return &Rates{prev: map[string]*ratePrev{}} }

// Rate rules, shared by Apply and its helpers.
const (
	// uptimeTolerance is how far the sysUpTime delta may stray from the
	// wall-clock delta between polls and still be trusted as the divisor.
	uptimeTolerance = 0.2
	// speedMargin is how far above the interface speed a rate may go
	// (bursts, rounding of ifSpeed, a slow walk) before a 32-bit wrap that
	// implies it is taken to be a counter reset instead.
	speedMargin = 1.5
	// minFrameBits is the smallest frame an error can be counted for (a
	// 64-octet Ethernet frame), which bounds the error rate by speed.
	minFrameBits = 64 * 8
	// halfRange32 is half the range of a Counter32: with the speed unknown,
	// a wrapped delta this large is more likely a reset than real traffic.
	halfRange32 = 1 << 31
)

// Apply fills d's interface rates from what was kept of the previous
// document under key, then keeps d's counters for the next one.
//
// The interval is the sysUpTime delta (centiseconds, taken by the agent)
// when both documents have sysUpTime and it moved forward within 20 % of
// the wall-clock delta between the PolledAt stamps; otherwise the
// wall-clock delta. PolledAt is stamped when a poll ends, so on a big
// device with a slow, variable walk the agent's clock is the truer divisor.
//
// Nothing is filled on the first poll, when the interval is not positive,
// when sysUpTime went back (the device restarted) or, per interface, when
// ifCounterDiscontinuityTime changed or any of the interface's counters
// is judged reset (then none of its rates are filled that poll).
// 64-bit (HC) octet counters are preferred over 32-bit ones; a 64-bit
// counter that went down is a reset. A 32-bit counter that went down is
// either a wrap or a reset ("clear counters" on the device, which changes
// neither sysUpTime nor, on most agents, ifCounterDiscontinuityTime):
//
//   - interface speed known (speed_bps > 0, the larger of the two polls):
//     the wrap is kept only if the rate it implies is at most 1.5× the
//     speed, in bit/s for octets, or in frames of 64 octets for errors;
//   - speed unknown: the wrap is kept only if the delta after the wrap is
//     less than half the counter range (2^31).
//
// Otherwise the counter is taken as reset and no rate is given that poll.
func (r *Rates) Apply(key string, d *Document) {
	if d == nil {
		return
	}
	kept := keep(d)
	r.mu.Lock()
	prev := r.prev[key]
	r.prev[key] = kept
	r.mu.Unlock()
	if prev == nil {
		return
	}
	if prev.hasTicks && d.sysUpTimeTicks != nil && *d.sysUpTimeTicks < prev.ticks {
		return
	}
	secs := interval(prev, d)
	if secs <= 0 {
		return
	}
	for i := range d.Interfaces {
		it := &d.Interfaces[i]
		pc, wasSpeed, ok := prev.find(it.Index)
		if !ok {
			continue
		}
		c := it.Counters
		if c.Discontinuity != nil && pc.Discontinuity != nil && *c.Discontinuity != *pc.Discontinuity {
			continue
		}
		speed := knownSpeed(wasSpeed, it.SpeedBps)
		in, inReset := octetRate(pc.HCInOctets, c.HCInOctets, pc.InOctets, c.InOctets, secs, speed)
		out, outReset := octetRate(pc.HCOutOctets, c.HCOutOctets, pc.OutOctets, c.OutOctets, secs, speed)
		inErr, inErrReset := rate32(pc.InErrors, c.InErrors, secs, 1, speed/minFrameBits)
		outErr, outErrReset := rate32(pc.OutErrors, c.OutErrors, secs, 1, speed/minFrameBits)
		if inReset || outReset || inErrReset || outErrReset {
			continue
		}
		it.InBps, it.OutBps = in, out
		it.InErrorsPerS, it.OutErrorsPerS = inErr, outErr
	}
}

// Forget drops what is kept of the previous document for key.
func (r *Rates) Forget(key string) {
	r.mu.Lock()
	delete(r.prev, key)
	r.mu.Unlock()
}

// interval returns the seconds between two polls: the sysUpTime delta when
// both have it and it agrees with the wall clock within uptimeTolerance,
// else the wall-clock delta. The caller has already refused an uptime that
// went back.
func interval(prev *ratePrev, cur *Document) float64 {
	wall := cur.PolledAt.Sub(prev.polledAt).Seconds()
	if !prev.hasTicks || cur.sysUpTimeTicks == nil || wall <= 0 {
		return wall
	}
	if *cur.sysUpTimeTicks <= prev.ticks {
		return wall
	}
	up := float64(*cur.sysUpTimeTicks-prev.ticks) / float64(time.Second/(10*time.Millisecond))
	if math.Abs(up-wall) <= uptimeTolerance*wall {
		return up
	}
	return wall
}

// knownSpeed returns the larger positive speed of two polls in bit/s, or 0
// when neither knows it.
func knownSpeed(a, b *uint64) float64 {
	var s uint64
	if a != nil {
		s = *a
	}
	if b != nil && *b > s {
		s = *b
	}
	return float64(s)
}

// octetRate returns an octet rate in bit/s, from the HC counters when both
// polls have them, else from the 32-bit ones; reset says a counter was
// found reset, so the interface must get no rate this poll.
func octetRate(phc, chc, p32, c32 *uint64, secs, speed float64) (bps *float64, reset bool) {
	if phc != nil && chc != nil {
		d, ok := snmp.CounterDelta(*phc, *chc, 64)
		if !ok {
			return nil, *chc < *phc
		}
		return ptr(float64(d) * 8 / secs), false
	}
	return rate32(p32, c32, secs, 8, speed)
}

// rate32 returns the rate of a Counter32 times scale per second. limit is
// the highest plausible rate in the same unit (0 when unknown); a wrap that
// implies more than speedMargin×limit, or with no limit a wrapped delta of
// half the counter range or more, is reported as a reset.
func rate32(prev, cur *uint64, secs, scale, limit float64) (r *float64, reset bool) {
	if prev == nil || cur == nil {
		return nil, false
	}
	d, ok := snmp.CounterDelta(*prev, *cur, 32)
	if !ok {
		return nil, false
	}
	v := float64(d) * scale / secs
	if *cur < *prev {
		if limit > 0 && v > speedMargin*limit {
			return nil, true
		}
		if limit <= 0 && d >= halfRange32 {
			return nil, true
		}
	}
	return ptr(v), false
}
