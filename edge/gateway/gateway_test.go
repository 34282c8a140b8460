package gateway

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ngic/ngic/drivers/rfid"
	_ "github.com/ngic/ngic/drivers/rfid/all"
	"github.com/ngic/ngic/drivers/rfid/emulate/emulatetest"
	"github.com/ngic/ngic/edge/config"
	"github.com/ngic/ngic/edge/internal/edgetest"
	"github.com/ngic/ngic/internal/spool"
	"github.com/ngic/ngic/internal/testenv"
	"github.com/ngic/ngic/telemetry"
)

func testConfig(t testing.TB, broker, extra string) *config.Config {
	t.Helper()
	y := fmt.Sprintf(`gateway: gw-test
spool:
  path: %s
mqtt:
  broker: %s
  min_backoff: 100ms
  max_backoff: 1s
http:
  listen: 127.0.0.1:0
%s`, filepath.Join(t.TempDir(), "spool.db"), broker, extra)
	c, err := config.Parse("test.yaml", []byte(y))
	if err != nil {
		t.Fatalf("config: %v\n%s", err, y)
	}
	return c
}

func runGateway(t testing.TB, cfg *config.Config) (*Gateway, func()) {
	t.Helper()
	g, err := New(cfg, Opts{})
	if err != nil {
		t.Fatal(err)
	}
	return runGatewayG(t, g)
}

func runGatewayG(t testing.TB, g *Gateway) (*Gateway, func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- g.Run(ctx) }()
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("gateway run: %v", err)
			}
		case <-time.After(15 * time.Second):
			t.Fatal("gateway did not stop within 15s")
		}
	}
	t.Cleanup(stop)
	return g, stop
}

