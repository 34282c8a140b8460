package testenv

import (
	"crypto/tls"
	"crypto/x509"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/ngic/ngic/telemetry"
)

// The shipped broker (deploy/mosquitto/ngic.conf and ngic.acl) tested
// against what a gateway, or someone holding one gateway's credentials,
// can do to the others.

// wait is how long a test waits for the broker before failing.
const wait = 10 * time.Second

// shippedBroker starts mosquitto with the shipped configuration and ACL and
// the given users, each with the password "pw-" + name.
func shippedBroker(t *testing.T, users ...string) *MosquittoTLS {
	t.Helper()
	root, err := repoRoot()
	if err != nil {
		t.Fatal(err)
	}
	pw := map[string]string{}
	for _, u := range users {
		pw[u] = "pw-" + u
	}
	return StartMosquittoTLS(t, pw, filepath.Join(root, "deploy", "mosquitto", "ngic.acl"))
}

// mqttClient is one paho client of the shipped broker, recording what it
// receives and whether it lost its connection.
type mqttClient struct {
	mqtt.Client
	msgs chan mqtt.Message
	lost chan error
}

// connect connects to b as user (certificate and password of its own) with
// the given client ID, no automatic reconnection, and the options set adds.
func connect(t *testing.T, b *MosquittoTLS, user, clientID string, set func(*mqtt.ClientOptions)) *mqttClient {
	t.Helper()
	cert, key := b.PKI.Issue(t, user+"-"+strings.ReplaceAll(clientID, "/", "_"), false)
	ca, err := os.ReadFile(b.PKI.CAFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(ca)
	pair, err := tls.LoadX509KeyPair(cert, key)
	if err != nil {
		t.Fatal(err)
	}
	c := &mqttClient{msgs: make(chan mqtt.Message, 100), lost: make(chan error, 1)}
	o := mqtt.NewClientOptions().AddBroker("ssl://" + b.Addr).SetClientID(clientID).
		SetUsername(user).SetPassword("pw-" + user).
		SetTLSConfig(&tls.Config{RootCAs: pool, Certificates: []tls.Certificate{pair}}).
		SetCleanSession(true).SetAutoReconnect(false).SetConnectRetry(false).
		SetConnectTimeout(wait).SetOrderMatters(true).
		SetConnectionLostHandler(func(_ mqtt.Client, err error) { c.lost <- err }).
		SetDefaultPublishHandler(func(_ mqtt.Client, m mqtt.Message) { c.msgs <- m })
	if set != nil {
		set(o)
	}
	c.Client = mqtt.NewClient(o)
	if tok := c.Connect(); !tok.WaitTimeout(wait) || tok.Error() != nil {
		t.Fatalf("connect as %s (client ID %q): %v (or no CONNACK within %v)", user, clientID, tok.Error(), wait)
	}
	t.Cleanup(func() { c.Disconnect(0) })
	return c
}

// publish publishes at QoS 1 and waits for the PUBACK. mosquitto
// acknowledges a publish the ACL denies (MQTT 3.1.1 has no way to say no)
// and drops it.
func (c *mqttClient) publish(t *testing.T, topic, payload string, retained bool) {
	t.Helper()
	tok := c.Publish(topic, 1, retained, payload)
	if !tok.WaitTimeout(wait) {
		t.Fatalf("publish %s: no PUBACK within %v", topic, wait)
	}
	if err := tok.Error(); err != nil {
		t.Fatalf("publish %s: %v", topic, err)
	}
}

// subscribe subscribes at QoS 1 and returns the granted QoS (0x80: refused).
func (c *mqttClient) subscribe(t *testing.T, filter string) byte {
	t.Helper()
	tok := c.Subscribe(filter, 1, nil)
	if !tok.WaitTimeout(wait) || tok.Error() != nil {
		t.Fatalf("subscribe %s: %v", filter, tok.Error())
	}
	return tok.(*mqtt.SubscribeToken).Result()[filter]
}

// next returns the next message received, failing after wait.
func (c *mqttClient) next(t *testing.T, what string) mqtt.Message {
	t.Helper()
	select {
	case m := <-c.msgs:
		return m
	case <-time.After(wait):
		t.Fatalf("%s: nothing received within %v", what, wait)
		return nil
	}
}

// stillConnected fails t if c lost its connection.
func (c *mqttClient) stillConnected(t *testing.T, who string) {
	t.Helper()
	select {
	case err := <-c.lost:
		t.Fatalf("%s lost its connection: %v", who, err)
	default:
	}
	if !c.IsConnectionOpen() {
		t.Fatalf("%s is no longer connected", who)
	}
}

// TestBrokerClientIDBoundToUser: with the shipped configuration, a client
// that holds gateway B's credentials and asks for gateway A's client ID
// (the ID the edge uses, or A's user name) does not disconnect A: the broker
// replaces every client ID with the user name. A keeps publishing, and the
// controller keeps receiving, with no "offline" will from A.
func TestBrokerClientIDBoundToUser(t *testing.T) {
	b := shippedBroker(t, "gw-a", "gw-b", "ngic-controller")
	ctl := connect(t, b, "ngic-controller", "controller", nil)
	if q := ctl.subscribe(t, telemetry.Root+"/gw/+/#"); q != 1 {
		t.Fatalf("controller subscription granted %#x, want QoS 1", q)
	}
	willA := func(o *mqtt.ClientOptions) {
		o.SetWill(telemetry.StatusTopic("gw-a"), "offline", 1, true)
	}
	a := connect(t, b, "gw-a", "ngic-edge-gw-a", willA)
	a.publish(t, telemetry.EventTopic("gw-a", "r1"), "before", false)
	if m := ctl.next(t, "A's first event"); string(m.Payload()) != "before" {
		t.Fatalf("controller got %s %q, want A's first event", m.Topic(), m.Payload())
	}
	for _, id := range []string{"ngic-edge-gw-a", "gw-a"} {
		// The broker accepts the connection (with B's client ID): had it
		// kept the ID asked for, it would have closed A's connection
		// before answering this one.
		thief := connect(t, b, "gw-b", id, nil)
		thief.stillConnected(t, "B asking for "+id)
		a.publish(t, telemetry.EventTopic("gw-a", "r1"), "after "+id, false)
		m := ctl.next(t, "A's event after B asked for client ID "+id)
		if m.Topic() != telemetry.EventTopic("gw-a", "r1") || string(m.Payload()) != "after "+id {
			t.Fatalf("after B asked for client ID %q the controller got %s %q (A's will?), want A's event",
				id, m.Topic(), m.Payload())
		}
		a.stillConnected(t, "gateway A")
		// B still works as itself.
		thief.publish(t, telemetry.EventTopic("gw-b", "r1"), "b as "+id, false)
		if m := ctl.next(t, "B's event"); m.Topic() != telemetry.EventTopic("gw-b", "r1") {
			t.Fatalf("controller got %s %q, want B's event", m.Topic(), m.Payload())
		}
	}
	a.stillConnected(t, "gateway A")
}

// forge connects as user, publishes payload on topic at QoS 1 and
// disconnects. The ACL is expected to deny it: mosquitto acknowledges and
// drops a denied publish, and with the shipped max_queued_messages 0 the
// 2.0 series may also close the connection right after the PUBACK, so a
// lost connection is accepted here; whether the message went through is
// for a subscriber to tell.
func forge(t *testing.T, b *MosquittoTLS, user, topic, payload string, retain bool) {
	t.Helper()
	c := connect(t, b, user, "forger", nil)
	tok := c.Publish(topic, 1, retain, payload)
	if !tok.WaitTimeout(wait) {
		t.Fatalf("%s publishing %s: no answer within %v", user, topic, wait)
	}
	if err := tok.Error(); err != nil && !strings.Contains(err.Error(), "connection lost") {
		t.Fatalf("%s publishing %s: %v", user, topic, err)
	}
	c.Disconnect(0)
}

// deniedPublishes returns the topics of the "Denied PUBLISH" lines of a
// stopped broker's log.
func deniedPublishes(t *testing.T, b *MosquittoTLS) map[string]int {
	t.Helper()
	b.Stop()
	log := b.Log()
	if !strings.Contains(log, "Received PUBLISH") {
		t.Fatalf("the broker log holds no debug lines, so denials cannot be seen:\n%s", log)
	}
	denied := map[string]int{}
	for _, line := range strings.Split(log, "\n") {
		if _, rest, ok := strings.Cut(line, "Denied PUBLISH from "); ok {
			if _, q, ok := strings.Cut(rest, ", '"); ok {
				topic, _, _ := strings.Cut(q, "'")
				denied[topic]++
			}
		}
	}
	return denied
}

// TestBrokerControllerACL: with the shipped ACL the controller's user reads
// every gateway's topics but writes none of them (another gateway's events
// or retained status, nor the gateway topics of its own user name, which
// the gateway patterns would otherwise grant); it may write alerts and
// commands. The commissioning user reads gateways and writes nothing of
// theirs either.
func TestBrokerControllerACL(t *testing.T) {
	b := shippedBroker(t, "gw-a", "ngic-controller", "ngic-commissioning")
	a := connect(t, b, "gw-a", "ngic-edge-gw-a", nil)

	// Both service users read a gateway's events.
	readers := map[string]*mqttClient{}
	for _, user := range []string{"ngic-controller", "ngic-commissioning"} {
		r := connect(t, b, user, "reader", nil)
		if q := r.subscribe(t, telemetry.Root+"/gw/+/#"); q != 1 {
			t.Fatalf("%s: subscription to every gateway granted %#x, want QoS 1", user, q)
		}
		readers[user] = r
	}
	a.publish(t, telemetry.EventTopic("gw-a", "r1"), "event 1", false)
	for user, r := range readers {
		if m := r.next(t, user+" reading A's event"); string(m.Payload()) != "event 1" {
			t.Fatalf("%s got %s %q, want A's event", user, m.Topic(), m.Payload())
		}
	}

	// Neither writes a gateway's topics. Each forgery is read back by the
	// other user: a marker from A, published after the forgeries were
	// acknowledged, must be the next message it sees. (Each user's forger
	// replaces its reader, which has the same client ID: the user name.)
	forgeries := []struct {
		topic  string
		retain bool
	}{
		{telemetry.EventTopic("gw-a", "r1"), false},
		{telemetry.StatusTopic("gw-a"), true},
		{telemetry.EventTopic("USER", "r1"), false},
		{telemetry.StatusTopic("USER"), true},
	}
	var forged []string
	for i, pair := range [][2]string{{"ngic-controller", "ngic-commissioning"}, {"ngic-commissioning", "ngic-controller"}} {
		forger, reader := pair[0], readers[pair[1]]
		if i == 1 { // the first forger replaced the reader of that user
			reader = connect(t, b, pair[1], "reader", nil)
			reader.subscribe(t, telemetry.Root+"/gw/+/#")
		}
		for _, f := range forgeries {
			topic := strings.Replace(f.topic, "USER", forger, 1)
			forge(t, b, forger, topic, "forged by "+forger, f.retain)
			forged = append(forged, topic)
		}
		marker := "marker after " + forger
		a.publish(t, telemetry.EventTopic("gw-a", "r1"), marker, false)
		if m := reader.next(t, marker); string(m.Payload()) != marker {
			t.Fatalf("a forged write went through: %s %q", m.Topic(), m.Payload())
		}
	}
	// Nor was a forged status retained: a new subscription gets none.
	late := connect(t, b, "ngic-controller", "late", nil)
	late.subscribe(t, telemetry.Root+"/gw/+/status")
	a.publish(t, telemetry.StatusTopic("gw-a"), "online", false)
	if m := late.next(t, "A's status"); string(m.Payload()) != "online" {
		t.Fatalf("a forged retained status was kept: %s %q", m.Topic(), m.Payload())
	}

	// The controller writes alerts and commands; a gateway does not.
	late.publish(t, telemetry.Root+"/alerts/gw-a", "controller alert", false)
	late.publish(t, telemetry.Root+"/cmd/gw-a", "controller command", false)
	forge(t, b, "gw-a", telemetry.Root+"/alerts/gw-a", "gateway alert", false)
	forge(t, b, "gw-a", telemetry.Root+"/cmd/gw-a", "gateway command", false)

	// The broker's own account agrees: every forgery denied, the
	// controller's alert and command not.
	denied := deniedPublishes(t, b)
	for _, topic := range append(forged, telemetry.Root+"/alerts/gw-a", telemetry.Root+"/cmd/gw-a") {
		if denied[topic] == 0 {
			t.Errorf("no denial of a publish on %s in the broker log", topic)
		}
	}
	if n := denied[telemetry.Root+"/alerts/gw-a"] + denied[telemetry.Root+"/cmd/gw-a"]; n != 2 {
		t.Errorf("%d denials on the alert and command topics, want 2 (the gateway's only)", n)
	}
}
