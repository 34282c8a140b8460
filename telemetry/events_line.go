package telemetry

import (
	"errors"
	"math"
	"strconv"
	"time"
	"unicode/utf8"
)

// EventPointTime is the point time of an edge event, derived from the
// event alone: its time truncated to the microsecond plus (seq modulo
// 1000) nanoseconds. Two events of one gateway in the same microsecond
// get distinct points (their seqs differ, and a gateway cannot make 1,000
// events in a microsecond), and a replay of an event (same time, same
// seq) rewrites the very same point, so at-least-once delivery stores
// each event once.
func EventPointTime(e *Event) time.Time {
	return e.Time.Truncate(time.Microsecond).Add(time.Duration(e.Seq % 1000))
}

// errEventNoSeq: an event without its sequence number has no point time.
var errEventNoSeq = errors.New("telemetry: event without seq has no point")

// AppendEventLine appends the line of a received edge event (with its
// seq) to dst: a MeasPassage line for a passage (tags direction, gateway,
// site, source), a MeasEdgeEvent line for every other type (tags gateway,
// site, source, type). The event's id, seq, tag ID and EPC are fields.
// The point time is EventPointTime. site is the gateway's inventory site
// ("" when unknown: the tag is then left out).
//
// The line is written directly (its measurement, keys and order are
// fixed); anything the line protocol cannot carry as it is sends the
// event to the LineEncoder, which gives the line or the error.
func AppendEventLine(dst []byte, site string, ev *Event) ([]byte, error) {
	if line, ok := appendEventLineDirect(dst, site, ev); ok {
		return line, nil
	}
	return appendEventLineEncoder(dst, site, ev)
}

// appendEventLineEncoder is AppendEventLine through the LineEncoder.
func appendEventLineEncoder(dst []byte, site string, ev *Event) ([]byte, error) {
	if ev.Seq == 0 {
		return dst, errEventNoSeq
	}
	e := LineEncoder{buf: dst, lineStart: len(dst)}
	e.Start(eventMeasurement(ev))
	eventLine(&lineWriter{enc: &e}, site, ev)
	err := e.End(EventPointTime(ev))
	return e.buf, err
}

// eventMeasurement is the measurement of an event's line.
func eventMeasurement(ev *Event) string {
	if ev.Type == Passage && ev.PassageInfo != nil {
		return MeasPassage
	}
	return MeasEdgeEvent
}

// eventLine gives e the tags and fields of ev's line, after its
// measurement (eventMeasurement): for a passage tags direction, gateway,
// site, source; for every other event gateway, site, source, type.
func eventLine(e *lineWriter, site string, ev *Event) {
	if ev.Type == Passage && ev.PassageInfo != nil {
		p := ev.PassageInfo
		e.Tag(TagDirection, p.Direction)
		e.Tag(TagGateway, ev.Gateway)
		e.Tag(TagSite, site)
		e.Tag(TagSource, ev.Source)
		e.IntU(FieldSeq, ev.Seq)
		e.String(FieldID, ev.ID)
		e.Float(FieldDurationS, p.DurationS)
		e.IntU(FieldIn, p.In)
		e.IntU(FieldOut, p.Out)
		return
	}
	e.Tag(TagGateway, ev.Gateway)
	e.Tag(TagSite, site)
	e.Tag(TagSource, ev.Source)
	e.Tag(TagType, ev.Type)
	e.IntU(FieldSeq, ev.Seq)
	e.String(FieldID, ev.ID)
	if t := ev.Tag; t != nil {
		e.String(FieldTagID, t.ID)
		optStr(e, FieldProtocol, t.Protocol)
		if t.Antenna != 0 {
			e.Int(FieldAntenna, int64(t.Antenna))
		}
		if t.RSSI != nil {
			e.Int(FieldRSSI, int64(*t.RSSI))
		}
		if epc := t.EPC; epc != nil {
			optStr(e, FieldEPCScheme, epc.Scheme)
			optStr(e, FieldEPCURI, epc.URI)
			optStr(e, FieldGTIN, epc.GTIN)
			optStr(e, FieldSSCC, epc.SSCC)
		}
		if t.Reads != 0 {
			e.IntU(FieldReads, t.Reads)
		}
		if !t.FirstSeen.IsZero() && !t.LastSeen.IsZero() && !t.LastSeen.Before(t.FirstSeen) {
			e.Float(FieldPresentS, t.LastSeen.Sub(t.FirstSeen).Seconds())
		}
	}
	if ev.Beam != nil {
		e.Float(FieldDurationS, ev.Beam.DurationS)
	}
	if l := ev.Lost; l != nil {
		e.IntU(FieldCount, l.Count)
		e.String(FieldReason, l.Reason)
		e.IntU(FieldFirstSeq, l.FirstSeq)
		e.IntU(FieldLastSeq, l.LastSeq)
	}
}