func TestEndToEndEM4100(t *testing.T) {
	broker := testenv.StartMosquitto(t)
	sub := edgetest.Subscribe(t, broker.Addr, "sub-e2e")
	card := []byte{0x0A, 0x00, 0xC0, 0xFF, 0xEE}
	runner, p := emulatetest.Start(t, "em4100", card)
	cfg := testConfig(t, "tcp://"+broker.Addr, fmt.Sprintf(`readers:
  - name: door-reader
    protocol: em4100
    device: %s
    depart_after: 300ms
`, p.Path))
	g, stop := runGateway(t, cfg)

	sub.WaitFor(t, 10*time.Second, "arrival of the card", func(es []*telemetry.Event) bool {
		return len(es) >= 1
	})
	deadline := time.Now().Add(10 * time.Second)
	for g.Health().Readers[0].Reads < 3 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	runner.SetTags(nil) // the card leaves the field
	sub.WaitFor(t, 10*time.Second, "departure of the card", func(es []*telemetry.Event) bool {
		return len(es) >= 2
	})
	es := sub.Events()
	a, d := es[0], es[1]
	if a.Type != telemetry.TagArrived || a.Tag.ID != "0A00C0FFEE" || a.Source != "door-reader" || a.Gateway != "gw-test" || a.Tag.Protocol != "em4100" {
		t.Fatalf("arrival: %+v %+v", a, a.Tag)
	}
	if d.Type != telemetry.TagDeparted || d.Tag.ID != "0A00C0FFEE" || d.Tag.Reads < 3 || d.Seq != a.Seq+1 {
		t.Fatalf("departure: %+v %+v", d, d.Tag)
	}
	if a.ID == d.ID {
		t.Fatal("two events share an id")
	}

	// Health and metrics tell the same story.
	h := getJSON[Health](t, "http://"+g.HTTPAddr()+"/healthz")
	if h.Status != "ok" || !h.MQTT.Connected || len(h.Readers) != 1 || !h.Readers[0].Connected || h.Readers[0].Reads < 2 {
		t.Fatalf("healthz: %+v", h)
	}
	// The departure's PUBACK and its deletion from the spool may trail the
	// subscriber's receipt by a moment.
	var m string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if m = get(t, "http://"+g.HTTPAddr()+"/metrics"); strings.Contains(m, "ngic_edge_spool_records 0") {
			break
		}
	}
	for _, want := range []string{
		`ngic_edge_reader_connected{device="` + p.Path + `",protocol="em4100",reader="door-reader"} 1`,
		`ngic_edge_events_total{source="door-reader",type="tag.arrived"} 1`,
		`ngic_edge_mqtt_connected 1`,
		`ngic_edge_spool_records 0`,
		`ngic_edge_publish_latency_seconds_count`,
	} {
		if !strings.Contains(m, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}

	// Birth on connect, retained "offline" on a clean stop.
	stop()
	deadline = time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		st := sub.Statuses()
		if len(st) >= 2 && st[len(st)-1].State == telemetry.StateOffline {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	st := sub.Statuses()
	if len(st) < 2 || st[0].State != telemetry.StateOnline || st[0].Readers[0].Protocol != "em4100" || st[len(st)-1].State != telemetry.StateOffline {
		t.Fatalf("statuses: %+v", st)
	}
	if bad := sub.Bad(); len(bad) > 0 {
		t.Fatalf("undecodable messages: %v", bad)
	}
}

// TestBrokerOutage stops the broker while tags keep moving, until 300
// events are spooled, then restarts it: every event arrives, in order, and
// every tag that went through the field arrived.
func TestBrokerOutage(t *testing.T) {
	if testing.Short() {
		t.Skip("a broker outage of 300 events; not in -short")
	}
	broker := testenv.StartMosquittoPersistent(t)
	sub := edgetest.Subscribe(t, broker.Addr, "sub-outage")
	runner, p := emulatetest.Start(t, "em4100")
	cfg := testConfig(t, "tcp://"+broker.Addr, fmt.Sprintf(`readers:
  - name: dock
    protocol: em4100
    device: %s
    depart_after: 150ms
`, p.Path))
	g, stop := runGateway(t, cfg)
	tag := func(i int) []byte { return []byte{0x10, byte(i >> 24), byte(i >> 16), byte(i >> 8), byte(i)} }
	field := stepField(g, runner, 0, tag)
	sub.WaitFor(t, 10*time.Second, "events before the outage", func(es []*telemetry.Event) bool { return len(es) >= 10 })

	broker.Stop()
	spooledBefore := g.spool.Stats().Appended
	const outage = 300 // events spooled while the broker is away
	waitUntil(t, 2*time.Minute, fmt.Sprintf("%d events spooled during the outage", outage), func() bool {
		return g.spool.Stats().Appended >= spooledBefore+outage
	})
	during := g.spool.Stats()
	if during.Records < outage {
		t.Fatalf("spool holds %d records during the outage, want at least the outage's %d events", during.Records, outage)
	}
	broker.Restart(t)
	waitUntil(t, time.Minute, "the outage's events acknowledged after the broker came back", func() bool {
		return g.spool.Stats().Deleted >= during.Appended
	})
	n := field.Stop(t)
	waitUntil(t, time.Minute, "every tag departed and every event acknowledged", func() bool {
		return len(g.Health().Readers[0].Present) == 0 &&
			spooled(g, "dock", telemetry.TagDeparted) == spooled(g, "dock", telemetry.TagArrived) &&
			g.spool.Stats().Records == 0
	})
	stop()
	total := g.spool.Stats()
	if total.Records != 0 {
		t.Fatalf("%d events still spooled after the broker came back", total.Records)
	}
	want := total.Appended
	sub.WaitFor(t, 20*time.Second, fmt.Sprintf("all %d events", want), func(es []*telemetry.Event) bool {
		seen := map[uint64]bool{}
		for _, e := range es {
			seen[e.Seq] = true
		}
		return uint64(len(seen)) >= want
	})
	distinct, dups := edgetest.Report(t, sub.Events())
	if uint64(len(distinct)) != want {
		t.Fatalf("received %d distinct events, spooled %d", len(distinct), want)
	}
	arrived := map[string]bool{}
	for _, e := range distinct {
		if e.Type == telemetry.TagArrived {
			arrived[e.Tag.ID] = true
		}
	}
	for i := 1; i <= n; i++ {
		if id := fmt.Sprintf("%X", tag(i)); !arrived[id] {
			t.Errorf("tag %d (%s) went through the field, no arrival received", i, id)
		}
	}
	if len(arrived) != n {
		t.Fatalf("%d tags went through the field, %d distinct arrivals received", n, len(arrived))
	}
	t.Logf("outage: %d tags, %d events, %d spooled during the outage, %d duplicate deliveries",
		n, want, during.Appended-spooledBefore, dups)
}

func TestSpoolKeepsEventsWithoutBroker(t *testing.T) {
	// A broker address where nothing listens: events stay spooled, and a
	// later gateway on the same spool publishes them.
	dead := fmt.Sprintf("tcp://127.0.0.1:%d", testenv.FreePort(t))
	runner, p := emulatetest.Start(t, "em4100", []byte{1, 2, 3, 4, 5})
	cfg := testConfig(t, dead, fmt.Sprintf("readers:\n  - name: r1\n    protocol: em4100\n    device: %s\n    depart_after: 100ms\n", p.Path))
	g, stop := runGateway(t, cfg)
	deadline := time.Now().Add(10 * time.Second)
	for g.spool.Stats().Records < 1 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	runner.SetTags(nil)
	for g.spool.Stats().Records < 2 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	h := g.Health()
	if h.Status != "degraded" || h.MQTT.Connected || h.Spool.Records < 2 {
		t.Fatalf("health without a broker: %+v", h)
	}
	stop()

	sp, err := spool.Open(cfg.Spool.Path, spool.Options{})
	if err != nil {
		t.Fatal(err)
	}
	recs, err := sp.Next(0, 10)
	sp.Close()
	if err != nil || len(recs) != 2 {
		t.Fatalf("spooled records after stop: %d, %v", len(recs), err)
	}
	for _, r := range recs {
		m, err := decodeRecord(r)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := telemetry.DecodeEvent(m.Payload); err != nil {
			t.Fatalf("spooled event does not decode: %v", err)
		}
	}

	broker := testenv.StartMosquitto(t)
	sub := edgetest.Subscribe(t, broker.Addr, "sub-later")
	cfg2 := *cfg
	cfg2.Readers = nil
	cfg2.MQTT.Broker = "tcp://" + broker.Addr
	_, stop2 := runGateway(t, &cfg2)
	sub.WaitFor(t, 10*time.Second, "the two spooled events", func(es []*telemetry.Event) bool { return len(es) >= 2 })
	stop2()
	es := sub.Events()
	if es[0].Seq != 1 || es[1].Seq != 2 || es[0].Type != telemetry.TagArrived || es[1].Type != telemetry.TagDeparted {
		t.Fatalf("replayed events: %+v %+v", es[0], es[1])
	}
}

func get(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %s", url, resp.Status)
	}
	return string(b)
}

