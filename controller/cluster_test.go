package main

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/ngic/ngic/controller/api/apitest"
	"github.com/ngic/ngic/controller/cluster"
	"github.com/ngic/ngic/controller/simulator/simulatortest"
	"github.com/ngic/ngic/internal/testenv"
	"github.com/ngic/ngic/telemetry"
)

// The proof of the cluster on one machine.
const (
	// clusterVillages makes a world of about 3,000 devices.
	clusterVillages = 7000
	clusterReplicas = 3
	// clusterInterval is the poll cycle.
	clusterInterval = 10 * time.Second
	// clusterWait bounds each wait: generous, for a loaded 2-core machine.
	clusterWait = 4 * time.Minute
	// clusterToken is the API's read token.
	clusterToken = "cluster-read-token-0123456789"
	// clusterAdminToken is the API's admin token, which acknowledges.
	clusterAdminToken = "cluster-admin-token-0123456789"
	// clusterRate is each gateway's events per second.
	clusterRate = 40
)

// stateWatch keeps the latest state each replica published.
type stateWatch struct {
	mu     sync.Mutex
	states map[int]*cluster.State
	bad    error
}

// watchStates subscribes to every replica's shared state.
func watchStates(t *testing.T, broker string) *stateWatch {
	w := &stateWatch{states: map[int]*cluster.State{}}
	c := connectMQTT(t, broker, "cluster-test-watch")
	tok := c.Subscribe(telemetry.ControllerStateFilter, 1, func(_ mqtt.Client, m mqtt.Message) {
		if len(m.Payload()) == 0 {
			return // a replica's barrier (cluster.Node.Barrier), or a retained state cleared
		}
		s, err := cluster.ParseState(m.Payload())
		w.mu.Lock()
		defer w.mu.Unlock()
		if err != nil {
			w.bad = err
			return
		}
		w.states[s.Ordinal] = s
	})
	if !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("subscribe: %v", tok.Error())
	}
	return w
}

// fleetView is every device as the replicas' states tell it.
type fleetView struct {
	owner map[string]int            // device → the replica whose state lists it
	dev   map[string]cluster.Device // device → its state there
	twice []string                  // devices listed by two replicas
	times map[int]time.Time         // replica → time of its state
}

// view reads the latest states of the given replicas.
func (w *stateWatch) view(t *testing.T, replicas ...int) fleetView {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.bad != nil {
		t.Fatalf("a replica's state does not decode: %v", w.bad)
	}
	v := fleetView{owner: map[string]int{}, dev: map[string]cluster.Device{}, times: map[int]time.Time{}}
	for _, r := range replicas {
		s := w.states[r]
		if s == nil {
			continue
		}
		v.times[r] = s.Time
		for _, d := range s.Devices {
			if _, ok := v.owner[d.ID]; ok {
				v.twice = append(v.twice, d.ID)
			}
			v.owner[d.ID], v.dev[d.ID] = r, d
		}
	}
	return v
}

// settled tells whether the view covers every device of ids exactly once,
// each polled since after.
func (v fleetView) settled(ids []string, after time.Time) bool {
	if len(v.twice) > 0 || len(v.owner) != len(ids) {
		return false
	}
	for _, id := range ids {
		if d, ok := v.dev[id]; !ok || !d.LastPoll.After(after) {
			return false
		}
	}
	return true
}

// metric returns the value of an unlabelled metric of /metrics (-1 when
// absent or the controller does not answer).
func (p *controllerProc) metric(name string) float64 {
	resp, err := http.Get("http://" + p.http + "/metrics")
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), name+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err == nil {
				return f
			}
		}
	}
	return -1
}

// waitLong is waitUntil with the cluster's deadline.
func waitLong(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(clusterWait)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// clusterConfig writes replica i's configuration (i < 0: a single
// controller, not clustered, on its own embedded broker).
func clusterConfig(t *testing.T, dir, inv, broker, httpAddr, hook string, i int) string {
	token := writeFile(t, dir, "token", clusterToken+"\n")
	admin := writeFile(t, dir, "admin-token", clusterAdminToken+"\n")
	mqttSection := "  broker: tcp://" + broker
	clusterSection := fmt.Sprintf("cluster:\n  enabled: true\n  shard: %d/%d\n  heartbeat: 2s\n", i, clusterReplicas)
	interval, timeout := clusterInterval, "3s"
	if i < 0 { // alone on 3,000 devices: a longer cycle, so that a loaded machine times fewer polls out
		mqttSection = fmt.Sprintf("  embedded: true\n  listen: 127.0.0.1:%d", testenv.FreePort(t))
		clusterSection, interval, timeout = "", 3*clusterInterval, "5s"
	}
	return writeFile(t, dir, "controller.yaml", fmt.Sprintf(`inventory: %s
poll:
  interval: %s
  timeout: %s
  retries: 1
mqtt:
%s
http:
  listen: %s
  tokens:
    - {name: test, file: %s, role: read}
    - {name: noc, file: %s, role: admin}
alerts:
  rules:
    - {name: door, kind: door-held}
  webhooks:
    - {url: "%s"}
state_dir: %s
%s`, inv, interval, timeout, mqttSection, httpAddr, token, admin, hook, filepath.Join(dir, "state"), clusterSection))
}

// lines reads the non-header rows of an inventory CSV, first column.
func firstColumn(t *testing.T, path string) []string {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n")[1:] {
		id, _, _ := strings.Cut(l, ",")
		out = append(out, id)
	}
	return out
}

