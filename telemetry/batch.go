package telemetry

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// MaxBatchEvents bounds the events of one message on an event topic: a
// payload is one event object, or a JSON array of 1 to MaxBatchEvents event
// objects (a batch) in strictly ascending seq order. A consumer refuses a
// larger array whole; the message's size is bounded by the consumer's own
// limit on payloads.
const MaxBatchEvents = 1024

// AppendToBatch appends an event payload to a batch and returns the batch:
// '[' + payload + ']' when batch is empty, otherwise batch's closing ']'
// becomes ',' and payload + ']' follows. The result is always a complete
// JSON array; nothing is allocated when batch has the capacity. batch must
// be empty or a result of AppendToBatch; payload one event's JSON object.
func AppendToBatch(batch, payload []byte) []byte {
	if len(batch) == 0 {
		batch = append(batch, '[')
	} else {
		batch[len(batch)-1] = ','
	}
	batch = append(batch, payload...)
	return append(batch, ']')
}

// ElementError is the error of one event of a batch, as EachEvent hands it
// to its callback and DecodeEvents returns it.
type ElementError struct {
	// Index is the element's index in the batch, from 0.
	Index int
	// Seq is the element's seq, or 0 when it could not be read.
	Seq uint64
	// Err is what is wrong: DecodeEvent's error, or the order of seqs.
	Err error
}

func (e *ElementError) Error() string {
	if e.Seq == 0 {
		return fmt.Sprintf("telemetry: batch element %d: %v", e.Index, e.Err)
	}
	return fmt.Sprintf("telemetry: batch element %d (seq %d): %v", e.Index, e.Seq, e.Err)
}

// Unwrap returns Err.
func (e *ElementError) Unwrap() error { return e.Err }

// EachEvent decodes the payload of a message on an event topic, one event
// object or a batch, and calls fn for each event in order with its index,
// its bytes in b, and the result of DecodeEvent on those bytes, until fn
// returns false.
//
// For a single object fn is called once, with index 0 and DecodeEvent's
// result as it is. For a batch an element's error is an *ElementError
// naming it; besides DecodeEvent's errors, an element whose seq is not
// above that of every valid element before it is refused (its ev is nil).
// The other elements are delivered all the same.
//
// The returned error is the batch's framing, checked before fn is first
// called: not a JSON array, an empty one, more than MaxBatchEvents
// elements, an element that is not an object, bad JSON anywhere, or
// anything but white space after the array. It wraps ErrMalformed, and fn
// is not called at all.
func EachEvent(b []byte, fn func(i int, elem []byte, ev *Event, err error) bool) error {
	d := eventDecoder{b: b}
	d.ws()
	if d.i >= len(b) || b[d.i] != '[' {
		ev, err := DecodeEvent(b)
		fn(0, b, ev, err)
		return nil
	}
	var small [64]element // a typical batch's elements, in place
	elems, err := d.elements(small[:0])
	if err == errFallback {
		elems, err = elementsReflect(b, small[:0])
	}
	if err != nil {
		return err
	}
	var prev uint64 // the highest seq of the valid elements so far
	for i := range elems {
		el := &elems[i]
		elem, ev, err := b[el.off:el.end], el.ev, el.err
		if err == nil && i > 0 && ev.Seq <= prev {
			err = fmt.Errorf("telemetry: event field seq: %d not above %d of an element before", ev.Seq, prev)
		}
		if err != nil {
			seq := leadingSeq(elem)
			if ev != nil {
				seq = ev.Seq
			}
			ev, err = nil, &ElementError{Index: i, Seq: seq, Err: err}
		} else {
			prev = ev.Seq
		}
		*el = element{} // let the event go with the caller
		if !fn(i, elem, ev, err) {
			break
		}
	}
	return nil
}

// element is an element of a batch: where it lies, and what DecodeEvent
// gives for it.
type element struct {
	off, end int
	ev       *Event
	err      error
}

// DecodeEvents decodes the payload of a message on an event topic, one
// event object or a batch (see EachEvent), all valid or an error: for one
// object, DecodeEvent's; for a batch, the framing error or the first
// element's *ElementError.
func DecodeEvents(b []byte) ([]*Event, error) {
	var evs []*Event
	var first error
	err := EachEvent(b, func(_ int, _ []byte, ev *Event, err error) bool {
		if err != nil {
			first = err
			return false
		}
		evs = append(evs, ev)
		return true
	})
	if err == nil {
		err = first
	}
	if err != nil {
		return nil, err
	}
	return evs, nil
}

