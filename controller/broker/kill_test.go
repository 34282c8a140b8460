package broker

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/ngic/ngic/controller/ingest"
	"github.com/ngic/ngic/internal/mqttembed"
	"github.com/ngic/ngic/internal/testenv"
)

// The kill tests run the controller's side in a child process (this test
// binary, started again with childEnv set) and kill it with SIGKILL while
// a gateway publishes.
const (
	childEnv       = "NGIC_BROKER_TEST_CHILD" // "subscriber" or "embedded"
	childAddrEnv   = "NGIC_BROKER_TEST_ADDR"
	childRecordEnv = "NGIC_BROKER_TEST_RECORD"
	killClientID   = "ngic-controller-kill"
)

func TestMain(m *testing.M) {
	if mode := os.Getenv(childEnv); mode != "" {
		if err := runChild(mode, os.Getenv(childAddrEnv), os.Getenv(childRecordEnv)); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// runChild runs until killed: a Subscriber of the broker at addr, or an
// embedded broker listening on addr, recording into the file record.
func runChild(mode, addr, record string) error {
	rec, err := openFileRecorder(record)
	if err != nil {
		return err
	}
	switch mode {
	case "subscriber":
		s, err := Subscribe(Options{Broker: "tcp://" + addr, ClientID: killClientID, Recorder: slowDisk{rec}})
		if err != nil {
			return err
		}
		go func() {
			for range time.Tick(500 * time.Millisecond) {
				fmt.Fprintf(os.Stderr, "%d %+v\n", os.Getpid(), s.Stats())
			}
		}()
		return s.Run(context.Background())
	case "embedded":
		if _, err := mqttembed.Start(addr, slog.New(slog.DiscardHandler), Hook(rec)); err != nil {
			return err
		}
		select {}
	}
	return fmt.Errorf("unknown child mode %q", mode)
}

// slowDisk is a recorder whose records take 20 ms longer to return, as
// on a slow disk: a kill then often falls after a batch is recorded and
// before it is acknowledged.
type slowDisk struct{ r *fileRecorder }

func (s slowDisk) Record(batch []ingest.Message) error {
	err := s.r.Record(batch)
	time.Sleep(20 * time.Millisecond)
	return err
}

// child is the controller's side running in a child process.
type child struct {
	t                  *testing.T
	mode, addr, record string
	log                string

	mu     sync.Mutex
	cmd    *exec.Cmd
	done   chan struct{}
	starts int
}

func newChild(t *testing.T, mode, addr string) *child {
	dir := t.TempDir()
	c := &child{t: t, mode: mode, addr: addr, record: filepath.Join(dir, "record"), log: filepath.Join(dir, "child.log")}
	t.Cleanup(c.kill)
	return c
}

// start starts the child; it must not be running.
func (c *child) start() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cmd != nil {
		c.t.Error("child started while running")
		return
	}
	lf, err := os.OpenFile(c.log, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		c.t.Error(err)
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+c.mode, childAddrEnv+"="+c.addr, childRecordEnv+"="+c.record)
	cmd.Stdout, cmd.Stderr = lf, lf
	if err := cmd.Start(); err != nil {
		lf.Close()
		c.t.Errorf("start child: %v", err)
		return
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); lf.Close(); close(done) }()
	c.cmd, c.done = cmd, done
	c.starts++
}

// kill kills the child with SIGKILL, if running, and waits for its end.
func (c *child) kill() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cmd == nil {
		return
	}
	_ = c.cmd.Process.Kill()
	<-c.done
	c.cmd = nil
}

// dups returns the number of messages the child's recorder was offered
// again.
func (c *child) dups() int {
	b, _ := os.ReadFile(c.record + ".dups")
	return bytes.Count(b, []byte("\n"))
}

// exitedEarly fails the test if the child ended on its own.
func (c *child) exitedEarly() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cmd == nil {
		return
	}
	select {
	case <-c.done:
		b, _ := os.ReadFile(c.log)
		c.t.Fatalf("the child ended on its own:\n%s", b)
	default:
	}
}