// apiDeviceIDs lists every device the API of p shows, page by page.
func apiDeviceIDs(t *testing.T, p *controllerProc) map[string]string {
	c := &apitest.Client{T: t, Base: "http://" + p.http, Token: clusterToken}
	out := map[string]string{}
	path := "/api/v1/devices?limit=1000"
	for {
		var page struct {
			Items []struct {
				ID    string `json:"id"`
				State string `json:"state"`
			} `json:"items"`
			NextCursor *string `json:"next_cursor"`
		}
		c.GetJSON(path, &page)
		for _, d := range page.Items {
			out[d.ID] = d.State
		}
		if page.NextCursor == nil {
			return out
		}
		path = "/api/v1/devices?limit=1000&cursor=" + *page.NextCursor
	}
}

// coverageColumns are the columns of the coverage report read: what
// each village is found to have (the counts of subscribers online and the
// evidence trail, which names the time of each poll, are left out).
var coverageColumns = []string{"code", "broadband", "tier", "evidence", "down_mbps", "up_mbps", "technology", "tv",
	"tv_evidence", "digital_tv"}

// coverageClasses fetches the coverage report as CSV and returns, by
// village code, its coverageColumns (nil when there is no report yet).
func coverageClasses(t *testing.T, p *controllerProc) map[string]string {
	r := (&apitest.Client{T: t, Base: "http://" + p.http, Token: clusterToken}).Get("/api/v1/reports/coverage.csv")
	if r.Status != http.StatusOK {
		return nil
	}
	return reportClasses(t, r.Body)
}

// reportClasses reads a coverage report in CSV as coverageClasses
// returns it (nil when it has no village).
func reportClasses(t *testing.T, report []byte) map[string]string {
	rows, err := csv.NewReader(bytes.NewReader(report)).ReadAll()
	if err != nil || len(rows) < 2 {
		return nil
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[strings.TrimPrefix(h, "\ufeff")] = i
	}
	out := make(map[string]string, len(rows)-1)
	for _, r := range rows[1:] {
		var b strings.Builder
		for _, c := range coverageColumns {
			i, ok := col[c]
			if !ok {
				t.Fatalf("the coverage report has no column %s: %v", c, rows[0])
			}
			b.WriteString(c + "=" + r[i] + " ")
		}
		out[r[col["code"]]] = b.String()
	}
	return out
}

