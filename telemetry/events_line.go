package telemetry

import (
	"errors"
	"time"
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
func AppendEventLine(dst []byte, site string, ev *Event) ([]byte, error) {
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
