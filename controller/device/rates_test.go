package device

import (
	"math"
	"testing"
	"time"
)

// poll is one side of a rate table case: what a document holds for
// interface 1.
type poll struct {
	at    float64 // seconds after t0 at which the poll ended (PolledAt)
	up    *uint64 // sysUpTime in centiseconds; nil = absent
	speed *uint64 // speed_bps; nil = unknown
	in32  *uint64 // ifInOctets
	hcIn  *uint64 // ifHCInOctets
	inErr *uint64 // ifInErrors
}

func (p poll) doc() *Document {
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	return &Document{
		PolledAt:       t0.Add(time.Duration(p.at * float64(time.Second))),
		sysUpTimeTicks: p.up,
		Interfaces: []Interface{{Index: 1, SpeedBps: p.speed,
			Counters: Counters{InOctets: p.in32, HCInOctets: p.hcIn, InErrors: p.inErr}}},
	}
}

func u64(v uint64) *uint64 { return &v }

// applyPair runs two polls through a fresh Rates and returns the second
// document's interface.
func applyPair(prev, cur poll) Interface {
	r := NewRates()
	r.Apply("d", prev.doc())
	d := cur.doc()
	r.Apply("d", d)
	return d.Interfaces[0]
}

func sameRate(got, want *float64) bool {
	if got == nil || want == nil {
		return got == nil && want == nil
	}
	return math.Abs(*got-*want) <= 1e-9*math.Max(1, math.Abs(*want))
}

func fmtRate(r *float64) any {
	if r == nil {
		return "none"
	}
	return *r
}

// TestRates32BitResetVersusWrap: a 32-bit counter that went down with
// sysUpTime moving on and no discontinuity change is a wrap only when the
// rate it implies is plausible for the interface; otherwise (an operator's
// "clear counters") it is a reset and that poll gets no rates.
func TestRates32BitResetVersusWrap(t *testing.T) {
	const max32 = 1<<32 - 1
	tenM, oneG := u64(10_000_000), u64(1_000_000_000)
	cases := []struct {
		name       string
		prev, cur  poll
		wantIn     *float64 // in_bps
		wantErrors *float64 // in_errors_per_s
	}{
		{"normal growth, no wrap",
			poll{at: 0, up: u64(0), speed: tenM, in32: u64(1000), inErr: u64(3)},
			poll{at: 60, up: u64(6000), speed: tenM, in32: u64(61_000), inErr: u64(9)},
			ptr(8000.0), ptr(0.1)},
		{"clear counters on a 10 Mbit/s DSL port (~572 Mbit/s implied)",
			poll{at: 0, up: u64(0), speed: tenM, in32: u64(1_000_000), inErr: u64(5)},
			poll{at: 60, up: u64(6000), speed: tenM, in32: u64(2000), inErr: u64(0)},
			nil, nil},
		{"clear of the octet counter only also drops the error rate",
			poll{at: 0, up: u64(0), speed: tenM, in32: u64(1_000_000), inErr: u64(5)},
			poll{at: 60, up: u64(6000), speed: tenM, in32: u64(2000), inErr: u64(7)},
			nil, nil},
		{"real wrap on a 1 Gbit/s port (~66.8 Mbit/s)",
			poll{at: 0, up: u64(0), speed: oneG, in32: u64(4_294_000_000)},
			poll{at: 60, up: u64(6000), speed: oneG, in32: u64(500_000_000)},
			ptr(float64(max32-4_294_000_000+500_000_000+1) * 8 / 60), nil},
		{"wrap at 1.4x the speed is kept",
			// 10 Mbit/s × 1.4 × 60 s / 8 = 105,000,000 octets
			poll{at: 0, up: u64(0), speed: tenM, in32: u64(max32 - 4_999_999)},
			poll{at: 60, up: u64(6000), speed: tenM, in32: u64(100_000_000)},
			ptr(14_000_000.0), nil},
		{"wrap at 1.6x the speed is a reset",
			// 10 Mbit/s × 1.6 × 60 s / 8 = 120,000,000 octets
			poll{at: 0, up: u64(0), speed: tenM, in32: u64(max32 - 4_999_999)},
			poll{at: 60, up: u64(6000), speed: tenM, in32: u64(115_000_000)},
			nil, nil},
		{"speed taken from the previous poll when the current lacks it",
			poll{at: 0, up: u64(0), speed: tenM, in32: u64(1_000_000)},
			poll{at: 60, up: u64(6000), in32: u64(2000)},
			nil, nil},
		{"speed unknown, wrap below half the range is kept",
			poll{at: 0, up: u64(0), in32: u64(max32 - 999)},
			poll{at: 60, up: u64(6000), in32: u64(1000)},
			ptr(2000.0 * 8 / 60), nil},
		{"speed unknown, wrap of half the range or more is a reset",
			poll{at: 0, up: u64(0), in32: u64(1 << 31)},
			poll{at: 60, up: u64(6000), in32: u64(0)},
			nil, nil},
		{"speed 0 counts as unknown",
			poll{at: 0, up: u64(0), speed: u64(0), in32: u64(1_000_000)},
			poll{at: 60, up: u64(6000), speed: u64(0), in32: u64(2000)},
			nil, nil},
		{"error counter cleared, speed unknown",
			poll{at: 0, up: u64(0), in32: u64(1000), inErr: u64(40)},
			poll{at: 60, up: u64(6000), in32: u64(61_000), inErr: u64(2)},
			nil, nil},
		{"error counter wrap within the frame bound is kept",
			// 10 Mbit/s / 512 bit = 19,531 frames/s; 600 errors in 60 s
			poll{at: 0, up: u64(0), speed: tenM, in32: u64(1000), inErr: u64(max32 - 99)},
			poll{at: 60, up: u64(6000), speed: tenM, in32: u64(61_000), inErr: u64(500)},
			ptr(8000.0), ptr(10.0)},
		{"HC counter preferred over a 32-bit one that went down",
			poll{at: 0, up: u64(0), speed: tenM, in32: u64(1_000_000), hcIn: u64(1_000_000)},
			poll{at: 60, up: u64(6000), speed: tenM, in32: u64(2000), hcIn: u64(1_060_000)},
			ptr(8000.0), nil},
		{"HC counter that went down is a reset for the whole interface",
			poll{at: 0, up: u64(0), speed: tenM, hcIn: u64(1_000_000), inErr: u64(3)},
			poll{at: 60, up: u64(6000), speed: tenM, hcIn: u64(2000), inErr: u64(9)},
			nil, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			it := applyPair(c.prev, c.cur)
			if !sameRate(it.InBps, c.wantIn) {
				t.Errorf("in_bps = %v, want %v", fmtRate(it.InBps), fmtRate(c.wantIn))
			}
			if !sameRate(it.InErrorsPerS, c.wantErrors) {
				t.Errorf("in_errors_per_s = %v, want %v", fmtRate(it.InErrorsPerS), fmtRate(c.wantErrors))
			}
		})
	}
}

