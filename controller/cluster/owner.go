package cluster

import "hash/fnv"

// Owner returns the member of members that owns deviceID by rendezvous
// (highest random weight) hashing: every member gets a weight from the
// device ID and its ordinal, and the heaviest wins. Adding a member moves
// to it only the devices it wins, about 1/n of them; removing one moves
// only its own. It returns -1 when members is empty. The order of members
// does not matter, and the result is the same in every process.
func Owner(deviceID string, members []int) int {
	h := fnv.New64a()
	h.Write([]byte(deviceID))
	key := h.Sum64()
	best, owner := uint64(0), -1
	for _, m := range members {
		w := mix(key ^ mix(uint64(m)+0x9e3779b97f4a7c15))
		if owner < 0 || w > best || (w == best && m < owner) {
			best, owner = w, m
		}
	}
	return owner
}

// mix is splitmix64's finaliser: a bijection that spreads every input bit
// over the whole word.
func mix(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}
