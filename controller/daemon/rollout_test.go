package daemon_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/ngic/ngic/controller/rollout"
	"github.com/ngic/ngic/controller/rollout/rollouttest"
	"github.com/ngic/ngic/internal/testenv"
	"github.com/ngic/ngic/telemetry"
)

// rolloutFleet starts mosquitto, a controller over a setup of n gateways,
// and the simulated gateways (each downloading the bundle), outcome
// deciding their updates; it waits until the controller knows every
// gateway's version.
func rolloutFleet(t *testing.T, n int, outcome func(gw string) rollouttest.Outcome) (*rollouttest.Setup, map[string]*rollouttest.Gateway, *testenv.Mosquitto) {
	t.Helper()
	mq := testenv.StartMosquitto(t)
	s := rollouttest.WriteSetup(t, t.TempDir(), mq.Addr, fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t)), n)
	startDaemon(t, s.Config)
	gws := map[string]*rollouttest.Gateway{}
	for _, name := range append(append([]string{}, s.Gateways...), rollouttest.OtherGateway) {
		g := rollouttest.StartGateway(t, mq.Addr, name, rollouttest.OldVersion, outcome(name))
		g.Download = true
		gws[name] = g
	}
	s.WaitVersions(t, n+1)
	return s, gws, mq
}

// getRollout returns the rollout id through the API.
func getRollout(t *testing.T, s *rollouttest.Setup, id string) *rollout.Rollout {
	t.Helper()
	var r rollout.Rollout
	if st := s.API(t, "GET", "/api/v1/rollouts/"+id, nil, &r); st != http.StatusOK {
		t.Fatalf("GET rollout: %d", st)
	}
	return &r
}

