package publish

import (
	"sync/atomic"

	"github.com/ngic/ngic/telemetry"
)

// DefaultBatchBytes is the bound on a message of several events when
// Opts.BatchBytes is 0.
const DefaultBatchBytes = 16 << 10

// MinBatchBytes is the smallest Opts.BatchBytes accepted: below it a batch
// could not hold two events of a few hundred bytes.
const MinBatchBytes = 1 << 10

// batch is the message being built: consecutive records of one topic,
// framed by telemetry.AppendToBatch ('[' p1 ',' p2 ... ']'). A message of
// one event is sent as the event's payload alone, as without batching.
type batch struct {
	topic string
	buf   []byte   // the framed payloads, cut from the publisher's buffers
	seqs  []uint64 // the records it carries, oldest first
}

// fits tells whether payload may join b (of maxEvents and maxBytes at most).
func (b *batch) fits(topic string, payload []byte, maxEvents, maxBytes int) bool {
	return topic == b.topic && len(b.seqs) < maxEvents && len(b.buf)+1+len(payload) <= maxBytes
}

// payload is what the message carries: the batch, or the payload of its
// only event without the brackets.
func (b *batch) payload() []byte {
	if len(b.seqs) == 1 {
		return b.buf[1 : len(b.buf)-1]
	}
	return b.buf
}

// builder makes the messages of a session: batch buffers and seq lists are
// cut from large chunks, so that a message costs no allocation of its own.
type builder struct {
	maxEvents, maxBytes int
	bytes               chunks[byte]
	seqs                chunks[uint64]
	b                   batch
}

func newBuilder(maxEvents, maxBytes int) *builder {
	return &builder{maxEvents: maxEvents, maxBytes: maxBytes,
		bytes: chunks[byte]{size: max(4*maxBytes, 64<<10)}, seqs: chunks[uint64]{size: max(4*maxEvents, 1024)}}
}

// empty tells whether no message is being built.
func (m *builder) empty() bool { return len(m.b.seqs) == 0 }

// full tells whether the message being built can take no more events.
func (m *builder) full() bool { return len(m.b.seqs) >= m.maxEvents }

// fits tells whether the record of topic and payload may join the message
// being built.
func (m *builder) fits(topic string, payload []byte) bool {
	return m.b.fits(topic, payload, m.maxEvents, m.maxBytes)
}

// add puts the record seq of topic and payload into the message being
// built (starting one if none is), which must be empty or fit it. The
// payload is copied.
func (m *builder) add(seq uint64, topic string, payload []byte) {
	if m.empty() {
		// An event larger than the bound goes alone, in a buffer its size.
		m.b = batch{topic: topic, buf: m.bytes.room(max(m.maxBytes, len(payload)+2)), seqs: m.seqs.room(m.maxEvents)}
	}
	m.b.buf = telemetry.AppendToBatch(m.b.buf, payload)
	m.b.seqs = append(m.b.seqs, seq)
}

// take hands out the message built, and starts afresh.
func (m *builder) take() batch {
	b := batch{topic: m.b.topic, buf: m.bytes.cut(m.b.buf), seqs: m.seqs.cut(m.b.seqs)}
	m.b = batch{}
	return b
}

// chunks hands out slices cut from large buffers. A part handed out is
// never written again (the MQTT client reads a payload until it is
// written, the acknowledgements read the seqs until the PUBACK): a buffer
// is left once too full, and collected when no part of it is in use.
type chunks[T any] struct {
	buf  []T
	size int
}

// room returns an empty slice over the free part of the buffer, with room
// for exactly n elements: appending more would leave the buffer.
func (c *chunks[T]) room(n int) []T {
	if cap(c.buf)-len(c.buf) < n {
		c.buf = make([]T, 0, max(n, c.size))
	}
	at := len(c.buf)
	return c.buf[at : at : at+n]
}

// cut hands out s, got from room and appended to within its room, and
// marks its elements used.
func (c *chunks[T]) cut(s []T) []T {
	at := len(c.buf)
	if len(s) > 0 && at+len(s) <= cap(c.buf) && &c.buf[:at+1][at] == &s[0] { // else append left the room
		c.buf = c.buf[:at+len(s)]
	}
	return s[:len(s):len(s)]
}

// window counts the free places of the window of unacknowledged events.
// The acknowledgements free all the events of a message at once, so the
// publisher, waking, finds them all and fills a message again.
type window struct {
	free  atomic.Int64
	freed chan struct{} // signalled when places are freed
}

func newWindow(n int) *window {
	w := &window{freed: make(chan struct{}, 1)}
	w.free.Store(int64(n))
	return w
}

// take takes a place if one is free, without waiting.
func (w *window) take() bool {
	for {
		f := w.free.Load()
		if f == 0 {
			return false
		}
		if w.free.CompareAndSwap(f, f-1) {
			return true
		}
	}
}

// release frees n places and wakes a publisher waiting for one.
func (w *window) release(n int) {
	w.free.Add(int64(n))
	select {
	case w.freed <- struct{}{}:
	default:
	}
}
