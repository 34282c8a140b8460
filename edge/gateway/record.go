package gateway

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/ngic/ngic/edge/config"
	"github.com/ngic/ngic/edge/publish"
	"github.com/ngic/ngic/edge/smooth"
	"github.com/ngic/ngic/internal/spool"
	"github.com/ngic/ngic/telemetry"
)

// A spooled record is the MQTT topic, a NUL byte, and the event's JSON
// without its sequence number (the spool assigns that; see telemetry.WithSeq).

func encodeRecord(topic string, payload []byte) []byte {
	b := make([]byte, 0, len(topic)+1+len(payload))
	b = append(b, topic...)
	b = append(b, 0)
	return append(b, payload...)
}

// decodeRecord turns a spooled record into the message that carries it
// alone.
func decodeRecord(r spool.Record) (publish.Message, error) {
	return newRecordDecoder().decode(nil, r)
}

// recordDecoder is decodeRecord for the publisher (publish.Opts.Decode),
// its only user: topics already checked are looked up rather than parsed
// again, and the payload is appended to the publisher's buffer, which it
// copies into the message.
type recordDecoder struct {
	topics map[string]string
}

func newRecordDecoder() *recordDecoder { return &recordDecoder{topics: map[string]string{}} }

func (d *recordDecoder) decode(dst []byte, r spool.Record) (publish.Message, error) {
	i := bytes.IndexByte(r.Data, 0)
	if i <= 0 {
		return publish.Message{}, errors.New("gateway: spooled record has no topic")
	}
	topic, ok := d.topics[string(r.Data[:i])]
	if !ok {
		topic = string(r.Data[:i])
		if _, kind, _, err := telemetry.ParseTopic(topic); err != nil || kind != "event" {
			return publish.Message{}, fmt.Errorf("gateway: spooled record %d: bad topic %q", r.Seq, topic)
		}
		if len(d.topics) >= maxCached {
			clear(d.topics)
		}
		d.topics[topic] = topic
	}
	payload, err := telemetry.WithSeq(dst, r.Data[i+1:], r.Seq)
	if err != nil {
		return publish.Message{}, fmt.Errorf("gateway: spooled record %d: %w", r.Seq, err)
	}
	return publish.Message{Topic: topic, Payload: payload}, nil
}

// recordTime returns the time of a spooled event, zero when it has none.
func recordTime(data []byte) time.Time {
	i := bytes.IndexByte(data, 0)
	if i < 0 {
		return time.Time{}
	}
	var e struct {
		Time time.Time `json:"time"`
	}
	if json.Unmarshal(data[i+1:], &e) != nil {
		return time.Time{}
	}
	return e.Time
}

// spoolEvent encodes an event as a spool record. A tag arrival adds the
// tag to the present set kept in the spool, a departure removes it, in the
// transaction that stores the event: after a crash the set is what the
// far end was told.
//
// The key is presencePfx, the source, the antenna and the tag,
// NUL-separated; the value the JSON of storedPresence. It is for the
// spooler's goroutine only (the encoder it uses is not safe for concurrent
// use). An event without an ID is given one.
func (g *Gateway) spoolEvent(e *telemetry.Event) (spool.Event, error) {
	return g.enc.record(e)
}

// The spool's state holds the run marker and the present set.
const (
	keyRun      = "run"
	runRunning  = "running"
	runStopped  = "stopped"
	presencePfx = "present\x00"
)

// storedPresence is what the present set keeps of a tag.
type storedPresence struct {
	Protocol  string    `json:"protocol"`
	FirstSeen time.Time `json:"first_seen"`
	RSSI      *int      `json:"rssi,omitempty"`
}

// orphan is a tag present before the restart at a reader that is no
// longer configured.
type orphan struct {
	source string
	p      smooth.Presence
	proto  string
}

func (o orphan) departure(g *Gateway) queued {
	r := &reader{cfg: config.Reader{Name: o.source, Protocol: o.proto}}
	return g.tagEvent(r, o.p, telemetry.TagDeparted, g.now())
}

