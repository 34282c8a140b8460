package commission

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/ngic/ngic/internal/tlsconf"
)

// testCA is a certificate authority of a hostile test's own, to issue the
// certificates the shipped test PKI never would: expired, not yet valid,
// for another name.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	file string
}

func newTestCA(t *testing.T) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "hostile test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return &testCA{cert: cert, key: key, file: writeFile(t, "ca.pem", string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})))}
}

// issue returns a server certificate for 127.0.0.1 (or dnsName when not
// empty) valid from notBefore to notAfter.
func (ca *testCA) issue(t *testing.T, dnsName string, notBefore, notAfter time.Time) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: "broker"},
		NotBefore: notBefore, NotAfter: notAfter, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	if dnsName != "" {
		tmpl.DNSNames = []string{dnsName}
	} else {
		tmpl.IPAddresses = []net.IP{net.IPv4(127, 0, 0, 1)}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// serve accepts connections on 127.0.0.1 and hands each to handle, until
// the test ends.
func serve(t *testing.T, handle func(net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	t.Cleanup(func() { close(done); ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				handle(c)
				select { // hold the connection until the test ends, or the client closes it
				case <-done:
				case <-readEOF(c):
				}
			}()
		}
	}()
	return ln.Addr().String()
}

// readEOF is closed when c's peer closed it (or it failed).
func readEOF(c net.Conn) <-chan struct{} {
	ch := make(chan struct{})
	go func() {
		buf := make([]byte, 512)
		for {
			if _, err := c.Read(buf); err != nil {
				close(ch)
				return
			}
		}
	}()
	return ch
}

// hostileOpts are broker options against addr with short waits: nothing
// the broker says may hold a check past them.
func hostileOpts(t *testing.T, broker, caFile string) BrokerOpts {
	return BrokerOpts{Broker: broker, Gateway: gwName, Username: commUser, PasswordFile: writeFile(t, "pw", commPass),
		TLS: tlsconf.Client{CAFile: caFile}, Timeout: 2 * time.Second, MinValidity: time.Hour}
}

// lastFails runs the broker checks and returns the last one, failing the
// test unless it failed with a fix naming the check want and saying fix,
// and unless the run ended within the few steps its timeouts allow.
func lastFails(t *testing.T, o BrokerOpts, want, fix string) Check {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cs := CheckBroker(ctx, o)
	if ctx.Err() != nil {
		t.Fatalf("the checks outlived a minute: %+v", cs)
	}
	last := cs[len(cs)-1]
	if last.Status != Fail || !strings.HasPrefix(last.Name, want) || !strings.Contains(last.Fix, fix) {
		t.Errorf("last check %+v, want %s failing with a fix saying %q", last, want, fix)
	}
	return last
}

// TestHostileTLSCertificates: a broker whose certificate expired, is not
// valid yet, is for another name or is signed by another CA fails the
// broker certificate check, each with the fix that applies.
func TestHostileTLSCertificates(t *testing.T) {
	ca, other := newTestCA(t), newTestCA(t)
	now := time.Now()
	for _, tc := range []struct {
		name        string
		cert        tls.Certificate
		detail, fix string
	}{
		{"expired", ca.issue(t, "", now.Add(-48*time.Hour), now.Add(-24*time.Hour)), "expired", "renew the broker's certificate"},
		{"not yet valid", ca.issue(t, "", now.Add(24*time.Hour), now.Add(48*time.Hour)), "not valid before", "check date"},
		{"another name", ca.issue(t, "broker.example", now.Add(-time.Hour), now.Add(24*time.Hour)), "broker.example", "broker.example"},
		{"another CA", other.issue(t, "", now.Add(-time.Hour), now.Add(24*time.Hour)), "unknown authority", "--ca"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			addr := serve(t, func(c net.Conn) {
				tls.Server(c, &tls.Config{Certificates: []tls.Certificate{tc.cert}}).Handshake()
			})
			c := lastFails(t, hostileOpts(t, "ssl://"+addr, ca.file), "broker certificate", tc.fix)
			if !strings.Contains(c.Detail, tc.detail) {
				t.Errorf("detail %q, want it to say %q", c.Detail, tc.detail)
			}
		})
	}
}

