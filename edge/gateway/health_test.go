package gateway

import (
	"fmt"
	"testing"
	"time"

	"github.com/ngic/ngic/drivers/rfid"
	"github.com/ngic/ngic/drivers/rfid/emulate/emulatetest"
	"github.com/ngic/ngic/edge/config"
	"github.com/ngic/ngic/edge/internal/edgetest"
	"github.com/ngic/ngic/internal/buildinfo"
	"github.com/ngic/ngic/internal/testenv"
	"github.com/ngic/ngic/telemetry"
)

// healthAfter waits for a health message made after mark and returns the
// last one received.
func healthAfter(t *testing.T, s *edgetest.HealthSubscriber, mark time.Time, what string) *telemetry.Health {
	t.Helper()
	hs := s.WaitFor(t, 10*time.Second, what, func(hs []*telemetry.Health) bool {
		return len(hs) > 0 && hs[len(hs)-1].Time.After(mark)
	})
	return hs[len(hs)-1]
}

// TestHealthPublished: a gateway publishes its health every interval on
// its health topic, with the numbers of /healthz; never through the spool;
// none while the broker is away (each tick counted dropped), and again
// once it is back, with the reconnect counted.
func TestHealthPublished(t *testing.T) {
	if testing.Short() {
		t.Skip("stops and restarts a broker")
	}
	broker := testenv.StartMosquittoPersistent(t)
	hsub := edgetest.SubscribeHealth(t, broker.Addr, "sub-health")
	sub := edgetest.Subscribe(t, broker.Addr, "sub-health-events")
	runner, p := emulatetest.Start(t, "em4100")
	cfg := testConfig(t, "tcp://"+broker.Addr, fmt.Sprintf(`readers:
  - name: dock
    protocol: em4100
    device: %s
    depart_after: 150ms
`, p.Path))
	if cfg.Health.Every != config.DefaultHealthInterval {
		t.Fatalf("health interval %v, want the default %v", cfg.Health.Every, config.DefaultHealthInterval)
	}
	cfg.Health.Every = 100 * time.Millisecond // below what the config accepts, to keep the test short
	g, _ := runGateway(t, cfg)

	hsub.WaitFor(t, 10*time.Second, "a health message with the reader connected", func(hs []*telemetry.Health) bool {
		return len(hs) > 0 && hs[len(hs)-1].ReadersConnected == 1
	})
	tag := func(i int) []byte { return []byte{0x20, byte(i >> 24), byte(i >> 16), byte(i >> 8), byte(i)} }
	field := stepField(g, runner, 0, tag)
	waitUntil(t, 30*time.Second, "10 arrivals spooled", func() bool { return spooled(g, "dock", telemetry.TagArrived) >= 10 })
	n := field.Stop(t)
	waitUntil(t, 30*time.Second, "every tag departed and every event acknowledged", func() bool {
		return len(g.Health().Readers[0].Present) == 0 &&
			spooled(g, "dock", telemetry.TagDeparted) == spooled(g, "dock", telemetry.TagArrived) &&
			g.spool.Stats().Records == 0
	})
	quiet := g.spool.Stats()
	mark := time.Now()
	h := healthAfter(t, hsub, mark, "a health message after the events were acknowledged")
	gh := g.Health()
	if h.Gateway != "gw-test" || h.Version != buildinfo.String() || h.ReadersTotal != 1 || h.ReadersConnected != 1 ||
		h.SpoolRecords != uint64(gh.Spool.Records) || h.SpoolBytes != uint64(gh.Spool.Bytes) || h.SpoolRecords != 0 ||
		h.BrokerReconnects != gh.MQTT.Reconnects || h.BrokerReconnects != 0 || len(h.Lost) != 0 ||
		h.UptimeS <= 0 || h.UptimeS > gh.Uptime {
		t.Fatalf("health after %d tags: %+v; /healthz: %+v", n, h, gh)
	}
	if _, topics := hsub.Health(); topics[len(topics)-1] != telemetry.HealthTopic("gw-test") {
		t.Fatalf("health on topic %s", topics[len(topics)-1])
	}
	// Health messages never take a sequence number: the spool holds events
	// only, and the event subscriber received nothing else.
	if events := spooled(g, "dock", telemetry.TagArrived) + spooled(g, "dock", telemetry.TagDeparted); quiet.Appended != uint64(events) {
		t.Fatalf("spool appended %d records for %v events", quiet.Appended, events)
	}
	sub.WaitFor(t, 10*time.Second, "every event delivered", func(es []*telemetry.Event) bool {
		return edgetest.Accounted(es) >= quiet.LastSeq
	})
	if bad := sub.Bad(); len(bad) != 0 {
		t.Fatalf("event subscriber received: %v", bad)
	}
	edgetest.Report(t, sub.Events())

	broker.Stop()
	waitUntil(t, 30*time.Second, "the gateway sees the broker gone", func() bool { return !g.pub.Stats().Connected })
	down := g.pub.Stats()
	waitUntil(t, 10*time.Second, "three health ticks while the broker is away", func() bool {
		return g.pub.Stats().SnapshotsDropped >= down.SnapshotsDropped+3
	})
	during := g.pub.Stats()
	if during.Snapshots != down.Snapshots {
		t.Fatalf("%d health messages published while the broker was away", during.Snapshots-down.Snapshots)
	}
	if gh := g.Health(); gh.MQTT.HealthDropped < during.SnapshotsDropped || gh.MQTT.HealthSent != during.Snapshots {
		t.Fatalf("/healthz mqtt: %+v, publisher: %+v", gh.MQTT, during)
	}
	if st := g.spool.Stats(); st.Appended != quiet.Appended {
		t.Fatalf("spool appended %d records while the broker was away with no tag in the field", st.Appended-quiet.Appended)
	}

	broker.Restart(t)
	mark = time.Now()
	h = healthAfter(t, hsub, mark, "a health message after the broker came back")
	if h.BrokerReconnects != 1 || h.BrokerReconnects != g.Health().MQTT.Reconnects || h.SpoolRecords != 0 {
		t.Fatalf("health after the broker came back: %+v", h)
	}
	if st := g.pub.Stats(); st.Snapshots <= during.Snapshots {
		t.Fatalf("publisher counted %d health messages after the broker came back", st.Snapshots-during.Snapshots)
	}
	if bad := hsub.Bad(); len(bad) != 0 {
		t.Fatalf("health messages that do not decode: %v", bad)
	}
}