func getJSON[T any](t *testing.T, url string) T {
	t.Helper()
	var v T
	if err := json.Unmarshal([]byte(get(t, url)), &v); err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	return v
}

func FuzzDecodeRecord(f *testing.F) {
	f.Add(encodeRecord("ngic/v1/gw/g/event/s", []byte(`{"v":1}`)))
	f.Add([]byte("\x00{}"))
	f.Add([]byte("ngic/v1/gw/g/status\x00{}"))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := decodeRecord(spool.Record{Seq: 1, Data: b})
		if err != nil {
			return
		}
		if _, kind, _, err := telemetry.ParseTopic(m.Topic); err != nil || kind != "event" {
			t.Fatalf("accepted topic %q", m.Topic)
		}
		if !strings.HasPrefix(string(m.Payload), `{"seq":1`) {
			t.Fatalf("payload without seq: %s", m.Payload)
		}
	})
}

// TestOverflowLossReported: with the broker away and the spool at its
// bound, events refused (reject-new) or dropped (drop-oldest) leave a gap
// in seq and an events.lost event that explains it: the far end counts
// every event produced as delivered or lost. Before, reject-new refused 30
// events without a trace (seq 1..163 without a gap).
func TestOverflowLossReported(t *testing.T) {
	if testing.Short() {
		t.Skip("stops and restarts a broker")
	}
	for _, tc := range []struct{ policy, reason string }{
		{"reject-new", telemetry.LostRejectNew},
		{"drop-oldest", telemetry.LostDropOldest},
	} {
		t.Run(tc.policy, func(t *testing.T) {
			broker := testenv.StartMosquittoPersistent(t)
			sub := edgetest.Subscribe(t, broker.Addr, "sub-"+tc.policy)
			broker.Stop()
			cfg := testConfig(t, "tcp://"+broker.Addr, `readers:
  - name: bulk
    protocol: magicrf
    device: /nonexistent/ttyUSB9
    depart_after: 1h
`)
			cfg.Spool.MaxRecords, cfg.Spool.Overflow = 100, tc.policy
			g, stop := runGateway(t, cfg)
			r := g.readers[0]
			const n = 130
			for i := 1; i <= n; i++ {
				g.onRead(r, rfid.Read{Tag: []byte{0x30, 0, 0, byte(i)}, Antenna: 1})
			}
			waitUntil(t, 10*time.Second, "130 events handed to the spool", func() bool { return g.spool.Stats().LastSeq >= n })
			h := g.Health()
			if h.Spool.Lost[tc.reason] < 30 {
				t.Fatalf("health after 130 events into a spool of 100: %+v", h.Spool)
			}
			m := get(t, "http://"+g.HTTPAddr()+"/metrics")
			if !strings.Contains(m, fmt.Sprintf(`ngic_edge_events_lost_total{reason=%q}`, tc.reason)) {
				t.Fatalf("/metrics lacks ngic_edge_events_lost_total{reason=%q}", tc.reason)
			}
			broker.Restart(t)
			waitUntil(t, 30*time.Second, "the spool drained and its losses reported", func() bool {
				st := g.spool.Stats()
				return st.Records == 0 && st.Unreported == 0
			})
			stop() // the 130 tags depart
			last := g.spool.Stats().LastSeq
			t.Cleanup(func() {
				if t.Failed() {
					t.Logf("spool at the stop: %+v; lost received: %v", g.spool.Stats(), edgetest.Lost(sub.Events()))
				}
			})
			sub.WaitFor(t, 20*time.Second, "every number delivered or reported lost", func(es []*telemetry.Event) bool {
				return edgetest.Accounted(es) >= last
			})
			distinct, _ := edgetest.Report(t, sub.Events())
			lost := edgetest.Lost(distinct)
			var data uint64
			for _, e := range distinct {
				if e.Type != telemetry.EventsLost {
					data++
				}
			}
			if data+lost[tc.reason] != 2*n || lost[tc.reason] < 30 || len(lost) != 1 {
				t.Fatalf("%d events produced: %d delivered, events.lost %v", 2*n, data, lost)
			}
		})
	}
}