// TestHostileBrokerAnswers: a broker port that answers garbage, nothing,
// or closes at once fails the check it reaches, within its timeouts, with
// a fix that names what is wrong.
func TestHostileBrokerAnswers(t *testing.T) {
	garbage := func(c net.Conn) { c.Write([]byte("HTTP/1.1 400 Bad Request\r\n\r\n\x00\xff\xfe garbage")) }
	silent := func(net.Conn) {}
	hangUp := func(c net.Conn) { c.Close() }
	for _, tc := range []struct {
		name, scheme string
		handle       func(net.Conn)
		check, fix   string
	}{
		{"garbage on a TLS port", "ssl", garbage, "broker certificate", "not a TLS server"},
		{"silence on a TLS port", "ssl", silent, "broker certificate", "no TLS answer"},
		{"hang-up on a TLS port", "ssl", hangUp, "broker certificate", "closed the connection"},
		{"garbage on an MQTT port", "tcp", garbage, "broker credentials", "does not answer as an MQTT broker"},
		{"silence on an MQTT port", "tcp", silent, "broker credentials", "does not answer as an MQTT broker"},
		{"hang-up on an MQTT port", "tcp", hangUp, "broker credentials", "closed the connection"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lastFails(t, hostileOpts(t, tc.scheme+"://"+serve(t, tc.handle), ""), tc.check, tc.fix)
		})
	}
}

// TestHostileNTP: an NTP server that stays silent, or answers without
// echoing the request, unsynchronised or with garbage, fails the clock
// check within its timeout with a fix; the broker checks before it pass.
func TestHostileNTP(t *testing.T) {
	m, o := mosquittoRights(t)
	_ = m
	o.GatewayAuth = GatewayAuth{}
	for _, tc := range []struct {
		name   string
		answer func(req []byte) []byte
		detail string
	}{
		{"silent", func([]byte) []byte { return nil }, "no answer"},
		{"garbage", func([]byte) []byte { return []byte("garbage") }, "48"},
		{"not the request's answer", func(req []byte) []byte {
			resp := ntpAnswer(req, 0)
			resp[24] ^= 0xFF
			return resp
		}, "not an answer to this request"},
		{"unsynchronised", func(req []byte) []byte {
			resp := ntpAnswer(req, 0)
			resp[0] |= 0xC0
			return resp
		}, "not synchronised"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := o
			o.NTP = udpServer(t, tc.answer)
			c := lastFails(t, o, "clock", "--ntp")
			if !strings.Contains(c.Detail, tc.detail) {
				t.Errorf("detail %q, want it to say %q", c.Detail, tc.detail)
			}
		})
	}
}

// readPacket reads one MQTT packet: its first byte and its body.
func readPacket(r io.Reader) (byte, []byte, error) {
	var b [1]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		return 0, nil, err
	}
	first, n := b[0], 0
	for shift := 0; ; shift += 7 {
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return 0, nil, err
		}
		n |= int(b[0]&0x7F) << shift
		if b[0]&0x80 == 0 {
			break
		}
	}
	body := make([]byte, min(n, 1<<16))
	_, err := io.ReadFull(r, body)
	return first, body, err
}

// fakeBroker serves MQTT 3.1.1 well enough for the commissioning
// identity's checks (every subscription granted but the controllers',
// nothing delivered) and hands every MQTT 5 connection to v5 after its
// CONNECT.
func fakeBroker(t *testing.T, v5 func(net.Conn)) string {
	return serve(t, func(c net.Conn) {
		for {
			first, body, err := readPacket(c)
			if err != nil {
				return
			}
			switch first >> 4 {
			case 1: // CONNECT: 0, 4, "MQTT", level
				if len(body) > 6 && body[6] == 5 {
					v5(c)
					return
				}
				c.Write([]byte{0x20, 2, 0, 0})
			case 8: // SUBSCRIBE: packet ID, then the filter
				code := byte(1)
				if strings.Contains(string(body), "controllers") {
					code = 0x80
				}
				c.Write([]byte{0x90, 3, body[0], body[1], code})
			case 12: // PINGREQ
				c.Write([]byte{0xD0, 0})
			case 14: // DISCONNECT
				return
			}
		}
	})
}

