package gateway

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/ngic/ngic/internal/spool"
	"github.com/ngic/ngic/telemetry"
)

func testEncoder() *encoder {
	return newEncoder("gw-test", prometheus.NewCounterVec(prometheus.CounterOpts{Name: "events_total"}, []string{"source", "type"}))
}

// TestEncoderRecords: the records, presence keys and values the encoder
// cuts from its buffers are those the plain spelling gives (the topic, a
// NUL and EncodeEvent's JSON; the key's fields NUL-separated; encoding/json
// of storedPresence), and every one keeps its bytes while later ones are
// encoded.
func TestEncoderRecords(t *testing.T) {
	c := testEncoder()
	at := time.Date(2026, 11, 30, 3, 4, 5, 123456789, time.UTC)
	type want struct {
		data, key, value []byte
	}
	var recs []spool.Event
	var wants []want
	for i := range 3000 { // several arenas
		rssi := -40 - i%50
		e := telemetry.Event{V: telemetry.SchemaVersion, Gateway: "gw-test", Source: fmt.Sprintf("r%d", i%3),
			Type: telemetry.TagArrived, Time: at, Tag: &telemetry.Tag{ID: fmt.Sprintf("%024X", i), Protocol: "magicrf",
				Antenna: i % 4, FirstSeen: at.Add(time.Duration(i)), LastSeen: at, RSSI: &rssi}}
		if i%5 == 0 {
			e.Tag.RSSI = nil
		}
		if i%7 == 0 {
			e.Type = telemetry.TagDeparted
		}
		rec, data := recordAndWant(t, c, &e)
		w := want{data: data,
			key: []byte(presencePfx + e.Source + "\x00" + strconv.Itoa(e.Tag.Antenna) + "\x00" + e.Tag.ID)}
		if e.Type == telemetry.TagArrived {
			w.value, _ = json.Marshal(storedPresence{Protocol: e.Tag.Protocol, FirstSeen: e.Tag.FirstSeen, RSSI: e.Tag.RSSI})
		}
		recs, wants = append(recs, rec), append(wants, w)
	}
	for i, r := range recs {
		w := wants[i]
		if !bytes.Equal(r.Data, w.data) {
			t.Fatalf("record %d:\n got %q\nwant %q", i, r.Data, w.data)
		}
		if r.State == nil || !bytes.Equal(r.State.Key, w.key) || !bytes.Equal(r.State.Value, w.value) ||
			(w.value == nil) != (r.State.Value == nil) {
			t.Fatalf("record %d state: got %+v, want key %q value %q", i, r.State, w.key, w.value)
		}
	}
}

// recordAndWant returns the encoder's record of e and the record's data
// as the plain spelling gives it: the topic, a NUL and EncodeEvent's JSON.
func recordAndWant(t *testing.T, c *encoder, e *telemetry.Event) (spool.Event, []byte) {
	t.Helper()
	rec, err := c.record(e)
	if err != nil {
		t.Fatal(err)
	}
	payload, err := telemetry.EncodeEvent(e)
	if err != nil {
		t.Fatal(err)
	}
	return rec, encodeRecord(telemetry.EventTopic(e.Gateway, e.Source), payload)
}

// TestEncoderLargeRecords: records larger than the room left for them
// (one larger than a whole buffer) are right, and neither they nor the
// records around them are written over by later ones; an event the
// encoder refuses leaves the buffer's free part to the next record.
func TestEncoderLargeRecords(t *testing.T) {
	c := testEncoder()
	at := time.Date(2026, 11, 30, 3, 4, 5, 0, time.UTC)
	var recs []spool.Event
	var wants [][]byte
	for i := range 200 {
		e := telemetry.Event{V: telemetry.SchemaVersion, ID: fmt.Sprint("id-", i), Gateway: "gw-test", Source: "r1",
			Type: telemetry.TagDeparted, Time: at, Tag: &telemetry.Tag{ID: fmt.Sprintf("%X", i), Protocol: "em4100"}}
		switch i % 10 {
		case 3:
			e.ID = strings.Repeat("<&>", 400+i) // escaped, over the room left
		case 7:
			e.Tag.Protocol = strings.Repeat("p", arenaSize+i) // over a whole buffer
		case 9:
			e.Type = "no.such.type"
			if _, err := c.record(&e); err == nil {
				t.Fatal("an event of an unknown type was encoded")
			}
			continue
		}
		rec, want := recordAndWant(t, c, &e)
		recs, wants = append(recs, rec), append(wants, want)
	}
	for i, r := range recs {
		if !bytes.Equal(r.Data, wants[i]) {
			t.Fatalf("record %d:\n got %q\nwant %q", i, r.Data, wants[i])
		}
		if len(r.Data) != cap(r.Data) {
			t.Fatalf("record %d has room after it (%d bytes): an append would write into the buffer", i, cap(r.Data)-len(r.Data))
		}
	}
}