// A healthy rollout to the 20 gateways of a region goes in waves and
// completes; a gateway offline when its command is published finds it
// when it comes back, and its wave waits for it. The gateway of another
// region is left alone.
func TestRolloutHealthyWithGatewayOffline(t *testing.T) {
	s, gws, _ := rolloutFleet(t, 20, func(string) rollouttest.Outcome { return rollouttest.Succeed })
	offline := gws["gw-05"] // in wave 3 (gw-03..gw-06)
	offline.Disconnect()
	var r rollout.Rollout
	if st := s.API(t, "POST", "/api/v1/rollouts", map[string]any{"bundle": rollouttest.Bundle,
		"region": rollouttest.RegionA}, &r); st != http.StatusCreated {
		t.Fatalf("start: %d", st)
	}
	if len(r.Gateways) != 20 || len(r.Waves) != 5 {
		t.Fatalf("rollout of %d gateways in %d waves", len(r.Gateways), len(r.Waves))
	}
	waitFor(t, "wave 3 to start, and every gateway of it but gw-05 to update", func() bool {
		cur := getRollout(t, s, r.ID)
		return cur.Wave == 2 && cur.Waves[2].Updated == 3 && cur.Waves[2].Pending == 1
	})
	// Its wave waits for it: no command of wave 4 is published meanwhile.
	if cmds := gws["gw-07"].Commands(); len(cmds) != 0 || getRollout(t, s, r.ID).Wave != 2 {
		t.Fatalf("wave 4 started while gw-05 of wave 3 was offline: %v", cmds)
	}
	offline.Connect()
	waitFor(t, "the rollout to complete", func() bool { return getRollout(t, s, r.ID).State == rollout.StateCompleted })
	final := getRollout(t, s, r.ID)
	for i := 1; i < len(final.Waves); i++ {
		if prev, w := final.Waves[i-1], final.Waves[i]; w.Started.Before(prev.Ended) || prev.Ended.IsZero() || w.Updated != w.Size {
			t.Errorf("wave %d %+v after wave %d %+v", i+1, w, i, prev)
		}
	}
	for _, g := range final.Gateways {
		if g.State != rollout.GatewayUpdated || gws[g.Name].Version() != rollouttest.BundleVersion {
			t.Errorf("%s: %s, runs %s", g.Name, g.State, gws[g.Name].Version())
		}
	}
	if n := len(gws[rollouttest.OtherGateway].Commands()); n != 0 {
		t.Errorf("the gateway of another region got %d commands", n)
	}
	// The metrics say so.
	resp, err := http.Get("http://" + s.HTTP + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{`ngic_controller_rollouts{state="completed"} 1`, `ngic_controller_rollout_gateways{state="updated"} 20`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

// The canary rolls back: the rollout halts before the second wave, and
// no gateway of the second wave gets a command (the broker holds none
// for them).
func TestRolloutCanaryFailsHalts(t *testing.T) {
	s, gws, mq := rolloutFleet(t, 20, func(gw string) rollouttest.Outcome {
		if gw == "gw-00" {
			return rollouttest.RollBack
		}
		return rollouttest.Succeed
	})
	var r rollout.Rollout
	if st := s.API(t, "POST", "/api/v1/rollouts", map[string]any{"bundle": rollouttest.Bundle,
		"region": rollouttest.RegionA, "canary_percent": 5}, &r); st != http.StatusCreated {
		t.Fatalf("start: %d", st)
	}
	waitFor(t, "the rollout to halt", func() bool { return getRollout(t, s, r.ID).State == rollout.StateHalted })
	h := getRollout(t, s, r.ID)
	if !strings.Contains(h.Reason, "gw-00 (rolled-back: health check failed") || h.Wave != 0 {
		t.Fatalf("halted at wave %d: %s", h.Wave, h.Reason)
	}
	// Every retained command the broker holds: the canary's alone.
	topics := retainedCommands(t, mq)
	if len(topics) != 1 || topics[0] != telemetry.CommandTopic("gw-00", telemetry.CommandUpdate) {
		t.Fatalf("retained commands on %v, want the canary's alone", topics)
	}
	for _, name := range s.Gateways[1:] {
		if n := len(gws[name].Commands()); n != 0 {
			t.Errorf("%s got %d commands", name, n)
		}
	}
	// Abort: the halted rollout ends; the canary had acted, its command stays.
	if st := s.API(t, "POST", "/api/v1/rollouts/"+r.ID+"/abort", nil, nil); st != http.StatusOK {
		t.Fatalf("abort: %d", st)
	}
}

// In a cluster, only the replica holding the coverage lease runs
// rollouts: another forwards the rollouts' requests to it, the body and
// the caller's token with them, and says so (X-Ngic-Forwarded-To); the
// rollout made through it is the holder's.
func TestRolloutOnLeaseHolderOnly(t *testing.T) {
	mq := testenv.StartMosquitto(t)
	var setups []*rollouttest.Setup
	for i := range 2 {
		s := rollouttest.WriteSetup(t, t.TempDir(), mq.Addr, fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t)), 2)
		b, err := os.ReadFile(s.Config)
		if err != nil {
			t.Fatal(err)
		}
		cl := fmt.Sprintf("cluster:\n  enabled: true\n  shard: %d/2\n  heartbeat: 200ms\n", i)
		if err := os.WriteFile(s.Config, append(b, cl...), 0o600); err != nil {
			t.Fatal(err)
		}
		startDaemon(t, s.Config)
		setups = append(setups, s)
	}
	call := func(method, path string, body any) (*http.Response, []byte) {
		return setups[1].Do(t, method, path, body)
	}
	for _, name := range setups[0].Gateways {
		rollouttest.StartGateway(t, mq.Addr, name, rollouttest.OldVersion, rollouttest.Succeed)
	}
	setups[0].WaitVersions(t, len(setups[0].Gateways))
	waitFor(t, "replica 1 to forward to replica 0, the lease holder", func() bool {
		resp, _ := call("GET", "/api/v1/rollouts", nil)
		return resp.StatusCode == http.StatusOK && resp.Header.Get("X-Ngic-Forwarded-To") == "0"
	})
	resp, b := call("POST", "/api/v1/rollouts", map[string]string{"bundle": rollouttest.Bundle, "region": rollouttest.RegionA})
	var made rollout.Rollout
	if resp.StatusCode != http.StatusCreated || resp.Header.Get("X-Ngic-Forwarded-To") != "0" || json.Unmarshal(b, &made) != nil || made.ID == "" {
		t.Fatalf("a rollout through replica 1: %d (forwarded to %q) %s", resp.StatusCode, resp.Header.Get("X-Ngic-Forwarded-To"), b)
	}
	var held rollout.Rollout
	if st := setups[0].API(t, "GET", "/api/v1/rollouts/"+made.ID, nil, &held); st != http.StatusOK || held.ID != made.ID {
		t.Fatalf("replica 0 (the lease holder) on the rollout made through replica 1: %d %+v", st, held)
	}
	if resp, b := call("POST", "/api/v1/rollouts/"+made.ID+"/pause", struct{}{}); resp.StatusCode != http.StatusOK {
		t.Fatalf("pausing through replica 1: %d %s", resp.StatusCode, b)
	}
}

// retainedCommands returns the topics of the update commands the broker
// holds retained (withdrawn ones, empty, left out): a marker published
// after subscribing comes after them, so none is missed.
func retainedCommands(t *testing.T, mq *testenv.Mosquitto) []string {
	t.Helper()
	c := mqtt.NewClient(mqtt.NewClientOptions().AddBroker("tcp://" + mq.Addr).SetClientID("check-retained"))
	if tok := c.Connect(); !tok.WaitTimeout(20*time.Second) || tok.Error() != nil {
		t.Fatal(tok.Error())
	}
	defer c.Disconnect(100)
	got := make(chan string, 1000)
	if tok := c.Subscribe(telemetry.CommandTopic("+", telemetry.CommandUpdate), 1, func(_ mqtt.Client, m mqtt.Message) {
		if len(m.Payload()) > 0 {
			got <- m.Topic()
		}
	}); !tok.WaitTimeout(20*time.Second) || tok.Error() != nil {
		t.Fatal(tok.Error())
	}
	marker := telemetry.CommandTopic("zz-marker", telemetry.CommandUpdate)
	if tok := c.Publish(marker, 1, false, []byte("marker")); !tok.WaitTimeout(20 * time.Second) {
		t.Fatal("marker not published")
	}
	var topics []string
	for {
		select {
		case tp := <-got:
			if tp == marker {
				return topics
			}
			topics = append(topics, tp)
		case <-time.After(30 * time.Second):
			t.Fatal("the marker never came back")
		}
	}
}

// Aborting withdraws the commands no gateway acted on: the gateways of
// wave 2, offline, find none when they come back, while the canary's
// stays.
func TestRolloutAbortWithdraws(t *testing.T) {
	s, gws, mq := rolloutFleet(t, 20, func(string) rollouttest.Outcome { return rollouttest.Succeed })
	gws["gw-01"].Disconnect()
	gws["gw-02"].Disconnect()
	var r rollout.Rollout
	if st := s.API(t, "POST", "/api/v1/rollouts", map[string]any{"bundle": rollouttest.Bundle,
		"region": rollouttest.RegionA}, &r); st != http.StatusCreated {
		t.Fatalf("start: %d", st)
	}
	waitFor(t, "wave 2's commands to be published", func() bool {
		cur := getRollout(t, s, r.ID)
		return cur.Wave == 1 && cur.Gateways[1].Published && cur.Gateways[2].Published
	})
	if got := retainedCommands(t, mq); len(got) != 3 {
		t.Fatalf("retained commands %v, want the canary's and wave 2's", got)
	}
	if st := s.API(t, "POST", "/api/v1/rollouts/"+r.ID+"/abort", nil, nil); st != http.StatusOK {
		t.Fatalf("abort: %d", st)
	}
	waitFor(t, "the withdrawals to be published", func() bool {
		cur := getRollout(t, s, r.ID)
		return cur.Gateways[1].State == rollout.GatewayWithdrawn && cur.Gateways[1].Published && cur.Gateways[2].Published
	})
	if got := retainedCommands(t, mq); len(got) != 1 || got[0] != telemetry.CommandTopic("gw-00", telemetry.CommandUpdate) {
		t.Fatalf("retained commands after the abort %v, want the canary's alone", got)
	}
	gws["gw-01"].Connect()
	if got := retainedCommands(t, mq); len(got) != 1 {
		t.Fatalf("retained commands once gw-01 is back: %v", got)
	}
	if n := len(gws["gw-01"].Commands()); n != 0 || gws["gw-01"].Version() != rollouttest.OldVersion {
		t.Fatalf("gw-01 got %d commands after the abort", n)
	}
}

// A damaged rollout file is moved aside: the controller starts without
// that rollout rather than not at all.
func TestRolloutDamagedFileMovedAside(t *testing.T) {
	mq := testenv.StartMosquitto(t)
	s := rollouttest.WriteSetup(t, t.TempDir(), mq.Addr, fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t)), 2)
	dir := filepath.Join(s.StateDir, "rollouts")
	if err := os.MkdirAll(dir, 0o750); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(dir, "ro-20261130T010000Z-000000.json")
	if err := os.WriteFile(bad, []byte(`{"id":"ro-20261130T010000Z-000000","state":"runn`), 0o640); err != nil {
		t.Fatal(err)
	}
	startDaemon(t, s.Config)
	var l struct{ Items []rollout.Summary }
	if st := s.API(t, "GET", "/api/v1/rollouts", nil, &l); st != http.StatusOK || len(l.Items) != 0 {
		t.Fatalf("rollouts: %d %+v", st, l.Items)
	}
	aside, _ := filepath.Glob(bad + ".damaged-*")
	if _, err := os.Stat(bad); !os.IsNotExist(err) || len(aside) != 1 {
		t.Fatalf("the damaged file is not moved aside: %v %v", err, aside)
	}
}
