// Package mosquitto_test runs the shipped broker configuration (ngic.conf,
// ngic.acl) in a real mosquitto and checks what the controller's identity
// and the gateways' may read and write.
package mosquitto_test

import (
	"crypto/tls"
	"crypto/x509"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/ngic/ngic/internal/testenv"
	"github.com/ngic/ngic/telemetry"
)

// wait bounds every wait on the broker.
const wait = 15 * time.Second

// client is one connection to the broker, recording what it receives and
// whether the broker closed it.
type client struct {
	mqtt.Client
	user string
	msgs chan mqtt.Message
	lost chan error
}

// dial connects to b as user with a certificate and password of its own.
// The shipped configuration makes the user name the client ID, so a second
// connection of one user replaces the first.
func dial(t *testing.T, b *testenv.MosquittoTLS, user string) *client {
	t.Helper()
	certFile, keyFile := b.PKI.Issue(t, user, false)
	pair, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	caPEM, err := os.ReadFile(b.PKI.CAFile)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(caPEM)
	c := &client{user: user, msgs: make(chan mqtt.Message, 64), lost: make(chan error, 1)}
	opts := mqtt.NewClientOptions().AddBroker("ssl://" + b.Addr).SetClientID(user).
		SetUsername(user).SetPassword(password(user)).
		SetTLSConfig(&tls.Config{RootCAs: roots, Certificates: []tls.Certificate{pair}}).
		SetCleanSession(true).SetAutoReconnect(false).SetConnectRetry(false).
		SetConnectTimeout(wait).SetOrderMatters(true).
		SetConnectionLostHandler(func(_ mqtt.Client, err error) { c.lost <- err }).
		SetDefaultPublishHandler(func(_ mqtt.Client, m mqtt.Message) { c.msgs <- m })
	c.Client = mqtt.NewClient(opts)
	if tok := c.Connect(); !tok.WaitTimeout(wait) || tok.Error() != nil {
		t.Fatalf("%s: connect: %v (or no CONNACK within %v)", user, tok.Error(), wait)
	}
	t.Cleanup(func() { c.Disconnect(0) })
	return c
}

func password(user string) string { return "secret-" + user }

// sub subscribes to filter at QoS 1 and returns the granted QoS (0x80 when
// refused).
func (c *client) sub(t *testing.T, filter string) byte {
	t.Helper()
	tok := c.Subscribe(filter, 1, nil)
	if !tok.WaitTimeout(wait) || tok.Error() != nil {
		t.Fatalf("%s: subscribe %s: %v", c.user, filter, tok.Error())
	}
	return tok.(*mqtt.SubscribeToken).Result()[filter]
}

// pub publishes at QoS 1 and waits for the PUBACK.
func (c *client) pub(t *testing.T, topic, payload string) {
	t.Helper()
	tok := c.Publish(topic, 1, false, payload)
	if !tok.WaitTimeout(wait) {
		t.Fatalf("%s: publish %s: no PUBACK within %v", c.user, topic, wait)
	}
	if err := tok.Error(); err != nil {
		t.Fatalf("%s: publish %s: %v", c.user, topic, err)
	}
}

// forge publishes payload on topic as user on a connection of its own,
// which replaces any other connection of that user. The ACL is expected to
// deny it: mosquitto acknowledges a denied publish and drops it, and with
// the shipped max_queued_messages 0 may then close the connection, so a
// lost connection is accepted; whether the message went through is for a
// subscriber to tell.
func forge(t *testing.T, b *testenv.MosquittoTLS, user, topic, payload string) {
	t.Helper()
	c := dial(t, b, user)
	tok := c.Publish(topic, 1, false, payload)
	if !tok.WaitTimeout(wait) {
		t.Fatalf("%s: publish %s: no answer within %v", user, topic, wait)
	}
	if err := tok.Error(); err != nil && !strings.Contains(err.Error(), "connection lost") {
		t.Fatalf("%s: publish %s: %v", user, topic, err)
	}
	c.Disconnect(0)
}

// next returns the next message c receives, failing after wait.
func (c *client) next(t *testing.T, what string) mqtt.Message {
	t.Helper()
	select {
	case m := <-c.msgs:
		return m
	case <-time.After(wait):
		t.Fatalf("%s: %s: nothing within %v", c.user, what, wait)
		return nil
	}
}

// expect fails unless the next message c receives is payload on topic.
func (c *client) expect(t *testing.T, topic, payload string) {
	t.Helper()
	m := c.next(t, payload)
	if m.Topic() != topic || string(m.Payload()) != payload {
		t.Fatalf("%s received %s %q, want %s %q", c.user, m.Topic(), m.Payload(), topic, payload)
	}
}