// TestClusterThreeReplicas is the proof of the scale-out on one machine:
// three controller processes share a generated world of about 3,000
// devices served by the simulator, and the events of three gateways
// through mosquitto's shared subscription.
//
//   - Every device is polled by exactly one replica (the one rendezvous
//     hashing names), once per cycle.
//   - One replica killed with SIGKILL while events flow: the others take
//     its devices within two cycles, and their APIs show every device.
//   - It comes back with the same identity: every event the gateways got
//     acknowledged is counted once over the three replicas. Mosquitto keeps
//     a dead member's share of a shared subscription, and the messages it
//     had in flight, in its persistent session (it does not hand them to
//     the other members) and delivers them when the member reconnects
//     with the same client ID; the test shows the survivors counting less
//     than was published during the outage, and nothing missing after.
//   - Only the replica holding the coverage lease (the lowest live
//     ordinal) computes coverage (ngic_coverage_computations_total stays 0
//     on the others), and every replica's API answers its result (the
//     others forward the coverage's requests to it). Killed, the next
//     lowest takes the lease over and computes; the third never does.
//   - A cabinet door held at a gateway of the holder raises one alert,
//     acknowledged on a third replica; the holder killed, the gateway's
//     next owner adopts the alert (no second raise) with the
//     acknowledgement, and resolves it when the door closes; back, the
//     killed replica lets its stale copy go. The webhooks hear of the
//     alert raised once, acknowledged once, resolved once.
//   - Each replica's coverage report covers every village, from the
//     fleet's shared state.
func TestClusterThreeReplicas(t *testing.T) {
	if testing.Short() {
		t.Skip("three controllers on a world of 3,000 devices for minutes; not in -short")
	}
	mq := testenv.StartMosquitto(t)
	dir := t.TempDir()
	port := testenv.FreeUDPPort(t)
	out, code := simulateWorld(t, "--world", strconv.Itoa(clusterVillages), "--out", filepath.Join(dir, "world"),
		"--port", strconv.Itoa(port))
	if code != 0 {
		t.Fatalf("simulate --world: exit %d\n%s", code, out)
	}
	inv := filepath.Join(dir, "world", "inventory")
	ids := firstColumn(t, filepath.Join(inv, "devices.csv"))
	gateways := firstColumn(t, filepath.Join(inv, "gateways.csv"))[:3]
	// The simulator serves in this process for as long as the test runs,
	// on a port of its own that devices.csv is pointed at.
	_, sim := simulatortest.ServeDir(t, filepath.Join(dir, "world", "recordings"))
	devicesCSV := readFile(t, filepath.Join(inv, "devices.csv"))
	writeFile(t, inv, "devices.csv", strings.ReplaceAll(devicesCSV, "127.0.0.1:"+strconv.Itoa(port)+",", sim+","))
	watch := watchStates(t, mq.Addr)
	hook := &webhookReceiver{}
	hookSrv := httptest.NewServer(hook)
	t.Cleanup(hookSrv.Close)

	cfgs := make([]string, clusterReplicas)
	addrs := make([]string, clusterReplicas)
	reps := make([]*controllerProc, clusterReplicas)
	for i := range reps {
		d := filepath.Join(dir, fmt.Sprintf("replica-%d", i))
		os.Mkdir(d, 0o755)
		addrs[i] = fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t))
		cfgs[i] = clusterConfig(t, d, inv, mq.Addr, addrs[i], hookSrv.URL+"/hook", i)
	}
	var wg sync.WaitGroup
	for i := range reps {
		wg.Add(1)
		go func() { defer wg.Done(); reps[i] = startController(t, cfgs[i], addrs[i]) }()
	}
	wg.Wait()
	all := []int{0, 1, 2}
	started := time.Now()
	waitLong(t, "three members, every device polled by one of them", func() bool {
		for _, r := range reps {
			if r.metric("ngic_controller_cluster_members") != clusterReplicas {
				return false
			}
		}
		return watch.view(t, all...).settled(ids, started)
	})
	t.Logf("%d devices, %d villages; owned %v", len(ids), clusterVillages, []float64{
		reps[0].metric("ngic_controller_cluster_owned_devices"), reps[1].metric("ngic_controller_cluster_owned_devices"),
		reps[2].metric("ngic_controller_cluster_owned_devices")})

	// Exactly once per cycle: over at least four cycles, each device is
	// polled by the replica rendezvous hashing names, never twice in a
	// cycle, and a cycle without its poll is one its scheduler skipped (the
	// machine too loaded to start the poll before its deadline, counted in
	// ngic_controller_polls_skipped_total). A poll starts at its device's
	// phase in the cycle, late by less than a cycle (else skipped), so
	// between two polls span apart there were span/interval cycles give or
	// take one.
	pubs := make([]*gatewayPublisher, len(gateways))
	for i, g := range gateways {
		pubs[i] = startPublisher(t, mq.Addr, g, clusterRate)
	}
	skipped := func() (n float64) {
		for _, r := range reps {
			var v float64
			waitLong(t, "the scheduler's skips", func() bool { v = r.metric("ngic_controller_polls_skipped_total"); return v >= 0 })
			n += v
		}
		return n
	}
	skips := skipped()
	leaseAtStart := readLease(t, reps, all...)
	v1 := watch.view(t, all...)
	waitLong(t, "four more cycles of states", func() bool {
		v := watch.view(t, all...)
		for _, r := range all {
			if v.times[r].Sub(v1.times[r]) < 4*clusterInterval {
				return false
			}
		}
		return true
	})
	v2 := watch.view(t, all...)
	skips = skipped() - skips
	if !v2.settled(ids, started) {
		t.Fatalf("the states no longer cover every device once (%d listed, %d twice)", len(v2.owner), len(v2.twice))
	}
	var polled, missed float64
	for _, id := range ids {
		a, b := v1.dev[id], v2.dev[id]
		if v1.owner[id] != v2.owner[id] || v2.owner[id] != cluster.Owner(id, all) {
			t.Fatalf("%s polled by replica %d then %d; rendezvous hashing names %d", id, v1.owner[id], v2.owner[id],
				cluster.Owner(id, all))
		}
		polls := float64(b.Polls - a.Polls)
		cycles := b.LastPoll.Sub(a.LastPoll).Seconds() / clusterInterval.Seconds()
		if polls < 1 || polls >= cycles+1 {
			t.Fatalf("%s: %.0f polls between %s and %s, %.2f cycles apart", id, polls, a.LastPoll.Format(time.RFC3339Nano),
				b.LastPoll.Format(time.RFC3339Nano), cycles)
		}
		polled += polls
		missed += max(cycles-polls, 0)
	}
	t.Logf("over four cycles: %.0f polls of %d devices, none twice in a cycle; %.1f cycles without a poll (give or take one a device), %.0f skipped by the schedulers",
		polled, len(ids), missed, skips)
	if missed > skips+float64(len(ids)) {
		t.Fatalf("%.0f polls missing, but the schedulers skipped only %.0f cycles", missed, skips)
	}

	// Coverage: replica 0 holds the lease and alone computed over the
	// four cycles; every replica's API answers its result.
	onlyHolderComputed(t, "over four cycles", leaseAtStart, readLease(t, reps, all...), 0, []int{1, 2}, 0)
	sameCoverage(t, "every replica answering the holder's coverage", started, reps...)

	// A door held at a gateway replica 0 owns: one alert, raised by 0,
	// acknowledged through another replica (neither 0 nor the gateway's
	// next owner), which shares the acknowledgement for 0 to apply.
	var doorGW string
	for _, g := range firstColumn(t, filepath.Join(inv, "gateways.csv"))[len(gateways):] {
		if cluster.Owner(g, all) == 0 {
			doorGW = g
			break
		}
	}
	if doorGW == "" {
		t.Fatal("no gateway of the world is replica 0's")
	}
	victim, survivors := 0, []int{1, 2}
	nextOwner := cluster.Owner(doorGW, survivors)
	third := 3 - nextOwner
	doorClient := connectMQTT(t, mq.Addr, "cluster-test-door")
	doorSeq := uint64(0)
	door := func(typ string) {
		doorSeq++
		publish(t, doorClient, telemetry.EventTopic(doorGW, "eye-1"), doorEvent(t, doorGW, "eye-1", typ, doorSeq))
	}
	door(telemetry.BeamBlocked)
	door(telemetry.BeamHeld)
	var doorID string
	waitLong(t, "the door-held alert at the webhook", func() bool {
		for _, a := range hook.got() {
			if a.Subject.ID == doorGW && a.State == telemetry.AlertFiring {
				doorID = a.ID
				return true
			}
		}
		return false
	})
	wantOwnAlerts(t, reps, 0)
	waitLong(t, "the door's alert listed by replica "+strconv.Itoa(third), func() bool { _, ok := openAlert(t, reps[third], doorID); return ok })
	ackResp := (&apitest.Client{T: t, Base: "http://" + reps[third].http, Token: clusterAdminToken}).Do("POST",
		"/api/v1/alerts/"+doorID+"/ack", map[string]string{"note": "crew sent"})
	if ackResp.Status != http.StatusOK {
		t.Fatalf("acknowledging on replica %d: %d %s", third, ackResp.Status, ackResp.Body)
	}

	// Kill replica 0, the lease holder and the door's owner, at once
	// (before it applies the acknowledgement, most likely), while the
	// events flow.
	ingestedBefore := make([]float64, clusterReplicas)
	for i, r := range reps {
		ingestedBefore[i], _ = r.ingested()
	}
	acked := func() (n uint64) {
		for _, p := range pubs {
			n += p.acked.Load()
		}
		return n
	}
	ackedAtKill := acked()
	survivorSkips := func() float64 {
		return reps[1].metric("ngic_controller_polls_skipped_total") + reps[2].metric("ngic_controller_polls_skipped_total")
	}
	skipsAtKill := survivorSkips()
	leaseAtKill := readLease(t, reps, all...)
	reps[victim].cmd.Process.Signal(syscall.SIGKILL)
	<-reps[victim].done
	killed := time.Now()
	waitLong(t, "the survivors see two members", func() bool {
		return reps[1].metric("ngic_controller_cluster_members") == 2 && reps[2].metric("ngic_controller_cluster_members") == 2
	})
	var moved []string
	for _, id := range ids {
		if v2.owner[id] == victim {
			moved = append(moved, id)
		}
	}
	// A moved device starts afresh at its new replica (Polls from 0):
	// its first poll there was Polls-1 cycles before its latest.
	first := map[string]time.Time{}
	waitLong(t, "the killed replica's devices polled by the survivors", func() bool {
		v := watch.view(t, survivors...)
		for _, id := range moved {
			if d, ok := v.dev[id]; ok && d.LastPoll.After(killed) && d.Polls > 0 && first[id].IsZero() {
				first[id] = d.LastPoll.Add(-time.Duration(d.Polls-1) * clusterInterval)
			}
		}
		return len(first) == len(moved) && len(v.twice) == 0 && len(v.owner) == len(ids)
	})
	v3 := watch.view(t, survivors...)
	var takeover time.Duration
	delays := make([]time.Duration, 0, len(moved))
	for _, id := range moved {
		delays = append(delays, first[id].Sub(killed))
		takeover = max(takeover, first[id].Sub(killed))
		if want := cluster.Owner(id, survivors); v3.owner[id] != want {
			t.Fatalf("%s taken by %d, rendezvous hashing names %d", id, v3.owner[id], want)
		}
	}
	// Within two cycles, unless the machine is so loaded that the
	// survivors' schedulers skipped cycles meanwhile (then the figure is
	// only logged).
	lateSkips := survivorSkips() - skipsAtKill
	slices.Sort(delays)
	t.Logf("first polls by the survivors after the kill: median %v, 90th percentile %v, last %v",
		delays[len(delays)/2].Round(time.Millisecond), delays[len(delays)*9/10].Round(time.Millisecond), takeover.Round(time.Millisecond))
	t.Logf("%d devices of the killed replica polled by the others within %.1f s (%.2f cycles) of the kill; "+
		"the survivors skipped %.0f cycles meanwhile", len(moved), takeover.Seconds(),
		takeover.Seconds()/clusterInterval.Seconds(), lateSkips)
	if takeover > 2*clusterInterval && lateSkips == 0 {
		t.Fatalf("the killed replica's devices were first polled by the others %v after the kill: more than two cycles", takeover)
	}
	for _, i := range survivors {
		shown := apiDeviceIDs(t, reps[i])
		if len(shown) != len(ids) {
			t.Fatalf("replica %d's API shows %d devices, the inventory has %d", i, len(shown), len(ids))
		}
		for _, id := range ids {
			if st, ok := shown[id]; !ok || st == "unknown" {
				t.Fatalf("replica %d's API: %s %q", i, id, st)
			}
		}
	}

	// The lease moved to replica 1, which computes and serves coverage;
	// replica 2 does not compute it.
	sameCoverage(t, "the survivors answering the new holder's coverage", killed, reps[1], reps[2])
	onlyHolderComputed(t, "after the holder's kill", leaseAtKill, readLease(t, reps, survivors...), 1, []int{2}, 1)

	// The door's new owner holds the alert, acknowledged, raised nowhere
	// again. The door closes: the event goes to one replica's session in
	// turn, perhaps the dead one's, where it waits for its return; the
	// alert is resolved once the event is heard (below).
	waitLong(t, "the door's alert adopted and acknowledged by its new owner", func() bool {
		h, err := reps[nextOwner].health()
		a, ok := openAlert(t, reps[nextOwner], doorID)
		return err == nil && h["alerts_open"] == 1.0 && ok && a.Ack != nil && a.Ack.Note == "crew sent"
	})
	door(telemetry.BeamCleared)

	// While replica 0 is away, its share of the events waits in its session.
	ackedAtReturn := acked()
	var survived float64
	for _, i := range survivors {
		n, _ := reps[i].ingested()
		survived += n - ingestedBefore[i]
	}
	t.Logf("while replica %d was down, %d events were acknowledged to the gateways and the survivors counted %.0f",
		victim, ackedAtReturn-ackedAtKill, survived)
	if survived >= float64(ackedAtReturn-ackedAtKill) {
		t.Errorf("the survivors counted every event published while replica %d was down: mosquitto did not keep its share", victim)
	}
	returned := time.Now()
	leaseAtReturn := readLease(t, reps, survivors...)
	leaseAtReturn.computed[victim], leaseAtReturn.changes[victim] = 0, 0 // it counts afresh from its restart
	reps[victim] = startController(t, cfgs[victim], addrs[victim])
	waitLong(t, "three members again, each polling its devices", func() bool {
		for _, r := range reps {
			if r.metric("ngic_controller_cluster_members") != clusterReplicas {
				return false
			}
		}
		v := watch.view(t, all...)
		for _, id := range ids {
			if v.owner[id] != cluster.Owner(id, all) {
				return false
			}
		}
		return len(v.twice) == 0
	})
	for _, p := range pubs {
		p.halt()
	}
	made := doorSeq // the door's events, acknowledged one by one, count too
	for _, p := range pubs {
		made += p.made.Load()
	}
	final := acked() + doorSeq
	total := func() (n float64, per []float64) {
		for _, r := range reps {
			e, _ := r.ingested()
			n += e
			per = append(per, e)
		}
		return n, per
	}
	waitLong(t, "every acknowledged event counted", func() bool { n, _ := total(); return n >= float64(final) })
	n, per := total()
	t.Logf("events: acknowledged %d, made %d, counted %.0f by the replicas %v", final, made, n, per)
	// An event made but not acknowledged when its publisher stopped may
	// have reached a replica too (one at most per gateway).
	if n < float64(final) || n > float64(made) {
		t.Fatalf("the replicas counted %.0f events; the gateways made %d, of which the broker acknowledged %d", n, made, final)
	}
	if per[victim] <= ingestedBefore[victim] {
		t.Fatalf("replica %d counted no event after its return (%v then %v)", victim, ingestedBefore[victim], per[victim])
	}

	// Back, replica 0 holds the lease and the door's gateway again. The
	// door's alert is resolved once: by the next owner if a survivor
	// heard the door close, else by replica 0, which had the event
	// waiting in its session and the alert in its state file; the copy
	// the other held goes without a word. Over the whole run the webhooks
	// heard of the alert raised once, acknowledged once (by 0 before it
	// died, or by the next owner), resolved once; no replica holds it.
	sameCoverage(t, "every replica answering the returned holder's coverage", returned, reps...)
	resolved := func() int {
		return countOf(hookStates(hook, doorID), "resolved") + countOf(hookStates(hook, doorID), "resolved+ack")
	}
	waitLong(t, "the door's alert resolved at the webhook", func() bool { return resolved() > 0 })
	waitLong(t, "no replica holding an alert, each having shared a state since", func() bool {
		v := watch.view(t, all...)
		for i, r := range reps {
			h, err := r.health()
			if err != nil || h["alerts_open"] != 0.0 || !v.times[i].After(returned) {
				return false
			}
		}
		return true
	})
	waitLong(t, "the acknowledgement at the webhook", func() bool { return countOf(hookStates(hook, doorID), "firing+ack") > 0 })
	if got := hookStates(hook, doorID); countOf(got, "firing") != 1 || countOf(got, "firing+ack") != 1 || resolved() != 1 ||
		len(got) != 3 {
		t.Fatalf("the webhooks heard of the door's alert %v: want it raised, acknowledged and resolved once each", got)
	}
	onlyHolderComputed(t, "after the holder's return", leaseAtReturn, readLease(t, reps, all...), victim, []int{2}, 1)

	// Every replica's coverage report has every village, computed from
	// the fleet's shared state (each replica polls a third of it).
	villages := len(firstColumn(t, filepath.Join(inv, "regions.csv")))
	for i, r := range reps {
		var got map[string]string
		waitLong(t, "a coverage report", func() bool { got = coverageClasses(t, r); return got != nil })
		if len(got) < clusterVillages || len(got) > villages {
			t.Fatalf("replica %d's coverage report has %d villages, the world %d", i, len(got), clusterVillages)
		}
	}
	for _, r := range reps {
		r.stop(t)
	}
}

