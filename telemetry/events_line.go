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
	if ev.Type == Passage && ev.PassageInfo != nil {
		e.Start(MeasPassage)
		e.Tag(TagDirection, ev.PassageInfo.Direction)
		e.Tag(TagGateway, ev.Gateway)
		e.Tag(TagSite, site)
		e.Tag(TagSource, ev.Source)
		e.IntU(FieldSeq, ev.Seq)
		e.String(FieldID, ev.ID)
		e.Float(FieldDurationS, ev.PassageInfo.DurationS)
		e.IntU(FieldIn, ev.PassageInfo.In)
		e.IntU(FieldOut, ev.PassageInfo.Out)
		err := e.End(EventPointTime(ev))
		return e.buf, err
	}
	e.Start(MeasEdgeEvent)
	e.Tag(TagGateway, ev.Gateway)
	e.Tag(TagSite, site)
	e.Tag(TagSource, ev.Source)
	e.Tag(TagType, ev.Type)
	e.IntU(FieldSeq, ev.Seq)
	e.String(FieldID, ev.ID)
	if t := ev.Tag; t != nil {
		e.String(FieldTagID, t.ID)
		optString(&e, FieldProtocol, t.Protocol)
		if t.Antenna != 0 {
			e.Int(FieldAntenna, int64(t.Antenna))
		}
		optInt(&e, FieldRSSI, t.RSSI)
		if t.EPC != nil {
			optString(&e, FieldEPCScheme, t.EPC.Scheme)
			optString(&e, FieldEPCURI, t.EPC.URI)
			optString(&e, FieldGTIN, t.EPC.GTIN)
			optString(&e, FieldSSCC, t.EPC.SSCC)
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
	err := e.End(EventPointTime(ev))
	return e.buf, err
}

// lineWriter writes an event's line directly, its keys being constants;
// ok turns false at the first value it cannot write as it is.
type lineWriter struct {
	buf []byte
	ok  bool
}

// tag writes ",key=value" (key spelled with its comma and equals sign),
// leaving out an empty value as the LineEncoder does.
func (w *lineWriter) tag(key, v string) {
	if v == "" {
		return
	}
	w.buf = append(w.buf, key...)
	var ok bool
	w.buf, ok = appendName(w.buf, v)
	w.ok = w.ok && ok
}

// intU writes key (with its separator and equals sign) and v as an integer.
func (w *lineWriter) intU(key string, v uint64) {
	if v > math.MaxInt64 {
		w.ok = false
		return
	}
	w.int(key, int64(v))
}

func (w *lineWriter) int(key string, v int64) {
	w.buf = strconv.AppendInt(append(w.buf, key...), v, 10)
	w.buf = append(w.buf, 'i')
}

func (w *lineWriter) float(key string, v float64) {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		w.ok = false
		return
	}
	w.buf = strconv.AppendFloat(append(w.buf, key...), v, 'g', -1, 64)
}

// str writes a string field; opt leaves out an empty one.
func (w *lineWriter) str(key, v string, opt bool) {
	if opt && v == "" {
		return
	}
	if !utf8.ValidString(v) {
		w.ok = false
		return
	}
	w.buf = append(append(w.buf, key...), '"')
	w.buf = append(appendEscapedString(w.buf, v), '"')
}

// The keys of the event lines with their separators: a tag's comma and a
// field's comma (the first field's space is written apart) and the
// equals sign. They need no escaping (TestEventLineKeys).
const (
	lkDirection = "," + TagDirection + "="
	lkGateway   = "," + TagGateway + "="
	lkSite      = "," + TagSite + "="
	lkSource    = "," + TagSource + "="
	lkType      = "," + TagType + "="
	lkSeq       = " " + FieldSeq + "="
	lkID        = "," + FieldID + "="
	lkDuration  = "," + FieldDurationS + "="
	lkIn        = "," + FieldIn + "="
	lkOut       = "," + FieldOut + "="
	lkTagID     = "," + FieldTagID + "="
	lkProtocol  = "," + FieldProtocol + "="
	lkAntenna   = "," + FieldAntenna + "="
	lkRSSI      = "," + FieldRSSI + "="
	lkScheme    = "," + FieldEPCScheme + "="
	lkURI       = "," + FieldEPCURI + "="
	lkGTIN      = "," + FieldGTIN + "="
	lkSSCC      = "," + FieldSSCC + "="
	lkReads     = "," + FieldReads + "="
	lkPresentS  = "," + FieldPresentS + "="
	lkCount     = "," + FieldCount + "="
	lkReason    = "," + FieldReason + "="
	lkFirstSeq  = "," + FieldFirstSeq + "="
	lkLastSeq   = "," + FieldLastSeq + "="
)

// appendEventLineDirect is AppendEventLine written directly, the same
// bytes as appendEventLineEncoder's; ok is false (dst then holds a part
// of the line past its length) when the event needs the encoder.
func appendEventLineDirect(dst []byte, site string, ev *Event) ([]byte, bool) {
	t := EventPointTime(ev)
	if ev.Seq == 0 || t.IsZero() || t.Before(minLineTime) || t.After(maxLineTime) {
		return dst, false
	}
	w := lineWriter{buf: dst, ok: true}
	if ev.Type == Passage && ev.PassageInfo != nil {
		p := ev.PassageInfo
		w.buf = append(w.buf, MeasPassage...)
		w.tag(lkDirection, p.Direction)
		w.tag(lkGateway, ev.Gateway)
		w.tag(lkSite, site)
		w.tag(lkSource, ev.Source)
		w.intU(lkSeq, ev.Seq)
		w.str(lkID, ev.ID, false)
		w.float(lkDuration, p.DurationS)
		w.intU(lkIn, p.In)
		w.intU(lkOut, p.Out)
	} else {
		w.buf = append(w.buf, MeasEdgeEvent...)
		w.tag(lkGateway, ev.Gateway)
		w.tag(lkSite, site)
		w.tag(lkSource, ev.Source)
		w.tag(lkType, ev.Type)
		w.intU(lkSeq, ev.Seq)
		w.str(lkID, ev.ID, false)
		if tg := ev.Tag; tg != nil {
			w.str(lkTagID, tg.ID, false)
			w.str(lkProtocol, tg.Protocol, true)
			if tg.Antenna != 0 {
				w.int(lkAntenna, int64(tg.Antenna))
			}
			if tg.RSSI != nil {
				w.int(lkRSSI, int64(*tg.RSSI))
			}
			if epc := tg.EPC; epc != nil {
				w.str(lkScheme, epc.Scheme, true)
				w.str(lkURI, epc.URI, true)
				w.str(lkGTIN, epc.GTIN, true)
				w.str(lkSSCC, epc.SSCC, true)
			}
			if tg.Reads != 0 {
				w.intU(lkReads, tg.Reads)
			}
			if !tg.FirstSeen.IsZero() && !tg.LastSeen.IsZero() && !tg.LastSeen.Before(tg.FirstSeen) {
				w.float(lkPresentS, tg.LastSeen.Sub(tg.FirstSeen).Seconds())
			}
		}
		if ev.Beam != nil {
			w.float(lkDuration, ev.Beam.DurationS)
		}
		if l := ev.Lost; l != nil {
			w.intU(lkCount, l.Count)
			w.str(lkReason, l.Reason, false)
			w.intU(lkFirstSeq, l.FirstSeq)
			w.intU(lkLastSeq, l.LastSeq)
		}
	}
	if !w.ok {
		return dst, false
	}
	w.buf = append(w.buf, ' ')
	w.buf = strconv.AppendInt(w.buf, t.UnixNano(), 10)
	return append(w.buf, '\n'), true
}
