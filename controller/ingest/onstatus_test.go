package ingest

import (
	"testing"
	"time"

	"github.com/ngic/ngic/telemetry"
)

// OnStatus sees every valid status once its batch is committed, a stale
// one delivered again included, and no refused one.
func TestOnStatus(t *testing.T) {
	f := newFixture(t, nil)
	var seen []*telemetry.Status
	f.OnStatus(func(st *telemetry.Status) {
		if g := f.gateway(t, st.Gateway); g.StatusTime.IsZero() {
			t.Errorf("status of %s seen before its batch was committed", st.Gateway)
		}
		seen = append(seen, st)
	})
	at := t0.Add(time.Minute)
	s := status(t, "gw1", StateOnline, &at, false)
	bad := Message{Topic: telemetry.StatusTopic("gw2"), Payload: []byte(`{"v":1,"gateway":"gw3","state":"online"}`)}
	f.record(t, s, bad, event(t, "gw1", "pair", telemetry.Passage, 1, nil))
	f.record(t, s) // delivered again (retained): stale for the ingest, not for OnStatus
	if len(seen) != 2 || seen[0].Gateway != "gw1" || seen[1].Gateway != "gw1" || !seen[1].Time.Equal(at) {
		t.Fatalf("seen %d statuses: %+v", len(seen), seen)
	}
	if g := f.gateway(t, "gw1"); g.Counts.StaleStatuses != 1 {
		t.Fatalf("stale statuses %d, want 1", g.Counts.StaleStatuses)
	}
}