// shippedReplica writes replica i of two's configuration for the shipped
// broker at addr: TLS with a client certificate, the user ngic-controller
// (each connection derives its own from it), gateway-offline alerts
// raised after a second.
func shippedReplica(t *testing.T, b *testenv.MosquittoTLS, inv string, i int) (cfg, httpAddr string) {
	dir := t.TempDir()
	cert, key := b.PKI.Issue(t, fmt.Sprintf("ngic-controller-%d", i), false)
	pw := writeFile(t, dir, "mqtt-password", "secret-ngic-controller\n")
	token := writeFile(t, dir, "token", clusterToken+"\n")
	httpAddr = fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t))
	return writeFile(t, dir, "controller.yaml", fmt.Sprintf(`inventory: %s
poll:
  interval: 2s
  timeout: 500ms
  retries: 0
mqtt:
  broker: ssl://%s
  tls: {ca_file: %s, cert_file: %s, key_file: %s}
  username: ngic-controller
  password_file: %s
  client_id: ngic-controller
alerts:
  rules:
    - {name: gateway-offline, kind: gateway-offline, after: 1s}
    - {name: sequence-gap, kind: sequence-gap, after: 1s}
http:
  listen: %s
  tokens:
    - {name: noc, file: %s, role: admin}
state_dir: %s
cluster:
  enabled: true
  shard: %d/2
  heartbeat: 500ms
`, inv, b.Addr, b.PKI.CAFile, cert, key, pw, httpAddr, token, filepath.Join(dir, "state"), i)), httpAddr
}

