package gateway

import (
	"testing"
	"time"

	"github.com/ngic/ngic/edge/internal/edgetest"
	"github.com/ngic/ngic/internal/spool"
	"github.com/ngic/ngic/internal/testenv"
	"github.com/ngic/ngic/telemetry"
)

// TestUnreadableRecordReported: a spooled record that cannot be read back
// is discarded and the far end is told by an events.lost event (reason
// unreadable) naming its seq, so its gap is explained like any other loss.
func TestUnreadableRecordReported(t *testing.T) {
	broker := testenv.StartMosquitto(t)
	sub := edgetest.Subscribe(t, broker.Addr, "sub-unreadable")
	cfg := testConfig(t, "tcp://"+broker.Addr, "")
	sp, err := spool.Open(cfg.Spool.Path, spool.Options{})
	if err != nil {
		t.Fatal(err)
	}
	seqs, err := sp.Append([]byte("no topic, no payload: damaged"))
	if err != nil {
		t.Fatal(err)
	}
	if err := sp.Close(); err != nil {
		t.Fatal(err)
	}
	bad := seqs[0]
	g, stop := runGateway(t, cfg)
	defer stop()
	sub.WaitFor(t, 20*time.Second, "an events.lost for the unreadable record", func(es []*telemetry.Event) bool {
		for _, e := range es {
			if e.Type == telemetry.EventsLost && e.Lost.Reason == telemetry.LostUnreadable {
				return true
			}
		}
		return false
	})
	for _, e := range sub.Events() {
		if e.Type != telemetry.EventsLost {
			continue
		}
		if l := e.Lost; l.Count != 1 || l.FirstSeq != bad || l.LastSeq != bad {
			t.Fatalf("events.lost %+v, want 1 unreadable at seq %d", l, bad)
		}
	}
	if st := g.spool.Stats(); st.Lost[spool.ReasonUnreadable] != 1 {
		t.Fatalf("spool stats %+v: want 1 unreadable", st)
	}
}
