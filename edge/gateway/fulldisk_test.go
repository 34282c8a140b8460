package gateway

import (
	"encoding/binary"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ngic/ngic/drivers/rfid"
	"github.com/ngic/ngic/edge/internal/edgetest"
	"github.com/ngic/ngic/internal/spool"
	"github.com/ngic/ngic/internal/testenv"
	"github.com/ngic/ngic/telemetry"
)

// waitUntil polls cond until it holds or fails t after timeout.
func waitUntil(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(timeout); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %s", timeout, what)
		}
	}
}

// TestFullDiskThenRecovery fills the disk holding the spool while the
// broker is down, and goes on producing past what the gateway may hold in
// memory: the readers never wait, the gateway reports the full disk and
// the loss in /healthz and /metrics, corrupts nothing, and when the broker
// returns the held events are stored and delivered and an events.lost
// event accounts for every event that was not: published events plus
// events.lost counts equal the events produced.
func TestFullDiskThenRecovery(t *testing.T) {
	if testing.Short() {
		t.Skip("fills a disk; not in -short")
	}
	disk := testenv.SmallDisk(t, "1m")
	broker := testenv.StartMosquittoPersistent(t)
	sub := edgetest.Subscribe(t, broker.Addr, "sub-fulldisk")
	broker.Stop()

	cfg := testConfig(t, "tcp://"+broker.Addr, `readers:
  - name: bulk
    protocol: magicrf
    device: /nonexistent/ttyUSB9
    depart_after: 50ms
`)
	cfg.Spool.Path = filepath.Join(disk, "spool.db")
	g, stop := runGateway(t, cfg)
	// Arrivals straight into the reader's smoothing, faster than a serial
	// reader would give them, to fill the disk in seconds; each departs
	// soon after (or at the stop), so the present set stays small.
	r := g.readers[0]
	n := 0
	arrive := func() {
		n++
		tag := make([]byte, 12)
		tag[0] = 0x30
		binary.BigEndian.PutUint32(tag[8:], uint32(n))
		g.onRead(r, rfid.Read{Tag: tag, Antenna: 1})
		if n%64 == 0 { // depart them as the expiry loop would, keeping the present set small
			now := time.Now()
			for _, p := range r.smooth.Expire(now.Add(time.Hour)) {
				g.emit(g.tagEvent(r, p, telemetry.TagDeparted, now))
			}
		}
	}
	for deadline := time.Now().Add(60 * time.Second); !strings.Contains(g.Health().Spool.LastError, "no space"); {
		if time.Now().After(deadline) {
			t.Fatalf("disk never reported full: %+v", g.Health().Spool)
		}
		arrive()
	}
	// As many again as the gateway may hold, and more: these are lost.
	for i := 0; i < spool.DefaultMaxHeld+1000; i++ {
		arrive()
	}
	waitUntil(t, 30*time.Second, "the spooler taking every arrival", func() bool {
		return g.spool.Stats().LastSeq >= uint64(n)
	})
	h := g.Health()
	// Held is at most MaxHeld, and some are lost: how many depends on how
	// many held events the spooler's retries stored meanwhile (the disk
	// has a few pages free at times, more so on a loaded machine where
	// the retries outpace the arrivals); the accounting below is exact.
	if h.Status != "degraded" || h.Spool.Held == 0 || h.Spool.Held > spool.DefaultMaxHeld ||
		h.Spool.Lost[telemetry.LostDiskFull] == 0 || h.Spool.LostUnreported == 0 {
		t.Fatalf("health on a full disk: %+v", h.Spool)
	}
	if m := get(t, "http://"+g.HTTPAddr()+"/metrics"); !strings.Contains(m, `ngic_edge_events_lost_total{reason="disk-full"}`) ||
		!strings.Contains(m, "ngic_edge_spool_held ") || strings.Contains(m, "ngic_edge_spool_held 0\n") {
		t.Fatalf("/metrics lacks the loss or the held events")
	}

	broker.Restart(t)
	waitUntil(t, 60*time.Second, "the spool recovering and reporting its loss", func() bool {
		h := g.Health()
		return h.Spool.LastError == "" && h.Spool.Held == 0 && h.Spool.LostUnreported == 0 && g.spool.Stats().Records == 0
	})
	stop()
	produced := uint64(2 * n) // each arrival, and its departure when the gateway stops
	sub.WaitFor(t, 30*time.Second, "every number delivered or reported lost", func(es []*telemetry.Event) bool {
		return edgetest.Accounted(es) >= g.spool.Stats().LastSeq
	})
	distinct, _ := edgetest.Report(t, sub.Events())
	lost := edgetest.Lost(distinct)
	var data uint64
	for _, e := range distinct {
		if e.Type != telemetry.EventsLost {
			data++
		}
	}
	if data+lost[telemetry.LostDiskFull] != produced || lost[telemetry.LostDiskFull] == 0 || len(lost) != 1 {
		t.Fatalf("%d events produced: %d delivered, events.lost counts %v", produced, data, lost)
	}
	t.Logf("%d events produced: %d delivered, %d reported lost to the full disk", produced, data, lost[telemetry.LostDiskFull])
}
