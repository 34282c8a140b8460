package gateway

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"encoding/binary"

	"github.com/ngic/ngic/drivers/rfid"
	"github.com/ngic/ngic/edge/internal/edgetest"
	"github.com/ngic/ngic/internal/testenv"
	"github.com/ngic/ngic/telemetry"
)

// TestFullDiskThenRecovery fills the disk holding the spool while the
// broker is down: the gateway holds what it cannot spool, reports it, and
// corrupts nothing; when the broker returns, the spool drains, appending
// resumes, and every spooled event is delivered without a gap.
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
    depart_after: 1h
`)
	cfg.Spool.Path = filepath.Join(disk, "spool.db")
	g, stop := runGateway(t, cfg)
	// A stream of arrivals straight into the reader's smoothing, faster than
	// a serial reader would give them, to fill the disk in seconds.
	r := g.readers[0]
	quit := make(chan struct{})
	produced := make(chan int, 1)
	go func() {
		n := 0
		tag := make([]byte, 12)
		tag[0] = 0x30
		for {
			select {
			case <-quit:
				produced <- n
				return
			default:
			}
			n++
			binary.BigEndian.PutUint32(tag[8:], uint32(n))
			g.onRead(r, rfid.Read{Tag: tag, Antenna: 1})
		}
	}()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if strings.Contains(g.Health().Spool.LastError, "no space") {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	h := g.Health()
	if !strings.Contains(h.Spool.LastError, "no space") || h.Status != "degraded" {
		t.Fatalf("disk never reported full: %+v", h.Spool)
	}
	full := g.spool.Stats()
	time.Sleep(time.Second) // the producer is blocked, nothing lost meanwhile
	close(quit)             // it stops after the arrival it is blocked on

	broker.Restart(t)
	n := <-produced
	deadline = time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if g.Health().Spool.LastError == "" && g.spool.Stats().Records == 0 {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	after := g.spool.Stats()
	if g.Health().Spool.LastError != "" || after.Records != 0 {
		t.Fatalf("spool did not recover: %+v, last error %q", after, g.Health().Spool.LastError)
	}
	if after.Appended <= full.Appended {
		t.Fatalf("nothing appended after the disk had room again (%d then %d)", full.Appended, after.Appended)
	}
	stop()
	final := g.spool.Stats()
	if final.Appended != 2*uint64(n) { // each arrival, and its departure when the gateway stops
		t.Fatalf("%d arrivals produced, %d events spooled, want %d", n, final.Appended, 2*n)
	}
	sub.WaitFor(t, 30*time.Second, fmt.Sprintf("all %d events", final.Appended), func(es []*telemetry.Event) bool {
		seen := map[uint64]bool{}
		for _, e := range es {
			seen[e.Seq] = true
		}
		return uint64(len(seen)) >= final.Appended
	})
	distinct, _ := edgetest.Report(t, sub.Events())
	if uint64(len(distinct)) != final.Appended || final.Dropped != 0 {
		t.Fatalf("delivered %d of %d spooled; dropped %d", len(distinct), final.Appended, final.Dropped)
	}
	t.Logf("disk full after %d events; %d spooled in all, all delivered", full.Appended, final.Appended)
}
