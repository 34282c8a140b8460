package gateway

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ngic/ngic/internal/spool"
	"github.com/ngic/ngic/telemetry"
)

// encoder turns events into spool records for the spooler, its only user:
// the records, presence keys and values of a batch are cut from large
// buffers (arena) rather than allocated one by one, topics and metric
// counters are looked up once per source, and event IDs are random
// version 4 UUIDs cut from one string spelling 256 of them, drawn by one
// read of crypto/rand. Payloads are appended by telemetry.AppendEvent
// straight into a buffer's free part. A buffer is never written again once
// a part of it was handed out, so the spool may keep a record (while the
// disk is full) as long as it likes.
type encoder struct {
	gateway  string
	arena    arena
	kvs      []spool.KV
	topics   map[string]string
	prefixes map[string][]byte // protocol -> `{"protocol":"...","first_seen":"`
	counters map[[2]string]prometheus.Counter
	events   *prometheus.CounterVec
	ids      string // idsPerFill IDs, idLen bytes each
	used     int    // IDs of ids handed out
}

// arena hands out parts of large buffers, each part never written again
// by the arena once handed out.
type arena struct{ buf []byte }

// arenaSize is the size of each buffer records are cut from: a buffer
// stays in memory while any part of it is used (a payload awaiting its
// PUBACK), so it is kept small.
const arenaSize = 16 << 10

// take returns an empty slice with room for exactly n bytes.
func (a *arena) take(n int) []byte {
	if cap(a.buf)-len(a.buf) < n {
		a.buf = make([]byte, 0, max(n, arenaSize))
	}
	at := len(a.buf)
	a.buf = a.buf[:at+n]
	return a.buf[at : at : at+n]
}

// free returns an empty slice over the free part of the buffer, with
// room for at least n bytes, for the caller to append to; keep hands out
// what was appended.
func (a *arena) free(n int) []byte {
	if cap(a.buf)-len(a.buf) < n {
		a.buf = make([]byte, 0, max(n, arenaSize))
	}
	return a.buf[len(a.buf):len(a.buf):cap(a.buf)]
}

// keep returns b, got from free and appended to, capped at its length,
// and marks its bytes handed out when they are in the buffer (append
// outgrew the free part otherwise, and b is an allocation of its own).
func (a *arena) keep(b []byte) []byte {
	if len(b) > 0 && cap(b) == cap(a.buf)-len(a.buf) && &b[:cap(b)][cap(b)-1] == &a.buf[:cap(a.buf)][cap(a.buf)-1] {
		a.buf = a.buf[:len(a.buf)+len(b)]
	}
	return b[:len(b):len(b)]
}

func newEncoder(gateway string, events *prometheus.CounterVec) *encoder {
	return &encoder{gateway: gateway, topics: map[string]string{}, prefixes: map[string][]byte{},
		counters: map[[2]string]prometheus.Counter{}, events: events, used: idsPerFill}
}

// topic returns the event topic of source.
func (c *encoder) topic(source string) string {
	t, ok := c.topics[source]
	if !ok {
		if len(c.topics) >= maxCached {
			clear(c.topics)
		}
		t = telemetry.EventTopic(c.gateway, source)
		c.topics[source] = t
	}
	return t
}

// maxCached bounds the encoder's and the record decoder's caches (sources
// and protocols are a few per gateway).
const maxCached = 1024

// count counts one event of source and type handed to the spool.
func (c *encoder) count(source, typ string) {
	k := [2]string{source, typ}
	ctr, ok := c.counters[k]
	if !ok {
		if len(c.counters) >= maxCached {
			clear(c.counters)
		}
		ctr = c.events.WithLabelValues(source, typ)
		c.counters[k] = ctr
	}
	ctr.Inc()
}

// The encoder's pool of IDs.
const (
	idsPerFill = 256
	idLen      = len("xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx")
)