// dialGateway connects to the shipped broker as gateway gw, with a
// certificate and password of its own.
func dialGateway(t *testing.T, b *testenv.MosquittoTLS, gw string) mqtt.Client {
	t.Helper()
	cert, key := b.PKI.Issue(t, gw, false)
	pair, err := tls.LoadX509KeyPair(cert, key)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM([]byte(readFile(t, b.PKI.CAFile)))
	c := mqtt.NewClient(mqtt.NewClientOptions().AddBroker("ssl://" + b.Addr).SetClientID(gw).
		SetUsername(gw).SetPassword("secret-" + gw).
		SetTLSConfig(&tls.Config{RootCAs: roots, Certificates: []tls.Certificate{pair}}).
		SetAutoReconnect(false).SetConnectTimeout(20 * time.Second))
	if tok := c.Connect(); !tok.WaitTimeout(20*time.Second) || tok.Error() != nil {
		t.Fatalf("%s: connect: %v", gw, tok.Error())
	}
	t.Cleanup(func() { c.Disconnect(100) })
	return c
}

// TestClusterShippedBroker: two replicas against mosquitto running the
// shipped configuration and ACL (TLS client certificates, the user name
// as client ID, one user per connection of each replica) see each other,
// split the devices and the gateway's events, and never knock each
// other's connections off. The gateway going offline raises one alert in
// the fleet, on the replica that owns the gateway; acknowledged on the
// other, it is acknowledged on the owner. The gaps each replica sees in
// its share of the gateway's sequence raise no alert.
func TestClusterShippedBroker(t *testing.T) {
	const devices, events, gw = 24, 20, "gw-a"
	users := map[string]string{gw: "secret-" + gw}
	for i := range 2 {
		for _, conn := range []string{"", cluster.ConnMembers, cluster.ConnState} {
			users[cluster.Shard{Ordinal: i, Replicas: 2}.User("ngic-controller", conn)] = "secret-ngic-controller"
		}
	}
	root, err := filepath.Abs(filepath.Join("..", "deploy", "mosquitto", "ngic.acl"))
	if err != nil {
		t.Fatal(err)
	}
	b := testenv.StartMosquittoTLS(t, users, root)

	inv := t.TempDir()
	var rows strings.Builder
	rows.WriteString("id,site,address,credentials\n")
	dead := testenv.FreeUDPPort(t) // nothing answers: every device is polled, and down
	for i := range devices {
		fmt.Fprintf(&rows, "dev-%02d,s1,127.0.0.1:%d,community:public\n", i, dead)
	}
	writeFile(t, inv, "devices.csv", rows.String())
	writeFile(t, inv, "gateways.csv", "gateway,site\n"+gw+",s1\n")

	reps := make([]*controllerProc, 2)
	for i := range reps {
		cfg, addr := shippedReplica(t, b, inv, i)
		reps[i] = startController(t, cfg, addr)
	}
	connected := func(p *controllerProc) bool {
		h, err := p.health()
		if err != nil {
			return false
		}
		m, _ := h["mqtt"].(map[string]any)
		return m["connected"] == true
	}
	waitLong(t, "two members splitting the devices, both ingests connected", func() bool {
		n := 0.0
		for _, r := range reps {
			o := r.metric("ngic_controller_cluster_owned_devices")
			if r.metric("ngic_controller_cluster_members") != 2 || o <= 0 || !connected(r) {
				return false
			}
			n += o
		}
		return n == devices
	})

	// The gateway's events go to one replica each, through $share.
	g := dialGateway(t, b, gw)
	online, err := telemetry.EncodeStatus(&telemetry.Status{V: telemetry.SchemaVersion, Gateway: gw, State: telemetry.StateOnline})
	if err != nil {
		t.Fatal(err)
	}
	publishRetained(t, g, telemetry.StatusTopic(gw), online)
	for seq := uint64(1); seq <= events; seq++ {
		publish(t, g, telemetry.EventTopic(gw, "gate"), eventPayload(t, gw, seq))
	}
	ingested := func(p *controllerProc) float64 {
		h, err := p.health()
		if err != nil {
			return -1
		}
		in, _ := h["ingest"].(map[string]any)
		n, _ := in["events"].(float64)
		return n
	}
	waitLong(t, "every event counted once over the replicas", func() bool {
		return ingested(reps[0])+ingested(reps[1]) == events
	})
	for i, r := range reps {
		h, err := r.health()
		if err != nil {
			t.Fatal(err)
		}
		if in, _ := h["ingest"].(map[string]any); in["gaps"] != 0.0 || in["missing"] != 0.0 {
			t.Errorf("replica %d counts gaps in its share of the events: %v", i, in)
		}
	}

	// Offline: one alert in the fleet, the owner's.
	offline, err := telemetry.EncodeStatus(&telemetry.Status{V: telemetry.SchemaVersion, Gateway: gw, State: telemetry.StateOffline})
	if err != nil {
		t.Fatal(err)
	}
	publishRetained(t, g, telemetry.StatusTopic(gw), offline)
	owner := cluster.Owner(gw, []int{0, 1})
	other := reps[1-owner]
	var id string
	waitLong(t, "the owner's alert, seen by the other replica", func() bool {
		var page struct {
			Items []telemetry.Alert `json:"items"`
		}
		(&apitest.Client{T: t, Base: "http://" + other.http, Token: clusterToken}).GetJSON("/api/v1/alerts", &page)
		for _, a := range page.Items {
			if a.Subject.ID == gw {
				id = a.ID
				return true
			}
		}
		return false
	})
	// The other replica shared a state after the owner raised the alert
	// (a second after the signal both received): it raised none. Each
	// replica had only its share of the events, with gaps in the sequence
	// where the other's were, a second and more before: no sequence-gap
	// alert either.
	wantOwnAlerts(t, reps, owner)
	// Acknowledged on the other replica: it answers with the alert
	// acknowledged, and the owner, which raised it, applies it.
	ack := map[string]string{"note": "on it"}
	r := (&apitest.Client{T: t, Base: "http://" + other.http, Token: clusterToken}).Do("POST", "/api/v1/alerts/"+id+"/ack", ack)
	var got telemetry.Alert
	if r.Status != http.StatusOK {
		t.Fatalf("acknowledging on the other replica: %d %s", r.Status, r.Body)
	}
	r.JSON(t, &got)
	if got.ID != id || got.Ack == nil || got.Ack.By != "noc" || got.Ack.Note != "on it" {
		t.Errorf("acknowledging on the other replica answered %+v", got)
	}
	waitLong(t, "the owner applying the acknowledgement", func() bool {
		var page struct {
			Items []telemetry.Alert `json:"items"`
		}
		(&apitest.Client{T: t, Base: "http://" + reps[owner].http, Token: clusterToken}).GetJSON("/api/v1/alerts", &page)
		for _, a := range page.Items {
			if a.ID == id && a.Ack != nil {
				if a.Ack.By != "noc" || a.Ack.Note != "on it" || !a.Ack.At.Equal(got.Ack.At) {
					t.Fatalf("the owner's alert acknowledged as %+v, want %+v", a.Ack, got.Ack)
				}
				return true
			}
		}
		return false
	})
	if !strings.Contains(reps[owner].Log(), fmt.Sprintf(`"through_replica":%d`, 1-owner)) {
		t.Errorf("the owner's log does not tell the acknowledgement came through replica %d", 1-owner)
	}

	for _, r := range reps {
		r.stop(t)
	}
	b.Stop()
	log := b.Log()
	for _, bad := range []string{"already connected, closing old connection", "Denied", "not authorised"} {
		if strings.Contains(log, bad) {
			t.Errorf("the broker's log says %q:\n%s", bad, grepLines(log, bad))
		}
	}
}