// restorePresence reads the run marker and the present set from the
// spool: after a run that did not end cleanly, births say presence_reset
// and the readers get their tags back, to depart those no longer in the
// field and announce again those that are.
func (g *Gateway) restorePresence() error {
	state, err := g.spool.State()
	if err != nil {
		return fmt.Errorf("gateway: %w", err)
	}
	byName := map[string]*reader{}
	for _, r := range g.readers {
		byName[r.cfg.Name] = r
	}
	restored := map[*reader][]smooth.Presence{}
	n := 0
	for k, v := range state {
		rest, ok := strings.CutPrefix(k, presencePfx)
		if !ok {
			continue
		}
		f := strings.Split(rest, "\x00")
		var sp storedPresence
		if len(f) != 3 || json.Unmarshal(v, &sp) != nil {
			g.log.Warn("ignoring an unreadable present-set entry in the spool", "key", strconv.Quote(k))
			continue
		}
		antenna, err1 := strconv.Atoi(f[1])
		raw, err2 := hex.DecodeString(f[2])
		if err1 != nil || err2 != nil || telemetry.ValidateName(f[0]) != nil {
			g.log.Warn("ignoring an unreadable present-set entry in the spool", "key", strconv.Quote(k))
			continue
		}
		p := smooth.Presence{Tag: f[2], Raw: raw, Antenna: antenna, FirstSeen: sp.FirstSeen, LastSeen: sp.FirstSeen}
		if sp.RSSI != nil {
			p.MaxRSSI, p.HasRSSI = *sp.RSSI, true
		}
		n++
		if r := byName[f[0]]; r != nil && r.cfg.Protocol == sp.Protocol {
			restored[r] = append(restored[r], p)
		} else {
			g.orphans = append(g.orphans, orphan{source: f[0], p: p, proto: sp.Protocol})
		}
	}
	for r, ps := range restored {
		r.smooth.Restore(ps)
	}
	g.presenceReset = string(state[keyRun]) == runRunning || n > 0
	if g.presenceReset {
		g.log.Warn("the last run did not end cleanly: presence reset announced; tags it reported present depart unless read again",
			"restored_tags", n)
	}
	return nil
}

// lossReason spells a spool loss reason as telemetry does.
func lossReason(r spool.Reason) string {
	switch r {
	case spool.ReasonDropOldest:
		return telemetry.LostDropOldest
	case spool.ReasonRejectNew:
		return telemetry.LostRejectNew
	case spool.ReasonTooLarge:
		return telemetry.LostTooLarge
	case spool.ReasonDiskFull:
		return telemetry.LostDiskFull
	case spool.ReasonCrash:
		return telemetry.LostCrash
	case spool.ReasonUnreadable:
		return telemetry.LostUnreadable
	}
	return r.String()
}

// lossRecord makes the spool record of an events.lost event.
func (g *Gateway) lossRecord(l spool.Loss) ([]byte, error) {
	e := telemetry.Event{V: telemetry.SchemaVersion, ID: uuid.NewString(), Gateway: g.cfg.Gateway,
		Source: telemetry.LossSource, Type: telemetry.EventsLost, Time: g.now().UTC(),
		Lost: &telemetry.Lost{Count: l.Count, Reason: lossReason(l.Reason), FirstSeq: l.FirstSeq, LastSeq: l.LastSeq}}
	if !l.First.IsZero() && !l.Last.IsZero() && !l.Last.Before(l.First) {
		first, last := l.First.UTC(), l.Last.UTC()
		e.Lost.First, e.Lost.Last = &first, &last
	}
	topic := telemetry.EventTopic(e.Gateway, e.Source)
	b := append(append(make([]byte, 0, len(topic)+1+recordRoom), topic...), 0)
	b, err := telemetry.AppendEvent(b, &e)
	if err != nil {
		return nil, err
	}
	return b, nil
}