// newID returns a random (version 4) UUID, cut from the pool of IDs.
func (c *encoder) newID() (string, error) {
	if c.used == idsPerFill {
		var random [16 * idsPerFill]byte
		if _, err := rand.Read(random[:]); err != nil {
			return "", fmt.Errorf("gateway: event id: %w", err)
		}
		b := make([]byte, 0, idLen*idsPerFill)
		for u := range slices.Chunk(random[:], 16) {
			u[6] = u[6]&0x0f | 0x40 // version 4
			u[8] = u[8]&0x3f | 0x80 // variant RFC 4122
			for k, part := range [...][2]int{{0, 4}, {4, 6}, {6, 8}, {8, 10}, {10, 16}} {
				if k > 0 {
					b = append(b, '-')
				}
				b = hex.AppendEncode(b, u[part[0]:part[1]])
			}
		}
		c.ids, c.used = string(b), 0
	}
	id := c.ids[c.used*idLen : (c.used+1)*idLen]
	c.used++
	return id, nil
}

// record encodes an event as a spool record (see spoolEvent), stamping
// its ID when it has none.
func (c *encoder) record(e *telemetry.Event) (spool.Event, error) {
	if e.ID == "" {
		id, err := c.newID()
		if err != nil {
			return spool.Event{}, err
		}
		e.ID = id
	}
	topic := c.topic(e.Source)
	b := append(append(c.arena.free(len(topic)+1+recordRoom), topic...), 0)
	b, err := telemetry.AppendEvent(b, e)
	if err != nil {
		return spool.Event{}, err
	}
	rec := spool.Event{Data: c.arena.keep(b)}
	if e.Tag != nil && (e.Type == telemetry.TagArrived || e.Type == telemetry.TagDeparted) {
		if len(c.kvs) == cap(c.kvs) {
			c.kvs = make([]spool.KV, 0, 256)
		}
		c.kvs = append(c.kvs, spool.KV{Key: c.presenceKey(e.Source, e.Tag.Antenna, e.Tag.ID)})
		kv := &c.kvs[len(c.kvs)-1]
		if e.Type == telemetry.TagArrived {
			kv.Value = c.presenceValue(e.Tag.Protocol, e.Tag.FirstSeen, e.Tag.RSSI)
		}
		rec.State = kv
	}
	return rec, nil
}

// recordRoom is the room left for an event's JSON in the buffer before a
// record is encoded (a tag event with its GS1 identity takes about 450
// bytes): a larger one is allocated on its own.
const recordRoom = 1024

// presenceKey is presenceKey's spelling, cut from the arena.
func (c *encoder) presenceKey(source string, antenna int, tag string) []byte {
	var num [20]byte
	a := strconv.AppendInt(num[:0], int64(antenna), 10)
	b := c.arena.take(len(presencePfx) + len(source) + 1 + len(a) + 1 + len(tag))
	b = append(b, presencePfx...)
	b = append(append(b, source...), 0)
	b = append(append(b, a...), 0)
	return append(b, tag...)
}

// presenceValue is the JSON of storedPresence, as encoding/json spells it,
// cut from the arena.
func (c *encoder) presenceValue(protocol string, firstSeen time.Time, rssi *int) []byte {
	pfx, ok := c.prefixes[protocol]
	if !ok {
		if len(c.prefixes) >= maxCached {
			clear(c.prefixes)
		}
		q, _ := json.Marshal(protocol)
		pfx = append(append([]byte(`{"protocol":`), q...), `,"first_seen":"`...)
		c.prefixes[protocol] = pfx
	}
	var tail [64]byte
	t := firstSeen.AppendFormat(tail[:0], time.RFC3339Nano)
	t = append(t, '"')
	if rssi != nil {
		t = append(t, `,"rssi":`...)
		t = strconv.AppendInt(t, int64(*rssi), 10)
	}
	t = append(t, '}')
	b := c.arena.take(len(pfx) + len(t))
	return append(append(b, pfx...), t...)
}
