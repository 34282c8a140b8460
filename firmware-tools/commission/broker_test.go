package commission

import (
	"context"
	"encoding/binary"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/ngic/ngic/internal/testenv"
	"github.com/ngic/ngic/internal/tlsconf"
	"github.com/ngic/ngic/telemetry"
)

// fakeNTP answers NTP requests on 127.0.0.1 with the time now plus skew.
func fakeNTP(t *testing.T, skew time.Duration) string {
	t.Helper()
	return udpServer(t, func(req []byte) []byte { return ntpAnswer(req, skew) })
}

// ntpAnswer is a server's answer to an NTP request, with the time now
// plus skew; nil for a request too short.
func ntpAnswer(req []byte, skew time.Duration) []byte {
	if len(req) < 48 {
		return nil
	}
	resp := make([]byte, 48)
	resp[0], resp[1] = 0x24, 2    // version 4, mode 4 (server); stratum 2
	copy(resp[24:32], req[40:48]) // originate: the request's transmit time
	ts := time.Now().Add(skew).Sub(ntpEpoch)
	sec, frac := uint32(ts/time.Second), uint32((uint64(ts%time.Second)<<32)/uint64(time.Second))
	for _, off := range []int{32, 40} {
		binary.BigEndian.PutUint32(resp[off:], sec)
		binary.BigEndian.PutUint32(resp[off+4:], frac)
	}
	return resp
}

// udpServer answers each datagram on 127.0.0.1 with answer's bytes
// (nothing when nil) until the test ends.
func udpServer(t *testing.T, answer func(req []byte) []byte) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	go func() {
		buf := make([]byte, 128)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			if resp := answer(buf[:n]); resp != nil {
				pc.WriteTo(resp, from)
			}
		}
	}()
	return pc.LocalAddr().String()
}

func failed(cs []Check) []string {
	var out []string
	for _, c := range cs {
		if c.Status == Fail {
			out = append(out, c.Name+": "+c.Detail)
		}
	}
	return out
}

// TestCheckBrokerShippedACL runs the broker checks against mosquitto with
// the shipped configuration and ACL, under the commissioning identity.
func TestCheckBrokerShippedACL(t *testing.T) {
	users := map[string]string{"ngic-commissioning": "commission-pw", "cabinet-7": "gw-pw"}
	m := testenv.StartMosquittoTLS(t, users, filepath.Join("..", "..", "deploy", "mosquitto", "ngic.acl"))
	cert, key := m.PKI.Issue(t, "ngic-commissioning", false)
	dir := t.TempDir()
	pw := filepath.Join(dir, "pw")
	os.WriteFile(pw, []byte("commission-pw\n"), 0o600)
	bad := filepath.Join(dir, "bad")
	os.WriteFile(bad, []byte("wrong"), 0o600)
	base := BrokerOpts{Broker: "ssl://" + m.Addr, Gateway: "cabinet-7", Username: "ngic-commissioning", PasswordFile: pw,
		TLS: tlsconf.Client{CAFile: m.PKI.CAFile, CertFile: cert, KeyFile: key}, Timeout: 10 * time.Second, NTP: fakeNTP(t, 0), MinValidity: time.Hour}

	cs := CheckBroker(context.Background(), base)
	if f := failed(cs); len(f) > 0 || len(cs) != 9 || cs[7].Status != Skip {
		t.Fatalf("failures %v in %+v", f, cs)
	}
	if !strings.HasPrefix(cs[6].Name, "subscribe ngic/v1/controllers/") {
		t.Errorf("another identity's topic: %+v", cs[6])
	}

	for _, tc := range []struct {
		name  string
		edit  func(*BrokerOpts)
		check string
	}{
		{"wrong password", func(o *BrokerOpts) { o.PasswordFile = bad }, "broker credentials"},
		{"no client certificate", func(o *BrokerOpts) { o.TLS.CertFile, o.TLS.KeyFile = "", "" }, "client certificate"},
		{"near expiry", func(o *BrokerOpts) { o.MinValidity = 48 * time.Hour }, "broker certificate"}, // the test PKI issues for a day
		{"clock off", func(o *BrokerOpts) { o.NTP = fakeNTP(t, 30*time.Second) }, "clock"},
		{"port closed", func(o *BrokerOpts) { o.Broker = "ssl://127.0.0.1:1" }, "broker port"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := base
			tc.edit(&o)
			cs := CheckBroker(context.Background(), o)
			last := cs[len(cs)-1]
			if last.Status != Fail || !strings.HasPrefix(last.Name, tc.check) || last.Fix == "" {
				t.Fatalf("last check %+v, want %s failing with a fix", last, tc.check)
			}
			if f := failed(cs); len(f) != 1 {
				t.Errorf("failures %v, want one", f)
			}
		})
	}
}

// retain publishes a retained message on topic as user, with a certificate
// of the broker's PKI.
func retain(t *testing.T, m *testenv.MosquittoTLS, user, password, topic string) {
	t.Helper()
	cert, key := m.PKI.Issue(t, user, false)
	tc, _, err := tlsconf.Client{CAFile: m.PKI.CAFile, CertFile: cert, KeyFile: key}.Config()
	if err != nil {
		t.Fatal(err)
	}
	cl := mqtt.NewClient(mqtt.NewClientOptions().AddBroker("ssl://" + m.Addr).SetClientID(user).
		SetUsername(user).SetPassword(password).SetTLSConfig(tc).SetAutoReconnect(false).SetConnectTimeout(10 * time.Second))
	if tok := cl.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("%s: connect: %v", user, tok.Error())
	}
	defer cl.Disconnect(250)
	if tok := cl.Publish(topic, 1, true, "online"); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("%s: publish: %v", user, tok.Error())
	}
}

// TestCheckBrokerFindsALeak: a replica's retained heartbeat is on the
// broker. Under the shipped ACL the commissioning identity does not get
// it; under an ACL that lets it read everything, the check fails.
func TestCheckBrokerFindsALeak(t *testing.T) {
	loose := filepath.Join(t.TempDir(), "loose.acl")
	os.WriteFile(loose, []byte("user ngic-commissioning\ntopic read ngic/v1/#\n"+
		"user ngic-controller-0-members\ntopic readwrite ngic/v1/controllers/#\n"), 0o600)
	for _, tc := range []struct {
		acl  string
		leak bool
	}{{filepath.Join("..", "..", "deploy", "mosquitto", "ngic.acl"), false}, {loose, true}} {
		users := map[string]string{"ngic-commissioning": "commission-pw", "ngic-controller-0-members": "replica-pw"}
		m := testenv.StartMosquittoTLS(t, users, tc.acl)
		retain(t, m, "ngic-controller-0-members", "replica-pw", telemetry.ControllerTopic(0))
		cert, key := m.PKI.Issue(t, "ngic-commissioning", false)
		pw := filepath.Join(t.TempDir(), "pw")
		os.WriteFile(pw, []byte("commission-pw"), 0o600)
		cs := CheckBroker(context.Background(), BrokerOpts{Broker: "ssl://" + m.Addr, Gateway: "cabinet-7",
			Username: "ngic-commissioning", PasswordFile: pw, MinValidity: time.Hour, Timeout: 10 * time.Second,
			TLS: tlsconf.Client{CAFile: m.PKI.CAFile, CertFile: cert, KeyFile: key}})
		if c := byName(t, cs, "subscribe "+telemetry.ControllerTopic(0)); (c.Status == Fail) != tc.leak {
			t.Errorf("%s: check %+v, want a leak: %v", tc.acl, c, tc.leak)
		}
	}
}
