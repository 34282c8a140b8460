package gateway

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/ngic/ngic/internal/testenv"
	"github.com/ngic/ngic/telemetry"
)

// TestSetUpdateRepublishesStatus: each update step set on the gateway is
// published in its retained status, which a subscriber that comes later
// finds.
func TestSetUpdateRepublishesStatus(t *testing.T) {
	broker := testenv.StartMosquitto(t)
	g, _ := runGateway(t, testConfig(t, "tcp://"+broker.Addr, ""))
	waitUntil(t, 30*time.Second, "ready", func() bool { return g.Ready() == nil })
	for _, step := range []string{telemetry.UpdateReceived, telemetry.UpdateDownloading, telemetry.UpdateRefused} {
		g.SetUpdate(&telemetry.UpdateReport{ID: "r1/gw-test", Step: step, From: "1.0.0", To: "1.1.0", Time: time.Now().UTC()})
		st := retainedStatus(t, broker.Addr, func(st *telemetry.Status) bool { return st.Update != nil && st.Update.Step == step })
		if st.State != telemetry.StateOnline || st.Update.ID != "r1/gw-test" || st.PresenceReset {
			t.Errorf("status %+v, update %+v", st, st.Update)
		}
	}
}

// retainedStatus subscribes afresh until the retained status of gw-test
// matches.
func retainedStatus(t *testing.T, addr string, match func(*telemetry.Status) bool) *telemetry.Status {
	t.Helper()
	var got *telemetry.Status
	for i := 0; got == nil; i++ {
		var mu sync.Mutex
		var st *telemetry.Status
		c := mqtt.NewClient(mqtt.NewClientOptions().AddBroker("tcp://" + addr).SetClientID(fmt.Sprintf("status-%d", i)))
		if tok := c.Connect(); !tok.WaitTimeout(30*time.Second) || tok.Error() != nil {
			t.Fatalf("connect: %v", tok.Error())
		}
		c.Subscribe(telemetry.StatusTopic("gw-test"), 1, func(_ mqtt.Client, m mqtt.Message) {
			if s, err := telemetry.DecodeStatus(m.Payload()); err == nil && m.Retained() {
				mu.Lock()
				st = s
				mu.Unlock()
			}
		}).WaitTimeout(30 * time.Second)
		waitUntil(t, 30*time.Second, "a retained status", func() bool { mu.Lock(); defer mu.Unlock(); return st != nil })
		c.Disconnect(0)
		if match(st) {
			got = st
		} else if i > 300 {
			t.Fatalf("retained status %+v never matched", st)
		}
	}
	return got
}

// TestReadyNamesWhatIsNot: a gateway whose broker is away, or one of whose
// readers is not open, is not ready, and says which.
func TestReadyNamesWhatIsNot(t *testing.T) {
	noBroker := fmt.Sprintf("tcp://127.0.0.1:%d", testenv.FreePort(t))
	g, _ := runGateway(t, testConfig(t, noBroker, ""))
	if err := g.Ready(); err == nil || !strings.Contains(err.Error(), "broker not connected") {
		t.Errorf("without a broker: %v", err)
	}
	broker := testenv.StartMosquitto(t)
	g, _ = runGateway(t, testConfig(t, "tcp://"+broker.Addr,
		"readers:\n  - name: door\n    protocol: em4100\n    device: /nonexistent/ttyUSB9\n"))
	waitUntil(t, 30*time.Second, "broker connected", func() bool { return g.pub.Stats().Connected })
	if err := g.Ready(); err == nil || !strings.Contains(err.Error(), "reader door not connected") {
		t.Errorf("reader without its port: %v", err)
	}
}