// TestRatesInterval: the divisor is the sysUpTime delta when both polls
// have sysUpTime and it moved forward within 20 % of the wall-clock delta
// between PolledAt stamps; otherwise the wall-clock delta. Each case moves
// 600,000 octets (4,800,000 bit).
func TestRatesInterval(t *testing.T) {
	const bits = 4_800_000.0
	cases := []struct {
		name      string
		prev, cur poll
		wantSecs  float64 // divisor; 0 = no rate
	}{
		{"uptime agrees with the wall clock",
			poll{at: 0, up: u64(100_000)}, poll{at: 60, up: u64(106_000)}, 60},
		{"slow walk: poll ended 12 s late, uptime says 60 s",
			poll{at: 0, up: u64(100_000)}, poll{at: 72, up: u64(106_000)}, 60},
		{"fast walk: poll ended 10 s early, uptime says 60 s",
			poll{at: 0, up: u64(100_000)}, poll{at: 50, up: u64(106_000)}, 60},
		{"uptime 50 % off the wall clock is not trusted",
			poll{at: 0, up: u64(100_000)}, poll{at: 60, up: u64(109_000)}, 60},
		{"uptime did not move",
			poll{at: 0, up: u64(100_000)}, poll{at: 60, up: u64(100_000)}, 60},
		{"uptime absent in the previous poll",
			poll{at: 0}, poll{at: 30, up: u64(106_000)}, 30},
		{"uptime absent in the current poll",
			poll{at: 0, up: u64(100_000)}, poll{at: 30}, 30},
		{"uptime went back: the device restarted",
			poll{at: 0, up: u64(100_000)}, poll{at: 60, up: u64(500)}, 0},
		{"wall clock went back",
			poll{at: 60, up: u64(100_000)}, poll{at: 0, up: u64(106_000)}, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.prev.in32, c.cur.in32 = u64(1_000_000), u64(1_600_000)
			c.prev.speed, c.cur.speed = u64(100_000_000), u64(100_000_000)
			it := applyPair(c.prev, c.cur)
			var want *float64
			if c.wantSecs > 0 {
				want = ptr(bits / c.wantSecs)
			}
			if !sameRate(it.InBps, want) {
				t.Errorf("in_bps = %v, want %v", fmtRate(it.InBps), fmtRate(want))
			}
		})
	}
}
