package commission

import (
	"context"
	"crypto/ecdsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
	mqttserver "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/hooks/auth"
	"github.com/mochi-mqtt/server/v2/listeners"

	"github.com/ngic/ngic/internal/testenv"
	"github.com/ngic/ngic/internal/tlsconf"
	"github.com/ngic/ngic/telemetry"
)

// The identities of the rights tests.
const (
	gwName      = "cabinet-7"
	gwPassword  = "gw-pw"
	commPass    = "commission-pw"
	commUser    = "ngic-commissioning"
	shippedACL  = "../../deploy/mosquitto/ngic.acl"
	rightsWait  = 10 * time.Second
	gatewayID   = "ngic-edge-" + gwName // the edge's default client ID
	probeOwnPub = "publish ngic/v1/gw/" + gwName + "/commissioning as " + gwName
)

// writeFile writes a file in a test's directory and returns its path.
func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// mosquittoRights starts mosquitto with the shipped configuration and acl
// (the shipped one edited by replacing each old line with its new one),
// and returns the broker options of a commissioning run with the
// gateway's credentials.
func mosquittoRights(t *testing.T, edits ...[2]string) (*testenv.MosquittoTLS, BrokerOpts) {
	t.Helper()
	acl := shippedACL
	if len(edits) > 0 {
		b, err := os.ReadFile(shippedACL)
		if err != nil {
			t.Fatal(err)
		}
		s := string(b)
		for _, e := range edits {
			if !strings.Contains(s, e[0]) {
				t.Fatalf("the shipped ACL has no %q to edit", e[0])
			}
			s = strings.Replace(s, e[0], e[1], 1)
		}
		acl = writeFile(t, "broken.acl", s)
	}
	m := testenv.StartMosquittoTLS(t, map[string]string{commUser: commPass, gwName: gwPassword}, acl)
	cert, key := m.PKI.Issue(t, commUser, false)
	gcert, gkey := m.PKI.Issue(t, gwName, false)
	return m, BrokerOpts{Broker: "ssl://" + m.Addr, Gateway: gwName, Username: commUser,
		PasswordFile: writeFile(t, "pw", commPass+"\n"), MinValidity: time.Hour, Timeout: rightsWait,
		TLS:         tlsconf.Client{CAFile: m.PKI.CAFile, CertFile: cert, KeyFile: key},
		GatewayAuth: GatewayAuth{PasswordFile: writeFile(t, "gw-pw", gwPassword), CertFile: gcert, KeyFile: gkey}}
}

