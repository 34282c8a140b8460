package ingest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/ngic/ngic/telemetry"
)

// The state file's buckets. Each value is JSON; keys join names with NUL,
// which no gateway, reader or sensor name holds (telemetry.ValidateName).
var (
	// bucketGateways: gateway name -> gwRec (small and bounded: status,
	// latest health, counters, sequence state).
	bucketGateways = []byte("gateways")
	// bucketTags: gateway NUL reader NUL tag ID -> PresentTag, one key
	// per present tag, so a batch rewrites only the tags it touches.
	bucketTags = []byte("tags")
	// bucketDoors: gateway NUL sensor -> DoorState.
	bucketDoors = []byte("doors")
	// bucketPassages: gateway NUL pair -> PassageState.
	bucketPassages = []byte("passages")
	// bucketMeta: keyUnknown -> Counts of the refusals of UnknownGateway.
	// keyIDSeed -> the key of the event ID hashes (16 bytes).
	bucketMeta = []byte("meta")
	keyUnknown = []byte("unknown")
	keyIDSeed  = []byte("id-seed")
	// bucketIDs: gateway NUL chunk number (8 bytes, big-endian) -> the
	// hashes of the event IDs a batch recorded (8 bytes each), the
	// newest idRingSize or more per gateway (see idRing).
	bucketIDs = []byte("ids")
)

var allBuckets = [][]byte{bucketGateways, bucketTags, bucketDoors, bucketPassages, bucketMeta, bucketIDs}

// gwRec is the durable state of one gateway.
type gwRec struct {
	State      string                 `json:"state,omitempty"`
	Cause      string                 `json:"cause,omitempty"`
	Since      time.Time              `json:"since"`
	StatusTime time.Time              `json:"status_time"`
	LastSeen   time.Time              `json:"last_seen"`
	Version    string                 `json:"version,omitempty"`
	Readers    []telemetry.ReaderInfo `json:"readers,omitempty"`
	Sensors    []telemetry.SensorInfo `json:"sensors,omitempty"`
	Health     *telemetry.Health      `json:"health,omitempty"`
	Seq        seqState               `json:"seq"`
	Counts     Counts                 `json:"counts"`
	// Newest is the time of the newest event recorded: an event whose seq
	// was seen but that is newer tells that the gateway numbers from 1
	// again (see txn.event).
	Newest time.Time `json:"newest,omitzero"`
}

// clone copies g deeply enough for a batch to change it (Health,
// Readers and Sensors are replaced, never changed in place).
func (g *gwRec) clone() *gwRec {
	c := *g
	c.Seq = g.Seq.clone()
	c.Counts = g.Counts.clone()
	return &c
}

// srcKey names a door or a passage pair.
type srcKey struct{ gw, src string }

// tagKey names a present tag.
type tagKey struct{ reader, id string }

func (k srcKey) bytes() []byte { return []byte(k.gw + "\x00" + k.src) }

func tagBytes(gw string, k tagKey) []byte { return []byte(gw + "\x00" + k.reader + "\x00" + k.id) }

// state is everything the ingest keeps, in memory as on disk.
type state struct {
	gws      map[string]*gwRec
	unknown  Counts
	tags     map[string]map[tagKey]*PresentTag // by gateway
	doors    map[srcKey]*DoorState
	passages map[srcKey]*PassageState
}

func newState() *state {
	return &state{gws: map[string]*gwRec{}, tags: map[string]map[tagKey]*PresentTag{},
		doors: map[srcKey]*DoorState{}, passages: map[srcKey]*PassageState{}}
}