// TestHostileMQTT5: a broker that passes the MQTT 3.1.1 checks and then
// answers MQTT 5 with a packet announced as 256 MiB, garbage, silence, or
// a CONNACK and nothing more fails the commissioning identity's MQTT 5
// check within its timeouts, and the huge packet allocates nothing like
// its announced size.
func TestHostileMQTT5(t *testing.T) {
	for _, tc := range []struct {
		name   string
		v5     func(net.Conn)
		detail string
	}{
		{"a packet of 256 MiB", func(c net.Conn) { c.Write([]byte{0x20, 0xFF, 0xFF, 0xFF, 0x7F}) }, "too long"},
		{"garbage", func(c net.Conn) { c.Write([]byte("\xff\xfe garbage")) }, "MQTT 5 connect"},
		{"silence", func(net.Conn) {}, "MQTT 5 connect"},
		{"a CONNACK and nothing more", func(c net.Conn) { c.Write([]byte{0x20, 3, 0, 0, 0}) }, "subscribing"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := hostileOpts(t, "tcp://"+fakeBroker(t, tc.v5), "")
			o.GatewayAuth = GatewayAuth{PasswordFile: writeFile(t, "gw-pw", gwPassword)}
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			c := lastFails(t, o, "commissioning identity over MQTT 5", "")
			runtime.ReadMemStats(&after)
			if !strings.Contains(c.Detail, tc.detail) {
				t.Errorf("detail %q, want it to say %q", c.Detail, tc.detail)
			}
			if grown := after.TotalAlloc - before.TotalAlloc; grown > 64<<20 {
				t.Errorf("the checks allocated %d MiB", grown>>20)
			}
		})
	}
}

// TestFloodingPortFails: a port that floods random bytes as fast as a pty
// takes them is no reader, and the probe of every protocol at every speed
// still ends.
func TestFloodingPortFails(t *testing.T) {
	m, path := rawPTY(t)
	done := make(chan struct{})
	t.Cleanup(func() { close(done) })
	go func() {
		noise := make([]byte, 4096)
		rand.Read(noise)
		for {
			select {
			case <-done:
				return
			default:
			}
			if _, err := m.Write(noise); err != nil {
				return
			}
		}
	}()
	if c := probeOne(t, path); c.Status != Fail || c.Reader != nil {
		t.Fatalf("check %+v, want a failure", c)
	}
}

// TestHostileBrokerOptions: a gateway name that is a wildcard or holds a
// topic separator, and a broker URL of another scheme, stop the broker
// checks before any connection, with a fix.
func TestHostileBrokerOptions(t *testing.T) {
	for _, tc := range []struct {
		gateway, broker, check string
		status                 Status
	}{
		{"+", "ssl://127.0.0.1:1", "gateway name", Fail},
		{"#", "ssl://127.0.0.1:1", "gateway name", Fail},
		{"a/b", "ssl://127.0.0.1:1", "gateway name", Fail},
		{"cabinet-7", "http://127.0.0.1:1", "broker", Fail},
		{"cabinet-7", "wss://127.0.0.1:1", "broker", Skip},
	} {
		o := hostileOpts(t, tc.broker, "")
		o.Gateway = tc.gateway
		cs := CheckBroker(context.Background(), o)
		if len(cs) != 1 || cs[0].Name != tc.check || cs[0].Status != tc.status || cs[0].Fix == "" {
			t.Errorf("gateway %q, broker %s: %+v, want one check %s %s with a fix", tc.gateway, tc.broker, cs, tc.check, tc.status)
		}
	}
}