// byName returns the check named name, failing when there is none.
func byName(t *testing.T, cs []Check, name string) Check {
	t.Helper()
	for _, c := range cs {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("no check %q in %+v", name, cs)
	return Check{}
}

// The checks of the gateway's rights, by name.
var (
	subOwn   = "subscribe " + telemetry.CommandFilter(gwName) + " as " + gwName
	subOther = "subscribe " + telemetry.CommandFilter(ProbeGateway) + " as " + gwName
	pubOther = "publish " + telemetry.CommissioningTopic(ProbeGateway) + " as " + gwName
)

// TestRightsShippedACL: with the shipped configuration and ACL and the
// gateway not running, every check of its rights passes, each for the
// reason mosquitto 2 gives: the denied publish is answered 0x87, and a
// subscription to another gateway's commands is granted but delivers
// nothing of the probe command sent there.
func TestRightsShippedACL(t *testing.T) {
	_, o := mosquittoRights(t)
	cs := CheckBroker(context.Background(), o)
	if f := failed(cs); len(f) > 0 {
		t.Fatalf("failures %v in %+v", f, cs)
	}
	for name, detail := range map[string]string{
		"gateway credentials " + gwName: "the broker made the probe's client ID the user name",
		subOwn:                          "allowed: the probe command was delivered",
		subOther:                        "delivered nothing of it",
		probeOwnPub:                     "read back by the commissioning identity",
		pubOther:                        "refused (0x87 Not authorized)",
	} {
		if c := byName(t, cs, name); !strings.Contains(c.Detail, detail) {
			t.Errorf("%s: %q, want it to say %q", name, c.Detail, detail)
		}
	}
}

// TestRightsBrokenACL: an ACL that grants a gateway too much, or too
// little, fails the check it concerns, with a fix naming the ACL line.
func TestRightsBrokenACL(t *testing.T) {
	const gwWrites = "pattern write ngic/v1/gw/%u/status\npattern write ngic/v1/gw/%u/event/#\npattern write ngic/v1/gw/%u/health\npattern write ngic/v1/gw/%u/commissioning\n"
	for _, tc := range []struct {
		name        string
		edit        [2]string
		check, fix  string
		wantFailing int
	}{
		{"a gateway writes every gateway's topics", [2]string{gwWrites, "pattern write ngic/v1/gw/#\n"},
			pubOther, "no topic or pattern write line on ngic/v1/gw/+/... or ngic/v1/gw/#", 1},
		{"a gateway reads every gateway's commands", [2]string{"pattern read ngic/v1/cmd/%u/#\n", "pattern read ngic/v1/cmd/#\n"},
			subOther, "with pattern read ngic/v1/cmd/%u/# and no wider read line", 1},
		{"no commissioning topic", [2]string{"pattern write ngic/v1/gw/%u/commissioning\n", ""},
			probeOwnPub, "pattern write ngic/v1/gw/%u/commissioning", 1},
		{"no probe command", [2]string{"topic write ngic/v1/cmd/+/commissioning\n", ""},
			subOwn, "topic write ngic/v1/cmd/+/commissioning under user ngic-commissioning", 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, o := mosquittoRights(t, tc.edit)
			cs := CheckBroker(context.Background(), o)
			c := byName(t, cs, tc.check)
			if c.Status != Fail || !strings.Contains(c.Fix, tc.fix) {
				t.Errorf("%+v, want a failure whose fix says %q", c, tc.fix)
			}
			if f := failed(cs); len(f) != tc.wantFailing {
				t.Errorf("failures %v, want %d", f, tc.wantFailing)
			}
		})
	}
}

// TestRightsWrongGatewayPassword: a wrong gateway password fails the
// gateway's credentials, with the reason code and a fix naming the
// password file, and nothing after it is checked under them.
func TestRightsWrongGatewayPassword(t *testing.T) {
	_, o := mosquittoRights(t)
	o.GatewayAuth.PasswordFile = writeFile(t, "wrong", "not-"+gwPassword)
	cs := CheckBroker(context.Background(), o)
	c := byName(t, cs, "gateway credentials "+gwName)
	// mosquitto 2.0.11 answers a wrong password with 0x87, not 0x86.
	if c.Status != Fail || !strings.Contains(c.Detail, "refused: 0x87 Not authorized") || !strings.Contains(c.Fix, "--password-file") {
		t.Errorf("%+v, want 0x87 and a fix naming --password-file", c)
	}
	if f := failed(cs); len(f) != 1 {
		t.Errorf("failures %v, want one", f)
	}
	for _, c := range cs {
		if strings.HasSuffix(c.Name, " as "+gwName) {
			t.Errorf("checked without the gateway's connection: %+v", c)
		}
	}
}

// runningGateway is a gateway connected as ngic-edge connects: under its
// own user with its client ID, a retained birth and a last will.
type runningGateway struct {
	mqtt.Client
	lost chan error
}

// startGateway connects a running gateway to broker.
func startGateway(t *testing.T, broker string, tc *tls.Config) *runningGateway {
	t.Helper()
	birth, err := telemetry.EncodeStatus(&telemetry.Status{V: telemetry.SchemaVersion, Gateway: gwName, State: telemetry.StateOnline})
	if err != nil {
		t.Fatal(err)
	}
	will, err := telemetry.EncodeStatus(&telemetry.Status{V: telemetry.SchemaVersion, Gateway: gwName, State: telemetry.StateOffline})
	if err != nil {
		t.Fatal(err)
	}
	g := &runningGateway{lost: make(chan error, 1)}
	g.Client = mqtt.NewClient(mqtt.NewClientOptions().AddBroker(broker).SetClientID(gatewayID).
		SetUsername(gwName).SetPassword(gwPassword).SetTLSConfig(tc).SetCleanSession(true).
		SetAutoReconnect(false).SetConnectTimeout(rightsWait).SetBinaryWill(telemetry.StatusTopic(gwName), will, 1, true).
		SetConnectionLostHandler(func(_ mqtt.Client, err error) { g.lost <- err }))
	if tok := g.Connect(); !tok.WaitTimeout(rightsWait) || tok.Error() != nil {
		t.Fatalf("gateway: connect: %v", tok.Error())
	}
	t.Cleanup(func() { g.Disconnect(0) })
	if tok := g.Publish(telemetry.StatusTopic(gwName), 1, true, birth); !tok.WaitTimeout(rightsWait) || tok.Error() != nil {
		t.Fatalf("gateway: birth: %v", tok.Error())
	}
	return g
}