// killPlan is when the child is killed: kills, each after the given
// message index, one of them keeping the child down while the next
// downFor messages are published.
type killPlan struct {
	at      []int
	long    int // index in at of the kill that keeps it down
	downFor int
}

func newKillPlan(t *testing.T, n, kills, downFor int) killPlan {
	seed := uint64(time.Now().UnixNano())
	t.Logf("kill plan seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, seed>>7))
	for {
		p := killPlan{long: rng.IntN(kills), downFor: downFor}
		for range kills {
			p.at = append(p.at, 10+rng.IntN(n-downFor-20))
		}
		slices.Sort(p.at)
		if p.valid() {
			return p
		}
	}
}

// valid tells whether the kills are apart and none falls while the child
// is kept down.
func (p killPlan) valid() bool {
	for k := 1; k < len(p.at); k++ {
		gap := p.at[k] - p.at[k-1]
		if gap < 2 || (k-1 == p.long && gap <= p.downFor) {
			return false
		}
	}
	return true
}

// TestSubscriberSurvivesKills is the proof of the acknowledgement rule:
// the Subscriber runs in a child process with a durable recorder, a
// gateway publishes numbered QoS 1 messages at about 100/s to mosquitto,
// and the child is killed with SIGKILL five times at random moments (once
// kept down for 2 s) and restarted each time. At the end, every message
// the broker acknowledged to the gateway is in the record, each once.
func TestSubscriberSurvivesKills(t *testing.T) {
	m := testenv.StartMosquittoPersistent(t)
	const n, rate, downFor = 1000, 100, 200 // downFor messages at 100/s: 2 s
	// The session exists (with its subscriptions) before the first message.
	s, stop := start(t, m.Addr, killClientID, newMemRecorder(), nil)
	waitSubscribed(t, s)
	stop()

	c := newChild(t, "subscriber", m.Addr)
	c.start()
	plan := newKillPlan(t, n, 5, downFor)
	pub := pahoClient(t, m.Addr, "gw-test", nil)
	toks := make([]mqtt.Token, n)
	tick := time.NewTicker(time.Second / rate)
	defer tick.Stop()
	restartAt := -1
	for i := range n {
		<-tick.C // the gateway's pace, not a synchronisation
		toks[i] = pub.Publish(eventTopic, 1, false, eventPayload(t, i))
		if i == restartAt {
			c.start()
			restartAt = -1
		}
		if k := slices.Index(plan.at, i); k >= 0 {
			c.exitedEarly()
			c.kill()
			if k == plan.long {
				restartAt = i + plan.downFor
			} else {
				c.start()
			}
		}
	}
	for i, tok := range toks {
		if !tok.WaitTimeout(wait) || tok.Error() != nil {
			t.Fatalf("publish %d: %v (or no PUBACK)", i, tok.Error())
		}
	}
	if restartAt >= 0 {
		c.start()
	}
	deadline := time.Now().Add(wait)
	for len(readRecord(t, c.record)) < n && time.Now().Before(deadline) {
		c.exitedEarly()
		time.Sleep(10 * time.Millisecond)
	}
	checkRecord(t, readRecord(t, c.record), n)
	if t.Failed() {
		b, _ := os.ReadFile(c.log)
		t.Logf("child log:\n%s", b)
		t.Logf("broker log:\n%s", m.Log())
	}
	t.Logf("child started %d times (kills after messages %v, the one after %d kept down for %d messages); %d redeliveries deduped",
		c.starts, plan.at, plan.at[plan.long], plan.downFor, c.dups())
}

// checkRecord checks that the record holds the events 0..n-1, each once.
func checkRecord(t *testing.T, got map[string]int, n int) {
	t.Helper()
	var missing []int
	for i := range n {
		switch got[eventID(i)] {
		case 0:
			missing = append(missing, i)
		case 1:
		default:
			t.Errorf("event %d recorded %d times", i, got[eventID(i)])
		}
		delete(got, eventID(i))
	}
	if len(missing) > 0 {
		t.Errorf("%d events missing from the record: %v", len(missing), missing)
	}
	if len(got) > 0 {
		t.Errorf("unexpected ids in the record: %v", got)
	}
}

// TestEmbeddedSurvivesKills: the embedded broker runs with the recording
// hook in a child process that is killed with SIGKILL at random moments
// (once kept down for 2 s) and restarted on the same port. A gateway
// publishes numbered messages one at a time and sends a message again
// (after reconnecting) until it gets its PUBACK, as the edge does from its
// spool. Every message that got a PUBACK is in the record; in the end all
// do.
func TestEmbeddedSurvivesKills(t *testing.T) {
	const n = 600
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	addr := fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t))
	c := newChild(t, "embedded", addr)
	c.start()
	var mu sync.Mutex
	acked := map[int]bool{}
	count := func() int { mu.Lock(); defer mu.Unlock(); return len(acked) }
	plan := newKillPlan(t, n, 5, 0)
	killed := make(chan struct{})
	go func() { // kills when the gateway has had the planned number of PUBACKs
		defer close(killed)
		for k, at := range plan.at {
			for count() < at {
				select {
				case <-ctx.Done():
					return
				case <-time.After(time.Millisecond):
				}
			}
			select { // a random moment within the next publish
			case <-ctx.Done():
				return
			case <-time.After(time.Duration(rand.IntN(10_000)) * time.Microsecond):
			}
			c.kill()
			// Everything acknowledged so far must be recorded now that
			// the broker is dead.
			if !recordHolds(readRecord(t, c.record), acked, &mu) {
				t.Errorf("kill %d: a message acknowledged before the kill is not recorded", k)
			}
			if k == plan.long {
				time.Sleep(2 * time.Second) // the outage under test
			}
			c.start()
		}
	}()

	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	var pub mqtt.Client
	resends := 0
	for i := 0; i < n; {
		if pub == nil {
			pub = connectRetrying(t, addr)
		}
		<-tick.C // the gateway's pace (about 100/s), not a synchronisation
		tok := pub.Publish(eventTopic, 1, false, eventPayload(t, i))
		if tok.WaitTimeout(10*time.Second) && tok.Error() == nil {
			mu.Lock()
			acked[i] = true
			mu.Unlock()
			i++
			continue
		}
		pub.Disconnect(0) // no PUBACK: reconnect and send it again
		pub = nil
		resends++
	}
	pub.Disconnect(250)
	<-killed
	c.exitedEarly()
	if !recordHolds(readRecord(t, c.record), acked, &mu) {
		t.Error("a message acknowledged is not recorded")
	}
	checkRecord(t, readRecord(t, c.record), n)
	t.Logf("%d sends again after a kill (%d deduped); child started %d times, killed after PUBACKs %v, kept down 2 s after %d",
		resends, c.dups(), c.starts, plan.at, plan.at[plan.long])
}

// recordHolds tells whether every acknowledged message is in the record.
func recordHolds(got map[string]int, acked map[int]bool, mu *sync.Mutex) bool {
	mu.Lock()
	defer mu.Unlock()
	for i := range acked {
		if got[eventID(i)] == 0 {
			return false
		}
	}
	return true
}

// connectRetrying connects a gateway to the embedded broker at addr,
// trying again while it is down.
func connectRetrying(t *testing.T, addr string) mqtt.Client {
	t.Helper()
	deadline := time.Now().Add(wait)
	for {
		if conn, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			conn.Close()
			o := mqtt.NewClientOptions().AddBroker("tcp://" + addr).SetClientID("gw-test").
				SetCleanSession(true).SetAutoReconnect(false).SetConnectTimeout(5 * time.Second)
			c := mqtt.NewClient(o)
			if tok := c.Connect(); tok.WaitTimeout(wait) && tok.Error() == nil {
				return c
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("embedded broker at %s not back within %v", addr, wait)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