// TestControllerIdentity: with the shipped configuration and ACL the
// controller's user reads every gateway's status, events and health, and
// publishes alerts and commands; each gateway receives its own commands and
// never another's; the controller cannot publish a gateway's events and a
// gateway cannot publish commands. Every "cannot" is proved by order: a
// marker published after the refused message, on a path that delivers it,
// must be the next message seen; the broker's log must show each refusal.
func TestControllerIdentity(t *testing.T) {
	root, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	users := map[string]string{}
	for _, u := range []string{"ngic-controller", "ngic-commissioning", "gw-a", "gw-b"} {
		users[u] = password(u)
	}
	b := testenv.StartMosquittoTLS(t, users, filepath.Join(root, "ngic.acl"))

	ctl := dial(t, b, "ngic-controller")
	if q := ctl.sub(t, telemetry.Root+"/gw/+/#"); q != 1 {
		t.Fatalf("controller: every gateway's topics granted %#x, want QoS 1", q)
	}
	// A second reader of every gateway, to watch after the controller's
	// own connection was closed for a denied publish.
	watch := dial(t, b, "ngic-commissioning")
	if q := watch.sub(t, telemetry.Root+"/gw/+/#"); q != 1 {
		t.Fatalf("commissioning: granted %#x, want QoS 1", q)
	}
	gws := map[string]*client{}
	for _, gw := range []string{"gw-a", "gw-b"} {
		c := dial(t, b, gw)
		if q := c.sub(t, telemetry.CommandFilter(gw)); q != 1 {
			t.Fatalf("%s: its own commands granted %#x, want QoS 1", gw, q)
		}
		gws[gw] = c
	}
	// gw-b also tries to read every command and gw-a's: whether the broker
	// grants these filters or not, nothing of gw-a's may reach it.
	for _, f := range []string{telemetry.Root + "/cmd/#", telemetry.CommandFilter("gw-a")} {
		t.Logf("gw-b subscribing to %s: granted %#x", f, gws["gw-b"].sub(t, f))
	}

	// The controller reads each gateway's status, events and health.
	for _, gw := range []string{"gw-a", "gw-b"} {
		for _, topic := range []string{telemetry.StatusTopic(gw), telemetry.EventTopic(gw, "r1"), telemetry.HealthTopic(gw)} {
			gws[gw].pub(t, topic, "from "+gw)
			ctl.expect(t, topic, "from "+gw)
			watch.expect(t, topic, "from "+gw)
		}
	}

	// The controller commands each gateway; gw-b gets its own command
	// first, so it never received gw-a's (one publisher, QoS 1: in order).
	ctl.pub(t, telemetry.CommandTopic("gw-a", "update"), "for gw-a")
	ctl.pub(t, telemetry.CommandTopic("gw-b", "update"), "for gw-b")
	gws["gw-a"].expect(t, telemetry.CommandTopic("gw-a", "update"), "for gw-a")
	gws["gw-b"].expect(t, telemetry.CommandTopic("gw-b", "update"), "for gw-b")
	ctl.pub(t, telemetry.AlertTopic("a-1"), "alert")

	// The controller forges gw-a's event: nobody gets it before gw-a's
	// own marker.
	forged := []string{telemetry.EventTopic("gw-a", "r1"), telemetry.StatusTopic("gw-b")}
	for _, topic := range forged {
		forge(t, b, "ngic-controller", topic, "forged by the controller")
	}
	gws["gw-a"].pub(t, telemetry.EventTopic("gw-a", "r1"), "marker a")
	watch.expect(t, telemetry.EventTopic("gw-a", "r1"), "marker a")

	// gw-a forges a command to gw-b and to itself, and an alert: gw-b's
	// next command is the controller's marker (on a new connection: the
	// forger took over the controller's client ID).
	gwForged := []string{telemetry.CommandTopic("gw-b", "update"), telemetry.CommandTopic("gw-a", "update"), telemetry.AlertTopic("a-2")}
	for _, topic := range gwForged {
		forge(t, b, "gw-a", topic, "forged by gw-a")
	}
	ctl = dial(t, b, "ngic-controller")
	ctl.pub(t, telemetry.CommandTopic("gw-b", "update"), "marker b")
	gws["gw-b"].expect(t, telemetry.CommandTopic("gw-b", "update"), "marker b")

	// The broker's log agrees: each forgery denied, none of the
	// controller's alerts and commands.
	denied := deniedPublishes(t, b)
	for _, topic := range append(forged, gwForged...) {
		if denied[topic] == 0 {
			t.Errorf("no denial of a publish on %s in the broker's log", topic)
		}
	}
	if n := denied[telemetry.CommandTopic("gw-b", "update")]; n != 1 {
		t.Errorf("%d denials on %s, want 1 (gw-a's only)", n, telemetry.CommandTopic("gw-b", "update"))
	}
	if n := denied[telemetry.AlertTopic("a-1")]; n != 0 {
		t.Errorf("the controller's alert was denied")
	}
}

