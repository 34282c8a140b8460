package ingest

import (
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/ngic/ngic/controller/alerts"
	"github.com/ngic/ngic/telemetry"
)

// txn is one batch being staged: the changed records (copies), the lines
// and the signals. Nothing of the Ingester changes until it is committed.
type txn struct {
	in    *Ingester
	st    *state
	sites map[string]string
	now   time.Time

	gws      map[string]*gwRec
	gt       map[string]*gwTxn // the tags and IDs staged per gateway
	last     *gwTxn            // the gateway of the last event
	unknown  *Counts
	tags     map[string]map[tagKey]*PresentTag // nil value: deleted
	doors    map[srcKey]*DoorState
	passages map[srcKey]*PassageState

	lines    []byte
	signals  []alerts.Signal
	refusals []Refusal
	statuses []*telemetry.Status // every valid status, for OnStatus
}

func (in *Ingester) newTxn(sites map[string]string, lines []byte) *txn {
	return &txn{in: in, st: in.st, sites: sites, now: in.o.Now(), gws: map[string]*gwRec{}, gt: map[string]*gwTxn{},
		tags: map[string]map[tagKey]*PresentTag{}, doors: map[srcKey]*DoorState{},
		passages: map[srcKey]*PassageState{}, lines: lines}
}

// gw returns the batch's copy of a gateway's record, made on first use.
func (t *txn) gw(name string) *gwRec {
	if g := t.gws[name]; g != nil {
		return g
	}
	g := &gwRec{State: StateUnknown}
	if cur := t.st.gws[name]; cur != nil {
		g = cur.clone()
	}
	t.gws[name] = g
	return g
}

// restartMargin is how much newer than every event recorded of its
// gateway an event with a seq seen before must be to start its sequence
// again (a reinstall takes minutes; events spooled in one order may be
// timed a few milliseconds out of it).
const restartMargin = 10 * time.Second

// subject is the alert subject of a gateway.
func (t *txn) subject(gw string) alerts.Subject {
	return alerts.Subject{Type: alerts.SubjectGateway, ID: gw, Site: t.sites[gw]}
}

func (t *txn) signal(gw, kind, key string, active bool, at time.Time, summary string, attrs map[string]string) {
	if !t.in.wants(kind) {
		return
	}
	t.signals = append(t.signals, alerts.Signal{Kind: kind, Subject: t.subject(gw), Key: key,
		Active: active, Time: at, Summary: summary, Attrs: attrs})
}

// refuse counts a refused payload.
func (t *txn) refuse(gw, reason, topic string, err error) {
	var c *Counts
	if _, known := t.sites[gw]; known && gw != "" {
		c = &t.gw(gw).Counts
	} else {
		gw = UnknownGateway
		if t.unknown == nil {
			u := t.st.unknown.clone()
			t.unknown = &u
		}
		c = t.unknown
	}
	inc(&c.Refused, reason, 1)
	if len(topic) > 200 {
		topic = topic[:200]
	}
	r := Refusal{Reason: reason, Gateway: gw, Topic: topic, Time: t.now}
	if err != nil {
		r.Err = err.Error()
	}
	t.refusals = append(t.refusals, r)
}

// parsed is a message that passed the checks: one of ev, st and h is set.
type parsed struct {
	gw, site string
	retained bool
	ev       *telemetry.Event
	st       *telemetry.Status
	h        *telemetry.Health
}

// stage stages a batch: every message is checked (the refused ones
// counted) and applied in order. A gateway never heard of starts its
// sequence at the lowest seq of the batch, whatever their order: the valid
// messages of a gateway whose committed sequence has not started are kept
// until every message was checked, and applied then, in order; those of
// the others are applied at once, so that a batch of many events does not
// keep them all decoded (their garbage is collected as it goes).
func (t *txn) stage(batch []Message) {
	items := t.in.items[:0]
	defer func() { clear(items); t.in.items = items[:0] }() // kept for the next batch, without its events
	for i := range batch {
		n := len(items)
		items = t.parse(items, &batch[i])
		kept := n
		for _, p := range items[n:] {
			if t.seqStarted(p.gw) {
				t.apply(p)
			} else {
				items[kept] = p
				kept++
			}
		}
		clear(items[kept:])
		items = items[:kept]
	}
	for _, p := range items {
		if p.ev == nil {
			continue
		}
		if g := t.g(p.gw); !g.started {
			if s := &g.rec.Seq; !s.Started || p.ev.Seq <= s.Low {
				*s = seqState{Started: true, Low: p.ev.Seq - 1, High: p.ev.Seq - 1}
			}
		}
	}
	for _, p := range items {
		t.apply(p)
	}
	t.settle()
}

