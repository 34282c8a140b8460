package coverage

import "slices"

// sortBelow is the count of values median sorts rather than selects among.
const sortBelow = 16

// median returns the median of vs (the mean of the middle two for an even
// count), reordering vs. It selects the middle values in linear time
// rather than sorting: a village's pool of DSL lines is a few dozen of
// them, recomputed for every village.
func median(vs []uint32) float64 {
	n := len(vs)
	switch {
	case n == 0:
		return 0
	case n <= sortBelow:
		slices.Sort(vs)
		if n%2 == 1 {
			return float64(vs[n/2])
		}
		return (float64(vs[n/2-1]) + float64(vs[n/2])) / 2
	}
	m := selectNth(vs, n/2)
	if n%2 == 1 {
		return float64(m)
	}
	return (float64(slices.Max(vs[:n/2])) + float64(m)) / 2
}

// selectNth reorders vs so that vs[k] is the value a sort would put there,
// with none greater before it and none smaller after it, and returns it.
// It partitions three ways around the median of three values, so that
// equal values (lines counted at a technology's capability) and sorted
// input stay linear.
func selectNth(vs []uint32, k int) uint32 {
	lo, hi := 0, len(vs) // vs[k] is in [lo, hi)
	for hi-lo > sortBelow {
		a, b, c := vs[lo], vs[lo+(hi-lo)/2], vs[hi-1]
		pivot := max(min(a, b), min(max(a, b), c))
		// vs[lo:lt] < pivot, vs[lt:i] == pivot, vs[gt:hi] > pivot.
		lt, i, gt := lo, lo, hi
		for i < gt {
			switch v := vs[i]; {
			case v < pivot:
				vs[lt], vs[i] = vs[i], vs[lt]
				lt++
				i++
			case v > pivot:
				gt--
				vs[gt], vs[i] = vs[i], vs[gt]
			default:
				i++
			}
		}
		switch {
		case k < lt:
			hi = lt
		case k >= gt:
			lo = gt
		default:
			return pivot
		}
	}
	slices.Sort(vs[lo:hi])
	return vs[k]
}