// deniedPublishes stops b and counts the "Denied PUBLISH" lines of its log
// by topic.
func deniedPublishes(t *testing.T, b *testenv.MosquittoTLS) map[string]int {
	t.Helper()
	b.Stop()
	log := b.Log()
	if !strings.Contains(log, "Received PUBLISH") {
		t.Fatalf("the broker's log holds no debug lines, so denials cannot be seen:\n%s", log)
	}
	denied := map[string]int{}
	for _, line := range strings.Split(log, "\n") {
		_, rest, ok := strings.Cut(line, "Denied PUBLISH from ")
		if !ok {
			continue
		}
		if _, q, ok := strings.Cut(rest, ", '"); ok {
			topic, _, _ := strings.Cut(q, "'")
			denied[topic]++
		}
	}
	return denied
}

// TestReplicaIdentities: with the shipped configuration and ACL the users
// of clustered replicas read and write ngic/v1/controllers/#, and neither
// a gateway nor the single controller's user may publish there (a marker
// published after each refused message is the next one seen, and the
// broker's log shows each refusal).
func TestReplicaIdentities(t *testing.T) {
	root, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	users := map[string]string{}
	for _, u := range []string{"ngic-controller", "ngic-controller-0-members", "ngic-controller-1-members",
		"ngic-controller-1-state", "gw-a"} {
		users[u] = password(u)
	}
	b := testenv.StartMosquittoTLS(t, users, filepath.Join(root, "ngic.acl"))

	r0 := dial(t, b, "ngic-controller-0-members")
	if q := r0.sub(t, telemetry.ControllerFilter); q != 1 {
		t.Fatalf("replica 0: statuses granted %#x, want QoS 1", q)
	}
	if q := r0.sub(t, telemetry.ControllerStateFilter); q != 1 {
		t.Fatalf("replica 0: states granted %#x, want QoS 1", q)
	}
	r1 := dial(t, b, "ngic-controller-1-members")
	r1.pub(t, telemetry.ControllerTopic(1), "online 1")
	r0.expect(t, telemetry.ControllerTopic(1), "online 1")
	r1s := dial(t, b, "ngic-controller-1-state")
	r1s.pub(t, telemetry.ControllerStateTopic(1), "state 1")
	r0.expect(t, telemetry.ControllerStateTopic(1), "state 1")

	// A gateway subscribing to the replicas' topics gets nothing of them,
	// whether the broker grants the filter or not.
	gw := dial(t, b, "gw-a")
	t.Logf("gw-a subscribing to %s: granted %#x", telemetry.ControllerFilter, gw.sub(t, telemetry.ControllerFilter))
	r1.pub(t, telemetry.ControllerTopic(1), "online 1 again")
	r0.expect(t, telemetry.ControllerTopic(1), "online 1 again")
	gw.pub(t, telemetry.StatusTopic("gw-a"), "gw-a's own")
	select {
	case m := <-gw.msgs:
		t.Fatalf("gw-a received %s %q", m.Topic(), m.Payload())
	default:
	}

	// The gateway and the single controller forge a replica's will and
	// state: replica 0 sees the marker next.
	forged := []string{telemetry.ControllerTopic(1), telemetry.ControllerStateTopic(1)}
	for _, user := range []string{"gw-a", "ngic-controller"} {
		for _, topic := range forged {
			forge(t, b, user, topic, "forged by "+user)
		}
	}
	r1.pub(t, telemetry.ControllerTopic(1), "marker")
	r0.expect(t, telemetry.ControllerTopic(1), "marker")
	denied := deniedPublishes(t, b)
	for _, topic := range forged {
		if denied[topic] != 2 {
			t.Errorf("%d denials of a publish on %s in the broker's log, want 2 (gw-a's, ngic-controller's)", denied[topic], topic)
		}
	}
}