// seqStarted tells whether the committed record of gw has started its
// sequence (as gwTxn.started).
func (t *txn) seqStarted(gw string) bool {
	c := t.st.gws[gw]
	return c != nil && c.Seq.Started
}

// apply applies one checked message.
func (t *txn) apply(p parsed) {
	switch {
	case p.ev != nil:
		t.event(p.gw, p.site, p.ev)
	case p.st != nil:
		t.status(p.gw, p.st, p.retained)
		t.statuses = append(t.statuses, p.st)
	default:
		t.health(p.gw, p.site, p.h)
	}
}

// parse checks one message, appending to items what passed (an event
// message may hold a batch of events) and counting the rest refused.
func (t *txn) parse(items []parsed, m *Message) []parsed {
	gw, kind, source, err := t.parseTopic(m.Topic)
	if err != nil {
		t.refuse("", ReasonTopic, m.Topic, err)
		return items
	}
	site, known := t.sites[gw]
	switch {
	case !known:
		t.refuse("", ReasonUnknownGateway, m.Topic, nil)
		return items
	case len(m.Payload) > t.in.o.MaxPayload:
		t.refuse(gw, ReasonTooLarge, m.Topic, nil)
		return items
	}
	p := parsed{gw: gw, site: site, retained: m.Retained}
	var reason string
	switch kind {
	case "event":
		return t.parseEvents(items, p, m, source)
	case "status":
		p.st, err = telemetry.DecodeStatus(m.Payload)
		if err == nil && p.st.Gateway != gw {
			reason, err = ReasonMismatch, errors.New("gateway of the payload is not the topic's")
		}
	case "health":
		p.h, err = telemetry.DecodeHealth(m.Payload)
		if err == nil && p.h.Gateway != gw {
			reason, err = ReasonMismatch, errors.New("gateway of the payload is not the topic's")
		}
	default:
		reason, err = ReasonTopic, errors.New("unknown kind of topic")
	}
	if err != nil {
		if reason == "" {
			reason = decodeReason(m.Payload, err)
		}
		t.refuse(gw, reason, m.Topic, err)
		return items
	}
	return append(items, p)
}

// parseEvents checks the events of a message on an event topic, one event
// or a batch (telemetry.EachEvent): each valid one is appended to items
// as a copy of p, each bad one refused on its own (naming its index and
// seq in a batch), and the whole message refused when the batch's
// framing is bad.
func (t *txn) parseEvents(items []parsed, p parsed, m *Message, source string) []parsed {
	err := telemetry.EachEvent(m.Payload, func(i int, elem []byte, ev *telemetry.Event, err error) bool {
		var reason string
		if err == nil {
			if reason, err = checkEvent(ev, p.gw, source); err != nil && len(elem) != len(m.Payload) {
				err = &telemetry.ElementError{Index: i, Seq: ev.Seq, Err: err} // an element of a batch
			}
		}
		if err != nil {
			if reason == "" {
				reason = decodeReason(elem, err)
			}
			t.refuse(p.gw, reason, m.Topic, err)
			return true
		}
		p.ev = ev
		items = append(items, p)
		return true
	})
	if err != nil {
		t.refuse(p.gw, ReasonJSON, m.Topic, err)
	}
	return items
}

// checkEvent checks a decoded event against its topic and the ingest's
// own rules, returning the refusal reason and error.
func checkEvent(ev *telemetry.Event, gw, source string) (string, error) {
	switch {
	case ev.Gateway != gw || ev.Source != source:
		return ReasonMismatch, errors.New("gateway or source of the payload is not the topic's")
	case ev.Seq > maxSeq:
		return ReasonInvalid, errors.New("seq above 2^63-1")
	case ev.Lost != nil && ev.Lost.LastSeq >= ev.Seq:
		// A gateway numbers its loss report after the events lost.
		return ReasonInvalid, errors.New("events.lost range not below the report's own seq")
	}
	return "", nil
}

// parsedTopic is what telemetry.ParseTopic made of a valid topic.
type parsedTopic struct{ gw, kind, source string }

// maxTopics bounds the valid topics kept parsed (Ingester.topics): a
// few per gateway (status, health, a topic per reader or sensor).
const maxTopics = 4096