// TestEncoderRecordAllocs: a tag arrival is given its ID and encoded
// without an allocation of its own (the buffers and the pool of IDs, a
// few allocations per hundred records, are shared).
func TestEncoderRecordAllocs(t *testing.T) {
	c := testEncoder()
	at := time.Date(2026, 11, 30, 3, 4, 5, 123456789, time.UTC)
	rssi := -61
	e := telemetry.Event{V: telemetry.SchemaVersion, ID: "4f1c2a9e-0000-4000-8000-000000000001", Gateway: "gw-test",
		Source: "r1", Type: telemetry.TagArrived, Time: at, Tag: &telemetry.Tag{ID: "3074257BF7194E4000001A85",
			Protocol: "magicrf", Antenna: 1, RSSI: &rssi, FirstSeen: at, LastSeen: at}}
	if _, err := c.record(&e); err != nil { // caches the topic, counter and prefix
		t.Fatal(err)
	}
	allocs := testing.AllocsPerRun(1000, func() {
		e.ID = "" // given one from the pool
		if _, err := c.record(&e); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("%.0f allocations per record, want 0 (less than one on average)", allocs)
	}
}

// TestEncoderIDs: an event without an ID gets a random version 4 UUID,
// distinct over several refills of the pool; one with an ID keeps it.
func TestEncoderIDs(t *testing.T) {
	c := testEncoder()
	v4 := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	seen := map[string]bool{}
	for range 1000 {
		e := telemetry.Event{V: telemetry.SchemaVersion, Gateway: "gw-test", Source: "r1", Type: telemetry.BeamBlocked,
			Time: time.Now().UTC(), Beam: &telemetry.Beam{}}
		if _, err := c.record(&e); err != nil {
			t.Fatal(err)
		}
		if u, err := uuid.Parse(e.ID); !v4.MatchString(e.ID) || seen[e.ID] || err != nil || u.Version() != 4 ||
			u.Variant() != uuid.RFC4122 || u.String() != e.ID {
			t.Fatalf("id %q: not a version 4 UUID as uuid spells it, or seen before", e.ID)
		}
		seen[e.ID] = true
	}
	e := telemetry.Event{V: telemetry.SchemaVersion, ID: "given", Gateway: "gw-test", Source: "r1",
		Type: telemetry.BeamBlocked, Time: time.Now().UTC(), Beam: &telemetry.Beam{}}
	if _, err := c.record(&e); err != nil || e.ID != "given" {
		t.Fatalf("an event's own id became %q (%v)", e.ID, err)
	}
}

// TestRecordDecoderAppends: the publisher's decoder appends to the buffer
// it is given what decodeRecord gives, in the buffer's room once it has
// grown, and refuses a record that is not an event.
func TestRecordDecoderAppends(t *testing.T) {
	d := newRecordDecoder()
	buf := append(make([]byte, 0, 256), "kept"...)
	for i := range 2000 {
		r := spool.Record{Seq: uint64(1) << (i % 64), Data: encodeRecord(telemetry.EventTopic("g", fmt.Sprint("s", i%2)),
			[]byte(fmt.Sprintf(`{"v":1,"n":%d}`, i)))}
		m, err := d.decode(buf, r)
		if err != nil {
			t.Fatal(err)
		}
		w, err := decodeRecord(r)
		if err != nil {
			t.Fatal(err)
		}
		if m.Topic != w.Topic || string(m.Payload) != "kept"+string(w.Payload) {
			t.Fatalf("message %q %q, want %q %q after kept", m.Topic, m.Payload, w.Topic, w.Payload)
		}
		if &m.Payload[0] != &buf[0] {
			t.Fatalf("record %d: the payload left a buffer with room for it", i)
		}
		buf = m.Payload[:4]
	}
	if _, err := d.decode(nil, spool.Record{Seq: 1, Data: []byte("ngic/v1/gw/g/status\x00{}")}); err == nil {
		t.Fatal("a status topic was accepted")
	}
}