// load reads the whole state from tx.
func load(tx *bolt.Tx) (*state, error) {
	s := newState()
	err := tx.Bucket(bucketGateways).ForEach(func(k, v []byte) error {
		var g gwRec
		if err := json.Unmarshal(v, &g); err != nil {
			return fmt.Errorf("gateway %q: %w", k, err)
		}
		s.gws[string(k)] = &g
		return nil
	})
	if err != nil {
		return nil, err
	}
	if v := tx.Bucket(bucketMeta).Get(keyUnknown); v != nil {
		if err := json.Unmarshal(v, &s.unknown); err != nil {
			return nil, fmt.Errorf("unknown-gateway counts: %w", err)
		}
	}
	err = tx.Bucket(bucketTags).ForEach(func(k, v []byte) error {
		parts := bytes.SplitN(k, []byte{0}, 3)
		if len(parts) != 3 {
			return fmt.Errorf("tag key %q: not gateway, reader and tag", k)
		}
		var p PresentTag
		if err := json.Unmarshal(v, &p); err != nil {
			return fmt.Errorf("tag %q: %w", k, err)
		}
		gw := string(parts[0])
		if s.tags[gw] == nil {
			s.tags[gw] = map[tagKey]*PresentTag{}
		}
		s.tags[gw][tagKey{string(parts[1]), string(parts[2])}] = &p
		return nil
	})
	if err != nil {
		return nil, err
	}
	if err := loadSources(tx.Bucket(bucketDoors), s.doors); err != nil {
		return nil, err
	}
	return s, loadSources(tx.Bucket(bucketPassages), s.passages)
}

// loadSources reads a bucket keyed by gateway NUL source into m.
func loadSources[T any](b *bolt.Bucket, m map[srcKey]*T) error {
	return b.ForEach(func(k, v []byte) error {
		gw, src, ok := bytes.Cut(k, []byte{0})
		if !ok {
			return fmt.Errorf("key %q: not gateway and source", k)
		}
		var x T
		if err := json.Unmarshal(v, &x); err != nil {
			return fmt.Errorf("%q: %w", k, err)
		}
		m[srcKey{string(gw), string(src)}] = &x
		return nil
	})
}

// put stores v as JSON under k in b, or deletes k when v is nil.
func put[T any](b *bolt.Bucket, k []byte, v *T) error {
	if v == nil {
		return b.Delete(k)
	}
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return b.Put(k, data)
}

// store writes the changes of t in tx.
func (t *txn) store(tx *bolt.Tx) error {
	b := tx.Bucket(bucketGateways)
	for name, g := range t.gws {
		if err := put(b, []byte(name), g); err != nil {
			return fmt.Errorf("gateway %s: %w", name, err)
		}
	}
	if t.unknown != nil {
		if err := put(tx.Bucket(bucketMeta), keyUnknown, t.unknown); err != nil {
			return err
		}
	}
	if err := t.storeIDs(tx.Bucket(bucketIDs)); err != nil {
		return err
	}
	b = tx.Bucket(bucketTags)
	for gw, m := range t.tags {
		stored := t.st.tags[gw] // the committed tags, as in the file
		for k, p := range m {
			if _, ok := stored[k]; p == nil && !ok {
				continue // arrived and departed within the batch: nothing to delete
			}
			if err := put(b, tagBytes(gw, k), p); err != nil {
				return fmt.Errorf("tag %s/%s/%s: %w", gw, k.reader, k.id, err)
			}
		}
	}
	b = tx.Bucket(bucketDoors)
	for k, d := range t.doors {
		if err := put(b, k.bytes(), d); err != nil {
			return fmt.Errorf("door %s/%s: %w", k.gw, k.src, err)
		}
	}
	b = tx.Bucket(bucketPassages)
	for k, p := range t.passages {
		if err := put(b, k.bytes(), p); err != nil {
			return fmt.Errorf("passage %s/%s: %w", k.gw, k.src, err)
		}
	}
	return nil
}

// idLog is a gateway's chunk log of stored IDs as it is once the batch
// commits.
type idLog struct {
	log  []idChunk
	next uint64
}

// storeIDs stores the hashes of the IDs the batch records, a chunk per
// gateway.
func (t *txn) storeIDs(b *bolt.Bucket) error {
	for gw, g := range t.gt {
		if len(g.idList) == 0 {
			continue
		}
		log, next, err := storeIDs(b, gw, g.ring, g.idList)
		if err != nil {
			return fmt.Errorf("ids of %s: %w", gw, err)
		}
		g.log = &idLog{log, next}
	}
	return nil
}
