package gateway

import (
	"encoding/binary"
	"fmt"
	"testing"
	"time"

	"github.com/ngic/ngic/drivers/rfid"
	"github.com/ngic/ngic/edge/config"
	"github.com/ngic/ngic/edge/internal/edgetest"
	"github.com/ngic/ngic/internal/testenv"
	"github.com/ngic/ngic/telemetry"
)

// TestBacklogLeavesInBatches spools arrivals of two readers while no
// broker listens (100 of r1, 30 of r2, 50 of r1; the clean stop departs
// them: 150 of r1, 30 of r2), then runs a gateway on the same spool with a
// real mosquitto: a consumer receives every event once, in order, in
// batches of a reader's consecutive events up to mqtt.batch_events (with
// a batch_bytes that 64 events fit): 64+36, 30, 64+64+64+8, 30, eight
// messages.
func TestBacklogLeavesInBatches(t *testing.T) {
	readers := "readers:\n" +
		"  - name: r1\n    protocol: em4100\n    device: /nonexistent/tty1\n    depart_after: 1h\n" +
		"  - name: r2\n    protocol: em4100\n    device: /nonexistent/tty2\n    depart_after: 1h\n"
	cfg := testConfig(t, fmt.Sprintf("tcp://127.0.0.1:%d", testenv.FreePort(t)), readers)
	cfg.MQTT.BatchBytes = config.MaxBatchBytes
	g, stop := runGateway(t, cfg)
	tag := make([]byte, 5)
	n := uint32(0)
	for _, run := range []struct{ reader, count int }{{0, 100}, {1, 30}, {0, 50}} {
		for range run.count {
			n++
			binary.BigEndian.PutUint32(tag[1:], n)
			g.onRead(g.readers[run.reader], rfid.Read{Tag: tag, Antenna: 1})
		}
	}
	waitUntil(t, 30*time.Second, "180 arrivals spooled", func() bool { return g.spool.Stats().Records == 180 })
	stop()

	broker := testenv.StartMosquitto(t)
	sub := edgetest.Subscribe(t, broker.Addr, "sub-batches")
	cfg2 := *cfg
	cfg2.MQTT.Broker = "tcp://" + broker.Addr
	g2, stop2 := runGateway(t, &cfg2)
	sub.WaitFor(t, 30*time.Second, "360 events", func(es []*telemetry.Event) bool { return len(es) >= 360 })
	waitUntil(t, 30*time.Second, "the spool emptied", func() bool { return g2.spool.Stats().Records == 0 })
	stop2()
	if bad := sub.Bad(); len(bad) > 0 {
		t.Fatalf("messages that did not decode: %q", bad)
	}
	es := sub.Events()
	distinct, dups := edgetest.Report(t, es)
	if len(es) != 360 || len(distinct) != 360 || dups != 0 {
		t.Fatalf("%d events received, %d distinct, %d duplicates; want 360 once each", len(es), len(distinct), dups)
	}
	for i, e := range es {
		source, typ := "r1", telemetry.TagArrived
		if (i >= 100 && i < 130) || i >= 330 {
			source = "r2"
		}
		if i >= 180 {
			typ = telemetry.TagDeparted
		}
		if e.Seq != uint64(i+1) || e.Source != source || e.Type != typ {
			t.Fatalf("event %d: seq %d %s of %s, want seq %d %s of %s", i, e.Seq, e.Type, e.Source, i+1, typ, source)
		}
	}
	if m, st := sub.Messages(), g2.pub.Stats(); m != 8 || st.Messages != 8 || st.Published != 360 || st.Acked != 360 {
		t.Fatalf("360 events in %d messages; publisher stats %+v; want 8 messages", m, st)
	}
}
