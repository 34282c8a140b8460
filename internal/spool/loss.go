package spool

import (
	"encoding/binary"
	"fmt"
	"time"
)

// Reason says why events handed to the spool were lost.
type Reason int

const (
	// ReasonDropOldest: stored records deleted by the DropOldest policy.
	ReasonDropOldest Reason = iota
	// ReasonRejectNew: events refused by the RejectNew policy.
	ReasonRejectNew
	// ReasonTooLarge: events larger than MaxBytes, which could never be stored.
	ReasonTooLarge
	// ReasonDiskFull: events that arrived while the disk was full, beyond
	// the MaxHeld events held in memory, or held when the spool was closed.
	ReasonDiskFull
	// ReasonCrash: events held in memory (disk full) when the process
	// ended without closing the spool; found by the next Open.
	ReasonCrash
	// ReasonUnreadable: stored records that the reader of the spool could
	// not decode and discarded (Discard).
	ReasonUnreadable
	// ReasonRefused: stored records the far end refused for good (a
	// request it will never accept, such as InfluxDB's 400 for a line it
	// cannot parse), set aside by the reader with Discard so that they do
	// not block the records behind them. The edge never gives it.
	ReasonRefused
	// NumReasons is the number of reasons.
	NumReasons
)

// String returns the reason's name as spelled in metrics and logs.
func (r Reason) String() string {
	switch r {
	case ReasonDropOldest:
		return "drop-oldest"
	case ReasonRejectNew:
		return "reject-new"
	case ReasonTooLarge:
		return "too-large"
	case ReasonDiskFull:
		return "disk-full"
	case ReasonCrash:
		return "crash"
	case ReasonUnreadable:
		return "unreadable"
	case ReasonRefused:
		return "refused"
	}
	return fmt.Sprintf("Reason(%d)", int(r))
}

// Loss describes events lost for one reason: how many, the range of
// sequence numbers that holds them (other numbers in the range may have
// been stored and published) and, when known, the span of their times.
type Loss struct {
	Reason   Reason
	Count    uint64
	FirstSeq uint64
	LastSeq  uint64
	// First and Last are the times of the first and last lost event as
	// Options.EventTime tells them; zero when unknown.
	First, Last time.Time
}

// loss is a Loss without its reason, as stored: five big-endian uint64
// (count, first and last seq, first and last time in Unix nanoseconds,
// 0 meaning unknown).
type loss struct {
	count, firstSeq, lastSeq uint64
	first, last              int64
}

const lossSize = 40

func (l *loss) empty() bool { return l.count == 0 }

// add counts one lost event.
func (l *loss) add(seq uint64, t int64) {
	l.merge(loss{count: 1, firstSeq: seq, lastSeq: seq, first: t, last: t})
}

// merge adds o to l: counts add up, ranges and spans widen.
func (l *loss) merge(o loss) {
	if o.count == 0 {
		return
	}
	if l.count == 0 {
		*l = o
		return
	}
	l.count += o.count
	l.firstSeq, l.lastSeq = min(l.firstSeq, o.firstSeq), max(l.lastSeq, o.lastSeq)
	if o.first != 0 && (l.first == 0 || o.first < l.first) {
		l.first = o.first
	}
	if o.last != 0 && o.last > l.last {
		l.last = o.last
	}
}

func (l *loss) public(r Reason) Loss {
	out := Loss{Reason: r, Count: l.count, FirstSeq: l.firstSeq, LastSeq: l.lastSeq}
	if l.first != 0 {
		out.First = time.Unix(0, l.first).UTC()
	}
	if l.last != 0 {
		out.Last = time.Unix(0, l.last).UTC()
	}
	return out
}

func (l *loss) marshal(b []byte) {
	binary.BigEndian.PutUint64(b[0:], l.count)
	binary.BigEndian.PutUint64(b[8:], l.firstSeq)
	binary.BigEndian.PutUint64(b[16:], l.lastSeq)
	binary.BigEndian.PutUint64(b[24:], uint64(l.first))
	binary.BigEndian.PutUint64(b[32:], uint64(l.last))
}

func unmarshalLoss(b []byte) (loss, error) {
	if len(b) != lossSize {
		return loss{}, fmt.Errorf("loss entry is %d bytes, want %d", len(b), lossSize)
	}
	l := loss{
		count:    binary.BigEndian.Uint64(b[0:]),
		firstSeq: binary.BigEndian.Uint64(b[8:]),
		lastSeq:  binary.BigEndian.Uint64(b[16:]),
		first:    int64(binary.BigEndian.Uint64(b[24:])),
		last:     int64(binary.BigEndian.Uint64(b[32:])),
	}
	if l.count > 0 && (l.firstSeq == 0 || l.lastSeq < l.firstSeq || l.count > l.lastSeq-l.firstSeq+1) {
		return loss{}, fmt.Errorf("loss entry of %d events in seqs %d..%d is impossible", l.count, l.firstSeq, l.lastSeq)
	}
	return l, nil
}

// ledger holds one loss per reason.
type ledger [NumReasons]loss

func (g *ledger) total() uint64 {
	var n uint64
	for i := range g {
		n += g[i].count
	}
	return n
}

func (g *ledger) merge(o *ledger) {
	for i := range g {
		g[i].merge(o[i])
	}
}

// eventTime returns the time of an event's data as Unix nanoseconds, 0
// when unknown.
func (s *Spool) eventTime(data []byte) int64 {
	if s.opts.EventTime == nil || data == nil {
		return 0
	}
	t := s.opts.EventTime(data)
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}