// TestEmptySpoolFileStarts: a 0-byte spool file is a new spool (before,
// it was rewritten, refused, and the gateway never started); a damaged
// one is moved aside, named in /healthz, and a new spool numbers its
// events above any the damaged one can have used.
func TestEmptySpoolFileStarts(t *testing.T) {
	dead := fmt.Sprintf("tcp://127.0.0.1:%d", testenv.FreePort(t))
	cfg := testConfig(t, dead, "")
	if err := os.WriteFile(cfg.Spool.Path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for round := 0; round < 2; round++ {
		g, err := New(cfg, Opts{})
		if err != nil {
			t.Fatalf("round %d: New with a 0-byte spool file: %v", round, err)
		}
		if st := g.spool.Stats(); st.LastSeq != 0 || g.movedAside != "" {
			t.Fatalf("round %d: %+v, moved aside %q", round, st, g.movedAside)
		}
		g.spool.Close()
	}

	junk := []byte(strings.Repeat("damaged ", 2000))
	if err := os.WriteFile(cfg.Spool.Path, junk, 0o600); err != nil {
		t.Fatal(err)
	}
	g, err := New(cfg, Opts{})
	if err != nil {
		t.Fatalf("New with a damaged spool: %v", err)
	}
	defer g.spool.Close()
	h := g.Health()
	if !strings.HasPrefix(h.Spool.MovedAside, cfg.Spool.Path+".damaged-") || h.Status != "degraded" {
		t.Fatalf("health after moving the damaged spool aside: %+v", h)
	}
	if b, err := os.ReadFile(h.Spool.MovedAside); err != nil || string(b) != string(junk) {
		t.Fatalf("the damaged file was not kept as it was: %v", err)
	}
	if st := g.spool.Stats(); st.LastSeq < 1_000_000_000 {
		t.Fatalf("new spool after a damaged one starts at seq %d, below the floor", st.LastSeq)
	}
}

// TestPresenceRestored: after a run that did not end cleanly (its spool
// says "running" and holds a present set), the birth says presence_reset,
// a tag still in the field is announced again without waiting, and one
// that left departs once the reader runs and its departure time passed.
// Before, such tags never departed.
func TestPresenceRestored(t *testing.T) {
	broker := testenv.StartMosquitto(t)
	sub := edgetest.Subscribe(t, broker.Addr, "sub-restore")
	stay, gone := []byte{0x0A, 0, 0, 0, 1}, []byte{0x0A, 0, 0, 0, 2}
	_, p := emulatetest.Start(t, "em4100", stay)
	cfg := testConfig(t, "tcp://"+broker.Addr, fmt.Sprintf(`readers:
  - name: door
    protocol: em4100
    device: %s
    depart_after: 300ms
`, p.Path))
	// The spool a killed gateway leaves: two arrivals stored, still running.
	g0, err := New(cfg, Opts{})
	if err != nil {
		t.Fatal(err)
	}
	before := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var evs []spool.Event
	for _, tag := range [][]byte{stay, gone} {
		e := telemetry.Event{V: 1, ID: "id-" + fmt.Sprint(tag[4]), Gateway: cfg.Gateway, Source: "door",
			Type: telemetry.TagArrived, Time: before, Tag: &telemetry.Tag{ID: fmt.Sprintf("%X", tag), Protocol: "em4100",
				FirstSeen: before, LastSeen: before}}
		rec, err := g0.spoolEvent(&e)
		if err != nil {
			t.Fatal(err)
		}
		evs = append(evs, rec)
	}
	if _, err := g0.spool.AppendEvents(evs...); err != nil {
		t.Fatal(err)
	}
	if err := g0.spool.SetState(spool.KV{Key: []byte(keyRun), Value: []byte(runRunning)}); err != nil {
		t.Fatal(err)
	}
	g0.spool.Close()

	g, stop := runGatewayG(t, mustNew(t, cfg))
	if !g.Health().PresenceReset {
		t.Fatal("healthz does not say presence_reset after an unclean end")
	}
	sub.WaitFor(t, 15*time.Second, "the departure of the tag that left and the new arrival of the one that stayed",
		func(es []*telemetry.Event) bool {
			var dep, arr bool
			for _, e := range es {
				dep = dep || e.Type == telemetry.TagDeparted && e.Tag.ID == "0A00000002"
				arr = arr || e.Type == telemetry.TagArrived && e.Tag.ID == "0A00000001" && e.Seq > 2
			}
			return dep && arr
		})
	for _, e := range sub.Events() {
		if e.Type == telemetry.TagDeparted && e.Tag.ID == "0A00000001" {
			t.Fatalf("the tag still in the field departed: %+v", e)
		}
		if e.Type == telemetry.TagArrived && e.Tag.ID == "0A00000001" && e.Seq > 2 && !e.Tag.FirstSeen.Equal(before) {
			t.Fatalf("re-announced arrival with first_seen %v, want the first arrival's %v", e.Tag.FirstSeen, before)
		}
	}
	st := sub.Statuses()
	if len(st) == 0 || !st[0].PresenceReset {
		t.Fatalf("first birth after an unclean end: %+v, want presence_reset", st)
	}
	stop()
	// A clean stop departs the rest and leaves nothing to restore.
	g2 := mustNew(t, cfg)
	defer g2.spool.Close()
	if g2.presenceReset || g2.Health().PresenceReset {
		t.Fatal("presence_reset after a clean stop")
	}
	distinct, _ := edgetest.Report(t, sub.Events())
	if left := edgetest.Presence(distinct); len(left) != 0 {
		t.Fatalf("tags still present at the far end after a clean stop: %v", left)
	}
}

func mustNew(t *testing.T, cfg *config.Config) *Gateway {
	t.Helper()
	g, err := New(cfg, Opts{})
	if err != nil {
		t.Fatal(err)
	}
	return g
}