// batchErrorf makes a framing error of a batch, wrapping ErrMalformed.
func batchErrorf(format string, args ...any) error {
	return payloadErrorf("telemetry: event batch: "+format, args...)
}

// elements checks the batch whose '[' is at d.i and decodes its
// elements, each in place as DecodeEvent decodes it alone. errFallback
// means nesting deeper than the fast path skips, for elementsReflect.
func (d *eventDecoder) elements(elems []element) ([]element, error) {
	if d.open(']') {
		return nil, batchErrorf("empty array")
	}
	for n := 0; ; n++ {
		if n == MaxBatchEvents {
			return nil, batchErrorf("more than %d elements", MaxBatchEvents)
		}
		if d.i >= len(d.b) {
			return nil, batchErrorf("unexpected end of input at element %d", n)
		}
		if d.b[d.i] != '{' {
			return nil, batchErrorf("element %d is not an object", n)
		}
		el, err := decodeElement(d.b, d.i)
		if err != nil {
			return nil, batchElementErr(n, err)
		}
		elems = append(elems, el)
		d.i = el.end
		if more, err := d.more(']'); err != nil {
			return nil, batchElementErr(n, err)
		} else if !more {
			break
		}
	}
	d.ws()
	if d.i != len(d.b) {
		return nil, batchErrorf("offset %d: invalid character %q after the array", d.i, d.b[d.i])
	}
	return elems, nil
}

// decodeElement decodes the object at b[off] in place, with the result of
// DecodeEvent on its bytes: the fast decoder reads the same bytes up to
// the object's end (its offsets are counted from off), and when it stops
// short on an error, skip finds the end. The error returned is the
// framing's: bad JSON, or errFallback for nesting too deep to skip.
func decodeElement(b []byte, off int) (element, error) {
	d := eventDecoder{b: b[off:]}
	err := d.object(eventOrder, d.eventMember)
	if err == nil {
		el := element{off: off, end: off + d.i, ev: d.build()}
		if el.err = el.ev.Validate(true); el.err != nil {
			el.ev = nil
		}
		return el, nil
	}
	d = eventDecoder{b: b, i: off}
	if err := d.skip(0); err != nil {
		return element{}, err
	}
	el := element{off: off, end: d.i, err: err}
	if err == errFallback {
		el.ev, el.err = decodeEventReflect(b[off:d.i])
	}
	return el, nil
}

// batchElementErr names the element in a syntax error met while framing.
func batchElementErr(n int, err error) error {
	if err == errFallback {
		return err
	}
	return batchErrorf("element %d: %w", n, err)
}

// elementsReflect is elements by encoding/json, for a batch nested too
// deep for the fast path: its limits, and the same results otherwise.
func elementsReflect(b []byte, elems []element) ([]element, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	if _, err := dec.Token(); err != nil { // the '[' EachEvent saw
		return nil, batchErrorf("%w", err)
	}
	for n := 0; dec.More(); n++ {
		if n == MaxBatchEvents {
			return nil, batchErrorf("more than %d elements", MaxBatchEvents)
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, batchErrorf("element %d: %w", n, err)
		}
		if raw[0] != '{' {
			return nil, batchErrorf("element %d is not an object", n)
		}
		el := element{end: int(dec.InputOffset())}
		el.off = el.end - len(raw)
		el.ev, el.err = DecodeEvent(b[el.off:el.end])
		elems = append(elems, el)
	}
	if _, err := dec.Token(); err != nil { // the ']'
		return nil, batchErrorf("%w", err)
	}
	if len(elems) == 0 {
		return nil, batchErrorf("empty array")
	}
	if rest := b[dec.InputOffset():]; len(bytes.TrimLeft(rest, " \t\r\n")) != 0 {
		return nil, batchErrorf("invalid character %q after the array", bytes.TrimLeft(rest, " \t\r\n")[0])
	}
	return elems, nil
}

// leadingSeq reads the seq of an event payload that begins as gateways
// write it, {"seq":<digits>; 0 otherwise.
func leadingSeq(elem []byte) uint64 {
	const prefix = `{"seq":`
	if !bytes.HasPrefix(elem, []byte(prefix)) {
		return 0
	}
	rest := elem[len(prefix):]
	n := 0
	for n < len(rest) && '0' <= rest[n] && rest[n] <= '9' {
		n++
	}
	seq, _ := parseDigits(rest[:n])
	return seq
}
