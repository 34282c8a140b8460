package snmp

// CounterDelta returns how much a Counter32 (bits 32) or Counter64 (bits
// 64) grew from prev to cur. A Counter32 that went down is taken to have
// wrapped once at 2^32. A Counter64 that went down is taken to have been
// reset (a 64-bit wrap takes decades even at 100 Gbit/s), so ok is false and
// no rate must be computed. ok is also false for other bit widths and for
// 32-bit values above 2^32-1.
func CounterDelta(prev, cur uint64, bits int) (delta uint64, ok bool) {
	switch bits {
	case 32:
		const max32 = 1<<32 - 1
		if prev > max32 || cur > max32 {
			return 0, false
		}
		if cur >= prev {
			return cur - prev, true
		}
		return (max32 - prev) + cur + 1, true
	case 64:
		if cur >= prev {
			return cur - prev, true
		}
		return 0, false
	}
	return 0, false
}

// Discontinuity reports whether a rate between two polls must be skipped:
// sysUpTime (centiseconds) went back, meaning the agent restarted (or its
// 497-day uptime wrapped), or ifCounterDiscontinuityTime changed, meaning
// the interface's counters were reset. Pass 0 for both discontinuity values
// where the MIB object is absent.
func Discontinuity(prevUptime, curUptime uint32, prevDisc, curDisc uint32) bool {
	return curUptime < prevUptime || prevDisc != curDisc
}