// parseTopic is telemetry.ParseTopic, the valid topics kept parsed: a
// lookup instead of a split and an allocation per message.
func (t *txn) parseTopic(topic string) (gw, kind, source string, err error) {
	if p, ok := t.in.topics[topic]; ok {
		return p.gw, p.kind, p.source, nil
	}
	if gw, kind, source, err = telemetry.ParseTopic(topic); err == nil {
		if len(t.in.topics) >= maxTopics {
			clear(t.in.topics)
		}
		t.in.topics[strings.Clone(topic)] = parsedTopic{gw, kind, source}
	}
	return gw, kind, source, err
}

// decodeReason tells why a payload the telemetry decoders refused is bad
// (only on that path, so the second look costs nothing on good ones).
func decodeReason(payload []byte, err error) string {
	var typeErr *json.UnmarshalTypeError
	var timeErr *time.ParseError
	if !json.Valid(payload) || errors.Is(err, telemetry.ErrMalformed) || errors.As(err, &typeErr) || errors.As(err, &timeErr) {
		return ReasonJSON
	}
	var v struct {
		V *json.RawMessage `json:"v"`
	}
	if err := json.Unmarshal(payload, &v); err != nil {
		return ReasonJSON // not an object
	}
	if v.V == nil || string(*v.V) != strconv.Itoa(telemetry.SchemaVersion) {
		return ReasonVersion
	}
	return ReasonInvalid
}

// heard notes that a message came from the gateway: a gateway offline
// because it was quiet (or never heard of) is online again.
func (t *txn) heard(gw string, g *gwRec) {
	g.LastSeen = t.now
	if g.State == StateUnknown || g.State == "" || (g.State == StateOffline && g.Cause == CauseQuiet) {
		t.setState(gw, g, StateOnline, "", t.now)
	}
}

// setState changes a gateway's state (and its cause), signalling a
// change from or to offline.
func (t *txn) setState(gw string, g *gwRec, state, cause string, at time.Time) {
	prev := g.State
	if prev != state {
		g.Since = at
	}
	g.State, g.Cause = state, cause
	switch {
	case state == StateOffline && prev != StateOffline:
		t.signal(gw, alerts.KindGatewayOffline, "", true, at, "gateway "+gw+" is offline ("+cause+")", nil)
	case state == StateOnline && prev == StateOffline:
		t.signal(gw, alerts.KindGatewayOffline, "", false, at, "gateway "+gw+" is online", nil)
	}
}

// status applies a birth or last will, unless it is not newer than the
// state (a retained status delivered again). A retained status that
// changes nothing comes from the broker, not from the gateway: it does not
// count as hearing from it.
func (t *txn) status(gw string, st *telemetry.Status, retained bool) {
	g := t.gw(gw)
	// A last will has no time: it is news only when the state differs, or
	// when it tells why a quiet gateway is offline.
	stale := g.State == st.State && !(st.State == StateOffline && g.Cause == CauseQuiet)
	if st.Time != nil {
		stale = !g.StatusTime.IsZero() && !st.Time.After(g.StatusTime)
	}
	if stale {
		g.Counts.StaleStatuses++
		if !retained && st.State == StateOnline {
			t.heard(gw, g) // a birth delivered twice
		}
		return
	}
	g.LastSeen = t.now
	g.Counts.Statuses++
	at := t.now
	if st.Time != nil {
		g.StatusTime = *st.Time
		at = *st.Time
	}
	if st.State == StateOffline {
		t.setState(gw, g, StateOffline, CauseStatus, at)
		return
	}
	g.Version, g.Readers, g.Sensors = st.Version, st.Readers, st.Sensors
	t.setState(gw, g, StateOnline, "", at)
	if st.PresenceReset {
		g.Counts.PresenceResets++
		t.resetPresence(gw, st.Time)
	}
}

// resetPresence forgets the tags present on the gateway's readers whose
// arrival was timed before before (all of them when before is nil).
func (t *txn) resetPresence(gw string, before *time.Time) {
	g := t.g(gw)
	old := func(p *PresentTag) bool { return p != nil && (before == nil || p.Time.Before(*before)) }
	for k, p := range g.cur {
		if _, ok := g.tags[k]; !ok && old(p) {
			t.setTag(g, k, p, nil)
		}
	}
	for k, p := range g.tags {
		if old(p) {
			t.setTag(g, k, p, nil)
		}
	}
}