// optStr gives e a string field unless it is empty.
func optStr(e *lineWriter, key, v string) {
	if v != "" {
		e.String(key, v)
	}
}

// lineWriter takes the tags and fields of an event's line: it hands them
// to enc when set, else writes them directly. The measurement and keys of
// the event lines are constants that need no escaping
// (TestEventLineDirect), so it writes them without the LineEncoder's
// checks; ok turns false at the first value it cannot write as it is.
type lineWriter struct {
	enc    *LineEncoder
	buf    []byte
	fields bool // a field was written
	ok     bool
}

// Tag writes ",key=value", leaving out an empty value as the LineEncoder
// does.
func (w *lineWriter) Tag(key, v string) {
	switch {
	case w.enc != nil:
		w.enc.Tag(key, v)
	case v != "":
		w.buf = append(append(append(w.buf, ','), key...), '=')
		if plainName(v) {
			w.buf = append(w.buf, v...)
			return
		}
		var ok bool
		w.buf, ok = appendName(w.buf, v)
		w.ok = w.ok && ok
	}
}

// plainName tells whether s is a tag value appendName writes as it is:
// printable ASCII without a space, comma, equals sign or backslash. It
// looks at eight bytes at a time.
func plainName(s string) bool {
	i := 0
	for ; i+8 <= len(s); i += 8 {
		if !plainNameWord(load64(s, i)) {
			return false
		}
	}
	for ; i < len(s); i++ {
		if !plainNameByte[s[i]] {
			return false
		}
	}
	return true
}

// plainNameByte marks the bytes of plainName.
var plainNameByte = func() (t [256]bool) {
	for c := '!'; c < 0x7f; c++ {
		t[c] = c != ',' && c != '=' && c != '\\'
	}
	return t
}()

// plainNameWord tells whether the eight bytes of w are plainNameByte (see
// plainWord for the arithmetic).
func plainNameWord(w uint64) bool {
	comma, equals, backslash, del := w^(','*ones), w^('='*ones), w^('\\'*ones), w^(0x7f*ones)
	return ((w-'!'*ones)&^w|(comma-ones)&^comma|(equals-ones)&^equals|(backslash-ones)&^backslash|
		(del-ones)&^del|w)&highs == 0
}

// field writes the separator before a field, its key and the equals sign.
func (w *lineWriter) field(key string) {
	sep := byte(',')
	if !w.fields {
		sep, w.fields = ' ', true
	}
	w.buf = append(append(append(w.buf, sep), key...), '=')
}

// Int writes an integer field.
func (w *lineWriter) Int(key string, v int64) {
	if w.enc != nil {
		w.enc.Int(key, v)
		return
	}
	w.field(key)
	w.buf = append(strconv.AppendInt(w.buf, v, 10), 'i')
}

// IntU writes an unsigned value as an integer field.
func (w *lineWriter) IntU(key string, v uint64) {
	switch {
	case w.enc != nil:
		w.enc.IntU(key, v)
	case v > math.MaxInt64:
		w.ok = false
	default:
		w.Int(key, int64(v))
	}
}

// Float writes a float field.
func (w *lineWriter) Float(key string, v float64) {
	switch {
	case w.enc != nil:
		w.enc.Float(key, v)
	case math.IsNaN(v) || math.IsInf(v, 0):
		w.ok = false
	default:
		w.field(key)
		w.buf = strconv.AppendFloat(w.buf, v, 'g', -1, 64)
	}
}

// String writes a string field.
func (w *lineWriter) String(key, v string) {
	switch {
	case w.enc != nil:
		w.enc.String(key, v)
	case plainEnd(v, 0) == len(v): // ASCII, nothing to escape
		w.field(key)
		w.buf = append(append(append(w.buf, '"'), v...), '"')
	case !utf8.ValidString(v):
		w.ok = false
	default:
		w.field(key)
		w.buf = append(appendEscapedString(append(w.buf, '"'), v), '"')
	}
}

// appendEventLineDirect is AppendEventLine written directly, the same
// bytes as appendEventLineEncoder's; ok is false (dst then holds a part
// of the line past its length) when the event needs the encoder.
func appendEventLineDirect(dst []byte, site string, ev *Event) ([]byte, bool) {
	t := EventPointTime(ev)
	if ev.Seq == 0 || t.IsZero() || t.Before(minLineTime) || t.After(maxLineTime) {
		return dst, false
	}
	w := lineWriter{buf: append(dst, eventMeasurement(ev)...), ok: true}
	eventLine(&w, site, ev)
	if !w.ok || !w.fields {
		return dst, false
	}
	w.buf = append(w.buf, ' ')
	w.buf = strconv.AppendInt(w.buf, t.UnixNano(), 10)
	return append(w.buf, '\n'), true
}