// TestReplicaBlocks: every replica's block of the shipped ACL grants
// the same as replica 0's, its user names aside, so that copying a block
// for one more replica is the whole of scaling the ACL out.
func TestReplicaBlocks(t *testing.T) {
	b, err := os.ReadFile("ngic.acl")
	if err != nil {
		t.Fatal(err)
	}
	blocks := map[int]string{} // ordinal → its three users' lines, the ordinal replaced by <i>
	cur := -1
	for _, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if u, ok := strings.CutPrefix(line, "user "); ok {
			cur = -1
			if rest, ok := strings.CutPrefix(u, "ngic-controller-"); ok {
				n, _, _ := strings.Cut(rest, "-")
				var err error
				if cur, err = strconv.Atoi(n); err != nil {
					t.Fatalf("user %s: not ngic-controller-<ordinal>[-<connection>]", u)
				}
			}
		}
		if cur >= 0 {
			blocks[cur] += strings.ReplaceAll(line, "ngic-controller-"+strconv.Itoa(cur), "ngic-controller-<i>") + "\n"
		}
	}
	if len(blocks) < 3 {
		t.Fatalf("%d replica blocks, want one per replica of the kustomize base (3)", len(blocks))
	}
	for i := range len(blocks) {
		if blocks[i] != blocks[0] {
			t.Errorf("replica %d's block differs from replica 0's:\n%s\nwant:\n%s", i, blocks[i], blocks[0])
		}
	}
	for _, conn := range []string{"", "-members", "-state"} {
		if !strings.Contains(blocks[0], "user ngic-controller-<i>"+conn+"\n") {
			t.Errorf("no user ngic-controller-<i>%s in a replica's block", conn)
		}
	}
}

// TestCommissioningProbes: with the shipped configuration and ACL a
// gateway publishes the commissioning tool's probe on its own
// commissioning topic, which the commissioning user reads, and not on
// another gateway's; the commissioning user publishes the probe command to
// a gateway, which receives it, and no other command. Every "not" is
// proved by a marker that is the next message seen, and by the broker's
// log.
func TestCommissioningProbes(t *testing.T) {
	root, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	users := map[string]string{}
	for _, u := range []string{"ngic-commissioning", "gw-a", "gw-b"} {
		users[u] = password(u)
	}
	b := testenv.StartMosquittoTLS(t, users, filepath.Join(root, "ngic.acl"))
	watch := dial(t, b, "ngic-commissioning")
	if q := watch.sub(t, telemetry.Root+"/gw/+/#"); q != 1 {
		t.Fatalf("commissioning: granted %#x, want QoS 1", q)
	}
	gwA, gwB := dial(t, b, "gw-a"), dial(t, b, "gw-b")
	for _, c := range []*client{gwA, gwB} {
		if q := c.sub(t, telemetry.CommandFilter(c.user)); q != 1 {
			t.Fatalf("%s: its own commands granted %#x, want QoS 1", c.user, q)
		}
	}

	// The probes that the ACL grants.
	gwA.pub(t, telemetry.CommissioningTopic("gw-a"), "probe from gw-a")
	watch.expect(t, telemetry.CommissioningTopic("gw-a"), "probe from gw-a")
	for _, c := range []*client{gwA, gwB} {
		topic := telemetry.CommandTopic(c.user, telemetry.CommandCommissioning)
		watch.pub(t, topic, "probe for "+c.user)
		c.expect(t, topic, "probe for "+c.user)
	}

	// gw-a forges gw-b's probe: the commissioning user's next message is
	// gw-b's own marker.
	forge(t, b, "gw-a", telemetry.CommissioningTopic("gw-b"), "forged by gw-a")
	gwB.pub(t, telemetry.CommissioningTopic("gw-b"), "marker b")
	watch.expect(t, telemetry.CommissioningTopic("gw-b"), "marker b")

	// The commissioning user forges a real command and a gateway's status:
	// gw-b's next command is the probe published after them.
	forged := []string{telemetry.CommandTopic("gw-b", telemetry.CommandUpdate), telemetry.StatusTopic("gw-b")}
	for _, topic := range forged {
		forge(t, b, "ngic-commissioning", topic, "forged by the commissioning user")
	}
	probe := telemetry.CommandTopic("gw-b", telemetry.CommandCommissioning)
	dial(t, b, "ngic-commissioning").pub(t, probe, "marker")
	gwB.expect(t, probe, "marker")

	denied := deniedPublishes(t, b)
	for _, topic := range append(forged, telemetry.CommissioningTopic("gw-b")) {
		if denied[topic] != 1 {
			t.Errorf("%d denials of a publish on %s in the broker's log, want 1", denied[topic], topic)
		}
	}
	for _, topic := range []string{telemetry.CommissioningTopic("gw-a"), probe} {
		if denied[topic] != 0 {
			t.Errorf("a publish on %s was denied", topic)
		}
	}
}
