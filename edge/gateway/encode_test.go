package gateway

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"testing"
	"time"

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
		rec, err := c.record(&e)
		if err != nil {
			t.Fatal(err)
		}
		payload, err := telemetry.EncodeEvent(&e)
		if err != nil {
			t.Fatal(err)
		}
		w := want{data: encodeRecord(telemetry.EventTopic(e.Gateway, e.Source), payload),
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
		if !v4.MatchString(e.ID) || seen[e.ID] {
			t.Fatalf("id %q: not a version 4 UUID, or seen before", e.ID)
		}
		seen[e.ID] = true
	}
	e := telemetry.Event{V: telemetry.SchemaVersion, ID: "given", Gateway: "gw-test", Source: "r1",
		Type: telemetry.BeamBlocked, Time: time.Now().UTC(), Beam: &telemetry.Beam{}}
	if _, err := c.record(&e); err != nil || e.ID != "given" {
		t.Fatalf("an event's own id became %q (%v)", e.ID, err)
	}
}

// TestRecordDecoderKeepsPayloads: the publisher's decoder gives what
// decodeRecord gives, and a payload handed out keeps its bytes while many
// more are decoded (the MQTT client holds it until the PUBACK).
func TestRecordDecoderKeepsPayloads(t *testing.T) {
	d := newRecordDecoder()
	var got, want [][]byte
	for i := range 2000 {
		r := spool.Record{Seq: uint64(1) << (i % 64), Data: encodeRecord(telemetry.EventTopic("g", fmt.Sprint("s", i%2)),
			[]byte(fmt.Sprintf(`{"v":1,"n":%d}`, i)))}
		m, err := d.decode(r)
		if err != nil {
			t.Fatal(err)
		}
		w, err := decodeRecord(r)
		if err != nil {
			t.Fatal(err)
		}
		if m.Topic != w.Topic {
			t.Fatalf("topic %q, want %q", m.Topic, w.Topic)
		}
		got, want = append(got, m.Payload), append(want, w.Payload)
	}
	for i := range got {
		if !bytes.Equal(got[i], want[i]) {
			t.Fatalf("payload %d became %q, want %q", i, got[i], want[i])
		}
	}
	if _, err := d.decode(spool.Record{Seq: 1, Data: []byte("ngic/v1/gw/g/status\x00{}")}); err == nil {
		t.Fatal("a status topic was accepted")
	}
}