// health keeps the newest health message and writes its lines.
func (t *txn) health(gw, site string, h *telemetry.Health) {
	g := t.gw(gw)
	t.heard(gw, g)
	g.Counts.Health++
	if g.Health == nil || h.Time.After(g.Health.Time) {
		g.Health = h
	}
	if t.in.o.Lines == nil {
		return
	}
	var err error
	if t.lines, err = h.AppendLines(t.lines, site); err != nil {
		g.Counts.LineErrors++
	}
}

// event records one event, unless it was seen before.
func (t *txn) event(gw, site string, ev *telemetry.Event) {
	gt := t.g(gw)
	g := gt.rec
	t.heard(gw, g)
	id := t.in.idh.hash(ev.ID)
	if gt.seenID(id) {
		g.Counts.Duplicates++
		return
	}
	if g.Seq.seen(ev.Seq) {
		// A seq seen before on an event newer than any recorded is no
		// redelivery (that would be as old as its first delivery): the
		// gateway numbers from 1 again, reinstalled with a fresh spool.
		// (restartMargin keeps a late event of the start of the sequence,
		// timed a little after a later one, a duplicate.)
		if g.Newest.IsZero() || !ev.Time.After(g.Newest.Add(restartMargin)) {
			g.Counts.Duplicates++
			return
		}
		g.Seq.restart(ev.Seq)
		g.Counts.SeqRestarts++
	}
	g.Seq.markSeen(ev.Seq)
	if ev.Time.After(g.Newest) {
		g.Newest = ev.Time
	}
	gt.addID(id)
	g.Counts.Events++
	if t.in.o.Lines != nil {
		var err error
		if t.lines, err = telemetry.AppendEventLine(t.lines, site, ev); err != nil {
			g.Counts.LineErrors++
		}
	}
	switch ev.Type {
	case telemetry.TagArrived:
		t.arrived(gt, ev)
	case telemetry.TagDeparted:
		t.departed(gt, ev)
	case telemetry.BeamBlocked:
		t.door(gw, g, ev, DoorBlocked)
	case telemetry.BeamHeld:
		t.door(gw, g, ev, DoorHeld)
	case telemetry.BeamCleared:
		t.door(gw, g, ev, DoorClosed)
	case telemetry.Passage:
		t.passage(gw, g, ev)
	case telemetry.EventsLost:
		t.lost(gw, g, ev)
	}
}

func (t *txn) arrived(g *gwTxn, ev *telemetry.Event) {
	k := tagKey{ev.Source, ev.Tag.ID}
	cur := t.tag(g, k)
	if cur != nil && cur.Seq > ev.Seq {
		return // a newer arrival holds
	}
	if cur == nil && g.tagN >= MaxTagsPerGateway {
		g.rec.Counts.OverBound++
		return
	}
	tg := ev.Tag
	first := tg.FirstSeen
	if first.IsZero() {
		first = ev.Time
	}
	t.setTag(g, k, cur, &PresentTag{ID: tg.ID, Protocol: tg.Protocol, Antenna: tg.Antenna, RSSI: tg.RSSI,
		EPC: tg.EPC, FirstSeen: first, Time: ev.Time, Seq: ev.Seq})
}

func (t *txn) departed(g *gwTxn, ev *telemetry.Event) {
	gw := g.name
	k := tagKey{ev.Source, ev.Tag.ID}
	if cur := t.tag(g, k); cur != nil && cur.Seq < ev.Seq {
		t.setTag(g, k, cur, nil)
	}
	if !t.in.wantsDeparted {
		return
	}
	tg := ev.Tag
	attrs := make(map[string]string, 6)
	attrs["tag_id"], attrs["reader"] = tg.ID, ev.Source
	if e := tg.EPC; e != nil {
		attrs["epc_scheme"], attrs["epc_uri"] = e.Scheme, e.URI
		if e.GTIN != "" {
			attrs["gtin"] = e.GTIN
		}
		if e.SSCC != "" {
			attrs["sscc"] = e.SSCC
		}
	}
	t.signal(gw, alerts.KindTagDeparted, ev.Source+"/"+tg.ID, true, ev.Time,
		"tag "+tg.ID+" left reader "+ev.Source+" of gateway "+gw, attrs)
}

// sources counts the doors and pairs of gw as staged, for the bound.
func sourceCount[T any](cur, staged map[srcKey]*T, gw string) int {
	n := 0
	for k := range cur {
		if k.gw == gw {
			n++
		}
	}
	for k := range staged {
		if _, ok := cur[k]; !ok && k.gw == gw {
			n++
		}
	}
	return n
}

