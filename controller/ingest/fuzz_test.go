package ingest

import (
	"encoding/json"
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/ngic/ngic/telemetry"
)

// FuzzRecord feeds arbitrary topics and payloads, each in a batch with a
// valid event, to one Ingester: Record must not fail or panic, and after
// each batch the state in memory must be the state in the file, with its
// invariants kept.
func FuzzRecord(f *testing.F) {
	birth := t0
	for _, m := range []Message{
		event(f, "gw1", "r1", telemetry.Passage, 3, nil),
		tagEvent(f, "gw1", "r1", telemetry.TagArrived, 7, "A"),
		tagEvent(f, "gw2", "r1", telemetry.TagDeparted, 9, "A"),
		event(f, "gw1", "cab", telemetry.BeamHeld, 2, nil),
		lostEvent(f, "gw1", 20, 10, 15),
		status(f, "gw1", telemetry.StateOnline, &birth, true),
		status(f, "gw2", telemetry.StateOffline, nil, false),
		health(f, "gw3", t0),
		{Topic: "ngic/v1/gw/gw1/event/r1", Payload: []byte(`{"v":1,"seq":18446744073709551615,"id":"x","gateway":"gw1","source":"r1","type":"passage","time":"2026-01-01T00:00:00Z","passage":{"direction":"in"}}`)},
		{Topic: "ngic/v1/gw/gw1/event/spool", Payload: []byte(`{"v":1,"seq":5,"id":"y","gateway":"gw1","source":"spool","type":"events.lost","time":"0001-01-01T00:00:01Z","lost":{"count":1,"reason":"crash","first_seq":1,"last_seq":9223372036854775807}}`)},
		{Topic: "ngic/v1/gw/gw9/status", Payload: []byte(`{}`)},
		{Topic: "ngic/v1/gw//event/", Payload: nil},
		batchMsg(event(f, "gw1", "gate", telemetry.Passage, 30, nil), event(f, "gw1", "gate", telemetry.Passage, 31, nil)),
		batchMsg(event(f, "gw1", "gate", telemetry.Passage, 33, nil), event(f, "gw2", "gate", telemetry.Passage, 32, nil)),
		{Topic: "ngic/v1/gw/gw1/event/gate", Payload: []byte(`[{"seq":40},{"v":1,"seq":18446744073709551615,"id":"x","gateway":"gw1","source":"gate","type":"passage","time":"2026-01-01T00:00:00Z","passage":{"direction":"in"}}]`)},
	} {
		f.Add(m.Topic, m.Payload)
	}
	fx := newFixture(f, nil)
	var next uint64 = 1000
	f.Fuzz(func(t *testing.T, topic string, payload []byte) {
		next++
		batch := []Message{{Topic: topic, Payload: payload}, tagEvent(t, "gw1", "r2", telemetry.TagArrived, next, "F")}
		if err := fx.Record(batch); err != nil {
			t.Fatalf("Record: %v", err)
		}
		checkConsistent(t, fx.Ingester)
	})
}

// checkConsistent checks that the state in memory is the one in the
// file and keeps its invariants.
func checkConsistent(t testing.TB, in *Ingester) {
	t.Helper()
	var disk *state
	if err := in.db.View(func(tx *bolt.Tx) error {
		var err error
		disk, err = load(tx)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if m, d := stateJSON(t, in.st), stateJSON(t, disk); m != d {
		t.Fatalf("memory and file differ:\nmemory %s\nfile   %s", m, d)
	}
	for name, g := range in.st.gws {
		checkSeqState(t, &g.Seq)
		if _, known := in.sites[name]; !known {
			t.Fatalf("state of gateway %q not in the inventory", name)
		}
		if n := len(in.st.tags[name]); n > MaxTagsPerGateway {
			t.Fatalf("%s: %d tags", name, n)
		}
	}
	for gw, tags := range in.st.tags {
		if len(tags) == 0 {
			t.Fatalf("%s: empty tag map kept", gw)
		}
	}
}

// stateJSON is the JSON of a state, which compares times by instant and
// empty like absent.
func stateJSON(t testing.TB, s *state) string {
	t.Helper()
	tags := map[string]*PresentTag{}
	for gw, m := range s.tags {
		for k, p := range m {
			tags[string(tagBytes(gw, k))] = p
		}
	}
	doors, passages := map[string]*DoorState{}, map[string]*PassageState{}
	for k, d := range s.doors {
		doors[string(k.bytes())] = d
	}
	for k, p := range s.passages {
		passages[string(k.bytes())] = p
	}
	b, err := json.Marshal(map[string]any{"gws": s.gws, "unknown": s.unknown, "tags": tags, "doors": doors, "passages": passages})
	if err != nil {
		t.Fatal(err)
	}
	// Round trip once so that both sides have the same zones and nils.
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	b, _ = json.Marshal(v)
	return string(b)
}