// TestHealthLossCounts: the health message counts the events lost by this
// process, per reason, as /healthz does over the spool's life; a restart
// on the same spool starts again from none while /healthz keeps them.
func TestHealthLossCounts(t *testing.T) {
	if testing.Short() {
		t.Skip("stops and restarts a broker")
	}
	broker := testenv.StartMosquittoPersistent(t)
	hsub := edgetest.SubscribeHealth(t, broker.Addr, "sub-health-lost")
	broker.Stop()
	cfg := testConfig(t, "tcp://"+broker.Addr, `readers:
  - name: bulk
    protocol: magicrf
    device: /nonexistent/ttyUSB9
    depart_after: 1h
`)
	cfg.Spool.MaxRecords, cfg.Spool.Overflow = 100, "reject-new"
	cfg.Health.Every = 100 * time.Millisecond
	g, stop := runGateway(t, cfg)
	r := g.readers[0]
	const n = 130
	for i := 1; i <= n; i++ {
		g.onRead(r, rfid.Read{Tag: []byte{0x30, 0, 0, byte(i)}, Antenna: 1})
	}
	waitUntil(t, 10*time.Second, "130 events handed to the spool", func() bool { return g.spool.Stats().LastSeq >= n })
	lost := g.Health().Spool.Lost[telemetry.LostRejectNew]
	if lost < 30 {
		t.Fatalf("%d events lost into a spool of 100", lost)
	}
	broker.Restart(t)
	h := healthAfter(t, hsub, time.Now(), "a health message once the broker is back")
	if h.Lost[telemetry.LostRejectNew] != lost || len(h.Lost) != 1 || h.ReadersConnected != 0 || h.ReadersTotal != 1 {
		t.Fatalf("health: %+v; lost %d reject-new", h, lost)
	}
	waitUntil(t, 30*time.Second, "the spool drained", func() bool { return g.spool.Stats().Records == 0 })
	stop()

	g2, _ := runGateway(t, cfg)
	h = healthAfter(t, hsub, time.Now(), "a health message of the second run")
	// The first run lost more at its stop (its 130 tags departed into a
	// spool of 100): /healthz counts over the spool's life.
	if len(h.Lost) != 0 || g2.Health().Spool.Lost[telemetry.LostRejectNew] < lost {
		t.Fatalf("second run: health lost %v, /healthz %v", h.Lost, g2.Health().Spool.Lost)
	}
}