// staged returns the value of k as staged in m, or as it is in cur.
func staged[T any](cur, m map[srcKey]*T, k srcKey) *T {
	if v, ok := m[k]; ok {
		return v
	}
	return cur[k]
}

func (t *txn) door(gw string, g *gwRec, ev *telemetry.Event, state string) {
	k := srcKey{gw, ev.Source}
	cur := staged(t.st.doors, t.doors, k)
	if cur != nil && cur.Seq > ev.Seq {
		return // a newer event holds
	}
	if cur == nil && sourceCount(t.st.doors, t.doors, gw) >= MaxSourcesPerGateway {
		g.Counts.OverBound++
		return
	}
	t.doors[k] = &DoorState{Gateway: gw, Sensor: ev.Source, State: state, Since: ev.Time, Seq: ev.Seq}
	if state == DoorBlocked || !t.in.wants(alerts.KindDoorHeld) {
		return
	}
	attrs := map[string]string{"sensor": ev.Source}
	switch state {
	case DoorHeld:
		t.signal(gw, alerts.KindDoorHeld, ev.Source, true, ev.Time, "door "+ev.Source+" of gateway "+gw+" held open", attrs)
	case DoorClosed:
		t.signal(gw, alerts.KindDoorHeld, ev.Source, false, ev.Time, "door "+ev.Source+" of gateway "+gw+" closed", attrs)
	}
}

func (t *txn) passage(gw string, g *gwRec, ev *telemetry.Event) {
	k := srcKey{gw, ev.Source}
	cur := staged(t.st.passages, t.passages, k)
	if cur == nil && sourceCount(t.st.passages, t.passages, gw) >= MaxSourcesPerGateway {
		g.Counts.OverBound++
		return
	}
	p := &PassageState{Gateway: gw, Pair: ev.Source}
	if cur != nil {
		*p = *cur
	}
	pi := ev.PassageInfo
	if pi.Direction == "in" {
		p.CountedIn++
	} else {
		p.CountedOut++
	}
	if ev.Seq > p.Seq {
		p.In, p.Out, p.Last, p.Seq = pi.In, pi.Out, ev.Time, ev.Seq
	}
	t.passages[k] = p
}

func (t *txn) lost(gw string, g *gwRec, ev *telemetry.Event) {
	l := ev.Lost
	inc(&g.Counts.Lost, l.Reason, l.Count)
	g.Counts.LossReports++
	g.Seq.markExplained(l.FirstSeq, l.LastSeq)
	first, last := strconv.FormatUint(l.FirstSeq, 10), strconv.FormatUint(l.LastSeq, 10)
	t.signal(gw, alerts.KindEventsLost, "", true, ev.Time,
		"gateway "+gw+" lost "+strconv.FormatUint(l.Count, 10)+" events ("+l.Reason+")",
		map[string]string{"lost": strconv.FormatUint(l.Count, 10), "reason": l.Reason, "first_seq": first, "last_seq": last})
}

// settle ends the batch: gaps that outlived it are counted and
// signalled, those it filled are closed.
func (t *txn) settle() {
	for gw, g := range t.gws {
		opened, closed := g.Seq.settle()
		if t.in.o.SharedEvents {
			continue // the holes are the other controllers' events
		}
		for _, x := range opened {
			g.Counts.Gaps++
			t.signal(gw, alerts.KindSequenceGap, gapKey(x), true, t.now,
				"gateway "+gw+": events "+gapRange(x)+" missing", gapAttrs(x))
		}
		for _, x := range closed {
			summary := "gateway " + gw + ": events " + gapRange(x) + " no longer missing"
			switch {
			case x.Abandoned:
				g.Counts.GapsAbandoned++
				summary = "gateway " + gw + ": events " + gapRange(x) + " given up (no longer tracked)"
			case x.Explained:
				g.Counts.GapsExplained++
			default:
				g.Counts.GapsFilled++
			}
			t.signal(gw, alerts.KindSequenceGap, gapKey(x), false, t.now, summary, gapAttrs(x))
		}
	}
}

func gapKey(g gap) string { return strconv.FormatUint(g.First, 10) }

func gapRange(g gap) string {
	return strconv.FormatUint(g.First, 10) + ".." + strconv.FormatUint(g.Last, 10)
}

func gapAttrs(g gap) map[string]string {
	return map[string]string{"first_seq": strconv.FormatUint(g.First, 10), "last_seq": strconv.FormatUint(g.Last, 10)}
}
