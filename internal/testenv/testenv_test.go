package testenv

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/gosnmp/gosnmp"
)

func TestMosquittoListens(t *testing.T) {
	m := StartMosquitto(t)
	c, err := net.DialTimeout("tcp", m.Addr, time.Second)
	if err != nil {
		t.Fatalf("dial %s: %v", m.Addr, err)
	}
	c.Close()
}

func TestSnmpdV3AuthPriv(t *testing.T) {
	s := StartSnmpd(t)
	g := &gosnmp.GoSNMP{Target: "127.0.0.1", Port: uint16(s.Port), Version: gosnmp.Version3,
		Timeout: 2 * time.Second, Retries: 1, Context: context.Background(),
		SecurityModel: gosnmp.UserSecurityModel, MsgFlags: gosnmp.AuthPriv,
		SecurityParameters: &gosnmp.UsmSecurityParameters{UserName: V3User,
			AuthenticationProtocol: gosnmp.SHA256, AuthenticationPassphrase: V3AuthPass,
			PrivacyProtocol: gosnmp.AES, PrivacyPassphrase: V3PrivPass}}
	if err := g.Connect(); err != nil {
		t.Fatal(err)
	}
	defer g.Conn.Close()
	r, err := g.Get([]string{".1.3.6.1.2.1.1.6.0"})
	if err != nil {
		t.Fatalf("v3 get: %v", err)
	}
	if got := string(r.Variables[0].Value.([]byte)); got != "ngic test lab" {
		t.Fatalf("sysLocation = %q", got)
	}
}

func TestSnmpsimServesRecording(t *testing.T) {
	dir := Recordings(t)
	s := StartSnmpsim(t, dir, "motorola_sb5101e")
	g := &gosnmp.GoSNMP{Target: "127.0.0.1", Port: uint16(s.Port), Version: gosnmp.Version2c,
		Community: "motorola_sb5101e", Timeout: 2 * time.Second, Retries: 1, Context: context.Background()}
	if err := g.Connect(); err != nil {
		t.Fatal(err)
	}
	defer g.Conn.Close()
	r, err := g.Get([]string{".1.3.6.1.2.1.1.2.0"})
	if err != nil {
		t.Fatal(err)
	}
	if got := r.Variables[0].Value.(string); got != ".1.3.6.1.4.1.1166.1.450.12.2" {
		t.Fatalf("sysObjectID = %q", got)
	}
}
