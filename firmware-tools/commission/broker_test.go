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

	"github.com/ngic/ngic/internal/testenv"
	"github.com/ngic/ngic/internal/tlsconf"
)

// fakeNTP answers NTP requests on 127.0.0.1 with the time now plus skew.
func fakeNTP(t *testing.T, skew time.Duration) string {
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
			if n < 48 {
				continue
			}
			resp := make([]byte, 48)
			resp[0], resp[1] = 0x24, 2 // version 4, mode 4 (server); stratum 2
			ts := time.Now().Add(skew).Sub(ntpEpoch)
			sec, frac := uint32(ts/time.Second), uint32((uint64(ts%time.Second)<<32)/uint64(time.Second))
			for _, off := range []int{32, 40} {
				binary.BigEndian.PutUint32(resp[off:], sec)
				binary.BigEndian.PutUint32(resp[off+4:], frac)
			}
			pc.WriteTo(resp, from)
		}
	}()
	return pc.LocalAddr().String()
}

func failed(cs []Check) []string {
	var out []string
	for _, c := range cs {
		if c.Status != OK {
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
	if f := failed(cs); len(f) > 0 || len(cs) != 8 {
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