// publishRetained publishes a retained message at QoS 1 and waits for the
// broker to take it.
func publishRetained(t *testing.T, c mqtt.Client, topic string, payload []byte) {
	t.Helper()
	if tok := c.Publish(topic, 1, true, payload); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("publish %s: %v", topic, tok.Error())
	}
}

// grepLines returns the lines of s holding sub.
func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// doorEvent is the payload of a beam event (typ) of photo-eye eye at
// gateway gw, sequence number seq.
func doorEvent(t *testing.T, gw, eye, typ string, seq uint64) []byte {
	ev := &telemetry.Event{V: telemetry.SchemaVersion, ID: fmt.Sprintf("%s-door-%08d", gw, seq), Gateway: gw,
		Source: eye, Type: typ, Time: time.Now().UTC(), Beam: &telemetry.Beam{}}
	b, err := telemetry.EncodeEvent(ev)
	if err != nil {
		t.Fatal(err)
	}
	out, err := telemetry.WithSeq(nil, b, seq)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// hookStates spells what the webhooks were told of alert id, in order:
// "firing", "firing+ack", "resolved+ack"...
func hookStates(h *webhookReceiver, id string) []string {
	var out []string
	for _, a := range h.got() {
		if a.ID == id {
			s := a.State
			if a.Ack != nil {
				s += "+ack"
			}
			out = append(out, s)
		}
	}
	return out
}

// countOf counts s in list.
func countOf(list []string, s string) (n int) {
	for _, v := range list {
		if v == s {
			n++
		}
	}
	return n
}

// coverageHeader is the API's /api/v1/coverage of p ("" unless 200).
func coverageHeader(t *testing.T, p *controllerProc) string {
	r := (&apitest.Client{T: t, Base: "http://" + p.http, Token: clusterToken}).Get("/api/v1/coverage")
	if r.Status != http.StatusOK {
		return ""
	}
	return string(r.Body)
}

// sameCoverage waits until every replica of reps answers the same
// coverage (the lease holder's, forwarded by the others), computed after
// since, and returns it.
func sameCoverage(t *testing.T, what string, since time.Time, reps ...*controllerProc) string {
	t.Helper()
	var got string
	waitLong(t, what, func() bool {
		got = coverageHeader(t, reps[0])
		var h struct {
			Computed time.Time `json:"computed"`
		}
		if got == "" || json.Unmarshal([]byte(got), &h) != nil || !h.Computed.After(since) {
			return false
		}
		for _, r := range reps[1:] {
			if coverageHeader(t, r) != got {
				return false
			}
		}
		return true
	})
	return got
}

// openAlert returns the alert id as the API of p lists it among the
// open ones, and whether it does.
func openAlert(t *testing.T, p *controllerProc, id string) (telemetry.Alert, bool) {
	var page struct {
		Items []telemetry.Alert `json:"items"`
	}
	(&apitest.Client{T: t, Base: "http://" + p.http, Token: clusterToken}).GetJSON("/api/v1/alerts?limit=1000", &page)
	for _, a := range page.Items {
		if a.ID == id {
			return a, true
		}
	}
	return telemetry.Alert{}, false
}

// wantOwnAlerts checks that of reps only replica owner has an alert of
// its own open, one.
func wantOwnAlerts(t *testing.T, reps []*controllerProc, owner int) {
	t.Helper()
	for i, r := range reps {
		h, err := r.health()
		if err != nil {
			t.Fatal(err)
		}
		want := 0.0
		if i == owner {
			want = 1
		}
		if h["alerts_open"] != want {
			t.Errorf("replica %d has %v alerts of its own open, want %v", i, h["alerts_open"], want)
		}
	}
}

// leaseReading is, by replica, the coverage computations it made and the
// changes of members its log tells.
type leaseReading struct {
	computed []float64
	changes  []int
}

// readLease reads the coverage computations and the changes of members
// of every replica, waiting for those of live to answer (the others: -1).
func readLease(t *testing.T, reps []*controllerProc, live ...int) leaseReading {
	t.Helper()
	var r leaseReading
	for i, p := range reps {
		n := p.metric("ngic_coverage_computations_total")
		if slices.Contains(live, i) {
			waitLong(t, "the coverage computations", func() bool { n = p.metric("ngic_coverage_computations_total"); return n >= 0 })
		}
		r.computed = append(r.computed, n)
		r.changes = append(r.changes, strings.Count(p.Log(), `"msg":"cluster members changed"`))
	}
	return r
}

// onlyHolderComputed checks that between two readings the lease holder
// computed coverage and the others did not. A replica whose members
// changed more than expected meanwhile (on a machine so loaded that
// heartbeats came late, the lease may have moved for a while) is only
// logged.
func onlyHolderComputed(t *testing.T, when string, from, to leaseReading, holder int, others []int, expected int) {
	t.Helper()
	if to.computed[holder] <= from.computed[holder] {
		t.Fatalf("%s: replica %d holds the coverage lease but did not compute (%v, then %v computations)", when, holder,
			from.computed[holder], to.computed[holder])
	}
	for _, i := range others {
		d := to.computed[i] - from.computed[i]
		switch {
		case d == 0:
		case to.changes[i]-from.changes[i] > expected:
			t.Logf("%s: replica %d computed coverage %v times, its members having changed %d times (the lease moved)",
				when, i, d, to.changes[i]-from.changes[i])
		default:
			t.Fatalf("%s: replica %d computed coverage %v times without the lease", when, i, d)
		}
	}
}
