package gateway

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/ngic/ngic/drivers/rfid/emulate/emulatetest"
	"github.com/ngic/ngic/edge/internal/edgetest"
	"github.com/ngic/ngic/internal/testenv"
	"github.com/ngic/ngic/telemetry"
)

// TestTLSClientCertAndACL publishes over TLS with a client certificate and
// a password read from a file, to a mosquitto applying the ACL shipped in
// deploy/mosquitto: the gateway may write only under its own name.
func TestTLSClientCertAndACL(t *testing.T) {
	acl, err := filepath.Abs("../../deploy/mosquitto/ngic.acl")
	if err != nil {
		t.Fatal(err)
	}
	broker := testenv.StartMosquittoTLS(t, map[string]string{"gw-test": "gw-secret", "ngic-controller": "ctl-secret"}, acl)
	ctlCert, ctlKey := broker.PKI.Issue(t, "ngic-controller", false)
	sub := edgetest.SubscribeWith(t, "ssl://"+broker.Addr, "controller", func(o *mqtt.ClientOptions) {
		o.SetUsername("ngic-controller").SetPassword("ctl-secret").SetTLSConfig(clientTLS(t, broker.PKI.CAFile, ctlCert, ctlKey))
	})
	gwCert, gwKey := broker.PKI.Issue(t, "gw-test", false)
	dir := t.TempDir()
	pwFile := filepath.Join(dir, "mqtt-password")
	os.WriteFile(pwFile, []byte("gw-secret\n"), 0o600)
	_, p := emulatetest.Start(t, "em4100", []byte{0xCA, 0xFE, 0x00, 0x00, 0x01})
	extra := fmt.Sprintf(`readers:
  - name: r1
    protocol: em4100
    device: %s
`, p.Path)
	tlsConf := fmt.Sprintf("  username: gw-test\n  password_file: %s\n  tls:\n    ca_file: %s\n    cert_file: %s\n    key_file: %s\n",
		pwFile, broker.PKI.CAFile, gwCert, gwKey)
	cfg := testConfig(t, "ssl://"+broker.Addr+"\n"+tlsConf, extra)
	g, stop := runGateway(t, cfg)
	sub.WaitFor(t, 10*time.Second, "an event over TLS", func(es []*telemetry.Event) bool { return len(es) >= 1 })
	if e := sub.Events()[0]; e.Tag == nil || e.Tag.ID != "CAFE000001" {
		t.Fatalf("event: %+v", e)
	}
	deadline := time.Now().Add(5 * time.Second)
	for len(sub.Statuses()) == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if st := sub.Statuses(); len(st) == 0 || st[0].State != telemetry.StateOnline {
		t.Fatalf("birth over TLS: %+v", st)
	}
	if h := g.Health(); !h.MQTT.Connected {
		t.Fatalf("health: %+v", h.MQTT)
	}
	stop()

	// A wrong password: the broker refuses, the error says so, the events stay spooled.
	os.WriteFile(pwFile, []byte("wrong\n"), 0o600)
	cfg2 := testConfig(t, "ssl://"+broker.Addr+"\n"+tlsConf, extra)
	g2, stop2 := runGateway(t, cfg2)
	deadline = time.Now().Add(10 * time.Second)
	for (g2.Health().MQTT.LastError == "" || g2.spool.Stats().Records == 0) && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	h := g2.Health()
	if h.MQTT.Connected || !strings.Contains(strings.ToLower(h.MQTT.LastError), "not authorized") && !strings.Contains(strings.ToLower(h.MQTT.LastError), "bad user name or password") {
		t.Fatalf("wrong password: %+v", h.MQTT)
	}
	if strings.Contains(h.MQTT.LastError, "wrong") {
		t.Fatal("the password appears in the error")
	}
	if g2.spool.Stats().Records == 0 {
		t.Fatal("events not kept while the broker refuses the gateway")
	}
	stop2()
}

func clientTLS(t *testing.T, caFile, certFile, keyFile string) *tls.Config {
	t.Helper()
	pem, err := os.ReadFile(caFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	return &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{cert}}
}