// stillConnected fails unless the gateway never lost its connection and
// still gets a publish acknowledged.
func (g *runningGateway) stillConnected(t *testing.T) {
	t.Helper()
	select {
	case err := <-g.lost:
		t.Fatalf("the running gateway lost its connection: %v", err)
	default:
	}
	tok := g.Publish(telemetry.HealthTopic(gwName), 1, false, "after the check")
	if !tok.WaitTimeout(rightsWait) || tok.Error() != nil {
		t.Fatalf("the running gateway's publish after the check: %v", tok.Error())
	}
}

// TestRightsGatewayRunningShipped: with the shipped configuration, whose
// broker ties client IDs to users, the check of a running gateway's rights
// is skipped, saying why and how to make it, and the gateway stays
// connected throughout: the broker's log never closed its connection.
func TestRightsGatewayRunningShipped(t *testing.T) {
	m, o := mosquittoRights(t)
	tc, _, err := tlsconf.Client{CAFile: m.PKI.CAFile, CertFile: o.GatewayAuth.CertFile, KeyFile: o.GatewayAuth.KeyFile}.Config()
	if err != nil {
		t.Fatal(err)
	}
	g := startGateway(t, "ssl://"+m.Addr, tc)
	cs := CheckBroker(context.Background(), o)
	if f := failed(cs); len(f) > 0 {
		t.Fatalf("failures %v in %+v", f, cs)
	}
	c := byName(t, cs, "gateway "+gwName+" rights")
	if c.Status != Skip || !strings.Contains(c.Detail, "ties client IDs to users") || !strings.Contains(c.Fix, "systemctl stop ngic-edge") {
		t.Errorf("%+v, want a skip saying why and how to check", c)
	}
	g.stillConnected(t)

	// Had the MQTT 3.1.1 check missed the gateway's status, the rights
	// check reads it itself before it would connect as the gateway.
	if c := byName(t, checkRightsOnly(t, o), "gateway "+gwName+" rights"); c.Status != Skip {
		t.Errorf("with no status from the MQTT 3.1.1 check: %+v, want a skip", c)
	}
	g.stillConnected(t)
	m.Stop()
	if log := m.Log(); strings.Contains(log, "Client "+gwName+" already connected") {
		t.Errorf("the broker closed the gateway's connection:\n%s", log)
	}
}

