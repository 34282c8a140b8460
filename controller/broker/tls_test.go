package broker

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"os"
	"path/filepath"
	"testing"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/ngic/ngic/internal/testenv"
	"github.com/ngic/ngic/telemetry"
)

// tlsClient returns the TLS configuration of a client of b with a
// certificate of its own.
func tlsClient(t *testing.T, b *testenv.MosquittoTLS, name string) *tls.Config {
	t.Helper()
	cert, key := b.PKI.Issue(t, name, false)
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
	return &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12}
}

// TestShippedBroker: with the shipped mosquitto configuration and ACL
// (TLS with client certificates, a password, the user name as client ID),
// the controller's user subscribes to every filter, records a gateway's
// status, events and health, and publishes alerts.
func TestShippedBroker(t *testing.T) {
	b := testenv.StartMosquittoTLS(t, map[string]string{"gw-a": "pw-gw-a", "ngic-controller": "pw-ngic-controller"},
		filepath.Join("..", "..", "deploy", "mosquitto", "ngic.acl"))
	rec := newMemRecorder()
	s, err := Subscribe(Options{Broker: "ssl://" + b.Addr, TLS: tlsClient(t, b, "ngic-controller"),
		Username: "ngic-controller", Password: "pw-ngic-controller", ClientID: "ngic-controller", Recorder: rec})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	defer func() { cancel(); <-done; s.Close() }()
	waitSubscribed(t, s)

	o := mqtt.NewClientOptions().AddBroker("ssl://" + b.Addr).SetClientID("gw-a").
		SetUsername("gw-a").SetPassword("pw-gw-a").SetTLSConfig(tlsClient(t, b, "gw-a")).SetAutoReconnect(false)
	gw := mqtt.NewClient(o)
	if tok := gw.Connect(); !tok.WaitTimeout(wait) || tok.Error() != nil {
		t.Fatalf("gateway connect: %v", tok.Error())
	}
	defer gw.Disconnect(0)
	msgs := map[string]string{
		telemetry.StatusTopic("gw-a"):      "status",
		telemetry.EventTopic("gw-a", "r1"): "event",
		telemetry.HealthTopic("gw-a"):      "health",
	}
	for topic, payload := range msgs {
		publish(t, gw, topic, []byte(payload), topic == telemetry.StatusTopic("gw-a"))
	}
	waitFor(t, "the gateway's messages recorded", func() bool {
		for topic, payload := range msgs {
			if !rec.has(topic + " " + payload) {
				return false
			}
		}
		return true
	})
	if err := s.Publish(ctx, telemetry.AlertTopic("a1"), []byte(`{"state":"firing"}`), true); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "acknowledgements", func() bool { return s.Stats().Acked == uint64(len(msgs)) })
}
