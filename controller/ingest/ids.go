package ingest

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"math/bits"

	bolt "go.etcd.io/bbolt"
)

// idRingSize bounds the recent event IDs kept per gateway: between half
// of it and all of it, the most recent. The IDs are a second guard
// against duplicates beside the durable sequence state (an event sent
// again under another seq), kept as 64-bit hashes (two IDs sharing a
// hash, which would make the newer a false duplicate, take around
// 2^64/4096 events to happen once). They are stored with the batch that
// recorded them (bucketIDs), so the guard survives a restart.
const idRingSize = 4096

// idHasher hashes event IDs under the state file's own key (keyIDSeed),
// so the hashes stored stay valid from one run to the next and cannot be
// aimed at from outside.
type idHasher struct{ k0, k1 uint64 }

// newIDSeed returns a random key for a new state file.
func newIDSeed() []byte {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return b
}

func loadIDHasher(seed []byte) (idHasher, error) {
	if len(seed) != 16 {
		return idHasher{}, fmt.Errorf("id seed of %d bytes, want 16", len(seed))
	}
	return idHasher{binary.LittleEndian.Uint64(seed), binary.LittleEndian.Uint64(seed[8:])}, nil
}

// hash is a keyed hash of id, eight bytes at a time, each folded in by a
// full 64x64-bit multiplication (as wyhash does).
func (h idHasher) hash(id string) uint64 {
	x := h.k0 ^ uint64(len(id))*0x9e3779b97f4a7c15
	for len(id) >= 8 {
		w := uint64(id[0]) | uint64(id[1])<<8 | uint64(id[2])<<16 | uint64(id[3])<<24 |
			uint64(id[4])<<32 | uint64(id[5])<<40 | uint64(id[6])<<48 | uint64(id[7])<<56
		x = mum(x^w, h.k1^0xe7037ed1a0b428db)
		id = id[8:]
	}
	var w uint64
	for i := 0; i < len(id); i++ {
		w |= uint64(id[i]) << (8 * i)
	}
	return mum(mum(x^w, h.k1^0x8ebc6af09c88c6e3), h.k0^0x589965cc75374cc3)
}

// mum folds the 128-bit product of a and b into 64 bits.
func mum(a, b uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	return hi ^ lo
}

// idRing is a bounded set of the most recent ID hashes of a gateway, in
// two generations: when the current one is full the previous one is
// emptied and becomes the current one (no per-entry deletes). log lists
// the stored chunks that hold them, oldest first.
type idRing struct {
	cur, prev idSet
	log       []idChunk
	next      uint64 // the number of the next chunk
	// batch and batchList are the scratch of the batch being staged
	// (gwTxn.ids and idList), reused from one batch to the next (Record
	// calls are serialised).
	batch     idSet
	batchList []uint64
}

// idChunk is one stored chunk: the hashes one batch recorded for a
// gateway, under key gateway NUL number (8 bytes, big-endian).
type idChunk struct {
	no uint64
	n  int
}

func newIDRing() *idRing { return &idRing{} }

func (r *idRing) has(h uint64) bool {
	return r != nil && (r.cur.has(h) || r.prev.has(h))
}

func (r *idRing) add(h uint64) {
	if r.cur.len() >= idRingSize/2 {
		r.prev.clear()
		r.cur, r.prev = r.prev, r.cur
	}
	r.cur.add(h)
}

// idChunkKey is the stored key of chunk no of gw.
func idChunkKey(gw string, no uint64) []byte {
	k := make([]byte, 0, len(gw)+9)
	k = append(append(k, gw...), 0)
	return binary.BigEndian.AppendUint64(k, no)
}

// storeIDs stores hs, the hashes a batch recorded for gw, as a new chunk
// after r's (r may be nil: a gateway whose first IDs these are), and
// deletes the oldest chunks not needed to hold the idRingSize most
// recent. It returns the chunk log as it is once tx commits.
func storeIDs(b *bolt.Bucket, gw string, r *idRing, hs []uint64) ([]idChunk, uint64, error) {
	var log []idChunk
	var no uint64
	if r != nil {
		log, no = r.log, r.next
	}
	v := make([]byte, 0, 8*len(hs))
	for _, h := range hs {
		v = binary.LittleEndian.AppendUint64(v, h)
	}
	if err := b.Put(idChunkKey(gw, no), v); err != nil {
		return nil, 0, err
	}
	log = append(log[:len(log):len(log)], idChunk{no, len(hs)}) // a copy: r changes only once tx commits
	total := 0
	for _, c := range log {
		total += c.n
	}
	for len(log) > 1 && total-log[0].n >= idRingSize {
		if err := b.Delete(idChunkKey(gw, log[0].no)); err != nil {
			return nil, 0, err
		}
		total -= log[0].n
		log = log[1:]
	}
	return log, no + 1, nil
}

// loadIDs reads the stored chunks into rings per gateway.
func loadIDs(b *bolt.Bucket) (map[string]*idRing, error) {
	rings := map[string]*idRing{}
	err := b.ForEach(func(k, v []byte) error {
		if len(k) < 10 || k[len(k)-9] != 0 || len(v)%8 != 0 {
			return fmt.Errorf("id chunk %q: not gateway NUL number with hashes", k)
		}
		gw := string(k[:len(k)-9])
		no := binary.BigEndian.Uint64(k[len(k)-8:])
		r := rings[gw]
		if r == nil {
			r = newIDRing()
			rings[gw] = r
		}
		for i := 0; i < len(v); i += 8 {
			r.add(binary.LittleEndian.Uint64(v[i:]))
		}
		r.log = append(r.log, idChunk{no, len(v) / 8})
		r.next = no + 1
		return nil
	})
	return rings, err
}