// startMochi starts a broker that lets a user connect under several client
// IDs (mochi-mqtt, as the embedded broker is, on 127.0.0.1) with the
// shipped ACL's rules for the commissioning user and the gateway, and
// everything else denied; it refuses a denied subscription with 0x87.
func startMochi(t *testing.T) string {
	t.Helper()
	gw := func(s string) auth.RString { return auth.RString(telemetry.Root + "/gw/" + gwName + s) }
	ledger := &auth.Ledger{
		Auth: auth.AuthRules{
			{Username: commUser, Password: commPass, Allow: true},
			{Username: gwName, Password: gwPassword, Allow: true},
		},
		ACL: auth.ACLRules{
			{Username: commUser, Filters: auth.Filters{
				telemetry.Root + "/gw/+/#":                                 auth.ReadOnly,
				auth.RString(telemetry.CommandTopic("+", "commissioning")): auth.WriteOnly,
			}},
			{Username: gwName, Filters: auth.Filters{
				gw("/status"): auth.WriteOnly, gw("/event/#"): auth.WriteOnly, gw("/health"): auth.WriteOnly,
				gw("/commissioning"): auth.WriteOnly, auth.RString(telemetry.CommandFilter(gwName)): auth.ReadOnly,
			}},
			{Filters: auth.Filters{"#": auth.Deny}},
		},
	}
	s := mqttserver.New(&mqttserver.Options{InlineClient: true, Logger: slog.New(slog.DiscardHandler)})
	if err := s.AddHook(new(auth.Hook), &auth.Options{Ledger: ledger}); err != nil {
		t.Fatal(err)
	}
	tcp := listeners.NewTCP(listeners.Config{ID: "tcp", Address: "127.0.0.1:0"})
	if err := s.AddListener(tcp); err != nil {
		t.Fatal(err)
	}
	if err := s.Serve(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return tcp.Address()
}

// TestRightsGatewayRunningOwnClientID: on a broker that lets a user
// connect under several client IDs, the rights of a running gateway are
// checked under a client ID of the probe's own while the gateway stays
// connected, and the broker's SUBACK 0x87 tells the refused subscription.
func TestRightsGatewayRunningOwnClientID(t *testing.T) {
	addr := startMochi(t)
	g := startGateway(t, "tcp://"+addr, nil)
	o := BrokerOpts{Broker: "tcp://" + addr, Gateway: gwName, Username: commUser, Timeout: rightsWait,
		PasswordFile: writeFile(t, "pw", commPass), GatewayAuth: GatewayAuth{PasswordFile: writeFile(t, "gw-pw", gwPassword)}}
	cs := CheckBroker(context.Background(), o)
	if f := failed(cs); len(f) > 0 {
		t.Fatalf("failures %v in %+v", f, cs)
	}
	for name, detail := range map[string]string{
		"gateway credentials " + gwName: "(the probe's own, not the gateway's)",
		subOwn:                          "allowed",
		subOther:                        "refused (0x87 Not authorized)",
		probeOwnPub:                     "read back",
		pubOther:                        "refused (0x87 Not authorized)",
	} {
		if c := byName(t, cs, name); !strings.Contains(c.Detail, detail) {
			t.Errorf("%s: %q, want it to say %q", name, c.Detail, detail)
		}
	}
	g.stillConnected(t)
}

// checkRightsOnly runs the check of the gateway's rights alone, with the
// gateway's status unseen by the MQTT 3.1.1 check.
func checkRightsOnly(t *testing.T, o BrokerOpts) []Check {
	t.Helper()
	comm, _, err := o.TLS.Config()
	if err != nil {
		t.Fatal(err)
	}
	comm.ServerName = "127.0.0.1"
	if o.Now == nil {
		o.Now = time.Now
	}
	var cs []Check
	checkRights(context.Background(), o, "127.0.0.1", strings.TrimPrefix(o.Broker, "ssl://"), comm, "",
		func(c Check) bool { cs = append(cs, c); return c.Status == OK })
	return cs
}

// TestRightsGatewayCertificate: a gateway certificate near its expiry, or
// one of another CA, fails the gateway certificate check with its fix.
func TestRightsGatewayCertificate(t *testing.T) {
	_, o := mosquittoRights(t)
	near := o
	near.MinValidity = 48 * time.Hour // the test PKI issues for a day
	ca := newTestCA(t)
	cert := ca.issue(t, "", time.Now().Add(-time.Hour), time.Now().Add(24*time.Hour))
	der, err := x509.MarshalECPrivateKey(cert.PrivateKey.(*ecdsa.PrivateKey))
	if err != nil {
		t.Fatal(err)
	}
	stranger := o
	stranger.GatewayAuth.CertFile = writeFile(t, "gw.pem", string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Certificate[0]})))
	stranger.GatewayAuth.KeyFile = writeFile(t, "gw.key", string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der})))
	for _, tc := range []struct {
		name string
		o    BrokerOpts
		fix  string
	}{
		{"near expiry", near, "renew the gateway's certificate"},
		{"another CA", stranger, "issued by the broker's CA"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cs := checkRightsOnly(t, tc.o)
			c := byName(t, cs, "gateway certificate")
			if c.Status != Fail || !strings.Contains(c.Fix, tc.fix) {
				t.Errorf("%+v, want a failure whose fix says %q", c, tc.fix)
			}
			if f := failed(cs); len(f) != 1 {
				t.Errorf("failures %v, want one", f)
			}
		})
	}
}
